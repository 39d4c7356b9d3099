"""Freezing and unfreezing by position in ``named_parameters()`` order.

The original fine-tunes "the last N parameter tensors" of a backbone (12 of 110 for R(2+1)D-18,
30 of 329 for SlowFast R50, 22 of 246 for TimeSformer base): counting tensors rather than naming
layers works the same for every architecture.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn


def count_parameter_tensors(model: nn.Module) -> int:
    """Number of parameter tensors (not scalars) in ``model``."""
    return sum(1 for _ in model.parameters())


def _check_n(model: nn.Module, n: int) -> int:
    total = count_parameter_tensors(model)
    if not 0 <= n <= total:
        raise ValueError(f"n must be in [0, {total}] (the model's parameter tensors), got {n}")
    return total


def freeze_all_but_last(model: nn.Module, n: int) -> list[str]:
    """Freeze every parameter tensor except the last ``n``; return the names left trainable."""
    total = _check_n(model, n)
    trainable = []
    for i, (name, param) in enumerate(model.named_parameters()):
        param.requires_grad_(i >= total - n)
        if param.requires_grad:
            trainable.append(name)
    return trainable


def unfreeze_last(model: nn.Module, n: int) -> list[str]:
    """Make the last ``n`` parameter tensors trainable (others untouched); return their names."""
    total = _check_n(model, n)
    names = []
    for i, (name, param) in enumerate(model.named_parameters()):
        if i >= total - n:
            param.requires_grad_(True)
            names.append(name)
    return names


def trainable_names(model: nn.Module) -> list[str]:
    """Names of the parameters that currently require grad."""
    return [name for name, p in model.named_parameters() if p.requires_grad]


def set_trainable(model: nn.Module, names: Iterable[str]) -> None:
    """Make exactly ``names`` trainable (restores a trainable set saved in a checkpoint)."""
    wanted = set(names)
    params = dict(model.named_parameters())
    missing = sorted(wanted - set(params))
    if missing:
        raise ValueError(f"parameters not in the model: {missing[:5]}")
    for name, param in params.items():
        param.requires_grad_(name in wanted)
