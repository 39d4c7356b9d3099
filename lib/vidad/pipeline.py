"""Entry points of the DVC stages that are not chapters.

``python -m vidad.pipeline synth --profile cpu`` generates the embedded synthetic datasets of a
profile into ``build/<profile>/synth/{synth-actions,synth-sports}``. All parameters are read
and validated before the first clip is rendered.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidad.config import ConfigError, check_profile
from vidad.paths import Paths
from vidad.synth.profile import synth_configs


def run_synth(profile: str, params_file: Path = Path("params.yaml")) -> None:
    """Generate every synthetic dataset of ``profile`` from scratch."""
    from vidad.synth import generate_dataset
    from vidad.synth.stage import regenerate

    configs = synth_configs(check_profile(profile), params_file)
    for dataset, config in configs.items():
        render = lambda root, d=dataset, c=config: generate_dataset(d, root, c)  # noqa: E731
        regenerate(dataset, Paths(profile).synth(dataset), render, unit="clips")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["synth"])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        run_synth(args.profile, args.params)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
