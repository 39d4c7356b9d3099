"""SlowFast + RoI head for spatio-temporal action detection (AVA style).

For an annotated keyframe, the clip around it goes through the SlowFast backbone once; every
person box then reads its own feature vector from the last feature map, and a linear layer turns
it into one logit per action (multi-label: the sigmoid lives in the loss / at inference)::

    slow, fast --backbone (stem .. res5)--> pool each pathway over time (avg | max) --> concat
      --> RoIAlign(box, 7x7, spatial_scale = 1/stride, aligned) --> spatial max --> dropout
      --> linear --> [BatchNorm1d over the logits] --> logits (K, num_classes)

The reference design is pytorchvideo's ``create_slowfast_with_roi_head`` / ``ResNetRoIHead``
(and the SlowFast repo's AVA head). Where ours differs, and why:

* temporal pooling is adaptive (mean or max over whatever length the clip has) instead of an
  ``AvgPool3d`` whose kernel is fixed to 8 / 32 frames, so short test clips work and max
  pooling -- an option in the source study and mmaction2 -- is available;
* ``RoIAlign(aligned=True)`` (the half-pixel correction; pytorchvideo leaves torchvision's
  default ``False``, the SlowFast repo and Detectron2 use ``True``);
* logits, not sigmoid probabilities, come out, so BCE / focal BCE stay numerically stable;
* ``logit_batchnorm`` adds the source study's BatchNorm1d over the class logits (not in
  pytorchvideo): it re-centres and re-scales every class's logits per batch, so rare classes
  are not pinned at a large negative bias by the flood of negatives early in training;
* res5 is converted to spatial stride 1 with dilation 2 *after* the backbone is built
  (``dilate_res5``, on by default, as in pytorchvideo's detection model): the weights keep
  their shapes, so the Kinetics-400 checkpoint of the classification model loads unchanged,
  and the final map has stride 16 instead of 32 -- a person box then covers several cells.

Build it with ``vidad.models.create_model("slowfast_detector", size, num_classes, ...)``;
importing this module registers the name (:mod:`vidad.models` does not import it, so the
recognition chapters do not depend on it).

References: Feichtenhofer et al., "SlowFast Networks for Video Recognition", ICCV 2019;
Gu et al., "AVA: A Video Dataset of Spatio-temporally Localized Atomic Visual Actions", CVPR 2018.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from pytorchvideo.models.slowfast import PoolConcatPathway
from torch import nn
from torchvision.ops import RoIAlign

from vidad.models import create_model
from vidad.models.base import Clip, InputSpec, pack_pathways
from vidad.models.registry import ANY, register_model
from vidad.models.slowfast import SLOWFAST_SIZES, PyTorchVideoNet

TemporalPool = Literal["avg", "max"]


@dataclass(frozen=True)
class RoIHeadConfig:
    """The detection head; defaults follow pytorchvideo's AVA SlowFast (7x7, dropout 0.5)."""

    num_classes: int = 6
    resolution: tuple[int, int] = (7, 7)
    temporal_pool: TemporalPool = "avg"
    dropout: float = 0.5
    logit_batchnorm: bool = False
    dilate_res5: bool = True


def dilate_stage(stage: nn.Module, dilation: int = 2) -> None:
    """Turn a pytorchvideo ResNet stage's spatial stride into dilation, in place.

    The strided 1x1 shortcut and the strided 3x3 ``conv_b`` of the first block get spatial
    stride 1; every ``conv_b`` gets spatial dilation ``dilation`` with matching padding, so
    the receptive field grows as before while the resolution stays. Temporal settings are kept.
    """
    for name, conv in stage.named_modules():
        if not isinstance(conv, nn.Conv3d):
            continue
        if name.endswith("branch1_conv"):
            conv.stride = (int(conv.stride[0]), 1, 1)
        elif name.endswith("conv_b"):
            kt, kh, kw = conv.kernel_size
            conv.stride = (int(conv.stride[0]), 1, 1)
            conv.dilation = (conv.dilation[0], dilation, dilation)
            conv.padding = (conv.padding[0], dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)


def temporal_pool(maps: list[torch.Tensor], mode: TemporalPool) -> torch.Tensor:
    """(B, C_slow + C_fast, H, W): each pathway's (B, C, T, H, W) map pooled over T, concatenated.

    Pathways differ in T (alpha), so each is pooled on its own before the channels meet.
    """
    if mode == "avg":
        pooled = [m.mean(dim=2) for m in maps]
    elif mode == "max":
        pooled = [m.amax(dim=2) for m in maps]
    else:
        raise ValueError(f"unknown temporal_pool {mode!r}; valid: 'avg', 'max'")
    return torch.cat(pooled, dim=1)


