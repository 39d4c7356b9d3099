"""R3D-18 and R(2+1)D-18 (Tran et al., CVPR 2018) on torchvision's building blocks.

torchvision's ``VideoResNet`` hard-codes 64 stem channels, so a thin subclass takes the widths as
arguments; at paper size it produces exactly torchvision's module names and shapes, so
torchvision's Kinetics-400 weights load unchanged, and the smaller presets share the code path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn
from torchvision.models.video import R2Plus1D_18_Weights, R3D_18_Weights
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, Conv3DSimple, VideoResNet

from vidad.models.base import InputSpec, VideoModel
from vidad.models.pretrained import TorchvisionWeights
from vidad.models.registry import ANY, register_model


def r2plus1d_midplanes(in_planes: int, out_planes: int, t: int = 3, d: int = 3) -> int:
    """M_i = floor(t d^2 N_{i-1} N_i / (d^2 N_{i-1} + t N_i)): the (2+1)D split's middle width.

    Chosen so a 1xdxd spatial conv to M_i channels plus a tx1x1 temporal conv to N_i channels has
    the parameter count of the full txdxd 3-D conv it replaces.
    """
    return (t * d * d * in_planes * out_planes) // (d * d * in_planes + t * out_planes)


@dataclass(frozen=True)
class VideoResNetConfig:
    """Stage widths of an 18-layer video ResNet (stem width = first stage width)."""

    widths: tuple[int, int, int, int] = (64, 128, 256, 512)
    layers: tuple[int, int, int, int] = (2, 2, 2, 2)
    num_frames: int = 16
    crop_size: int = 112


RESNET_SIZES: dict[str, VideoResNetConfig] = {
    "paper": VideoResNetConfig(),
    "small": VideoResNetConfig(widths=(16, 32, 64, 128)),
    "tiny": VideoResNetConfig(widths=(8, 16, 32, 64), layers=(1, 1, 1, 1), crop_size=64),
}


def basic_stem(width: int) -> nn.Sequential:
    """torchvision's BasicStem (3x7x7 conv) with a configurable width."""
    return nn.Sequential(
        nn.Conv3d(3, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


def r2plus1d_stem(width: int) -> nn.Sequential:
    """torchvision's R2Plus1dStem (1x7x7 to 45, then 3x1x1) scaled with ``width`` (45 at 64)."""
    mid = 45 * width // 64
    return nn.Sequential(
        nn.Conv3d(3, mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, width, (3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
        nn.BatchNorm3d(width),
        nn.ReLU(inplace=True),
    )


class WidthVideoResNet(VideoResNet):
    """``VideoResNet`` with configurable widths; reuses its ``_make_layer`` and ``forward``."""

    def __init__(
        self,
        conv_maker: type[Conv3DSimple | Conv2Plus1D],
        stem: nn.Module,
        config: VideoResNetConfig,
        num_classes: int,
    ) -> None:
        nn.Module.__init__(self)  # skip VideoResNet.__init__: it fixes the widths
        self.inplanes = config.widths[0]
        self.stem = stem
        for i, (width, blocks) in enumerate(zip(config.widths, config.layers, strict=True)):
            layer = self._make_layer(
                BasicBlock, conv_maker, width, blocks, stride=1 if i == 0 else 2
            )
            self.add_module(f"layer{i + 1}", layer)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(config.widths[-1], num_classes)
        for m in self.modules():  # torchvision's init, verbatim
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)


class VideoResNetModel(VideoModel):
    """Wraps a ``VideoResNet`` (``self.net``, torchvision names) with the vidad interface."""

    channels_last_3d_on_cpu = True  # measured faster: benchmarks/training.py

    def __init__(self, net: VideoResNet, config: VideoResNetConfig) -> None:
        super().__init__()
        self.net = net
        self.embed_dim = net.fc.in_features
        self.input_spec = InputSpec(num_frames=config.num_frames, crop_size=config.crop_size)

    def forward_features(self, clip: torch.Tensor) -> torch.Tensor:
        """Everything up to and including global average pooling + flatten."""
        net = self.net
        x = net.stem(clip)
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return net.avgpool(x).flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.fc(features)


_INPUT_OPTIONS = {"num_frames": ANY, "crop_size": ANY}


@register_model(
    "r3d_18",
    sizes=tuple(RESNET_SIZES),
    options=_INPUT_OPTIONS,
    pretrained={"kinetics400": TorchvisionWeights(R3D_18_Weights.KINETICS400_V1, head="fc")},
)
def r3d_18(size: str = "paper", num_classes: int = 400, **inputs: int) -> VideoResNetModel:
    """R3D-18: full 3x3x3 convs (33.4M params at paper size); ``inputs`` set the input spec."""
    config = replace(RESNET_SIZES[size], **inputs)
    net = WidthVideoResNet(Conv3DSimple, basic_stem(config.widths[0]), config, num_classes)
    return VideoResNetModel(net, config)


@register_model(
    "r2plus1d_18",
    sizes=tuple(RESNET_SIZES),
    options=_INPUT_OPTIONS,
    pretrained={"kinetics400": TorchvisionWeights(R2Plus1D_18_Weights.KINETICS400_V1, head="fc")},
)
def r2plus1d_18(size: str = "paper", num_classes: int = 400, **inputs: int) -> VideoResNetModel:
    """R(2+1)D-18: each 3x3x3 conv factored into 1x3x3 then 3x1x1 (31.5M params at paper size)."""
    config = replace(RESNET_SIZES[size], **inputs)
    net = WidthVideoResNet(Conv2Plus1D, r2plus1d_stem(config.widths[0]), config, num_classes)
    return VideoResNetModel(net, config)
