"""Classical one-class baselines on the same frozen embeddings as the autoencoder.

If k-NN distance or a Gaussian (Mahalanobis) model of the normal embeddings separates anomalies
as well as the seed's autoencoder, the autoencoder adds nothing; the chapter must be able to
say so. Every scorer is fit on *train normals only* and returns higher = more anomalous.

Extension point: :data:`SCORERS` maps a name to ``scorer(train, query, seed) -> scores``. Other
heads (a memory-augmented AE, Deep SVDD) register there with :func:`register_scorer` and then
appear in every table of the chapter without further changes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

Scorer = Callable[[np.ndarray, np.ndarray, int], np.ndarray]
SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str) -> Callable[[Scorer], Scorer]:
    """Decorator adding a scorer to :data:`SCORERS` under ``name`` (names must be unique)."""

    def decorate(fn: Scorer) -> Scorer:
        if name in SCORERS:
            raise ValueError(f"scorer {name!r} already registered")
        SCORERS[name] = fn
        return fn

    return decorate


def _standardize(train: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale features by train statistics: distance- and kernel-based scorers are not scale
    invariant, and a few high-variance embedding dimensions would otherwise dominate."""
    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(query)


def knn_scores(train: np.ndarray, query: np.ndarray, seed: int = 0, k: int = 5) -> np.ndarray:
    """Mean distance to the ``k`` nearest train normals (standardized features).

    A query that *is* a training clip finds itself at distance 0: score held-out clips only.
    """
    train, query = _standardize(train, query)
    k = min(k, len(train))
    distances, _ = NearestNeighbors(n_neighbors=k).fit(train).kneighbors(query)
    return distances.mean(axis=1)


def mahalanobis_scores(train: np.ndarray, query: np.ndarray, seed: int = 0) -> np.ndarray:
    """Squared Mahalanobis distance under a Ledoit-Wolf shrunk covariance of train normals.

    Shrinkage keeps the covariance invertible with fewer clips than dimensions.
    """
    return LedoitWolf().fit(train).mahalanobis(query)


def isolation_forest_scores(train: np.ndarray, query: np.ndarray, seed: int = 0) -> np.ndarray:
    """Negated IsolationForest normality score (200 trees, fixed seed)."""
    train, query = _standardize(train, query)
    forest = IsolationForest(n_estimators=200, random_state=seed).fit(train)
    return -forest.score_samples(query)


def ocsvm_scores(train: np.ndarray, query: np.ndarray, seed: int = 0) -> np.ndarray:
    """Negated One-Class SVM decision function (RBF, gamma='scale', nu=0.1; deterministic)."""
    train, query = _standardize(train, query)
    return -OneClassSVM(gamma="scale", nu=0.1).fit(train).decision_function(query)


register_scorer("k-NN distance")(knn_scores)
register_scorer("Mahalanobis (Ledoit-Wolf)")(mahalanobis_scores)
register_scorer("IsolationForest")(isolation_forest_scores)
register_scorer("One-Class SVM")(ocsvm_scores)


def score_all(train: np.ndarray, query: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Every registered scorer, fit on ``train`` and applied to ``query``."""
    return {name: np.asarray(fn(train, query, seed), float) for name, fn in SCORERS.items()}
