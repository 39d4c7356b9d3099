"""Confidence intervals and verdicts: how the book decides whether a paper's claim holds here.

A claim such as "SlowFast beats Slow-only" compares two models *on the same test items*, so the
uncertainty that matters is that of the **paired difference**: resampling the test items (and,
when a variant was trained with several seeds, the seeds too) and recomputing both metrics on
the same resample. Two numbers compared with ``>`` say nothing about that; an interval does.

- :func:`wilson_interval` / :func:`exact_binomial_interval`: a single accuracy.
- :func:`mcnemar`: exact McNemar test of two paired accuracies (only discordant items count).
- :func:`paired_bootstrap`: percentile CI of ``metric(a) - metric(b)`` over test items.
- :func:`seed_item_bootstrap`: the same with seeds *and* test items resampled together.
- :func:`group_bootstrap`: the same when items come in groups (frames of a test video).
- :func:`chance_accuracy`, :func:`chance_average_precision`: what a random scorer gets for the
  class balance at hand (AP of a random scorer is about the positive rate, not 0.5).
- :func:`verdict`: the paper's direction and our paired CI -> ``reproduced`` (CI above 0),
  ``reversed`` (CI below 0) or ``not resolved`` (CI contains 0: not decided at this budget).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as scipy_stats

Metric = Callable[[np.ndarray, np.ndarray], float]
VerdictLabel = Literal["reproduced", "not resolved", "reversed"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(scipy_stats.norm.ppf(0.5 + level / 2))


def wilson_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval of a proportion: sane at 0 / n and for small n, unlike Wald's."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    z = _z(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, float(max(0.0, centre - half)), float(min(1.0, centre + half)), level)


def exact_binomial_interval(successes: int, n: int, level: float = 0.95) -> Interval:
    """Clopper-Pearson interval (conservative: covers at least ``level`` for every p)."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    ci = scipy_stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="exact")
    return Interval(successes / n, float(ci.low), float(ci.high), level)


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test: ``only_a`` items right for A only, ``only_b`` right for B only."""

    only_a: int
    only_b: int
    p_value: float

    @property
    def discordant(self) -> int:
        return self.only_a + self.only_b


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemar:
    """Two classifiers scored on the same items: do they differ beyond chance?

    Under the null each discordant item is equally likely to favour either, so the count of
    ``only_a`` among the discordant ones is Binomial(n, 1/2) (the exact test; no continuity
    correction needed).
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need two equal-length 1-D arrays, got {a.shape} and {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(scipy_stats.binomtest(only_a, n, 0.5).pvalue)
    return McNemar(only_a, only_b, p)


# --- metrics a bootstrap can recompute ------------------------------------------------------------


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores))


def _resample_indices(rng: np.random.Generator, labels: np.ndarray, stratify: bool) -> np.ndarray:
    """Item indices drawn with replacement; within each label when ``stratify`` (so a
    resample always holds both classes and AUROC / AP stay defined)."""
    n = len(labels)
    if not stratify:
        return rng.integers(0, n, n)
    parts = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        parts.append(members[rng.integers(0, len(members), len(members))])
    return np.concatenate(parts)


def _percentile_interval(estimate: float, draws: np.ndarray, level: float) -> Interval:
    """Percentile interval; resamples where the metric is undefined (NaN) are left out, and an
    interval with no defined resample is NaN (so :func:`verdict` says "not resolved")."""
    tail = 100 * (1 - level) / 2
    defined = draws[np.isfinite(draws)]
    if not len(defined):
        return Interval(float(estimate), float("nan"), float("nan"), level)
    low, high = np.percentile(defined, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high), level)