class SlowFastDetector(nn.Module):
    """SlowFast backbone (stem .. res5 with laterals, classifier dropped) plus an RoI head.

    ``forward(clip, boxes)``:

    * ``clip``: ``[slow, fast]`` as made by :func:`vidad.models.pack_pathways`, or one
      (B, 3, T, H, W) tensor, packed here with the backbone's alpha. The clip should be centred
      on the keyframe: the head pools the whole clip over time.
    * ``boxes``: (K, 5) float tensor ``[batch_index, x1, y1, x2, y2]`` in *pixels of the input
      crop* (0..W, 0..H of the frames fed in), boxes of all clips in one tensor. Boxes partly or
      wholly outside the frame are allowed (RoIAlign samples zeros there).

    Returns (K, num_classes) logits. With ``logit_batchnorm`` in training mode K must be > 1
    (BatchNorm needs more than one value per class).
    """

    #: At chapter 9's 64x64 crops the detector trained 1.5x faster with channels_last_3d on CPU
    #: (37.0 vs 23.9 clips/s, ``benchmarks/training.py --only slowfast_detector``), unlike the
    #: 32x32 SlowFast classifier, whose fast pathway is too thin for the layout to pay.
    channels_last_3d_on_cpu = True

    def __init__(self, backbone: nn.Module, config: RoIHeadConfig) -> None:
        super().__init__()
        if not isinstance(backbone, PyTorchVideoNet) or backbone.single_pathway:
            raise ValueError("SlowFastDetector needs the two-pathway SlowFast backbone")
        blocks = backbone.net.blocks
        if not isinstance(blocks[-2], PoolConcatPathway):
            raise ValueError("SlowFastDetector needs the two-pathway SlowFast backbone")
        if config.temporal_pool not in ("avg", "max"):
            raise ValueError(f"unknown temporal_pool {config.temporal_pool!r}; valid: 'avg', 'max'")
        self.config = config
        self.input_spec: InputSpec = backbone.input_spec
        self.blocks = nn.ModuleList(blocks[:-2])  # the pooling and classifier are replaced
        if config.dilate_res5:
            dilate_stage(self.blocks[-1])
        self.stride = 16 if config.dilate_res5 else 32
        self.embed_dim = backbone.embed_dim
        self.roi_align = RoIAlign(
            output_size=config.resolution,
            spatial_scale=1.0 / self.stride,
            sampling_ratio=0,
            aligned=True,
        )
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.proj = nn.Linear(self.embed_dim, config.num_classes)
        nn.init.normal_(self.proj.weight, std=0.01)  # as pytorchvideo and mmaction2
        nn.init.zeros_(self.proj.bias)
        self.logit_bn = nn.BatchNorm1d(config.num_classes) if config.logit_batchnorm else None

    def feature_map(self, clip: Clip) -> torch.Tensor:
        """(B, embed_dim, H / stride, W / stride): both pathways' res5, pooled over time."""
        if isinstance(clip, torch.Tensor):
            x = pack_pathways(clip, self.input_spec.alpha or 1)
        else:
            x = list(clip)  # pytorchvideo's blocks write into the list
        for block in self.blocks:
            x = block(x)
        return temporal_pool(x, self.config.temporal_pool)

    def forward(self, clip: Clip, boxes: torch.Tensor) -> torch.Tensor:
        features = self.feature_map(clip)
        _check_boxes(boxes, features.shape[0])
        rois = self.roi_align(features, boxes.to(features.dtype))  # (K, C, 7, 7)
        x = self.dropout(rois.amax(dim=(-2, -1)))
        logits = self.proj(x)
        return self.logit_bn(logits) if self.logit_bn is not None else logits


def _check_boxes(boxes: torch.Tensor, batch_size: int) -> None:
    """Shape and batch-index checks: torchvision's RoIAlign reads out of bounds silently."""
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError(
            f"boxes must be (K, 5) [batch_index, x1, y1, x2, y2], got {tuple(boxes.shape)}"
        )
    if len(boxes):
        index = boxes[:, 0]
        bad = (index < 0) | (index >= batch_size) | (index != index.round())
        if bool(bad.any()):
            raise ValueError(
                f"box batch indices must be integers in [0, {batch_size}), got "
                f"{index[bad].tolist()}"
            )


@register_model(
    "slowfast_detector",
    sizes=tuple(SLOWFAST_SIZES),
    options={
        "resolution": ANY,
        "temporal_pool": ("avg", "max"),
        "dropout": ANY,
        "logit_batchnorm": (True, False),
        "dilate_res5": (True, False),
        "backbone_options": ANY,
    },
    pretrained=("kinetics400",),  # loaded into the backbone by the builder
)
def slowfast_detector(
    size: str = "tiny",
    num_classes: int = 6,
    pretrained: str | None = None,
    backbone_options: dict[str, Any] | None = None,
    **options: Any,
) -> SlowFastDetector:
    """A :class:`SlowFastDetector` on ``create_model("slowfast_r50", size, ...)``.

    ``options`` are :class:`RoIHeadConfig` fields (``temporal_pool``, ``logit_batchnorm``,
    ...); ``backbone_options`` go to the backbone (e.g. ``num_frames``), validated by the model
    registry; ``pretrained="kinetics400"`` loads the classification checkpoint into the
    backbone (paper size, no backbone options) before the head replaces its classifier.
    """
    backbone = create_model(
        "slowfast_r50", size=size, pretrained=pretrained, **(backbone_options or {})
    )
    return SlowFastDetector(backbone, RoIHeadConfig(num_classes=num_classes, **options))
