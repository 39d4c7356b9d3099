"""The pipeline's stages, declared once; ``dvc.yaml`` is generated from them.

Each stage's code dependencies are the *import closure* of what it runs (its notebook and the
command's module), found statically in the sources, so the list can neither miss a file
(chapter 8 once missed ``anomaly/heads.py``) nor depend on one it never imports (a change to
``models/roi_head.py`` does not re-run chapter 2). Output locations come from
:class:`vidad.paths.Paths`, the same object the notebooks write through::

    python -m vidad.book.stages            # rewrite dvc.yaml
    python -m vidad.book.stages --check    # exit 1 if the committed dvc.yaml is stale (CI)
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vidad.paths import Paths

REPO = Path(__file__).resolve().parents[3]
LIB = REPO / "lib"
PACKAGE = "vidad"


# --- static import closure ------------------------------------------------------------------------


def module_file(module: str, lib: Path = LIB) -> Path | None:
    """The source file of a ``vidad`` module or package, or None if there is none."""
    base = lib.joinpath(*module.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _source_tree(path: Path) -> ast.Module:
    # A notebook may hold IPython magics (``%matplotlib``, ``!cmd``): not Python, no imports.
    lines = [
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in path.read_text().splitlines()
    ]
    return ast.parse("\n".join(lines), filename=str(path))


def imported_modules(path: Path, module: str | None = None, lib: Path = LIB) -> set[str]:
    """``vidad`` modules imported anywhere in ``path`` (function-level imports included)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(_source_tree(path)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            found.add(base)
            for alias in node.names:  # ``from vidad.models import c3d`` imports a submodule
                if module_file(f"{base}.{alias.name}", lib) is not None:
                    found.add(f"{base}.{alias.name}")
    return found


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def import_closure(
    modules: Iterable[str] = (), files: Iterable[Path] = (), lib: Path = LIB
) -> set[Path]:
    """Source files executed by importing ``modules`` and running ``files``.

    Importing ``vidad.a.b`` runs ``vidad/__init__.py`` and ``vidad/a/__init__.py`` too, so
    parent packages are part of the closure.
    """
    todo = [m for start in modules for m in _with_parents(start)]
    for file in files:
        todo += [
            m for start in imported_modules(Path(file), None, lib) for m in _with_parents(start)
        ]
    seen: set[str] = set()
    paths: set[Path] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(module, lib)
        if path is None:
            continue  # a name imported from a module, not a module itself
        paths.add(path)
        for dep in imported_modules(path, module, lib):
            todo += [m for m in _with_parents(dep) if m not in seen]
    return paths


# --- the stages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Out:
    """A stage output; ``persist`` ones (resumable runs, caches) survive a re-run."""

    path: str
    persist: bool = False
    comment: str = ""


@dataclass(frozen=True)
class Stage:
    """One DVC stage: a chapter notebook (``notebook``) or a command module (``module``)."""

    name: str
    notebook: str | None = None  # stem under notebooks/, e.g. "02_c3d"
    module: str | None = None  # ``python -m <module>`` for stages that are not chapters
    args: str = "--profile ${profile}"
    inputs: tuple[str, ...] = ()  # data the stage reads (other stages' outputs, folders)
    outs: tuple[Out, ...] = ()
    metrics: bool = True  # writes results/<profile>/<name or notebook>.json
    figures: bool = True
    runs: bool = False  # resumable training runs under build/<profile>/runs/<chapter>
    section: bool = True  # reads params.yaml[<name>][<profile>]
    extra_params: tuple[str, ...] = ()  # other params.yaml sections it reads, e.g. "synth"
    extra_deps: tuple[str, ...] = field(default_factory=tuple)

    @property
    def chapter(self) -> str:
        return self.notebook or self.name

    @property
    def source(self) -> str | None:
        return f"notebooks/{self.notebook}.py" if self.notebook else None

    def command(self) -> str:
        if self.notebook:
            return (
                f"python -m vidad.book.run_chapter {self.source} --section {self.name} "
                "--profile ${profile}"
            )
        return f"python -m {self.module} {self.args}".strip()

    def code(self, repo: Path = REPO) -> list[str]:
        """The stage's code dependencies: the import closure of what it runs."""
        lib = repo / "lib"
        modules = ["vidad.book.run_chapter"] if self.notebook else [str(self.module)]
        files = [repo / self.source] if self.source else []
        closure = import_closure(modules, files, lib)
        return sorted(p.relative_to(repo).as_posix() for p in closure)


T = Paths.template()


def _synth(name: str) -> str:
    return T.synth(name).as_posix()


ACTIONS, SPORTS = _synth("synth-actions"), _synth("synth-sports")
PED, INTERACT = _synth("synth-ped"), _synth("synth-interact")
CONDITIONS = _synth("synth-sports-conditions")
PRETRAINED = T.pretrained.as_posix()
NOTEBOOKS = (
    "01_datasets",
    "02_c3d",
    "03_r2plus1d",
    "04_slowfast",
    "05_timesformer",
    "06_embedding_anomaly",
    "07_memae_digits",
    "08_memae_video",
    "09_action_detection",
    "90_performance",
)

STAGES: tuple[Stage, ...] = (
    Stage(
        "synth",
        module="vidad.pipeline",
        args="synth --profile ${profile}",
        outs=(Out(ACTIONS), Out(SPORTS)),
        metrics=False,
        figures=False,
    ),
    Stage("datasets", "01_datasets", inputs=(ACTIONS, SPORTS)),
    Stage("c3d", "02_c3d", inputs=(ACTIONS,), runs=True),
    Stage("r2plus1d", "03_r2plus1d", inputs=(ACTIONS,), runs=True),
    Stage("slowfast", "04_slowfast", inputs=(ACTIONS,), runs=True),
    Stage("timesformer", "05_timesformer", inputs=(ACTIONS,), runs=True),
    Stage(
        "pretrain",
        module="vidad.experiments.pretrain",
        inputs=(ACTIONS,),
        outs=(Out(PRETRAINED),),
        runs=True,
        figures=False,
    ),
    Stage("memae_digits", "07_memae_digits"),
    Stage("performance", "90_performance", inputs=("benchmarks/results",), figures=False),
    Stage(
        "synth_conditions",
        module="vidad.synth.conditions",
        outs=(Out(CONDITIONS),),
        metrics=False,
        figures=False,
        extra_params=("synth",),  # the clips' size, length and rate are synth-sports'
    ),
    Stage(
        "embedding_anomaly",
        "06_embedding_anomaly",
        inputs=(SPORTS, CONDITIONS, PRETRAINED),
        outs=(
            Out(
                T.embeddings.as_posix(),
                persist=True,
                comment="keyed by weights + transform + manifest rows; stale files are never read",
            ),
            Out(T.detectors.as_posix(), comment="one per backbone, for `python -m vidad score`"),
            Out(T.long_video.as_posix()),
        ),
        runs=True,
    ),
    Stage(
        "synth_ped",
        module="vidad.synth.ped",
        outs=(Out(PED),),
        metrics=False,
        figures=False,
    ),
    Stage("memae_video", "08_memae_video", inputs=(PED,), runs=True),
    Stage(
        "synth_interact",
        module="vidad.synth.interact",
        outs=(Out(INTERACT),),
        metrics=False,
        figures=False,
    ),
    Stage("action_detection", "09_action_detection", inputs=(INTERACT, PRETRAINED), runs=True),
    Stage(
        "book",
        module="vidad.book.build",
        inputs=tuple(T.notebook(n).as_posix() for n in NOTEBOOKS),
        extra_deps=("book/_config.yml", "book/_toc.yml", "book/intro.md"),
        outs=(Out("book/_build/html"),),
        metrics=False,
        figures=False,
        section=False,
    ),
)


def stage_named(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(f"no stage {name!r}; stages: {[s.name for s in STAGES]}")


# --- dvc.yaml -------------------------------------------------------------------------------------

HEADER = """\
# GENERATED by `python -m vidad.book.stages` from vidad/book/stages.py: edit that, not this file
# (tests/test_stages.py fails when the two differ). `dvc repro` runs the profile named in
# params.yaml (`profile:`). Code dependencies are each stage's import closure; outputs come from
# vidad.paths.Paths: build/<profile>/ (data, executed notebooks, figures), results/<profile>/
# (metrics JSON, committed for the default `cpu` profile), book/_build/html (the rendered book).
"""


def stage_definition(stage: Stage, repo: Path = REPO) -> dict:
    deps: list[str] = []
    if stage.source:
        deps.append(stage.source)
    deps += list(stage.inputs) + list(stage.extra_deps)
    deps += [d for d in stage.code(repo) if d not in deps]
    outs: list = []
    if stage.notebook:
        outs.append(T.notebook(stage.notebook).as_posix())
    if stage.figures:
        outs.append(T.figures(stage.chapter).as_posix())
    for out in stage.outs:
        uncached = out.persist or out.path.startswith("book/")
        outs.append({out.path: {"cache": False, "persist": True}} if out.persist else out.path)
        if uncached and not out.persist:
            outs[-1] = {out.path: {"cache": False}}
    if stage.runs:
        outs.append({T.runs(stage.chapter).as_posix(): {"cache": False, "persist": True}})
    definition: dict = {"cmd": stage.command(), "deps": deps}
    definition["params"] = ["profile"] + ([f"{stage.name}.${{profile}}"] if stage.section else [])
    definition["params"] += [f"{section}.${{profile}}" for section in stage.extra_params]
    definition["outs"] = outs
    if stage.metrics:
        definition["metrics"] = [{T.metrics(stage.chapter).as_posix(): {"cache": False}}]
    return definition


def render_dvc_yaml(repo: Path = REPO) -> str:
    document = {
        "vars": ["params.yaml"],
        "stages": {s.name: stage_definition(s, repo) for s in STAGES},
    }
    body = yaml.safe_dump(document, sort_keys=False, width=100, default_flow_style=False)
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write (or --check) dvc.yaml from the stages")
    parser.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml is stale")
    parser.add_argument("--repo", type=Path, default=REPO)
    args = parser.parse_args(argv)
    target = args.repo / "dvc.yaml"
    text = render_dvc_yaml(args.repo)
    if args.check:
        if not target.is_file() or target.read_text() != text:
            print(f"{target} is stale: run `python -m vidad.book.stages`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    print(f"wrote {target} ({len(STAGES)} stages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
