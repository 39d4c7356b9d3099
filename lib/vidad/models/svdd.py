"""Deep SVDD (Ruff et al., ICML 2018) and Deep SAD (Ruff et al., ICLR 2020).

Deep SVDD maps normal data into a small hypersphere around a fixed centre ``c``; the anomaly
score is the squared distance to ``c``. To rule out the trivial solution (every input mapped to
``c``), the network has no bias terms and no bounded activations, and ``c`` is fixed before
training as the mean embedding of the training data, with coordinates too close to 0 pushed
to +-eps (a coordinate at exactly 0 could be matched by dead ReLUs).

Deep SAD adds the few anomalies one may have labelled: their loss is the *inverse* squared
distance, so training pushes them away from ``c`` while unlabelled data is pulled in.
"""

from __future__ import annotations

import torch
from torch import nn


class SVDDNet(nn.Module):
    """Bias-free conv encoder for small grayscale images -> ``rep_dim`` features."""

    def __init__(self, rep_dim: int = 32, channels: tuple[int, ...] = (16, 32), size: int = 8):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c, affine=False),
                nn.LeakyReLU(0.1),
            ]
            c_in, size = c, (size + 1) // 2
        self.net = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(c_in * size * size, rep_dim, bias=False)
        )
        self.rep_dim = rep_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@torch.no_grad()
def init_center(net: nn.Module, x: torch.Tensor, eps: float = 0.1) -> torch.Tensor:
    """Mean embedding of ``x`` (eval mode), coordinates in (-eps, eps) moved to +-eps."""
    net.eval()
    c = net(x).mean(dim=0)
    c[(c.abs() < eps) & (c < 0)] = -eps
    c[(c.abs() < eps) & (c >= 0)] = eps
    return c


def svdd_distance(features: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Squared distance to the centre per sample: the anomaly score of both methods."""
    return (features - center).pow(2).sum(dim=1)


def deep_sad_loss(
    features: torch.Tensor,
    center: torch.Tensor,
    labels: torch.Tensor,
    eta: float = 1.0,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Deep SAD: ``d`` for unlabelled / normal samples (label 0 or +1), ``eta * (d + eps)^-1``
    for labelled anomalies (label -1); mean over the batch. With no -1 labels this is exactly
    the one-class Deep SVDD objective."""
    d = svdd_distance(features, center)
    per_sample = torch.where(labels == -1, eta / (d + eps), d)
    return per_sample.mean()
