"""Name -> builder registry, validating every argument before any weights are allocated.

Paper-size models hold up to 120M parameters; a typo in an option should fail in microseconds,
not after building one. A registration also declares the model's pretrained weights, each a
:class:`~vidad.models.pretrained.WeightsSource` (``pretrained={"kinetics400": ...}``), so the
place a checkpoint comes from sits next to the code that builds the network it fits.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidad.models.base import VideoModel
from vidad.models.pretrained import WeightsSource

ANY = object()  # option accepts any value (checked by the builder)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its builder, the sizes / options it accepts and its weights.

    ``pretrained`` maps a weight name to its source; a name mapped to ``None`` is loaded by the
    builder itself, which then receives ``pretrained=<name>`` (a detector that hands it on to
    its backbone's ``create_model``).
    """

    name: str
    builder: Callable[..., VideoModel]
    sizes: tuple[str, ...]
    options: dict[str, Sequence[Any] | object] = field(default_factory=dict)
    pretrained: dict[str, WeightsSource | None] = field(default_factory=dict)


_REGISTRY: dict[str, ModelEntry] = {}


def _weights(name: str, pretrained: Mapping[str, WeightsSource] | Sequence[str]) -> dict:
    if isinstance(pretrained, str):
        raise TypeError(f"pretrained of {name!r} must be a mapping or a sequence of names")
    if isinstance(pretrained, Mapping):
        bad = [k for k, v in pretrained.items() if not isinstance(v, WeightsSource)]
        if bad:
            raise TypeError(f"pretrained {bad} of {name!r}: each value must be a WeightsSource")
        return dict(pretrained)
    return dict.fromkeys(pretrained)  # names only: the builder loads them


def register_model(
    name: str,
    *,
    sizes: Sequence[str],
    options: dict[str, Sequence[Any] | object] | None = None,
    pretrained: Mapping[str, WeightsSource] | Sequence[str] = (),
) -> Callable[[Callable[..., VideoModel]], Callable[..., VideoModel]]:
    """Decorator registering ``builder(size, num_classes, **options) -> VideoModel``.

    ``pretrained`` maps each weight name to its declared source (loaded by ``create_model``);
    a plain sequence of names declares weights that the builder loads itself.
    """
    weights = _weights(name, pretrained)

    def decorate(builder: Callable[..., VideoModel]) -> Callable[..., VideoModel]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelEntry(name, builder, tuple(sizes), dict(options or {}), weights)
        return builder

    return decorate


#: Models registered by modules that ``vidad.models`` does not import eagerly (so that, say, a
#: change to the RoI detector is not a change to every chapter that builds a backbone); the
#: module is imported the first time one of its names is asked for.
LAZY_PROVIDERS: dict[str, str] = {
    "memae3d": "vidad.models.memae",
    "memae2d_frames": "vidad.models.memae",
    "slowfast_detector": "vidad.models.roi_head",
}


def list_models() -> list[str]:
    """Sorted names accepted by :func:`create_model` (lazily registered ones included)."""
    return sorted(set(_REGISTRY) | set(LAZY_PROVIDERS))


def get_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY and name in LAZY_PROVIDERS:
        importlib.import_module(LAZY_PROVIDERS[name])
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    return _REGISTRY[name]


def validate(entry: ModelEntry, size: str, pretrained: str | None, options: dict[str, Any]) -> None:
    """Raise one ValueError naming the valid choices for the first bad argument."""
    if size not in entry.sizes:
        raise ValueError(
            f"unknown size {size!r} for {entry.name}; valid sizes: {', '.join(entry.sizes)}"
        )
    for key, value in options.items():
        if key not in entry.options:
            valid = ", ".join(sorted(entry.options)) or "none"
            raise ValueError(f"unknown option {key!r} for {entry.name}; valid options: {valid}")
        choices = entry.options[key]
        if choices is not ANY and value not in choices:
            raise ValueError(
                f"invalid {key}={value!r} for {entry.name}; valid values: "
                + ", ".join(map(repr, choices))
            )
    if pretrained is not None:
        if pretrained not in entry.pretrained:
            valid = ", ".join(entry.pretrained) or "none (random init only)"
            raise ValueError(f"unknown pretrained {pretrained!r} for {entry.name}; valid: {valid}")
        # a declared checkpoint fits the published architecture only; a builder that loads
        # its own weights checks its own arguments
        if entry.pretrained[pretrained] is not None and (size != "paper" or options):
            raise ValueError(
                f"pretrained={pretrained!r} needs size='paper' and no options for {entry.name}"
            )
