"""Learned one-class heads on the frozen embeddings: a MemAE head and Deep SVDD.

Both register as scorers of :mod:`vidad.anomaly.baselines`, so they appear in every table of
the chapter beside k-NN, Mahalanobis and the seed's autoencoder, on the same cached embeddings.

* **MemAE head**: the seed's autoencoder shape with the memory module of
  :mod:`vidad.models.memae` between encoder and decoder. The decoder only ever sees
  combinations of a few memory items learned from normals, so an anomalous embedding is
  reconstructed as a normal-looking one and its error stays high (the argument of Gong et al.,
  *Memorizing Normality to Detect Anomaly: Memory-augmented Deep Autoencoder for Unsupervised
  Anomaly Detection*, ICCV 2019, here in embedding space instead of pixel space).
* **Deep SVDD**: a bias-free MLP mapping normals close to a fixed centre (Ruff et al., *Deep
  One-Class Classification*, ICML 2018); the squared distance to the centre is the score.

Training is deterministic (seeded init and batch order) and runs on CPU in seconds: the inputs
are a few hundred vectors. Inputs are standardized with train statistics first, as for the
distance-based baselines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vidad.anomaly.autoencoder import ae_widths
from vidad.anomaly.baselines import _standardize, register_scorer
from vidad.models.memae import ENTROPY_WEIGHT, SHRINK_THRESHOLD, MemoryModule, memae_loss
from vidad.models.svdd import init_center, svdd_distance


@dataclass(frozen=True)
class HeadSettings:
    """Training recipe shared by both heads (small data: many epochs are cheap)."""

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-6
    num_items: int = 50
    shrink_threshold: float = SHRINK_THRESHOLD
    entropy_weight: float = ENTROPY_WEIGHT


class MemAEHead(nn.Module):
    """MLP encoder -> memory (``num_items`` x code) -> MLP decoder, for vectors."""

    def __init__(self, in_dim: int, num_items: int, shrink_threshold: float) -> None:
        super().__init__()
        widths = ae_widths(in_dim)
        dims = (in_dim, *widths)
        enc: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            enc += [nn.Linear(a, b), nn.ReLU()]
        dec: list[nn.Module] = []
        rev = dims[::-1]
        for i, (a, b) in enumerate(zip(rev[:-1], rev[1:], strict=True)):
            dec.append(nn.Linear(a, b))
            if i < len(rev) - 2:
                dec.append(nn.ReLU())
        self.encoder = nn.Sequential(*enc[:-1])  # the code is signed: no ReLU before memory
        self.memory = MemoryModule(num_items, widths[-1], shrink_threshold)
        self.decoder = nn.Sequential(*dec)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code_hat, weights = self.memory(self.encoder(z))
        return self.decoder(code_hat), weights


class SVDDHead(nn.Module):
    """Bias-free MLP (Deep SVDD forbids biases: they allow the trivial constant solution)."""

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        widths = ae_widths(in_dim, layers=2)
        self.net = nn.Sequential(
            nn.Linear(in_dim, widths[0], bias=False),
            nn.LeakyReLU(0.1),
            nn.Linear(widths[0], widths[1], bias=False),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    return list(torch.randperm(n, generator=generator).split(batch_size))


def train_memae_head(
    train: np.ndarray, seed: int = 0, settings: HeadSettings = HeadSettings()
) -> MemAEHead:
    """Fit a MemAE head on (standardized) train normals; returned in eval mode."""
    torch.manual_seed(seed)
    model = MemAEHead(train.shape[1], settings.num_items, settings.shrink_threshold)
    data = torch.as_tensor(train, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    model.train()
    for _ in range(settings.epochs):
        for idx in _batches(len(data), settings.batch_size, generator):
            x_hat, weights = model(data[idx])
            loss = memae_loss(data[idx], x_hat, weights, settings.entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def train_svdd_head(
    train: np.ndarray, seed: int = 0, settings: HeadSettings = HeadSettings()
) -> tuple[SVDDHead, torch.Tensor]:
    """Fit Deep SVDD (one-class objective) on train normals; returns (net, centre)."""
    torch.manual_seed(seed)
    net = SVDDHead(train.shape[1])
    data = torch.as_tensor(train, dtype=torch.float32)
    center = init_center(net, data)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(
        net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
    )
    net.train()
    for _ in range(settings.epochs):
        for idx in _batches(len(data), settings.batch_size, generator):
            loss = svdd_distance(net(data[idx]), center).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval(), center


@register_scorer("MemAE head")
def memae_head_scores(train: np.ndarray, query: np.ndarray, seed: int = 0) -> np.ndarray:
    """Squared reconstruction error of a MemAE head fit on train normals."""
    train, query = _standardize(train, query)
    model = train_memae_head(train.astype(np.float32), seed)
    q = torch.as_tensor(query, dtype=torch.float32)
    with torch.no_grad():
        x_hat, _ = model(q)
    return (x_hat - q).pow(2).sum(dim=1).numpy()


@register_scorer("Deep SVDD")
def deep_svdd_scores(train: np.ndarray, query: np.ndarray, seed: int = 0) -> np.ndarray:
    """Squared distance to the Deep SVDD centre of a net fit on train normals."""
    train, query = _standardize(train, query)
    net, center = train_svdd_head(train.astype(np.float32), seed)
    with torch.no_grad():
        features = net(torch.as_tensor(query, dtype=torch.float32))
    return svdd_distance(features, center).numpy()
