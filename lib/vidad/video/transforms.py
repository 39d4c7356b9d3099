"""Clip transforms for video models, written with plain torch.

``pytorchvideo.transforms`` does not import on torchvision 0.29, so the few transforms the
source study used are re-implemented here with the same semantics.

Tensor convention: a clip is a float tensor ``(C, T, H, W)`` (channels, time, height, width),
the layout torchvision and pytorchvideo video models take after batching. :class:`ToFloatClip`
turns a decoded uint8 ``(T, H, W, C)`` array into that layout; :class:`TimeFirst` turns it into
``(T, C, H, W)`` for TimeSformer; :class:`PackPathway` turns it into ``[slow, fast]`` for
SlowFast.

Random transforms take an optional ``torch.Generator`` so a pipeline can be seeded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vidad.video.decode import uniform_indices

#: Kinetics-400 normalisation used by pytorchvideo models and by the source study.
KINETICS_MEAN: tuple[float, float, float] = (0.45, 0.45, 0.45)
KINETICS_STD: tuple[float, float, float] = (0.225, 0.225, 0.225)


def _check_clip(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"{name} expects a clip tensor (C, T, H, W), got {shape}")


def _resize(x: torch.Tensor, size: tuple[int, int], interpolation: str) -> torch.Tensor:
    """Resize the last two dims of a (C, T, H, W) clip (C is the batch of interpolate)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    kwargs = {"align_corners": False} if interpolation in ("bilinear", "bicubic") else {}
    return F.interpolate(x, size=size, mode=interpolation, **kwargs)


def short_side_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(new_h, new_w) with the short side ``size`` and the aspect ratio kept (pytorchvideo)."""
    if width < height:
        return int(np.floor(height * size / width)), size
    return size, int(np.floor(width * size / height))


class UniformTemporalSubsample(nn.Module):
    """Keep ``num_samples`` frames evenly spaced over the clip (repeats if it is shorter).

    Indices are ``torch.linspace(0, T - 1, num_samples).long()`` as in pytorchvideo; the time
    axis is ``temporal_dim`` (-3 for ``(C, T, H, W)``).
    """

    def __init__(self, num_samples: int, temporal_dim: int = -3) -> None:
        super().__init__()
        self.num_samples = int(num_samples)
        self.temporal_dim = temporal_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[self.temporal_dim]
        if t == self.num_samples:
            return x
        idx = torch.from_numpy(uniform_indices(t, self.num_samples)).to(x.device)
        return torch.index_select(x, self.temporal_dim, idx)


class ToFloatClip(nn.Module):
    """uint8 ``(T, H, W, C)`` array or tensor -> float32 ``(C, T, H, W)`` in [0, 1]."""

    def forward(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(np.ascontiguousarray(x))
        if x.ndim != 4:
            raise ValueError(f"ToFloatClip expects (T, H, W, C), got {tuple(x.shape)}")
        scale = 255.0 if x.dtype == torch.uint8 else 1.0
        # reorder the uint8 bytes first, then convert: a float conversion of a permuted view
        # is a strided loop, several times slower than these two dense passes (same values)
        return x.permute(3, 0, 1, 2).contiguous().to(torch.float32).div_(scale)


class Normalize(nn.Module):
    """Per-channel ``(x - mean) / std`` on a ``(C, T, H, W)`` clip."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std):
            raise ValueError("mean and std must have the same length")
        if any(s <= 0 for s in std):
            raise ValueError(f"std must be positive, got {tuple(std)}")
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(-1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "Normalize")
        if x.shape[0] != self.mean.shape[0]:
            raise ValueError(f"Normalize has {self.mean.shape[0]} channels, clip has {x.shape[0]}")
        return (x - self.mean.to(x)) / self.std.to(x)


class SubtractMeanFrame(nn.Module):
    """Motion input: a (C, T, H, W) clip minus its own mean frame, scaled to unit std.

    What stays is what *changes* over the clip; a static background, however cluttered, is
    removed. Small networks trained from scratch on a few hundred clips otherwise learn the
    backgrounds of their training clips (near-perfect train accuracy, chance on validation); see
    the architecture chapters. The order of frames is untouched, so every temporal question
    (which of two time-reversed actions?) is as hard as before.
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "SubtractMeanFrame")
        moving = x - x.mean(dim=1, keepdim=True)
        return moving / moving.std().clamp_min(self.eps)


class ShortSideScale(nn.Module):
    """Resize so the short side is ``size``, keeping the aspect ratio."""

    def __init__(self, size: int, interpolation: str = "bilinear") -> None:
        super().__init__()
        self.size = int(size)
        self.interpolation = interpolation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "ShortSideScale")
        h, w = x.shape[-2:]
        return _resize(x, short_side_size(h, w, self.size), self.interpolation)


class RandomShortSideScale(nn.Module):
    """Resize so the short side is a random integer in ``[min_size, max_size]`` (aspect kept)."""

    def __init__(
        self,
        min_size: int,
        max_size: int,
        interpolation: str = "bilinear",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not 0 < min_size <= max_size:
            raise ValueError(f"need 0 < min_size <= max_size, got {min_size}, {max_size}")
        self.min_size, self.max_size = int(min_size), int(max_size)
        self.interpolation = interpolation
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "RandomShortSideScale")
        size = int(torch.randint(self.min_size, self.max_size + 1, (1,), generator=self.generator))
        h, w = x.shape[-2:]
        return _resize(x, short_side_size(h, w, size), self.interpolation)


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


class RandomCrop(nn.Module):
    """Crop a random ``size`` (int or (h, w)) window, the same for every frame."""

    def __init__(self, size: int | Sequence[int], generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.size = _pair(size)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "RandomCrop")
        (h, w), (ch, cw) = x.shape[-2:], self.size
        if ch > h or cw > w:
            raise ValueError(f"crop {self.size} larger than the clip's frames {(h, w)}")
        top = int(torch.randint(0, h - ch + 1, (1,), generator=self.generator))
        left = int(torch.randint(0, w - cw + 1, (1,), generator=self.generator))
        return x[..., top : top + ch, left : left + cw]


class CenterCrop(nn.Module):
    """Crop the central ``size`` (int or (h, w)) window."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _pair(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "CenterCrop")
        (h, w), (ch, cw) = x.shape[-2:], self.size
        if ch > h or cw > w:
            raise ValueError(f"crop {self.size} larger than the clip's frames {(h, w)}")
        top, left = (h - ch) // 2, (w - cw) // 2
        return x[..., top : top + ch, left : left + cw]


