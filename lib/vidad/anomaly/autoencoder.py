"""The seed's autoencoder on clip embeddings: it models the normal manifold, nothing else.

The backbone does the spatio-temporal reasoning; this small MLP only learns to reconstruct
embeddings of normal clips, so a high reconstruction error marks a clip the normal data does
not explain. Architecture exactly as the seed study's: ``BatchNorm1d(in)`` then
Linear/ReLU layers with Dropout between them (encoder), the mirror image as decoder, and a last
Linear *without* activation (embeddings are signed and unbounded).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from vidad.anomaly.published import AE_WIDTHS

#: Narrowest layer the scaled rule produces (see :func:`ae_widths`).
MIN_WIDTH = 4


def ae_widths(in_dim: int, layers: int = 3) -> tuple[int, ...]:
    """Hidden widths for an embedding of size ``in_dim``.

    The seed's sizes (512, 768, 2304) get its published widths. Our small presets have far
    narrower embeddings (e.g. 64 or 192), for which 512 -> 256 -> 128 would *widen* the code
    and let the AE learn the identity, reconstructing anomalies as well as normals. The rule
    for other sizes therefore halves the width at each layer (the published 256 -> 128 step),
    starting from ``in_dim // 2``, with a floor of :data:`MIN_WIDTH` so the bottleneck stays
    strictly narrower than the input yet non-trivial.
    """
    if in_dim in AE_WIDTHS and layers == len(AE_WIDTHS[in_dim]):
        return AE_WIDTHS[in_dim]
    if in_dim < 2 or layers not in (2, 3):
        raise ValueError(f"need in_dim >= 2 and 2 or 3 layers, got {in_dim}, {layers}")
    widths, width = [], in_dim
    for _ in range(layers):
        width = max(MIN_WIDTH, width // 2)
        widths.append(min(width, in_dim - 1))
    return tuple(widths)


def _stack(dims: Sequence[int], dropout: float, last_activation: bool) -> list[nn.Module]:
    """Linear/ReLU layers through ``dims`` with Dropout between them (not after the last)."""
    modules: list[nn.Module] = []
    pairs = list(zip(dims[:-1], dims[1:], strict=True))
    for i, (a, b) in enumerate(pairs):
        last = i == len(pairs) - 1
        modules.append(nn.Linear(a, b))
        if not last or last_activation:
            modules.append(nn.ReLU())
        if not last:
            modules.append(nn.Dropout(dropout))
    return modules


class EmbeddingAutoencoder(nn.Module):
    """``forward(z)`` -> reconstruction of ``z`` (same shape); ``encode`` gives the code."""

    def __init__(self, in_dim: int, widths: Sequence[int], dropout: float = 0.3) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) not in (2, 3) or min(widths) < 1:
            raise ValueError(f"widths must be 2 or 3 positive sizes, got {widths}")
        self.in_dim, self.widths, self.dropout = in_dim, widths, dropout
        dims = (in_dim, *widths)
        self.encoder = nn.Sequential(
            nn.BatchNorm1d(in_dim), *_stack(dims, dropout, last_activation=True)
        )
        self.decoder = nn.Sequential(*_stack(dims[::-1], dropout, last_activation=False))

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        return self.encoder(z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(z))


def reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The seed's loss: MSE with reduction ``'sum'`` (over the batch and the embedding)."""
    return nn.functional.mse_loss(reconstruction.float(), target.float(), reduction="sum")
