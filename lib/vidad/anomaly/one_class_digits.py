"""One-class anomaly detection on real handwritten digits (scikit-learn's ``load_digits``).

The MemAE paper's image experiment is one-class MNIST: one digit is normal, the other nine are
anomalies. MNIST cannot be downloaded where this book is built; ``sklearn.datasets.load_digits``
(1797 real 8x8 digits, shipped with scikit-learn) can, so the same protocol runs on it.

Protocol, per normal digit and seed: the normal digit's images are split into train / val /
test; the other digits' images are split into a *labelled pool* (never tested on; only Deep SAD
draws its few labelled anomalies from it) and the test anomalies. Every method is fitted on the
same training normals and scored on the same test set, by AUROC (anomaly = positive). No
hyperparameter is tuned on test data: the settings are the papers' defaults or fixed in
``params.yaml``.

MemAE: Gong et al., "Memorizing Normality to Detect Anomaly: Memory-augmented Deep Autoencoder
for Unsupervised Anomaly Detection", ICCV 2019. Deep SVDD: Ruff et al., "Deep One-Class
Classification", ICML 2018. Deep SAD: Ruff et al., "Deep Semi-Supervised Anomaly Detection",
ICLR 2020.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import OneClassSVM
from torch import nn

from vidad.models.memae import MemAE2d, MemAE2dConfig, memae_loss
from vidad.models.svdd import SVDDNet, deep_sad_loss, init_center, svdd_distance

NEURAL_METHODS: tuple[str, ...] = ("AE", "MemAE", "Deep SVDD")
SKLEARN_METHODS: tuple[str, ...] = ("OneClassSVM", "IsolationForest", "k-NN distance")
METHODS: tuple[str, ...] = NEURAL_METHODS + SKLEARN_METHODS


@dataclass(frozen=True)
class DigitsSetup:
    """Training settings shared by every run.

    The memory's defaults are the MemAE paper's (Gong et al., ICCV 2019): N = 100 items (its
    MNIST setting), shrinkage lambda = 0.0025 (in its recommended [1/N, 3/N]) and entropy weight
    alpha = 0.0002.
    """

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-3
    latent_dim: int = 32
    num_items: int = 100
    shrink_threshold: float = 0.0025
    entropy_weight: float = 0.0002
    svdd_epochs: int = 60
    train_fraction: float = 0.6
    val_fraction: float = 0.1
    pool_fraction: float = 0.3
    knn_k: int = 5

    def memae_config(self, **overrides: float) -> MemAE2dConfig:
        values = {
            "latent_dim": self.latent_dim,
            "num_items": self.num_items,
            "shrink_threshold": self.shrink_threshold,
        }
        values.update(overrides)
        return MemAE2dConfig(**values)


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 1, 8, 8) float32 images scaled to [0, 1] and their digit labels."""
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]
    return images, data.target.astype(np.int64)


@dataclass(frozen=True)
class OneClassSplit:
    """Indices into the digit images for one (normal digit, seed)."""

    train: np.ndarray
    val: np.ndarray
    test_normal: np.ndarray
    test_anomaly: np.ndarray
    labelled_pool: np.ndarray = field(repr=False)

    @property
    def test(self) -> np.ndarray:
        return np.concatenate([self.test_normal, self.test_anomaly])

    @property
    def test_labels(self) -> np.ndarray:
        """1 = anomaly, aligned with :attr:`test`."""
        return np.r_[np.zeros(len(self.test_normal)), np.ones(len(self.test_anomaly))]


def one_class_split(
    labels: np.ndarray, normal: int, seed: int, setup: DigitsSetup = DigitsSetup()
) -> OneClassSplit:
    """Random split of the normal digit (train / val / test) and the others (pool / test)."""
    rng = np.random.default_rng([seed, normal])
    normals = rng.permutation(np.flatnonzero(labels == normal))
    others = rng.permutation(np.flatnonzero(labels != normal))
    n_train = int(round(setup.train_fraction * len(normals)))
    n_val = int(round(setup.val_fraction * len(normals)))
    n_pool = int(round(setup.pool_fraction * len(others)))
    return OneClassSplit(
        train=normals[:n_train],
        val=normals[n_train : n_train + n_val],
        test_normal=normals[n_train + n_val :],
        test_anomaly=others[n_pool:],
        labelled_pool=others[:n_pool],
    )


