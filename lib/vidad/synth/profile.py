"""The ``synth`` section of ``params.yaml`` as validated generator settings, per dataset.

Read by stage ``synth`` (:mod:`vidad.pipeline`) and by chapter 6, which renders long videos with
synth-sports' settings; all values are checked before the first clip is rendered.
"""

from __future__ import annotations

from pathlib import Path

from vidad.config import ConfigError, load_params, stage_params
from vidad.synth.generate import SynthConfig

SYNTH_DATASETS: dict[str, str] = {"actions": "synth-actions", "sports": "synth-sports"}
#: Set once, at ``synth.<profile>``, for every dataset.
SHARED_KEYS: tuple[str, ...] = ("seed", "workers")


def synth_configs(profile: str, params_file: Path = Path("params.yaml")) -> dict[str, SynthConfig]:
    """Validated :class:`vidad.synth.SynthConfig` per dataset name, built before any compute.

    ``seed`` and ``workers`` are set once for every dataset; each dataset's block sets the rest.
    Every value is type-checked: one :class:`ConfigError` names the key, the value and the type.
    """
    where = f"params.yaml synth.{profile}"
    values = stage_params(load_params(params_file), "synth", profile)
    shared = {k: values.pop(k) for k in SHARED_KEYS if k in values}
    SynthConfig.from_params(shared, where)  # the shared values' types, named where they are set
    configs: dict[str, SynthConfig] = {}
    for key, dataset in SYNTH_DATASETS.items():
        if key not in values:
            raise ConfigError(f"{where} lacks the {key!r} block")
        block = values.pop(key)
        if not isinstance(block, dict):
            raise ConfigError(f"{where}.{key} must be a mapping of key -> value, got {block!r}")
        twice = sorted(set(block) & set(SHARED_KEYS), key=str)
        if twice:
            raise ConfigError(
                f"{where}.{key} sets {twice}, which synth.{profile} sets for every dataset"
            )
        block = dict(block)
        if key == "actions":
            block.setdefault("clips_scale", 1.0)
        else:
            if "extra_test_clips_per_class" in block:
                raise ConfigError(
                    f"{where}.{key} sets extra_test_clips_per_class, which only synth-actions "
                    "has (synth-sports follows the real dataset's clip counts)"
                )
            block.setdefault("clips_per_class", 1)
        configs[dataset] = SynthConfig.from_params({**block, **shared}, f"{where}.{key}")
    if values:
        raise ConfigError(f"{where} has unknown keys {sorted(values, key=str)}")
    return configs
