"""Render the executed notebooks of one profile into the HTML book (Jupyter Book 1.x, offline).

Usage (the DVC ``book`` stage)::

    python -m vidad.book.build --profile cpu

The book's text sources live in ``book/``; the executed notebooks are pipeline outputs in
``build/<profile>/notebooks``. Both are staged into ``build/<profile>/book_src`` (with the
profile written into the front page's substitutions) and rendered to ``book/_build/html``.
Jupyter Book 2.x is not used: it downloads its theme at build time and fails offline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from vidad.book.chapter import PROFILE_MEANING
from vidad.config import ConfigError, check_profile
from vidad.paths import Paths

BOOK_SOURCES = Path("book")
HTML_OUTPUT = BOOK_SOURCES / "_build" / "html"


def toc_notebooks(toc_file: Path) -> list[str]:
    """Every ``file:`` entry of the table of contents under ``notebooks/``."""
    toc = yaml.safe_load(toc_file.read_text())
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            file = node.get("file")
            if isinstance(file, str) and file.startswith("notebooks/"):
                found.append(file.removeprefix("notebooks/"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


def git_revision() -> str:
    """Short commit of the sources (``+dirty`` when uncommitted changes exist), or ``unknown``."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "lib", "notebooks", "params.yaml", "book"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def stage_book(profile: str, sources: Path = BOOK_SOURCES) -> Path:
    """Copy the book sources and the profile's executed notebooks into one folder to render."""
    executed = Paths(profile).notebooks
    staging = Paths(profile).build / "book_src"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(sources, staging, ignore=shutil.ignore_patterns("_build"))
    missing = [
        name
        for name in toc_notebooks(sources / "_toc.yml")
        if not (executed / f"{name}.ipynb").is_file()
    ]
    if missing:
        raise ConfigError(
            f"executed notebooks missing in {executed}: {missing}; "
            f"run `dvc repro` (it executes every chapter before the book)"
        )
    shutil.copytree(executed, staging / "notebooks", ignore=shutil.ignore_patterns(".*"))
    config_file = staging / "_config.yml"
    config = yaml.safe_load(config_file.read_text())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    config["parse"]["myst_substitutions"] = {
        "profile": f"`{profile}`",
        "build_info": f"{PROFILE_MEANING[profile][0].upper()}{PROFILE_MEANING[profile][1:]}; "
        f"sources at commit `{git_revision()}`, rendered {stamp}",
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    return staging


def build_book(profile: str) -> Path:
    """Stage and render the book; return the path of ``index.html``."""
    check_profile(profile)
    staging = stage_book(profile)
    output_root = HTML_OUTPUT.parent.parent
    if HTML_OUTPUT.exists():
        shutil.rmtree(HTML_OUTPUT)
    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(staging),
        "--path-output",
        str(output_root),
        "--warningiserror",
        "--keep-going",
    ]
    subprocess.run(cmd, check=True)
    index = HTML_OUTPUT / "index.html"
    if not index.is_file():
        raise RuntimeError(f"jupyter-book finished but {index} is missing")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    args = parser.parse_args(argv)
    try:
        index = build_book(args.profile)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"book: {index}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
