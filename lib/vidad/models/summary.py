"""Architectures as tables: every layer's output shape and parameters, and complexity vs papers."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch
from torch import nn

LAYER_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv3d,
    nn.BatchNorm3d,
    nn.MaxPool3d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool3d,
    nn.Linear,
    nn.Conv2d,
)


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Conv3d | nn.Conv2d):
        return (
            f"conv {'x'.join(map(str, module.kernel_size))}, stride "
            f"{'x'.join(map(str, module.stride))}, {module.out_channels} filters"
        )
    if isinstance(module, nn.MaxPool3d | nn.AvgPool3d):
        kernel = module.kernel_size
        kernel = kernel if isinstance(kernel, tuple) else (kernel,) * 3
        return f"{type(module).__name__[:3].lower()} pool {'x'.join(map(str, kernel))}"
    if isinstance(module, nn.BatchNorm3d):
        return f"batch norm ({module.num_features} channels)"
    if isinstance(module, nn.Linear):
        return f"fully connected {module.in_features} -> {module.out_features}"
    return type(module).__name__


@torch.no_grad()
def layer_table(model: nn.Module, example: Any) -> pd.DataFrame:
    """One row per conv / pool / linear layer, in execution order: output shape and parameters.

    Shapes are recorded by forward hooks during one real forward pass of ``example``, so the
    table shows what the code does, not what a docstring claims.
    """
    rows: list[dict[str, Any]] = []
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, LAYER_TYPES):

            def hook(mod: nn.Module, _inp: Any, out: torch.Tensor, name: str = name) -> None:
                rows.append(
                    {
                        "layer": name,
                        "operation": _describe(mod),
                        "output (C, T, H, W)": tuple(out.shape[1:]),
                        "parameters": sum(p.numel() for p in mod.parameters()),
                    }
                )

            hooks.append(module.register_forward_hook(hook))
    try:
        model.eval()(example)
    finally:
        for h in hooks:
            h.remove()
    return pd.DataFrame(rows)


def complexity_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``ours`` vs ``published`` per quantity, with the relative difference."""
    table = pd.DataFrame(rows)
    table["difference"] = (table["ours"] - table["published"]) / table["published"]
    return table


def factorization_table(model: nn.Module) -> pd.DataFrame:
    """Every (2+1)-D conv of ``model``: widths N_{i-1} -> M_i -> N_i and parameters vs full 3-D.

    A (2+1)-D block (Tran et al., *A Closer Look at Spatiotemporal Convolutions for Action
    Recognition*, CVPR 2018) is a 1 x d x d conv to M_i channels followed by a t x 1 x 1 conv
    to N_i channels (torchvision's ``Conv2Plus1D``). The table reads the real modules, so it checks
    that our M_i follow the paper's rule and that the parameter counts match the t x d x d conv
    each block replaces.
    """
    from torchvision.models.video.resnet import Conv2Plus1D

    from vidad.models.resnet3d import r2plus1d_midplanes

    rows = []
    for name, module in model.named_modules():
        if not isinstance(module, Conv2Plus1D):
            continue
        spatial, temporal = module[0], module[3]
        n_in, mid, n_out = spatial.in_channels, spatial.out_channels, temporal.out_channels
        t, d = temporal.kernel_size[0], spatial.kernel_size[1]
        factored = spatial.weight.numel() + temporal.weight.numel()
        rows.append(
            {
                "layer": name,
                "N_{i-1}": n_in,
                "M_i": mid,
                "N_i": n_out,
                "M_i by the rule": r2plus1d_midplanes(n_in, n_out, t, d),
                "(2+1)D parameters": factored,
                "3-D parameters": t * d * d * n_in * n_out,
            }
        )
    table = pd.DataFrame(rows)
    table["ratio"] = table["(2+1)D parameters"] / table["3-D parameters"]
    return table
