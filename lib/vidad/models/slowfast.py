"""SlowFast R50 and Slow-only R50 (Feichtenhofer et al., ICCV 2019) via pytorchvideo's builders.

Paper size reproduces pytorchvideo's ``slowfast_r50`` hub model (8x8: 8 slow / 32 fast frames,
alpha 4, beta 1/8, time-strided 7x1x1 conv laterals with 2*beta*C outputs, concatenation fusion),
so the zoo checkpoint loads unchanged. The head pools adaptively to 1x1x1 instead of pytorchvideo's
fixed-size AvgPool3d: no parameters change, and any clip size then works.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

# pytorchvideo decorates functions with the deprecated torch.jit.script when it is imported: a
# FutureWarning that says nothing to our users would start every command line's output.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
    from pytorchvideo.models.head import create_res_basic_head
    from pytorchvideo.models.resnet import create_bottleneck_block, create_resnet
    from pytorchvideo.models.slowfast import create_slowfast
    from pytorchvideo.models.stem import create_res_basic_stem

from vidad.models.base import InputSpec, VideoModel
from vidad.models.pretrained import PytorchvideoWeights
from vidad.models.registry import ANY, register_model
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
    #: the stem's 1x3x3 max-pool (stride 2). At 224 px it leaves res5 a 7x7 map; at the `cpu`
    #: profile's 32 px crops it leaves 1x1, so every stage after res3 sees almost no space.
    #: It has no weights: dropping it keeps every checkpoint loadable.
    stem_pool: bool = True


SLOWFAST_SIZES: dict[str, SlowFastConfig] = {
    "paper": SlowFastConfig(),
    "small": SlowFastConfig(model_depth=18, stem_dim=32, num_frames=32, crop_size=112),
    "tiny": SlowFastConfig(model_depth=18, stem_dim=16, num_frames=16, crop_size=64),
}


class PyTorchVideoNet(VideoModel):
    """Wraps a pytorchvideo ``Net`` whose last block is a ResNetBasicHead (``self.net``)."""

    def __init__(
        self, net: nn.Module, input_spec: InputSpec, embed_dim: int, single_pathway: bool = False
    ) -> None:
        super().__init__()
        self.net = net
        self.single_pathway = single_pathway
        self.input_spec = input_spec
        self.embed_dim = embed_dim

    @property
    def channels_last_3d_on_cpu(self) -> bool:  # type: ignore[override]
        """Slow-only (one pathway) trains faster with channels_last_3d on CPU; two-pathway
        SlowFast, whose fast pathway has only a few channels, measured no faster or slower
        (``benchmarks/training.py``), so it keeps the default layout."""
        return self.single_pathway

    def forward_features(self, clip: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        """Pooled (and for SlowFast, concatenated) features, before dropout and projection."""
        x = list(clip) if isinstance(clip, list | tuple) else clip  # pytorchvideo mutates lists
        if self.single_pathway and isinstance(x, torch.Tensor):
            x = [x]  # a one-pathway create_slowfast net still expects a list
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


#: Lateral connections of the SlowFast paper's Table 5a (fast -> slow, after pool1/res2/res3/res4).
LATERALS: tuple[str, ...] = (
    "time_strided_conv",
    "time_strided_sampling",
    "time_to_channel",
    "none",
)
PATHWAYS: tuple[str, ...] = ("slowfast", "slow", "fast")


class TimeStridedSampling(nn.Module):
    """Lateral that takes one of every ``alpha`` fast frames: {aT, S^2, bC} -> {T, S^2, bC}."""

    def __init__(self, alpha: int) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        slow, fast = x
        return [torch.cat([slow, fast[:, :, :: self.alpha]], dim=1), fast]


class TimeToChannel(nn.Module):
    """Lateral that folds time into channels: {aT, S^2, bC} -> {T, S^2, a*b*C}."""

    def __init__(self, alpha: int) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        slow, fast = x
        b, c, t, h, w = fast.shape
        folded = fast.reshape(b, c, t // self.alpha, self.alpha, h, w).transpose(2, 3)
        folded = folded.reshape(b, c * self.alpha, t // self.alpha, h, w)
        return [torch.cat([slow, folded], dim=1), fast]


class NoFusion(nn.Module):
    """No lateral: the pathways only meet at the head (the paper's "SlowFast, no lateral")."""

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        return x


def _fusion(lateral: str, cfg: SlowFastConfig) -> tuple[Callable[..., nn.Module] | None, int]:
    """pytorchvideo ``fusion_builder`` for a lateral type, and its channel ratio.

    The ratio is how many fast-pathway widths the lateral adds to the slow pathway, which
    pytorchvideo needs to size the next slow stage: 2 for the 2*beta*C conv, 1 for sampling,
    alpha for time-to-channel, 0 without laterals.
    """
    if lateral == "time_strided_conv":
        return None, 2  # pytorchvideo's own FastToSlowFusionBuilder, built from the kernel args
    if lateral == "none":
        return (lambda fusion_dim_in, stage_idx: NoFusion()), 0
    fuse, ratio = {
        "time_strided_sampling": (TimeStridedSampling, 1),
        "time_to_channel": (TimeToChannel, cfg.alpha),
    }[lateral]

    def build(fusion_dim_in: int, stage_idx: int) -> nn.Module:
        # laterals after the stem and res2..res4 (stage_idx 0..3); none after res5
        return fuse(cfg.alpha) if stage_idx < 4 else NoFusion()

    return build, ratio


_SLOW_CONV_A = ((1, 1, 1), (1, 1, 1), (3, 1, 1), (3, 1, 1))  # temporal convs in res4/res5 only
_FAST_CONV_A = ((3, 1, 1),) * 4  # temporal convs everywhere


def _build_slowfast(cfg: SlowFastConfig, num_classes: int, lateral: str) -> nn.Module:
    fusion_builder, ratio = _fusion(lateral, cfg)
    return create_slowfast(
        model_depth=cfg.model_depth,
        model_num_class=num_classes,
        slowfast_channel_reduction_ratio=(cfg.channel_reduction,),
        slowfast_conv_channel_fusion_ratio=ratio,
        slowfast_fusion_conv_kernel_size=(7, 1, 1),
        slowfast_fusion_conv_stride=(cfg.alpha, 1, 1),
        fusion_builder=fusion_builder,
        stem_dim_outs=(cfg.stem_dim, cfg.stem_dim // cfg.channel_reduction),
        stem_pool=(nn.MaxPool3d if cfg.stem_pool else None,) * 2,
        head_pool=nn.AdaptiveAvgPool3d,
        head_output_size=(1, 1, 1),
    )


def _build_single_pathway(cfg: SlowFastConfig, num_classes: int, pathway: str) -> nn.Module:
    """One pathway of SlowFast alone (the paper's Slow-only and Fast-only rows).

    Built by the same ``create_slowfast`` with a single input and no laterals, so that depth,
    stems and block layout match the two-pathway network exactly; pytorchvideo sizes the head
    for two pathways, so it is rebuilt for one.
    """
    slow = pathway == "slow"
    width = cfg.stem_dim if slow else cfg.stem_dim // cfg.channel_reduction
    net = create_slowfast(
        model_depth=cfg.model_depth,
        model_num_class=num_classes,
        slowfast_channel_reduction_ratio=(cfg.channel_reduction,),
        slowfast_conv_channel_fusion_ratio=0,
        fusion_builder=lambda fusion_dim_in, stage_idx: NoFusion(),
        input_channels=(3,),
        stem_function=(create_res_basic_stem,),
        stem_dim_outs=(width,),
        stem_conv_kernel_sizes=((1, 7, 7),) if slow else ((5, 7, 7),),
        stem_conv_strides=((1, 2, 2),),
        stem_pool=(nn.MaxPool3d if cfg.stem_pool else None,),
        stem_pool_kernel_sizes=((1, 3, 3),),
        stem_pool_strides=((1, 2, 2),),
        stage_conv_a_kernel_sizes=(_SLOW_CONV_A if slow else _FAST_CONV_A,),
        stage_conv_b_kernel_sizes=(((1, 3, 3),) * 4,),
        stage_conv_b_num_groups=((1, 1, 1, 1),),
        stage_conv_b_dilations=(((1, 1, 1),) * 4,),
        stage_spatial_strides=((1, 2, 2, 2),),
        stage_temporal_strides=((1, 1, 1, 1),),
        bottleneck=((create_bottleneck_block,) * 4,),
        head=None,
        head_pool=nn.AdaptiveAvgPool3d,
        head_output_size=((1, 1, 1),),
    )
    net.blocks.append(
        create_res_basic_head(
            in_features=32 * width, out_features=num_classes, pool=None, dropout_rate=0.5
        )
    )
    return net


@register_model(
    "slowfast_r50",
    sizes=tuple(SLOWFAST_SIZES),
    options={
        "lateral": LATERALS,
        "pathways": PATHWAYS,
        "alpha": ANY,
        "channel_reduction": ANY,
        "num_frames": ANY,
        "crop_size": ANY,
        "stem_pool": (True, False),
    },
    # the zoo's 8x8 checkpoint; its classifier is the projection of the last block
    pretrained={"kinetics400": PytorchvideoWeights("SLOWFAST_8x8_R50.pyth", head="blocks.6.proj")},
)
def slowfast_r50(
    size: str = "paper",
    num_classes: int = 400,
    lateral: str = "time_strided_conv",
    pathways: str = "slowfast",
    **overrides: int,
) -> PyTorchVideoNet:
    """SlowFast 8x8 R50 (34.57M params); small/tiny use pytorchvideo's depth-18 stage layout.

    Ablation options (the paper's Table 5): ``lateral`` (time-strided conv, the default and the
    published model; time-strided sampling; time-to-channel; none), ``pathways`` ("slow" or
    "fast" alone), ``alpha`` (frame-rate ratio) and ``channel_reduction`` (1 / beta).
    ``num_frames`` (fast pathway) and ``crop_size`` set the input spec; ``stem_pool=False``
    drops the stem's max-pool (no weights change) for crops too small to be pooled 32x.
    """
    cfg = replace(SLOWFAST_SIZES[size], **overrides)
    if cfg.num_frames % cfg.alpha:
        raise ValueError(f"num_frames={cfg.num_frames} must be a multiple of alpha={cfg.alpha}")
    common = {"crop_size": cfg.crop_size, "mean": KINETICS_MEAN, "std": KINETICS_STD}
    if pathways == "slowfast":
        net = _build_slowfast(cfg, num_classes, lateral)
        # slow res5 width (32x stem) plus fast res5 width (beta of that): 2048 + 256 at paper size
        embed_dim = 32 * cfg.stem_dim + 32 * cfg.stem_dim // cfg.channel_reduction
        spec = InputSpec(num_frames=cfg.num_frames, alpha=cfg.alpha, **common)
        return PyTorchVideoNet(net, spec, embed_dim)
    if lateral != "time_strided_conv":
        raise ValueError(f"lateral={lateral!r} needs two pathways, got pathways={pathways!r}")
    net = _build_single_pathway(cfg, num_classes, pathways)
    frames = cfg.num_frames // cfg.alpha if pathways == "slow" else cfg.num_frames
    width = cfg.stem_dim if pathways == "slow" else cfg.stem_dim // cfg.channel_reduction
    spec = InputSpec(num_frames=frames, **common)
    return PyTorchVideoNet(net, spec, 32 * width, single_pathway=True)


SLOW_SIZES: dict[str, SlowFastConfig] = {
    "paper": SlowFastConfig(num_frames=8),
    # create_resnet only knows depths 50/101/152, so the small presets shrink width instead
    "small": SlowFastConfig(stem_dim=16, num_frames=8, crop_size=112),
    "tiny": SlowFastConfig(stem_dim=8, num_frames=4, crop_size=64),
}


@register_model(
    "slow_r50",
    sizes=tuple(SLOW_SIZES),
    pretrained={"kinetics400": PytorchvideoWeights("SLOW_8x8_R50.pyth", head="blocks.5.proj")},
)
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
