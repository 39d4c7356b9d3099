"""Parameter and multiply-add counts, the units the papers report.

Papers' "GFLOPs" for video models are multiply-adds per view; fvcore counts one multiply-add as
one flop, so its total is directly comparable to the published numbers.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all of them unless ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, inputs: Any) -> int:
    """Multiply-adds of one forward pass on ``inputs`` (a tensor, a pathway list or a tuple).

    fvcore's per-op warnings (for element-wise ops it does not count, e.g. ReLU) are silenced:
    they are a few tenths of a percent and the papers do not count them either.
    """
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    logger = logging.getLogger("fvcore.nn.jit_handles")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with torch.no_grad():
            analysis = FlopCountAnalysis(model.eval(), args)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return int(analysis.total())
    finally:
        logger.setLevel(level)