def paired_bootstrap(
    metric: Metric,
    labels: Sequence,
    outputs_a: Sequence,
    outputs_b: Sequence,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    stratify: bool = False,
) -> Interval:
    """CI of ``metric(labels, a) - metric(labels, b)``, both on the same resampled items.

    ``outputs`` are predictions (for :func:`accuracy`) or scores (for :func:`auroc`,
    :func:`average_precision`; pass ``stratify=True`` for those).
    """
    y, a, b = np.asarray(labels), np.asarray(outputs_a), np.asarray(outputs_b)
    if not (len(y) == len(a) == len(b)) or len(y) == 0:
        raise ValueError(
            f"labels and outputs must have one equal length > 0: {len(y)}, {len(a)}, {len(b)}"
        )
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for i in range(n_boot):
        idx = _resample_indices(rng, y, stratify)
        draws[i] = metric(y[idx], a[idx]) - metric(y[idx], b[idx])
    return _percentile_interval(metric(y, a) - metric(y, b), draws, level)


def seed_item_bootstrap(
    metric: Metric,
    labels: Sequence,
    runs_a: Sequence[Sequence],
    runs_b: Sequence[Sequence],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    stratify: bool = False,
) -> Interval:
    """CI of the seed-averaged paired difference, resampling seeds *and* test items.

    ``runs_a[s]`` / ``runs_b[s]`` are the outputs of the run with seed ``s`` of each variant on
    the same test items; seeds are paired (seed ``s`` of A with seed ``s`` of B: same data
    order and initial draws). Each bootstrap draw takes seeds with replacement and items with
    replacement, so the interval carries both the training noise a second machine would show
    and the finite test set.
    """
    y = np.asarray(labels)
    a, b = np.asarray(runs_a), np.asarray(runs_b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != len(y) or a.shape[0] < 1:
        raise ValueError(f"need (seeds, items) arrays of equal shape over {len(y)} items")

    def mean_difference(seed_idx: np.ndarray, item_idx: np.ndarray) -> float:
        yy = y[item_idx]
        return float(
            np.mean([metric(yy, a[s, item_idx]) - metric(yy, b[s, item_idx]) for s in seed_idx])
        )

    return _seed_item_interval(mean_difference, y, a.shape[0], n_boot, seed, level, stratify)


def seed_item_interval(
    metric: Metric,
    labels: Sequence,
    runs: Sequence[Sequence],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    stratify: bool = False,
) -> Interval:
    """CI of one model's seed-averaged ``metric``, resampling seeds *and* test items (as
    :func:`seed_item_bootstrap`, for a single model: "is its direction accuracy above 0.5?").

    Draws where the metric is undefined (NaN, e.g. no item left in a reversed pair) are left
    out of the percentiles.
    """
    y, a = np.asarray(labels), np.asarray(runs)
    if a.ndim != 2 or a.shape[1] != len(y) or a.shape[0] < 1:
        raise ValueError(f"need a (seeds, items) array over {len(y)} items")

    def mean_metric(seed_idx: np.ndarray, item_idx: np.ndarray) -> float:
        yy = y[item_idx]
        values = [metric(yy, a[s, item_idx]) for s in seed_idx]
        defined = [v for v in values if not np.isnan(v)]
        return float(np.mean(defined)) if defined else float("nan")

    return _seed_item_interval(mean_metric, y, a.shape[0], n_boot, seed, level, stratify)


def _seed_item_interval(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    labels: np.ndarray,
    seeds: int,
    n_boot: int,
    seed: int,
    level: float,
    stratify: bool,
) -> Interval:
    """Percentile interval of ``statistic(seed_indices, item_indices)``: each draw takes the
    seeds with replacement, then the items with replacement (within labels if ``stratify``)."""
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for i in range(n_boot):
        draws[i] = statistic(
            rng.integers(0, seeds, seeds), _resample_indices(rng, labels, stratify)
        )
    estimate = statistic(np.arange(seeds), np.arange(len(labels)))
    return _percentile_interval(estimate, draws, level)


def group_bootstrap(
    metric: Callable[[list[np.ndarray], list[np.ndarray]], float],
    labels: Sequence[np.ndarray],
    outputs_a: Sequence[np.ndarray],
    outputs_b: Sequence[np.ndarray],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Paired CI when test items come in groups (the frames of a video): whole groups are
    resampled, because frames of one video are not independent draws.

    ``metric(labels_per_group, outputs_per_group)`` scores a list of groups (e.g. micro
    AUROC pools the frames, macro averages per-video AUROCs); both models are scored on the
    same resampled groups.
    """
    if not (len(labels) == len(outputs_a) == len(outputs_b)) or len(labels) == 0:
        raise ValueError("need one label array and one output array per group, for both models")
    y = [np.asarray(v) for v in labels]
    a = [np.asarray(v) for v in outputs_a]
    b = [np.asarray(v) for v in outputs_b]
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        yy = [y[j] for j in idx]
        draws[i] = metric(yy, [a[j] for j in idx]) - metric(yy, [b[j] for j in idx])
    return _percentile_interval(metric(y, a) - metric(y, b), draws, level)


# --- chance levels -------------------------------------------------------------------------------


def chance_accuracy(labels: Sequence[int], num_classes: int | None = None) -> dict[str, float]:
    """Accuracy of three random baselines for the label distribution at hand.

    ``uniform``: guessing each class with probability 1/K. ``prior``: guessing with the test
    set's class frequencies (sum of squared frequencies). ``majority``: always the most frequent
    class. On balanced data all three are 1/K.
    """
    y = np.asarray(labels)
    k = num_classes if num_classes is not None else len(np.unique(y))
    if len(y) == 0 or k < 1:
        raise ValueError("need at least one label and one class")
    freq = np.bincount(y, minlength=k) / len(y)
    return {"uniform": 1 / k, "prior": float(np.sum(freq**2)), "majority": float(freq.max())}


def chance_average_precision(labels: Sequence[int]) -> float:
    """Expected AP of a scorer that ranks the items at random, for this class balance.

    With ``N`` items of which ``P`` are positive, a positive at rank ``r`` (uniform on 1..N)
    has ``(r - 1)(P - 1)/(N - 1)`` other positives above it on average, so
    ``E[AP] = (P - 1)/(N - 1) + H_N (N - P) / (N (N - 1))`` (``H_N`` the harmonic number). It
    tends to the positive rate ``P / N`` on large sets and exceeds it on small ones (0.257, not
    0.2, for 10 positives in 50), which matters for the per-class AP of a small test split.
    """
    y = np.asarray(labels) > 0
    n, positives = len(y), int(y.sum())
    if positives == 0:
        raise ValueError("AP is undefined without a positive item")
    if n == 1:
        return 1.0
    harmonic = float(np.sum(1.0 / np.arange(1, n + 1)))
    return (positives - 1) / (n - 1) + harmonic * (n - positives) / (n * (n - 1))


# --- verdicts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A paper's claim checked against our paired CI (``difference`` > 0 = the paper's way)."""

    claim: str
    source: str
    verdict: VerdictLabel
    difference: float
    ci_low: float
    ci_high: float
    seeds: int
    n_test: int
    level: float = 0.95
    unit: str = "test items"  # what n_test counts: test clips, test videos, test sequences...

    def as_dict(self) -> dict[str, Any]:
        """The entry of a chapter's ``claims`` list in its metrics JSON."""
        return asdict(self)

    def sentence(self) -> str:
        """The verdict as the book states it, numbers included."""
        ci = f"{self.level:.0%} CI [{self.ci_low:+.3f}, {self.ci_high:+.3f}]"
        budget = f"{self.seeds} seed{'s' if self.seeds != 1 else ''}, {self.n_test} {self.unit}"
        said = {
            "reproduced": "**reproduced**",
            "reversed": "**reversed** here",
            "not resolved": "**not resolved** at this budget (the interval contains 0)",
        }[self.verdict]
        return (
            f"{self.claim} ({self.source}): {said}; difference {self.difference:+.3f}, {ci}, "
            f"{budget}."
        )


def verdict(
    claim: str,
    source: str,
    difference: Interval,
    seeds: int,
    n_test: int,
    unit: str = "test items",
) -> Verdict:
    """Reproduced when the whole CI is above 0, reversed when below, not resolved otherwise."""
    if difference.low > 0:
        label: VerdictLabel = "reproduced"
    elif difference.high < 0:
        label = "reversed"
    else:
        label = "not resolved"
    return Verdict(
        claim,
        source,
        label,
        difference.estimate,
        difference.low,
        difference.high,
        seeds,
        n_test,
        difference.level,
        unit,
    )
