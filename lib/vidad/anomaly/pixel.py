"""A pixel-space baseline: a 3-D convolutional autoencoder on the clips themselves.

What does the pretrained embedding buy? The classical alternative models the pixels: train a
3-D conv autoencoder on normal clips (here MemAE's plain-AE twin, :func:`vidad.models.memae.memae3d`
with ``use_memory=False``, on 16-frame grayscale clips) and flag clips it reconstructs badly.
It reads the *same* uint8 clip cache as the backbones (no extra decoding): grayscale, resized
to a multiple of 16 (the encoder downsamples space by 16 and time by 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vidad.models import create_model
from vidad.models.memae import memae_loss

#: MemAE's input normalization: grayscale in [0, 1], then (x - 0.5) / 0.5.
PIXEL_MEAN, PIXEL_STD = 0.5, 0.5


@dataclass(frozen=True)
class PixelAESettings:
    size: str = "tiny"  # a preset of :data:`vidad.models.memae.MEMAE3D_SIZES`
    side: int = 32  # frames are resized to side x side (a multiple of 16)
    num_frames: int = 16  # a multiple of 8
    epochs: int = 30
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0
    #: Model each clip minus its mean frame (the input the backbones see, ``motion`` in their
    #: setup) instead of the frames: what is left is what moves, not the scenery.
    motion: bool = False


def to_gray_clips(clips: np.ndarray, settings: PixelAESettings) -> torch.Tensor:
    """uint8 (N, T, H, W, 3) -> normalized float (N, 1, num_frames, side, side)."""
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"expected (N, T, H, W, 3) uint8 clips, got {clips.shape}")
    if settings.side % 16 or settings.num_frames % 8:
        raise ValueError("side must be a multiple of 16 and num_frames a multiple of 8")
    x = torch.from_numpy(np.array(clips)).float() / 255.0  # a copy: the cache is read-only
    gray = (x * torch.tensor([0.299, 0.587, 0.114])).sum(-1)  # (N, T, H, W)
    idx = torch.linspace(0, gray.shape[1] - 1, settings.num_frames).round().long()
    gray = gray[:, idx]
    n, t, h, w = gray.shape
    gray = F.interpolate(
        gray.reshape(n * t, 1, h, w), size=(settings.side, settings.side), mode="bilinear",
        antialias=True, align_corners=False,
    ).reshape(n, 1, t, settings.side, settings.side)  # fmt: skip
    if settings.motion:  # in [-1, 1] like the normalized frames; the mean frame carries the scene
        return gray - gray.mean(dim=2, keepdim=True)
    return (gray - PIXEL_MEAN) / PIXEL_STD


def train_pixel_ae(train: torch.Tensor, settings: PixelAESettings) -> torch.nn.Module:
    """Fit the plain 3-D AE on normal clips (seeded init and order); returned in eval mode."""
    torch.manual_seed(settings.seed)
    model = create_model("memae3d", settings.size, use_memory=False)
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    model.train()
    for _ in range(settings.epochs):
        order = torch.randperm(len(train), generator=generator)
        for idx in order.split(settings.batch_size):
            if len(idx) < 2:  # BatchNorm needs two samples
                continue
            x_hat, _ = model(train[idx])
            loss = memae_loss(train[idx], x_hat, None)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def pixel_errors(model: torch.nn.Module, clips: torch.Tensor, batch_size: int = 32) -> np.ndarray:
    """Squared reconstruction error per clip (summed over pixels and frames)."""
    out = []
    for start in range(0, len(clips), batch_size):
        x = clips[start : start + batch_size]
        x_hat, _ = model(x)
        out.append((x_hat - x).pow(2).flatten(1).sum(1))
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def pixel_ae_scores(
    clips: np.ndarray, train_mask: np.ndarray, settings: PixelAESettings = PixelAESettings()
) -> np.ndarray:
    """Fit on the clips of ``train_mask`` and score every clip (higher = more anomalous)."""
    x = to_gray_clips(clips, settings)
    model = train_pixel_ae(x[torch.from_numpy(np.asarray(train_mask, bool))], settings)
    return pixel_errors(model, x)