class Resize(nn.Module):
    """Evaluation resize: to ``(size, size)`` / ``(h, w)``, or short side ``size`` if
    ``short_side=True`` (aspect kept)."""

    def __init__(
        self, size: int | Sequence[int], short_side: bool = False, interpolation: str = "bilinear"
    ) -> None:
        super().__init__()
        if short_side and not isinstance(size, int):
            raise ValueError("short_side=True needs an int size")
        self.size = size
        self.short_side = short_side
        self.interpolation = interpolation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "Resize")
        if self.short_side:
            h, w = x.shape[-2:]
            return _resize(x, short_side_size(h, w, int(self.size)), self.interpolation)
        return _resize(x, _pair(self.size), self.interpolation)


class PackPathway(nn.Module):
    """SlowFast input: ``[slow, fast]`` from one ``(C, T, H, W)`` clip.

    ``fast`` is the whole clip; ``slow`` is
    ``index_select(clip, 1, torch.linspace(0, T - 1, T // alpha).long())``, exactly as in the
    source study and the pytorchvideo SlowFast tutorial.
    """

    def __init__(self, alpha: int) -> None:
        super().__init__()
        if alpha < 1:
            raise ValueError(f"alpha must be >= 1, got {alpha}")
        self.alpha = int(alpha)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        _check_clip(x, "PackPathway")
        t = x.shape[1]
        if t // self.alpha < 1:
            raise ValueError(f"clip of {t} frames is too short for alpha={self.alpha}")
        idx = torch.linspace(0, t - 1, t // self.alpha).long().to(x.device)
        slow = torch.index_select(x, 1, idx)
        return [slow, x]


class TimeFirst(nn.Module):
    """``(C, T, H, W)`` -> ``(T, C, H, W)`` (TimeSformer / HF video models); lists element-wise."""

    def forward(self, x: torch.Tensor | list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        if isinstance(x, list | tuple):
            return [self(v) for v in x]
        _check_clip(x, "TimeFirst")
        return x.permute(1, 0, 2, 3).contiguous()


class Compose(nn.Module):
    """Apply transforms in order (an ``nn.Module``, so it prints and moves like one)."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        super().__init__()
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if isinstance(t, nn.Module):
                self.add_module(str(i), t)

    def forward(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def extra_repr(self) -> str:
        return (
            "" if all(isinstance(t, nn.Module) for t in self.transforms) else repr(self.transforms)
        )


def make_clip_transform(
    train: bool,
    num_frames: int,
    crop_size: int,
    mean: Sequence[float] = KINETICS_MEAN,
    std: Sequence[float] = KINETICS_STD,
    min_scale: int | None = None,
    max_scale: int | None = None,
    pathway_alpha: int | None = None,
    time_first: bool = False,
    generator: torch.Generator | None = None,
    motion: bool = False,
) -> Compose:
    """The source study's per-clip pipeline, from a decoded uint8 ``(T, H, W, C)`` clip.

    uniform subsample to ``num_frames`` -> [0, 1] float ``(C, T, H, W)`` -> normalize ->
    (train) random short-side scale in ``[min_scale, max_scale]`` + random ``crop_size`` crop,
    (eval) resize to ``crop_size x crop_size`` -> (``pathway_alpha``) ``[slow, fast]`` ->
    (``time_first``) ``(T, C, H, W)``. ``motion`` inserts :class:`SubtractMeanFrame` after
    normalizing.

    Defaults: ``min_scale = crop_size``, ``max_scale = round(min_scale * 320 / 256)`` (the
    pytorchvideo 256..320 jitter ratio).
    """
    steps: list[nn.Module] = [
        ToFloatClip(),
        UniformTemporalSubsample(num_frames),
        Normalize(mean, std),
    ]
    if motion:
        steps.append(SubtractMeanFrame())
    if train:
        lo = crop_size if min_scale is None else int(min_scale)
        hi = int(round(lo * 320 / 256)) if max_scale is None else int(max_scale)
        if lo < crop_size:
            raise ValueError(f"min_scale {lo} < crop_size {crop_size}: the crop would not fit")
        steps += [
            RandomShortSideScale(lo, hi, generator=generator),
            RandomCrop(crop_size, generator=generator),
        ]
    else:
        steps.append(Resize(crop_size))
    if pathway_alpha is not None:
        steps.append(PackPathway(pathway_alpha))
    if time_first:
        steps.append(TimeFirst())
    return Compose(steps)


__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "CenterCrop",
    "Compose",
    "Normalize",
    "PackPathway",
    "RandomCrop",
    "RandomShortSideScale",
    "Resize",
    "ShortSideScale",
    "SubtractMeanFrame",
    "TimeFirst",
    "ToFloatClip",
    "UniformTemporalSubsample",
    "make_clip_transform",
    "short_side_size",
]
