"""Per-clip anomaly scores of the seed system: reconstruction error and the centroid rule.

Higher always means "more anomalous", so every scorer of the chapter feeds the same metrics.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


@torch.inference_mode()
def reconstruction_errors(
    autoencoder: nn.Module, embeddings: np.ndarray, batch_size: int = 256
) -> np.ndarray:
    """Sum of squared errors per clip: the training loss (MSE 'sum') of that clip alone.

    The autoencoder runs in eval mode (dropout off, batch-norm running statistics), on CPU.
    """
    autoencoder.eval().cpu()
    out = []
    for start in range(0, len(embeddings), batch_size):
        z = torch.as_tensor(embeddings[start : start + batch_size], dtype=torch.float32)
        out.append(((autoencoder(z) - z) ** 2).sum(dim=1))
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def class_centroids(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centroids): the mean embedding of each class present in ``labels``."""
    classes = np.unique(labels)
    return classes, np.stack([embeddings[labels == c].mean(axis=0) for c in classes])


def centroid_distances(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The seed's second rule: Euclidean distance to the *nearest* normal-class centroid.

    A clip far from every centroid of the normal training classes is flagged.
    """
    diff = embeddings[:, None, :] - centroids[None, :, :]
    return np.sqrt((diff**2).sum(axis=2)).min(axis=1)
