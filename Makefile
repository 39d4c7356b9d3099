# One-command entry points. Everything runs inside .venv, created on first use from the pins in
# pyproject.toml (torch 2.14.1 / torchvision 0.29.1 come from pip's usual index or a local wheel dir).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# DVC stages call `python`: make it the venv's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup book test lab lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the pinned dependencies

book: setup  ## run the whole pipeline on the profile in params.yaml and render the book
	mkdir -p data
	$(BIN)/dvc repro
	@echo "book: $(CURDIR)/book/_build/html/index.html"

test: setup  ## unit tests + the whole book re-executed on the smoke profile
	$(BIN)/python -m pytest -q

LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

lab: setup  ## JupyterLab; every notebooks/*.py opens as a notebook (jupytext)
	mkdir -p $(dir $(LAB_OVERRIDES))
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' > $(LAB_OVERRIDES)
	$(BIN)/jupyter lab notebooks

lint: setup
	$(BIN)/ruff check lib tests notebooks benchmarks
	$(BIN)/ruff format --check lib tests benchmarks
	$(BIN)/lint-imports

clean:
	rm -rf build book/_build .pytest_cache
