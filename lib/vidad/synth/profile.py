"""The ``synth`` section of ``params.yaml`` as validated generator settings, per dataset.

Read by stage ``synth`` (:mod:`vidad.pipeline`) and by chapter 6, which renders long videos with
synth-sports' settings; all values are checked before the first clip is rendered.
"""

from __future__ import annotations

from pathlib import Path

from vidad.config import ConfigError, load_params, stage_params
from vidad.synth.generate import SynthConfig

SYNTH_DATASETS: dict[str, str] = {"actions": "synth-actions", "sports": "synth-sports"}


def synth_configs(profile: str, params_file: Path = Path("params.yaml")) -> dict[str, object]:
    """Validated :class:`vidad.synth.SynthConfig` per dataset name, built before any compute."""
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
