"""Entry points of the DVC stages that are not chapters.

``python -m vidad.pipeline synth --profile cpu`` generates the embedded synthetic datasets of a
profile into ``build/<profile>/synth/{synth-actions,synth-sports}``. All parameters are read
and validated before the first clip is rendered.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from vidad.config import ConfigError, build_dir, check_profile, load_params, stage_params

SYNTH_DATASETS: dict[str, str] = {"actions": "synth-actions", "sports": "synth-sports"}


def synth_root(profile: str, dataset: str, root: str | Path = ".") -> Path:
    """Folder of one generated dataset (holds ``manifest.csv`` and ``videos/``)."""
    return build_dir(profile, root) / "synth" / dataset


def synth_configs(profile: str, params_file: Path = Path("params.yaml")) -> dict[str, object]:
    """Validated :class:`vidad.synth.SynthConfig` per dataset name, built before any compute."""
    from vidad.synth import SynthConfig

    values = stage_params(load_params(params_file), "synth", profile)
    shared = {k: values.pop(k) for k in ("seed", "workers") if k in values}
    configs: dict[str, object] = {}
    for key, dataset in SYNTH_DATASETS.items():
        if key not in values:
            raise ConfigError(f"params.yaml synth.{profile} lacks the {key!r} block")
        block = dict(values.pop(key))
        if key == "actions":
            block.setdefault("clips_scale", 1.0)
        else:
            block.setdefault("clips_per_class", 1)
        try:
            configs[dataset] = SynthConfig(**block, **shared)
        except TypeError as err:
            raise ConfigError(f"params.yaml synth.{profile}.{key}: {err}") from err
        except ValueError as err:
            raise ConfigError(f"params.yaml synth.{profile}.{key}: {err}") from err
    if values:
        raise ConfigError(f"params.yaml synth.{profile} has unknown keys {sorted(values)}")
    return configs


def run_synth(profile: str, params_file: Path = Path("params.yaml")) -> None:
    """Generate every synthetic dataset of ``profile`` from scratch."""
    from vidad.synth import generate_dataset

    configs = synth_configs(check_profile(profile), params_file)
    for dataset, config in configs.items():
        root = synth_root(profile, dataset)
        if root.exists():
            shutil.rmtree(root)
        start = time.perf_counter()
        table = generate_dataset(dataset, root, config)
        print(f"{dataset}: {len(table)} clips in {time.perf_counter() - start:.1f} s -> {root}")


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
