"""Name -> builder registry, validating every argument before any weights are allocated.

Paper-size models hold up to 120M parameters; a typo in an option should fail in microseconds,
not after building one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vidad.models.base import VideoModel

ANY = object()  # option accepts any value (checked by the builder)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: its builder and the sizes / options / weights it accepts."""

    name: str
    builder: Callable[..., VideoModel]
    sizes: tuple[str, ...]
    options: dict[str, Sequence[Any] | object] = field(default_factory=dict)
    pretrained: tuple[str, ...] = ()


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    *,
    sizes: Sequence[str],
    options: dict[str, Sequence[Any] | object] | None = None,
    pretrained: Sequence[str] = (),
) -> Callable[[Callable[..., VideoModel]], Callable[..., VideoModel]]:
    """Decorator registering ``builder(size, num_classes, **options) -> VideoModel``."""

    def decorate(builder: Callable[..., VideoModel]) -> Callable[..., VideoModel]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelEntry(
            name, builder, tuple(sizes), dict(options or {}), tuple(pretrained)
        )
        return builder

    return decorate


def list_models() -> list[str]:
    """Sorted names accepted by :func:`create_model`."""
    return sorted(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
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
        if size != "paper" or options:
            raise ValueError(
                f"pretrained={pretrained!r} needs size='paper' and no options for {entry.name}"
            )
