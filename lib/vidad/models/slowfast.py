"""SlowFast R50 and Slow-only R50 (Feichtenhofer et al., ICCV 2019) via pytorchvideo's builders.

Paper size reproduces pytorchvideo's ``slowfast_r50`` hub model (8x8: 8 slow / 32 fast frames,
alpha 4, beta 1/8, time-strided 7x1x1 conv laterals with 2*beta*C outputs, concatenation fusion),
so the zoo checkpoint loads unchanged. The head pools adaptively to 1x1x1 instead of pytorchvideo's
fixed-size AvgPool3d: no parameters change, and any clip size then works.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pytorchvideo.models.resnet import create_resnet
from pytorchvideo.models.slowfast import create_slowfast
from torch import nn

from vidad.models.base import InputSpec, VideoModel
from vidad.models.registry import register_model
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD


@dataclass(frozen=True)
class SlowFastConfig:
    """Depth, slow stem width, alpha (frame-rate ratio) and beta = 1/reduction (channel ratio)."""

    model_depth: int = 50
    stem_dim: int = 64
    alpha: int = 4
    channel_reduction: int = 8
    num_frames: int = 32  # fast pathway; slow gets num_frames // alpha
    crop_size: int = 224


SLOWFAST_SIZES: dict[str, SlowFastConfig] = {
    "paper": SlowFastConfig(),
    "small": SlowFastConfig(model_depth=18, stem_dim=32, num_frames=32, crop_size=112),
    "tiny": SlowFastConfig(model_depth=18, stem_dim=16, num_frames=16, crop_size=64),
}


class PyTorchVideoNet(VideoModel):
    """Wraps a pytorchvideo ``Net`` whose last block is a ResNetBasicHead (``self.net``)."""

    def __init__(self, net: nn.Module, input_spec: InputSpec, embed_dim: int) -> None:
        super().__init__()
        self.net = net
        self.input_spec = input_spec
        self.embed_dim = embed_dim

    def forward_features(self, clip: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """Pooled (and for SlowFast, concatenated) features, before dropout and projection."""
        x = list(clip) if isinstance(clip, list | tuple) else clip  # pytorchvideo mutates lists
        blocks = self.net.blocks
        for block in blocks[:-1]:
            x = block(x)
        head = blocks[-1]
        if head.pool is not None:
            x = head.pool(x)
        return x.flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        head = self.net.blocks[-1]
        x = head.dropout(features) if head.dropout is not None else features
        return head.proj(x)


@register_model("slowfast_r50", sizes=tuple(SLOWFAST_SIZES), pretrained=("kinetics400",))
def slowfast_r50(size: str = "paper", num_classes: int = 400) -> PyTorchVideoNet:
    """SlowFast 8x8 R50 (34.57M params); small/tiny use pytorchvideo's depth-18 stage layout."""
    cfg = SLOWFAST_SIZES[size]
    net = create_slowfast(
        model_depth=cfg.model_depth,
        model_num_class=num_classes,
        slowfast_channel_reduction_ratio=(cfg.channel_reduction,),
        slowfast_conv_channel_fusion_ratio=2,
        slowfast_fusion_conv_kernel_size=(7, 1, 1),
        slowfast_fusion_conv_stride=(cfg.alpha, 1, 1),
        stem_dim_outs=(cfg.stem_dim, cfg.stem_dim // cfg.channel_reduction),
        head_pool=nn.AdaptiveAvgPool3d,
        head_output_size=(1, 1, 1),
    )
    # slow res5 width (32x stem) plus fast res5 width (beta of that): 2048 + 256 at paper size
    embed_dim = 32 * cfg.stem_dim + 32 * cfg.stem_dim // cfg.channel_reduction
    spec = InputSpec(
        num_frames=cfg.num_frames,
        crop_size=cfg.crop_size,
        mean=KINETICS_MEAN,
        std=KINETICS_STD,
        alpha=cfg.alpha,
    )
    return PyTorchVideoNet(net, spec, embed_dim)


SLOW_SIZES: dict[str, SlowFastConfig] = {
    "paper": SlowFastConfig(num_frames=8),
    # create_resnet only knows depths 50/101/152, so the small presets shrink width instead
    "small": SlowFastConfig(stem_dim=16, num_frames=8, crop_size=112),
    "tiny": SlowFastConfig(stem_dim=8, num_frames=4, crop_size=64),
}


@register_model("slow_r50", sizes=tuple(SLOW_SIZES), pretrained=("kinetics400",))
def slow_r50(size: str = "paper", num_classes: int = 400) -> PyTorchVideoNet:
    """Slow-only R50 (pytorchvideo ``slow_r50``: 8x8, 1x7x7 stem, temporal convs in res4/res5)."""
    cfg = SLOW_SIZES[size]
    net = create_resnet(
        model_depth=cfg.model_depth,
        model_num_class=num_classes,
        stem_dim_out=cfg.stem_dim,
        stem_conv_kernel_size=(1, 7, 7),
        head_pool=nn.AdaptiveAvgPool3d,
        head_output_size=(1, 1, 1),
    )
    spec = InputSpec(
        num_frames=cfg.num_frames,
        crop_size=cfg.crop_size,
        mean=KINETICS_MEAN,
        std=KINETICS_STD,
    )
    return PyTorchVideoNet(net, spec, 32 * cfg.stem_dim)