def _seeded(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def train_autoencoder(
    x: np.ndarray,
    seed: int,
    setup: DigitsSetup,
    use_memory: bool,
    **memory_overrides: float,
) -> MemAE2d:
    """Fit an AE (``use_memory=False``) or MemAE on training normals; returns it in eval mode."""
    generator = _seeded(seed)
    overrides = dict(memory_overrides)
    entropy_weight = float(overrides.pop("entropy_weight", setup.entropy_weight))
    model = MemAE2d(setup.memae_config(**overrides), use_memory=use_memory)
    data = torch.from_numpy(x)
    optimizer = torch.optim.Adam(model.parameters(), lr=setup.lr)
    model.train()
    for _ in range(setup.epochs):
        for idx in torch.randperm(len(data), generator=generator).split(setup.batch_size):
            batch = data[idx]
            x_hat, weights = model(batch)
            loss = memae_loss(batch, x_hat, weights, entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def reconstruction_scores(model: MemAE2d, x: np.ndarray) -> np.ndarray:
    """Per-image squared reconstruction error (the anomaly score of AE and MemAE)."""
    data = torch.from_numpy(x)
    x_hat, _ = model.eval()(data)
    return (data - x_hat).pow(2).flatten(1).sum(dim=1).numpy()


def train_deep_svdd(
    x: np.ndarray,
    seed: int,
    setup: DigitsSetup,
    labelled_anomalies: np.ndarray | None = None,
) -> tuple[SVDDNet, torch.Tensor]:
    """Deep SVDD on normals; with ``labelled_anomalies`` it is Deep SAD (eta = 1)."""
    generator = _seeded(seed)
    net = SVDDNet(rep_dim=setup.latent_dim)
    normals = torch.from_numpy(x)
    center = init_center(net, normals)
    anomalies = (
        torch.from_numpy(labelled_anomalies)
        if labelled_anomalies is not None and len(labelled_anomalies)
        else None
    )
    data = normals if anomalies is None else torch.cat([normals, anomalies])
    flags = torch.zeros(len(data), dtype=torch.long)
    if anomalies is not None:
        flags[len(normals) :] = -1
    optimizer = torch.optim.Adam(net.parameters(), lr=setup.lr, weight_decay=1e-6)
    net.train()
    for _ in range(setup.svdd_epochs):
        for idx in torch.randperm(len(data), generator=generator).split(setup.batch_size):
            loss = deep_sad_loss(net(data[idx]), center, flags[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval(), center


@torch.no_grad()
def svdd_scores(net: SVDDNet, center: torch.Tensor, x: np.ndarray) -> np.ndarray:
    return svdd_distance(net.eval()(torch.from_numpy(x)), center).numpy()


def sklearn_scores(
    method: str, train: np.ndarray, test: np.ndarray, seed: int, k: int
) -> np.ndarray:
    """Anomaly scores (higher = more anomalous) of a scikit-learn baseline on raw pixels."""
    a, b = train.reshape(len(train), -1), test.reshape(len(test), -1)
    if method == "OneClassSVM":
        return -OneClassSVM(gamma="scale", nu=0.1).fit(a).score_samples(b)
    if method == "IsolationForest":
        return -IsolationForest(random_state=seed).fit(a).score_samples(b)
    if method == "k-NN distance":
        distances, _ = NearestNeighbors(n_neighbors=k).fit(a).kneighbors(b)
        return distances.mean(axis=1)
    raise ValueError(f"unknown method {method!r}; choose from {SKLEARN_METHODS}")


def score_method(
    method: str, images: np.ndarray, split: OneClassSplit, seed: int, setup: DigitsSetup
) -> np.ndarray:
    """Test-set scores of one method fitted on the split's training normals."""
    train, test = images[split.train], images[split.test]
    if method in ("AE", "MemAE"):
        model = train_autoencoder(train, seed, setup, use_memory=method == "MemAE")
        return reconstruction_scores(model, test)
    if method == "Deep SVDD":
        net, center = train_deep_svdd(train, seed, setup)
        return svdd_scores(net, center, test)
    return sklearn_scores(method, train, test, seed, setup.knn_k)


def one_class_table(
    digits: Sequence[int],
    seeds: Sequence[int],
    methods: Sequence[str],
    setup: DigitsSetup,
) -> pd.DataFrame:
    """Long table (digit, seed, method, auroc) of the one-class protocol."""
    images, labels = load_digit_images()
    rows = []
    for digit in digits:
        for seed in seeds:
            split = one_class_split(labels, digit, seed, setup)
            for method in methods:
                scores = score_method(method, images, split, seed, setup)
                auroc = roc_auc_score(split.test_labels, scores)
                rows.append({"digit": digit, "seed": seed, "method": method, "auroc": auroc})
    return pd.DataFrame(rows)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Digits x methods, 'mean +- std over seeds' as numbers (two frames: mean and std)."""
    grouped = table.groupby(["digit", "method"])["auroc"]
    mean = grouped.mean().unstack("method")
    std = grouped.std(ddof=0).unstack("method")
    per_seed = table.groupby(["seed", "method"])["auroc"].mean().unstack("method")
    mean.loc["mean"] = per_seed.mean()
    std.loc["mean"] = per_seed.std(ddof=0)
    return pd.concat({"mean": mean, "std": std}, axis=1)


def memae_ablation(
    parameter: str,
    values: Sequence[float],
    digits: Sequence[int],
    seed: int,
    setup: DigitsSetup,
) -> pd.DataFrame:
    """MemAE AUROC per digit for each value of one memory setting (N, lambda or alpha)."""
    images, labels = load_digit_images()
    rows = []
    for value in values:
        overrides = {parameter: int(value) if parameter == "num_items" else float(value)}
        for digit in digits:
            split = one_class_split(labels, digit, seed, setup)
            model = train_autoencoder(images[split.train], seed, setup, True, **overrides)
            scores = reconstruction_scores(model, images[split.test])
            rows.append(
                {
                    "parameter": parameter,
                    "value": value,
                    "digit": digit,
                    "auroc": roc_auc_score(split.test_labels, scores),
                }
            )
    return pd.DataFrame(rows)


def deep_sad_curve(
    counts: Sequence[int], digits: Sequence[int], seed: int, setup: DigitsSetup
) -> pd.DataFrame:
    """Deep SAD AUROC per digit against the number of labelled anomalies (from the pool)."""
    images, labels = load_digit_images()
    rows = []
    for digit in digits:
        split = one_class_split(labels, digit, seed, setup)
        pool = np.random.default_rng([seed, digit, 1]).permutation(split.labelled_pool)
        for count in counts:
            if count > len(pool):
                raise ValueError(f"{count} labelled anomalies requested, pool has {len(pool)}")
            net, center = train_deep_svdd(
                images[split.train], seed, setup, labelled_anomalies=images[pool[:count]]
            )
            scores = svdd_scores(net, center, images[split.test])
            rows.append(
                {
                    "labelled anomalies": count,
                    "digit": digit,
                    "auroc": roc_auc_score(split.test_labels, scores),
                }
            )
    return pd.DataFrame(rows)


@torch.no_grad()
def addressing_weights(model: MemAE2d, x: np.ndarray) -> np.ndarray:
    """(n, N) addressing weights of a trained MemAE for images ``x``."""
    if model.memory is None:
        raise ValueError("the model has no memory (it is the plain-AE twin)")
    _, weights = model.eval()(torch.from_numpy(x))
    return weights.numpy()


@torch.no_grad()
def latents(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Encoder outputs (before the memory) for images ``x``."""
    return model.eval().encoder(torch.from_numpy(x)).numpy()
