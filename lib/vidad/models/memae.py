"""MemAE (Gong et al., ICCV 2019): an autoencoder that can only rebuild what its memory holds.

A plain autoencoder trained on normal data often reconstructs anomalies well too: it learned to
copy. MemAE puts a memory of N learned items between encoder and decoder; the decoder sees only
a sparse convex combination of those items, so an anomalous input is rebuilt as the nearest
*normal-looking* thing and its reconstruction error stays high.

:class:`MemoryModule` follows the paper (Gong et al., "Memorizing Normality to Detect Anomaly:
Memory-augmented Deep Autoencoder for Unsupervised Anomaly Detection", ICCV 2019) and its
released code: inner-product addressing (the paper's cosine similarity drove the weights to ~0),
softmax, hard shrinkage written with a ReLU, L1 re-normalization. It addresses every position of
a feature map independently, so one module serves vectors (B, C), images (B, C, H, W) and clips
(B, C, T, H, W). Every model here has a ``use_memory`` switch; with it off the same network is
the plain-AE twin used as the baseline.

The video models are registered: ``vidad.models.create_model("memae3d", size, use_memory=...)``
and ``create_model("memae2d_frames", ...)`` (importing this module registers them; it is not
imported by :mod:`vidad.models` itself, so the recognition chapters do not depend on it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vidad.models.registry import register_model

SHRINK_THRESHOLD = 0.0025  # lambda; the paper recommends [1/N, 3/N]
ENTROPY_WEIGHT = 0.0002  # alpha
EPS = 1e-12


def hard_shrink_relu(w: torch.Tensor, threshold: float, eps: float = EPS) -> torch.Tensor:
    """``max(w - lambda, 0) * w / (|w - lambda| + eps)``: ~w above lambda, 0 below.

    Written with a ReLU, as the released code does, so it stays differentiable.
    """
    return F.relu(w - threshold) * w / ((w - threshold).abs() + eps)


class MemoryModule(nn.Module):
    """N x C trainable memory; ``forward(z) -> (z_hat, weights)``.

    ``z`` is (B, C) or (B, C, *spatial); every position is one C-dimensional query. ``weights``
    has ``num_items`` where ``z`` has C: (B, N) or (B, N, *spatial).
    """

    def __init__(
        self, num_items: int, dim: int, shrink_threshold: float = SHRINK_THRESHOLD
    ) -> None:
        super().__init__()
        if num_items < 1 or dim < 1 or shrink_threshold < 0:
            raise ValueError(
                f"need num_items >= 1, dim >= 1, shrink_threshold >= 0; got {num_items}, "
                f"{dim}, {shrink_threshold}"
            )
        self.num_items, self.dim, self.shrink_threshold = num_items, dim, shrink_threshold
        bound = 1.0 / math.sqrt(dim)
        self.memory = nn.Parameter(torch.empty(num_items, dim).uniform_(-bound, bound))

    def address(self, queries: torch.Tensor) -> torch.Tensor:
        """(Q, C) queries -> (Q, N) sparse, L1-normalized addressing weights."""
        w = torch.softmax(queries @ self.memory.t(), dim=1)
        if self.shrink_threshold > 0:
            w = hard_shrink_relu(w, self.shrink_threshold)
            w = F.normalize(w, p=1, dim=1)
        return w

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if z.ndim < 2 or z.shape[1] != self.dim:
            raise ValueError(f"expected (B, {self.dim}, ...) features, got {tuple(z.shape)}")
        moved = z.movedim(1, -1)  # (B, *spatial, C)
        queries = moved.reshape(-1, self.dim)
        w = self.address(queries)
        z_hat = (w @ self.memory).reshape(moved.shape).movedim(-1, 1)
        weights = w.reshape(*moved.shape[:-1], self.num_items).movedim(-1, 1)
        return z_hat, weights


def memory_entropy_loss(weights: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Mean over queries of ``sum_i -w_i log w_i`` (``dim`` indexes the memory items)."""
    return (-weights * torch.log(weights + EPS)).sum(dim=dim).mean()


