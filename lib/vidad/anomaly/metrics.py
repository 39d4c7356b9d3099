"""Threshold-free metrics with uncertainty, and the two threshold protocols of Table 2.

The seed reported only accuracies at a threshold it chose *looking at the test and anomaly
sets*, on 38 + 40 clips. Here every score gets AUROC and AUPR (anomaly = positive) with
percentile bootstrap intervals, and Table 2 is computed twice: (a) with the seed's optimistic
threshold, (b) with a threshold fixed from validation normals alone, as a deployed system would
have to; each with its false-alarm rate and balanced accuracy beside the anomaly hit rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

NORMAL_SPLITS: tuple[str, ...] = ("train", "val", "test")
ANOMALY = "anomaly"


def auroc(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney) identity, ties counted half.

    Equal to ``sklearn.metrics.roc_auc_score`` but cheap enough to call in a 1000-fold
    bootstrap for every method of the chapter.
    """
    scores, y = np.asarray(scores, float), np.asarray(is_anomaly, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs both normal and anomalous clips")
    ranks = rankdata(scores)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def aupr(scores: np.ndarray, is_anomaly: np.ndarray) -> float:
    """Average precision (area under precision-recall, step-wise as sklearn's
    ``average_precision_score``, ties grouped); chance level = the anomaly fraction."""
    scores, y = np.asarray(scores, float), np.asarray(is_anomaly, bool)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError("AUPR needs at least one anomalous clip")
    order = np.argsort(-scores, kind="mergesort")
    s, hits = scores[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each score
    tps = np.cumsum(hits)[last]
    precision = tps / (last + 1)
    recall = tps / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile bootstrap interval."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def bootstrap(
    metric: Callable[[np.ndarray, np.ndarray], float],
    scores: np.ndarray,
    is_anomaly: np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """Percentile bootstrap, resampling normals and anomalies separately (stratified), so
    every resample has both classes and the same class balance as the data."""
    scores, y = np.asarray(scores, float), np.asarray(is_anomaly, bool)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    values = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        values[i] = metric(scores[idx], y[idx])
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return Estimate(metric(scores, y), float(low), float(high))


def separation(
    normal: np.ndarray, anomalous: np.ndarray, n_resamples: int = 1000, seed: int = 0
) -> dict[str, Estimate]:
    """AUROC and AUPR of ``normal`` (negatives) vs ``anomalous`` (positives) scores, with CIs."""
    scores = np.concatenate([normal, anomalous])
    y = np.r_[np.zeros(len(normal), bool), np.ones(len(anomalous), bool)]
    return {
        "auroc": bootstrap(auroc, scores, y, n_resamples, seed),
        "aupr": bootstrap(aupr, scores, y, n_resamples, seed),
    }


def split_accuracy(scores: Mapping[str, np.ndarray], threshold: float) -> dict[str, float]:
    """The seed's "accuracy" per split: anomaly = fraction flagged (score > threshold),
    normal splits = 1 - fraction flagged."""
    out = {}
    for name, values in scores.items():
        flagged = float(np.mean(np.asarray(values) > threshold)) if len(values) else np.nan
        out[name] = flagged if name == ANOMALY else 1.0 - flagged
    return out


def optimistic_threshold(scores: Mapping[str, np.ndarray]) -> float:
    """Protocol (a), as the original: the threshold maximizing the mean of the test and
    anomaly accuracies, chosen by looking at those very sets (an upper bound, not a result).

    Candidates are midpoints between consecutive distinct test/anomaly scores (and one below /
    above all of them); ties go to the lowest threshold.
    """
    values = np.unique(np.concatenate([scores["test"], scores[ANOMALY]]))
    candidates = np.concatenate(
        [[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]]
    )
    objective = [
        np.mean([split_accuracy({k: scores[k]}, t)[k] for k in ("test", ANOMALY)])
        for t in candidates
    ]
    return float(candidates[int(np.argmax(objective))])


def validation_threshold(val_normal_scores: np.ndarray, percentile: float = 95.0) -> float:
    """Protocol (b), ours: the ``percentile``-th percentile of validation-normal scores only,
    i.e. a target false-alarm rate of about ``100 - percentile`` % fixed before any test or
    anomaly clip is seen."""
    return float(np.percentile(np.asarray(val_normal_scores, float), percentile))


def operating_point(accuracy: Mapping[str, float]) -> dict[str, float]:
    """Where a threshold operates, from :func:`split_accuracy`'s test and anomaly entries:
    ``false_alarm_rate`` (share of test normals flagged) and ``balanced_accuracy`` (the mean
    of the test-normal accuracy and the anomaly hit rate; 0.5 for a threshold that flags all
    clips or none). The anomaly hit rate alone says nothing without the false-alarm rate:
    flagging every clip hits every anomaly."""
    test, hit = accuracy["test"], accuracy[ANOMALY]
    return {"false_alarm_rate": 1.0 - test, "balanced_accuracy": (test + hit) / 2}


def table2(scores: Mapping[str, np.ndarray], percentile: float = 95.0) -> dict[str, dict]:
    """The seed's Table 2 under both protocols: threshold, accuracy per split, and the
    operating point (:func:`operating_point`: false-alarm rate and balanced accuracy)."""
    rows = {}
    for protocol, threshold in (
        ("optimistic", optimistic_threshold(scores)),
        ("validation", validation_threshold(scores["val"], percentile)),
    ):
        accuracy = split_accuracy(scores, threshold)
        rows[protocol] = {"threshold": threshold, **accuracy, **operating_point(accuracy)}
    return rows
