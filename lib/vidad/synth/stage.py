"""The command line every synthetic-data stage shares: read one params column, validate, render.

``python -m vidad.synth.ped --profile cpu`` and ``python -m vidad.synth.interact --profile cpu``
(and stage ``synth``) do the same three things: build their settings from
``params.yaml[<section>][<profile>]`` before anything is rendered (one ``error:`` line and exit
status 2 when a value is wrong), delete the previous dataset folder, and render it from scratch.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any, TypeVar

from vidad.config import ConfigError, load_params, stage_params
from vidad.paths import Paths

Settings = TypeVar("Settings")


def regenerate(
    label: str, root: Path, render: Callable[[Path], Sized], unit: str = "videos"
) -> Sized:
    """Render a dataset into ``root`` from scratch and say how many ``unit`` it holds."""
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    table = render(root)
    took = time.perf_counter() - start
    print(f"{label}: {len(table)} {unit} in {took:.1f} s -> {root}")
    return table


def synth_stage_main(
    section: str,
    dataset: str,
    settings: Callable[[dict[str, Any], str], Settings],
    render: Callable[[Path, Settings], Sized],
    argv: list[str] | None = None,
    description: str | None = None,
) -> int:
    """Parse ``--profile`` / ``--params``, validate the section, regenerate ``dataset``.

    ``settings(values, where)`` builds the typed settings (a
    :meth:`vidad.config.SectionConfig.from_params`) and raises one :class:`ConfigError` that
    names the key, its value and the expected type (``where`` is how to name the section).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        values = stage_params(load_params(args.params), section, args.profile)
        config = settings(values, f"params.yaml {section}.{args.profile}")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    regenerate(dataset, Paths(args.profile).synth(dataset), lambda root: render(root, config))
    return 0
