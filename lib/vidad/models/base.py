"""What every video model in :mod:`vidad.models` promises to the rest of the book.

Anomaly detection works in the embedding space of a pretrained action model with its classifier
cut off, so every model exposes ``forward_features`` (the embedding) separately from ``forward``
(the logits), plus an :class:`InputSpec` telling the data pipeline exactly what to feed it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

Clip = torch.Tensor | list[torch.Tensor]

# torchvision's Kinetics-400 statistics (its video models were trained with them); pytorchvideo
# and the TimeSformer seed use 0.45 / 0.225 (vidad.video.transforms.KINETICS_MEAN / _STD).
TORCHVISION_KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
TORCHVISION_KINETICS_STD = (0.22803, 0.22145, 0.216989)


@dataclass(frozen=True)
class InputSpec:
    """The clip a model expects; frozen so a pipeline cannot silently drift from its model.

    ``num_frames`` is the number of frames the pipeline samples; for SlowFast that is the *fast*
    pathway's length and the slow pathway takes every ``alpha``-th of them.
    """

    num_frames: int
    crop_size: int
    mean: tuple[float, float, float] = TORCHVISION_KINETICS_MEAN
    std: tuple[float, float, float] = TORCHVISION_KINETICS_STD
    layout: Literal["CTHW", "TCHW"] = "CTHW"
    alpha: int | None = None

    def example(self, batch_size: int = 1) -> Clip:
        """A random batch shaped like real input (lists of pathways for SlowFast)."""
        t, s = self.num_frames, self.crop_size
        shape = (batch_size, t, 3, s, s) if self.layout == "TCHW" else (batch_size, 3, t, s, s)
        clip = torch.randn(shape)
        return pack_pathways(clip, self.alpha) if self.alpha else clip


def pack_pathways(clip: torch.Tensor, alpha: int) -> list[torch.Tensor]:
    """Split a (B, C, T, H, W) clip into [slow, fast] the way pytorchvideo's PackPathway does.

    The slow pathway takes T // alpha frames evenly spaced over the clip; fast keeps all T.
    """
    t = clip.shape[2]
    index = torch.linspace(0, t - 1, t // alpha).long()
    return [clip.index_select(2, index), clip]


class VideoModel(nn.Module, ABC):
    """Base class: ``forward(clip) == head(forward_features(clip))``.

    Subclasses set ``embed_dim`` and ``input_spec`` and implement ``forward_features`` and
    ``forward_head``; keeping the split explicit is what lets the anomaly chapters swap the head
    for a density model without touching the backbone.
    """

    embed_dim: int
    input_spec: InputSpec
    #: Train and run with channels_last_3d tensors on CPU too (oneDNN's channels-last 3-D
    #: convolutions). Set per family from ``benchmarks/training.py``: faster for the 3-D CNNs
    #: (C3D, R3D, R(2+1)D, Slow / SlowFast), nothing to gain for a transformer.
    channels_last_3d_on_cpu: ClassVar[bool] = False

    @abstractmethod
    def forward_features(self, clip: Clip) -> torch.Tensor:
        """(B, embed_dim) embedding with the classifier cut off."""

    @abstractmethod
    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """(B, num_classes) logits from an embedding."""

    def forward(self, clip: Clip) -> torch.Tensor:
        return self.forward_head(self.forward_features(clip))
