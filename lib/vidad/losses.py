"""Multi-label losses for per-box action logits: plain BCE and two focal variants.

Spatio-temporal action detection is multi-label (a person can hug *and* push) and heavily
imbalanced, so every class is an independent sigmoid. The source study's improvement is a focal
BCE written on the sigmoid probabilities p:

    loss = - pos_weight * y * (1 - p)^gamma * log(p) - (1 - y) * p^gamma * log(1 - p)

Written naively (``torch.log(torch.sigmoid(x))``) this gives -inf for confident wrong logits and
NaN gradients; :func:`focal_bce` uses ``logsigmoid`` for both logs, which stays finite for any
float32 logit. mmaction2's variant (:func:`mmaction_focal_bce`) modulates the *per-element BCE*
instead: alpha * (1 - pt)^gamma * BCE with pt = exp(-BCE); for hard 0/1 targets the two agree
at pos_weight = alpha = 1, but the spellings differ for soft targets and in how the weights act.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F

Reduction = Literal["mean", "sum", "none"]
LossFn = Callable[..., torch.Tensor]
BoundLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _reduce(loss: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r}; valid: 'mean', 'sum', 'none'")


def bce(logits: torch.Tensor, targets: torch.Tensor, reduction: Reduction = "mean") -> torch.Tensor:
    """Plain binary cross-entropy on logits (the baseline the focal losses are compared to)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}; valid: 'mean', 'sum', 'none'")
    return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction=reduction)


def focal_bce(
    logits: torch.Tensor,
    targets: torch.Tensor,
    pos_weight: float = 1.0,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """The source study's focal BCE on sigmoid probabilities (see the module docstring).

    ``(1 - p)^gamma`` shrinks the loss of positives the model already gets right and ``p^gamma``
    that of easy negatives, so the many easy negatives of the frequent classes stop drowning the
    rare ones. ``pos_weight`` multiplies only the positive term. With gamma = 0 and
    pos_weight = 1 this is exactly :func:`bce`.
    """
    targets = targets.to(logits.dtype)
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)  # log(1 - sigmoid(x)), finite where 1 - p underflows
    p = torch.sigmoid(logits)
    positive = pos_weight * targets * (1.0 - p).pow(gamma) * log_p
    negative = (1.0 - targets) * p.pow(gamma) * log_not_p
    return _reduce(-(positive + negative), reduction)


def mmaction_focal_bce(
    logits: torch.Tensor,
    targets: torch.Tensor,
    alpha: float = 1.0,
    gamma: float = 2.0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """mmaction2's AVA focal loss: ``alpha * (1 - pt)^gamma * BCE`` with ``pt = exp(-BCE)``.

    As in mmaction2's ``BBoxHeadAVA.loss`` (whose defaults, ``focal_alpha=1``, ``focal_gamma=0``,
    make it plain BCE; its AVA focal config uses alpha 3, gamma 1). ``alpha`` here scales *all*
    elements, unlike RetinaNet's alpha which weights positives against negatives. mmaction2 also
    drops RoIs without any positive label before this; that selection is the caller's job.
    """
    loss = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), reduction="none")
    pt = torch.exp(-loss)
    return _reduce(alpha * (1.0 - pt).pow(gamma) * loss, reduction)


LOSSES: dict[str, LossFn] = {
    "bce": bce,
    "focal_bce": focal_bce,
    "mmaction_focal": mmaction_focal_bce,
}


def make_loss(name: str, **kwargs: float | str) -> BoundLoss:
    """``loss(logits, targets)`` for a registered name, with ``kwargs`` bound (e.g. gamma).

    Unknown names and keyword arguments fail here, when the config is read, not at the first
    training step.
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid losses: {', '.join(sorted(LOSSES))}")
    fn = LOSSES[name]
    params = list(inspect.signature(fn).parameters)[2:]  # after logits, targets
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ValueError(
            f"unknown argument(s) {unknown} for loss {name!r}; valid: {', '.join(params)}"
        )
    return functools.partial(fn, **kwargs)
