"""C3D (Tran et al., ICCV 2015): eight 3x3x3 conv layers and two 4096-d fully connected layers.

No library ships it, so it is written out here as the paper describes it (Tran et al., "Learning
Spatiotemporal Features with 3D Convolutional Networks", ICCV 2015). The
``temporal_depth`` option rebuilds the paper's kernel temporal-depth search (1/3/5/7, increasing,
decreasing); padding is ``depth // 2`` so every conv preserves the time dimension, as in the paper.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch
from torch import nn

from vidad.models.base import InputSpec, VideoModel
from vidad.models.registry import ANY, register_model

# conv layer names per conv group (group i -> its layers); 5 groups, each followed by a pool
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("conv1",),
    ("conv2",),
    ("conv3a", "conv3b"),
    ("conv4a", "conv4b"),
    ("conv5a", "conv5b"),
)
CONV_NAMES: tuple[str, ...] = tuple(n for group in _GROUPS for n in group)
FC_NAMES: tuple[str, ...] = ("fc6", "fc7", "fc8")

TEMPORAL_DEPTHS: dict[str, tuple[int, int, int, int, int]] = {
    "increasing": (3, 3, 5, 5, 7),
    "decreasing": (7, 5, 5, 3, 3),
}


@dataclass(frozen=True)
class C3DConfig:
    """Widths of the five conv groups, fc width and the input the flatten size is derived from.

    ``batch_norm`` (BatchNorm3d after every conv) is not in the paper, whose network trained for
    days on Sports-1M; the small presets turn it on because they are trained from scratch on
    little data, where the plain network barely leaves chance in a CPU budget.
    ``head="avgpool"`` replaces pool5's flatten by global average pooling before fc6 (as
    Res3D and every later 3-D CNN do). The paper's flatten ties fc6 to *where* the actor is in
    the frame; trained from scratch on a few hundred clips whose actors stand anywhere, the
    small presets stayed at chance with it (see the C3D chapter), so they pool.
    """

    widths: tuple[int, int, int, int, int] = (64, 128, 256, 512, 512)
    fc_dim: int = 4096
    temporal_depth: int | str = 3
    num_frames: int = 16
    crop_size: int = 112
    dropout: float = 0.5
    batch_norm: bool = False
    head: str = "flatten"

    def __post_init__(self) -> None:
        if self.head not in C3D_HEADS:
            raise ValueError(f"head must be one of {C3D_HEADS}, got {self.head!r}")

    def depths(self) -> tuple[int, ...]:
        """Temporal kernel depth of each of the 5 conv groups."""
        if isinstance(self.temporal_depth, str):
            return TEMPORAL_DEPTHS[self.temporal_depth]
        return (self.temporal_depth,) * 5


C3D_HEADS: tuple[str, ...] = ("flatten", "avgpool")

C3D_SIZES: dict[str, C3DConfig] = {
    "paper": C3DConfig(),
    "small": C3DConfig(widths=(16, 32, 64, 128, 128), fc_dim=512, batch_norm=True, head="avgpool"),
    "tiny": C3DConfig(
        widths=(8, 16, 32, 64, 64), fc_dim=256, crop_size=64, batch_norm=True, head="avgpool"
    ),
}


def _pool(t: int, first: bool, last: bool) -> tuple[nn.MaxPool3d, int]:
    """Pool for one group and the time length after it.

    pool1 is 1x2x2 (keeps early temporal information); later pools halve time while it is >= 2,
    so short clips (8 frames) keep one frame instead of pooling time away to zero. For the paper's
    16 frames this is exactly the published 2x2x2 everywhere.
    """
    kt = 1 if first or t < 2 else 2
    padding = (0, 1, 1) if last else (0, 0, 0)
    return nn.MaxPool3d((kt, 2, 2), stride=(kt, 2, 2), padding=padding), t // kt


def _pooled(n: int, pad: int) -> int:
    return (n + 2 * pad - 2) // 2 + 1


class C3D(VideoModel):
    """C3D with layers named conv1..conv5b, pool1..pool5, fc6, fc7, fc8 (the classifier)."""

    channels_last_3d_on_cpu = True  # measured faster: benchmarks/training.py

    def __init__(self, config: C3DConfig, num_classes: int = 101) -> None:
        super().__init__()
        self.config = config
        self.input_spec = InputSpec(num_frames=config.num_frames, crop_size=config.crop_size)
        in_ch, t, s = 3, config.num_frames, config.crop_size
        for g, (names, width, depth) in enumerate(
            zip(_GROUPS, config.widths, config.depths(), strict=True)
        ):
            for name in names:
                conv = nn.Conv3d(
                    in_ch,
                    width,
                    (depth, 3, 3),
                    padding=(depth // 2, 1, 1),
                    bias=not config.batch_norm,
                )
                self.add_module(name, conv)
                if config.batch_norm:
                    self.add_module(f"{name}_bn", nn.BatchNorm3d(width))
                in_ch = width
            pool, t = _pool(t, first=g == 0, last=g == 4)
            self.add_module(f"pool{g + 1}", pool)
            s = _pooled(s, 1 if g == 4 else 0)
        if t < 1 or s < 1:
            raise ValueError(f"input {config.num_frames}x{config.crop_size}^2 too small for C3D")
        # 512 * 1 * 4 * 4 = 8192 for 16x112x112; the channels alone after global pooling
        self.flatten_dim = in_ch * t * s * s if config.head == "flatten" else in_ch
        self.fc6 = nn.Linear(self.flatten_dim, config.fc_dim)
        self.fc7 = nn.Linear(config.fc_dim, config.fc_dim)
        self.fc8 = nn.Linear(config.fc_dim, num_classes)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(config.dropout)
        self.embed_dim = config.fc_dim
        self._init_weights()

    def _init_weights(self) -> None:
        # Kaiming for the convolutions and the ReLU layers fc6 / fc7 (fan-in, so activations
        # keep their scale), N(0, 0.01) for the classifier fc8 so the first logits are small.
        # VGG's N(0, 0.01) on fc6 / fc7 as well shrinks the activations ~3x per layer in the
        # narrow presets; their ReLUs then die and training sits at chance.
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif m is self.fc8:
                nn.init.normal_(m.weight, 0.0, 0.01)
            elif isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
            if isinstance(m, nn.Conv3d | nn.Linear | nn.BatchNorm3d) and m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward_features(self, clip: torch.Tensor) -> torch.Tensor:
        """fc7 activations (post-ReLU, pre-dropout in eval), the usual C3D feature."""
        x = clip
        for g, names in enumerate(_GROUPS):
            for name in names:
                x = getattr(self, name)(x)
                if self.config.batch_norm:
                    x = getattr(self, f"{name}_bn")(x)
                x = self.relu(x)
            x = getattr(self, f"pool{g + 1}")(x)
        if self.config.head == "avgpool":
            x = x.mean(dim=(2, 3, 4))
        x = x.flatten(1)
        if x.shape[1] != self.flatten_dim:
            raise ValueError(
                f"C3D built for {self.input_spec.num_frames}x{self.input_spec.crop_size}^2 clips "
                f"(flatten {self.flatten_dim}) got shape {tuple(clip.shape)}"
            )
        x = self.dropout(self.relu(self.fc6(x)))
        return self.relu(self.fc7(x))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc8(self.dropout(features))


def load_c3d_state_dict(
    model: C3D, state_dict: Mapping[str, torch.Tensor], include_head: bool = True
) -> tuple[list[str], list[str]]:
    """Load a ``features.N`` / ``classifier.N`` state dict (nn.Sequential style) into ``model``.

    The i-th conv index under ``features`` becomes ``CONV_NAMES[i]`` and the i-th linear index
    under ``classifier`` becomes fc6, fc7, fc8, whatever the gaps from ReLU/pool/dropout layers.
    Keys already in our naming pass through. With ``include_head=False`` (or when fc8's shape
    differs, i.e. another label set) fc8 is left at its initialisation. Returns (missing,
    unexpected) like :meth:`torch.nn.Module.load_state_dict`.
    """
    groups: dict[str, dict[int, dict[str, torch.Tensor]]] = {"features": {}, "classifier": {}}
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.")
        match = re.fullmatch(r"(features|classifier)\.(\d+)\.(weight|bias)", key)
        if match:
            groups[match[1]].setdefault(int(match[2]), {})[match[3]] = value
        else:
            mapped[key] = value
    for prefix, names in (("features", CONV_NAMES), ("classifier", FC_NAMES)):
        indices = sorted(groups[prefix])
        if len(indices) > len(names):
            raise ValueError(f"{len(indices)} {prefix} layers in state dict, C3D has {len(names)}")
        for name, index in zip(names, indices, strict=False):
            for param, value in groups[prefix][index].items():
                mapped[f"{name}.{param}"] = value
    own = model.state_dict()
    head_mismatch = "fc8.weight" in mapped and mapped["fc8.weight"].shape != own["fc8.weight"].shape
    if not include_head or head_mismatch:
        mapped = {k: v for k, v in mapped.items() if not k.startswith("fc8.")}
    result = model.load_state_dict(mapped, strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


@register_model(
    "c3d",
    sizes=tuple(C3D_SIZES),
    options={
        "temporal_depth": (1, 3, 5, 7, "increasing", "decreasing"),
        "batch_norm": (True, False),
        "dropout": ANY,
        "head": C3D_HEADS,
        "num_frames": ANY,
        "crop_size": ANY,
    },
)
def c3d(size: str = "paper", num_classes: int = 101, **options: int | str) -> C3D:
    """C3D; ``num_frames`` / ``crop_size`` change the input (and so fc6's input size)."""
    return C3D(replace(C3D_SIZES[size], **options), num_classes=num_classes)
