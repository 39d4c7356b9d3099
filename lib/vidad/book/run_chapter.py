"""Execute one chapter: jupytext source -> notebook -> papermill with the profile's parameters.

Usage (what each DVC chapter stage runs)::

    python -m vidad.book.run_chapter notebooks/01_datasets.py --section datasets --profile cpu

The chapter's parameters are ``params.yaml[section][profile]`` plus ``profile``; they are
checked against the notebook's ``parameters`` cell *before* the kernel starts, so a typo in
``params.yaml`` is one clear error rather than a silently ignored value.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill

from vidad.config import ConfigError, SectionConfig, check_profile, load_params, stage_params
from vidad.paths import Paths

KERNEL = "python3"


def notebook_parameters(nb: nbformat.NotebookNode) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` (papermill's convention)."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            names = set()
            for line in cell.source.splitlines():
                head = line.split("#", 1)[0]
                if "=" in head and not head.startswith((" ", "\t")):
                    names.add(head.split("=", 1)[0].strip().split(":")[0].strip())
            return names
    raise ConfigError("notebook has no cell tagged 'parameters'")


def chapter_parameters(section: str, profile: str, params_file: Path) -> dict[str, Any]:
    """What papermill injects: ``profile`` and ``params``, the section's profile column.

    The column is first built into the chapter's typed ``Config``
    (``vidad.experiments.<section>.Config``), so a missing, unknown or mistyped key is one error
    naming it, before the kernel starts.
    """
    values = stage_params(load_params(params_file), section, profile)
    experiment_config(section).from_params(values, f"params.yaml {section}.{profile}")
    return {"profile": profile, "params": values}


def experiment_config(section: str) -> type[SectionConfig]:
    """The typed settings of the chapter whose ``params.yaml`` section is ``section``."""
    try:
        module = importlib.import_module(f"vidad.experiments.{section}")
    except ModuleNotFoundError as err:
        if err.name != f"vidad.experiments.{section}":
            raise
        raise ConfigError(
            f"no experiment module vidad.experiments.{section} for {section!r}"
        ) from err
    return module.Config


def run_chapter(
    source: Path,
    section: str,
    profile: str,
    params_file: Path = Path("params.yaml"),
    output_dir: Path | None = None,
) -> Path:
    """Execute ``source`` (a py:percent notebook) and return the executed ``.ipynb`` path."""
    check_profile(profile)
    source = Path(source)
    if not source.is_file():
        raise ConfigError(f"chapter source {source} not found")
    values = chapter_parameters(section, profile, params_file)
    nb = jupytext.read(source)
    declared = notebook_parameters(nb)
    unknown = sorted(set(values) - declared)
    if unknown:
        raise ConfigError(
            f"params.yaml {section}.{profile} sets {unknown}, which {source.name}'s "
            f"parameters cell does not declare (declared: {sorted(declared)})"
        )
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    output_dir = Path(output_dir) if output_dir else Paths(profile).notebooks
    output_dir.mkdir(parents=True, exist_ok=True)
    staged = output_dir / f".{source.stem}.input.ipynb"
    nbformat.write(nb, staged)
    executed = output_dir / f"{source.stem}.ipynb"
    # Progress bars would be printed into the page; papermill shows cell progress instead.
    os.environ.setdefault("TQDM_DISABLE", "1")
    # Two import-time warnings that say nothing about the chapter would be printed into it:
    # pytorchvideo's use of the deprecated torch.jit.script, and tqdm.auto without ipywidgets.
    os.environ["PYTHONWARNINGS"] = ",".join(
        filter(
            None,
            [
                os.environ.get("PYTHONWARNINGS", ""),
                "ignore:`torch.jit.script` is deprecated",
                "ignore:IProgress not found",
            ],
        )
    )
    try:
        papermill.execute_notebook(
            str(staged),
            str(executed),
            parameters=values,
            kernel_name=KERNEL,
            cwd=str(Path.cwd()),
            progress_bar=sys.stderr.isatty(),
            log_output=False,
        )
    finally:
        staged.unlink(missing_ok=True)
    return executed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="notebooks/NN_name.py")
    parser.add_argument("--section", required=True, help="params.yaml section of this chapter")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--output-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        out = run_chapter(args.source, args.section, args.profile, args.params, args.output_dir)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"executed {args.source} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