def memae_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    weights: torch.Tensor | None,
    entropy_weight: float = ENTROPY_WEIGHT,
) -> torch.Tensor:
    """Per-sample squared reconstruction error (summed over the sample) averaged over the batch,
    plus ``alpha`` times the addressing entropy; without memory, the error alone."""
    recon = (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()
    if weights is None:
        return recon
    return recon + entropy_weight * memory_entropy_loss(weights)


class MemAEBase(nn.Module):
    """encoder -> (memory) -> decoder; ``forward(x) -> (x_hat, weights or None)``."""

    encoder: nn.Module
    decoder: nn.Module
    memory: MemoryModule | None

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = self.encoder(x)
        weights = None
        if self.memory is not None:
            z, weights = self.memory(z)
        return self.decoder(z), weights


@dataclass(frozen=True)
class MemAE2dConfig:
    """Conv AE for small grayscale images (digits: 1 x 8 x 8)."""

    channels: tuple[int, ...] = (16, 32)
    latent_dim: int = 32
    image_size: int = 8
    num_items: int = 100  # the paper's MNIST setting
    shrink_threshold: float = SHRINK_THRESHOLD


class MemAE2d(MemAEBase):
    """Strided 3x3 conv encoder to a ``latent_dim`` vector, memory on that vector, mirrored
    transposed-conv decoder with a sigmoid (inputs are scaled to [0, 1])."""

    def __init__(self, config: MemAE2dConfig = MemAE2dConfig(), use_memory: bool = True) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in, size = 1, config.image_size
        for c in config.channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            c_in, size = c, (size + 1) // 2
        self._grid = (c_in, size, size)
        flat = c_in * size * size
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(flat, config.latent_dim))
        self.memory = (
            MemoryModule(config.num_items, config.latent_dim, config.shrink_threshold)
            if use_memory
            else None
        )
        up: list[nn.Module] = [nn.Linear(config.latent_dim, flat), nn.Unflatten(1, self._grid)]
        widths = list(config.channels[::-1]) + [1]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            up.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
            if i < len(widths) - 2:
                up += [nn.BatchNorm2d(b), nn.ReLU()]
        self.decoder = nn.Sequential(*up, nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x_hat, weights = super().forward(x)
        return x_hat[..., : x.shape[-2], : x.shape[-1]], weights


@dataclass(frozen=True)
class MemAE3dConfig:
    """The official video MemAE: 16-frame grayscale clips, widths 96 / 128 / 256 / 256."""

    channels: tuple[int, int, int, int] = (96, 128, 256, 256)
    num_items: int = 2000
    shrink_threshold: float = SHRINK_THRESHOLD


MEMAE3D_SIZES: dict[str, MemAE3dConfig] = {
    "paper": MemAE3dConfig(),
    "small": MemAE3dConfig(channels=(24, 32, 64, 64), num_items=500),
    "tiny": MemAE3dConfig(channels=(8, 16, 32, 32), num_items=100),
}

# strides of the official encoder (time, height, width)
_STRIDES_3D = ((1, 2, 2), (2, 2, 2), (2, 2, 2), (2, 2, 2))


class MemAE3d(MemAEBase):
    """Conv3d 3x3x3 encoder (BN3d + LeakyReLU(0.2)), memory at every (t, h, w) position of the
    last feature map, mirrored ConvTranspose3d decoder to one channel (no output activation:
    inputs are normalized with mean / std 0.5)."""

    def __init__(self, config: MemAE3dConfig = MemAE3dConfig(), use_memory: bool = True) -> None:
        super().__init__()
        self.config = config
        enc: list[nn.Module] = []
        c_in = 1
        for c, stride in zip(config.channels, _STRIDES_3D, strict=True):
            enc += [
                nn.Conv3d(c_in, c, 3, stride=stride, padding=1),
                nn.BatchNorm3d(c),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c_in = c
        self.encoder = nn.Sequential(*enc)
        self.memory = (
            MemoryModule(config.num_items, config.channels[-1], config.shrink_threshold)
            if use_memory
            else None
        )
        dec: list[nn.Module] = []
        widths = list(config.channels[::-1]) + [1]
        strides = _STRIDES_3D[::-1]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            stride = strides[i]
            dec.append(
                nn.ConvTranspose3d(
                    a, b, 3, stride=stride, padding=1, output_padding=tuple(s - 1 for s in stride)
                )
            )
            if i < len(widths) - 2:
                dec += [nn.BatchNorm3d(b), nn.LeakyReLU(0.2, inplace=True)]
        self.decoder = nn.Sequential(*dec)


#: options of the registered video MemAEs (``create_model`` validates them)
_MEMAE_OPTIONS = {"use_memory": (True, False)}


@register_model("memae3d", sizes=tuple(MEMAE3D_SIZES), options=_MEMAE_OPTIONS)
def memae3d(
    size: str = "paper", num_classes: int | None = None, use_memory: bool = True
) -> MemAE3d:
    """The video MemAE at a width preset; build it with ``create_model("memae3d", size, ...)``.

    An autoencoder has no classes: ``num_classes`` is accepted (``create_model`` always passes
    one) and ignored.
    """
    return MemAE3d(MEMAE3D_SIZES[size], use_memory=use_memory)


class MemAE2dFrames(MemAEBase):
    """The frame-by-frame twin of :class:`MemAE3d`: the same widths and memory, but Conv2d on
    single grayscale frames (strides 2 in space at every layer), memory at every (h, w) position.

    Chapter 8 applies it to each frame of a video to show what the third dimension adds: it can
    learn what normal frames look like, never how they move.
    """

    def __init__(self, config: MemAE3dConfig = MemAE3dConfig(), use_memory: bool = True) -> None:
        super().__init__()
        self.config = config
        enc: list[nn.Module] = []
        c_in = 1
        for c in config.channels:
            enc += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1),
                nn.BatchNorm2d(c),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c_in = c
        self.encoder = nn.Sequential(*enc)
        self.memory = (
            MemoryModule(config.num_items, config.channels[-1], config.shrink_threshold)
            if use_memory
            else None
        )
        dec: list[nn.Module] = []
        widths = list(config.channels[::-1]) + [1]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            dec.append(nn.ConvTranspose2d(a, b, 3, stride=2, padding=1, output_padding=1))
            if i < len(widths) - 2:
                dec += [nn.BatchNorm2d(b), nn.LeakyReLU(0.2, inplace=True)]
        self.decoder = nn.Sequential(*dec)


@register_model("memae2d_frames", sizes=tuple(MEMAE3D_SIZES), options=_MEMAE_OPTIONS)
def memae2d_frames(
    size: str = "paper", num_classes: int | None = None, use_memory: bool = True
) -> MemAE2dFrames:
    """A :class:`MemAE2dFrames` with the widths and memory of ``memae3d(size)``; build it with
    ``create_model("memae2d_frames", size, ...)`` (``num_classes`` is ignored, as for
    :func:`memae3d`)."""
    return MemAE2dFrames(MEMAE3D_SIZES[size], use_memory=use_memory)
