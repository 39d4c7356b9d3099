"""vidad.stats against scipy and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score

from vidad import stats
from vidad.anomaly import video_recon as vr
from vidad.stats import Interval


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (42, 140), (140, 140)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ours = stats.wilson_interval(k, n)
    ref = scipy_stats.binomtest(k, n).proportion_ci(method="wilson")
    assert ours.estimate == pytest.approx(k / n)
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_by_hand() -> None:
    # p = 0.5, n = 4, z = 1.959964: centre 0.5, half = z*sqrt(1/16 + z^2/64)/(1 + z^2/4)
    z = scipy_stats.norm.ppf(0.975)
    half = z * np.sqrt(0.25 / 4 + z * z / 64) / (1 + z * z / 4)
    ours = stats.wilson_interval(2, 4)
    assert (ours.low, ours.high) == pytest.approx((0.5 - half, 0.5 + half))


def test_exact_interval_is_wider_than_wilson_and_rejects_bad_counts() -> None:
    wilson, exact = stats.wilson_interval(30, 100), stats.exact_binomial_interval(30, 100)
    assert exact.low < wilson.low and exact.high > wilson.high
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(5, 4)


def test_mcnemar_counts_discordant_items_and_matches_a_binomial_test() -> None:
    a = [1, 1, 1, 1, 1, 1, 1, 0, 0, 1]
    b = [0, 0, 0, 0, 0, 0, 1, 1, 0, 1]
    result = stats.mcnemar(np.array(a, bool), np.array(b, bool))
    assert (result.only_a, result.only_b, result.discordant) == (6, 1, 7)
    assert result.p_value == pytest.approx(scipy_stats.binomtest(6, 7, 0.5).pvalue)
    assert result.p_value == pytest.approx(2 * (1 + 7) / 2**7)  # P(X<=1)+P(X>=6), X~Bin(7,.5)
    assert stats.mcnemar([True, False], [True, False]).p_value == 1.0


def test_paired_bootstrap_of_identical_models_is_zero_and_swaps_sign() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    a = np.where(rng.random(200) < 0.7, y, (y + 1) % 3)
    b = np.where(rng.random(200) < 0.5, y, (y + 1) % 3)
    same = stats.paired_bootstrap(stats.accuracy, y, a, a, n_boot=200)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    ab = stats.paired_bootstrap(stats.accuracy, y, a, b, n_boot=500, seed=3)
    ba = stats.paired_bootstrap(stats.accuracy, y, b, a, n_boot=500, seed=3)
    assert ab.estimate == pytest.approx(stats.accuracy(y, a) - stats.accuracy(y, b))
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low))
    assert ab.low > 0  # 0.7 vs 0.5 on 200 items is resolved


def test_paired_bootstrap_is_tighter_than_unpaired_intervals_for_correlated_models() -> None:
    """The point of pairing: two models that err on the same items differ by little."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    shared = rng.random(300)
    a = np.where(shared < 0.70, y, 1 - y)
    b = np.where(shared < 0.66, y, 1 - y)  # b is a minus a few items
    paired = stats.paired_bootstrap(stats.accuracy, y, a, b, n_boot=1000)
    width_a = stats.wilson_interval(int((a == y).sum()), 300)
    assert paired.low > 0
    assert paired.high - paired.low < (width_a.high - width_a.low) / 2


def test_stratified_bootstrap_keeps_auroc_defined() -> None:
    y = np.array([0] * 20 + [1] * 3)
    rng = np.random.default_rng(2)
    a, b = rng.random(23) + y, rng.random(23)
    ci = stats.paired_bootstrap(stats.auroc, y, a, b, n_boot=300, stratify=True)
    assert np.isfinite([ci.low, ci.high]).all() and ci.low <= ci.estimate <= ci.high


def test_seed_item_bootstrap_widens_with_seed_noise() -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 150)

    def run(p: float) -> np.ndarray:
        return np.where(rng.random(150) < p, y, 1 - y)

    # every seed: A 0.7 vs B 0.6; then seeds whose gap swings from -0.5 to +0.7 (mean +0.1)
    stable_a, stable_b = [run(0.7) for _ in range(3)], [run(0.6) for _ in range(3)]
    noisy_a = [run(p) for p in (0.4, 0.7, 1.0)]
    noisy_b = [run(p) for p in (0.9, 0.6, 0.3)]
    stable = stats.seed_item_bootstrap(stats.accuracy, y, stable_a, stable_b, n_boot=400)
    noisy = stats.seed_item_bootstrap(stats.accuracy, y, noisy_a, noisy_b, n_boot=400)
    assert stable.estimate == pytest.approx(
        np.mean(
            [
                stats.accuracy(y, a) - stats.accuracy(y, b)
                for a, b in zip(stable_a, stable_b, strict=True)
            ]
        )
    )
    assert noisy.high - noisy.low > stable.high - stable.low
    with pytest.raises(ValueError, match="seeds, items"):
        stats.seed_item_bootstrap(stats.accuracy, y, stable_a, stable_b[:2])


def test_seed_item_interval_of_one_model() -> None:
    y = np.array([0, 1] * 30)
    right = y.copy()
    wrong = 1 - y
    # seed 0 always right, seed 1 always wrong: mean 0.5, and the seed draw alone spans 0..1
    both = stats.seed_item_interval(stats.accuracy, y, [right, wrong], n_boot=400)
    assert both.estimate == pytest.approx(0.5)
    assert both.low == pytest.approx(0.0) and both.high == pytest.approx(1.0)
    # three identical seeds: the interval is the item bootstrap's alone, around the estimate
    half = np.where(np.arange(60) < 30, y, 1 - y)
    same = stats.seed_item_interval(stats.accuracy, y, [half] * 3, n_boot=400)
    assert same.estimate == pytest.approx(0.5) and same.low < 0.5 < same.high
    assert same.high - same.low < 0.4

    def undefined(labels: np.ndarray, predictions: np.ndarray) -> float:
        return float("nan")

    assert np.isnan(stats.seed_item_interval(undefined, y, [right], n_boot=10).low)
    with pytest.raises(ValueError, match="seeds, items"):
        stats.seed_item_interval(stats.accuracy, y, [right[:-1]])


def test_chance_levels() -> None:
    assert stats.chance_accuracy([0, 0, 0, 1]) == {"uniform": 0.5, "prior": 0.625, "majority": 0.75}
    assert stats.chance_accuracy([0, 1], num_classes=25)["uniform"] == pytest.approx(0.04)
    # by hand: N = 2, P = 1: the positive is first or second, AP = 1 or 1/2 -> 3/4
    assert stats.chance_average_precision([0, 1]) == pytest.approx(0.75)
    assert stats.chance_average_precision([1, 1, 1]) == pytest.approx(1.0)
    # large sets: the positive rate
    assert stats.chance_average_precision([1] * 100 + [0] * 9900) == pytest.approx(0.01, abs=1e-3)
    # small sets: what random scores actually get, averaged over many shuffles
    rng = np.random.default_rng(0)
    y = np.array([1] * 10 + [0] * 40)
    mean_ap = np.mean([stats.average_precision(y, rng.random(50)) for _ in range(4000)])
    assert stats.chance_average_precision(y) == pytest.approx(0.2571, abs=1e-4)
    assert mean_ap == pytest.approx(stats.chance_average_precision(y), abs=0.006)
    with pytest.raises(ValueError, match="positive"):
        stats.chance_average_precision([0, 0])


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.01, 0.2, "reproduced"),
        (-0.05, 0.1, "not resolved"),
        (-0.2, -0.01, "reversed"),
        (0.0, 0.1, "not resolved"),
    ],
)
def test_verdict_follows_the_interval(low: float, high: float, expected: str) -> None:
    v = stats.verdict(
        "depth 3 beats depth 1", "Tran et al. 2015", Interval(0.05, low, high), 3, 140
    )
    assert v.verdict == expected
    row = v.as_dict()
    assert row["claim"] == "depth 3 beats depth 1" and row["ci_low"] == low
    assert {
        "claim",
        "source",
        "verdict",
        "difference",
        "ci_low",
        "ci_high",
        "seeds",
        "n_test",
    } <= set(row)
    assert (
        f"[{low:+.3f}, {high:+.3f}]" in v.sentence() and "3 seeds, 140 test items" in v.sentence()
    )


# --- group_bootstrap: whole test videos resampled ---------------------------------------------


def _micro(labels: list[np.ndarray], scores: list[np.ndarray]) -> float:
    return vr.frame_auroc(scores, labels, "micro")


def _macro(labels: list[np.ndarray], scores: list[np.ndarray]) -> float:
    return vr.frame_auroc(scores, labels, "macro")


def _videos(seed: int, n: int = 8, frames: int = 20) -> tuple[list, list, list]:
    """``n`` videos with anomalous frames 5-14; model a separates them better than b."""
    rng = np.random.default_rng(seed)
    y = [np.r_[np.zeros(5), np.ones(10), np.zeros(frames - 15)].astype(bool)] * n
    a = [rng.random(frames) + 0.8 * lab for lab in y]
    b = [rng.random(frames) + 0.3 * lab for lab in y]
    return y, a, b


@pytest.mark.parametrize("metric", [_micro, _macro])
def test_group_bootstrap_of_identical_models_is_zero_and_swaps_sign(metric) -> None:
    y, a, b = _videos(0)
    same = stats.group_bootstrap(metric, y, a, a, n_boot=200)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    ab = stats.group_bootstrap(metric, y, a, b, n_boot=400, seed=5)
    ba = stats.group_bootstrap(metric, y, b, a, n_boot=400, seed=5)
    assert ba.estimate == pytest.approx(-ab.estimate)
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low))
    assert ab.low > 0  # 0.8 against 0.3 of separation, on 8 videos of 20 frames: resolved
    with pytest.raises(ValueError, match="one label array"):
        stats.group_bootstrap(metric, y, a, b[:-1])
    with pytest.raises(ValueError, match="one label array"):
        stats.group_bootstrap(metric, [], [], [])


def test_group_bootstrap_estimate_by_hand_with_sklearn() -> None:
    # three videos; the third has no anomaly (it counts in micro, is skipped by macro)
    y = [np.array([0, 0, 1, 1, 0]), np.array([0, 1, 1, 0]), np.array([0, 0, 0])]
    a = [
        np.array([0.1, 0.2, 0.9, 0.8, 0.3]),
        np.array([0.5, 0.45, 0.7, 0.4]),
        np.array([0.2, 0.1, 0.3]),
    ]
    b = [
        np.array([0.1, 0.9, 0.2, 0.8, 0.3]),
        np.array([0.5, 0.4, 0.7, 0.6]),
        np.array([0.9, 0.1, 0.3]),
    ]
    micro = roc_auc_score(np.concatenate(y), np.concatenate(a)) - roc_auc_score(
        np.concatenate(y), np.concatenate(b)
    )
    macro = np.mean([roc_auc_score(y[i], a[i]) for i in (0, 1)]) - np.mean(
        [roc_auc_score(y[i], b[i]) for i in (0, 1)]
    )
    # by hand: a ranks video 1 perfectly and video 2 at 3/4 (0.45 under 0.5); b gets 3 and 2 of
    # the 6 and 4 (anomalous, normal) pairs right, 1/2 and 1/2 -> macro +0.375
    assert macro == pytest.approx((1 + 0.75) / 2 - (0.5 + 0.5) / 2)
    assert stats.group_bootstrap(_micro, y, a, b, n_boot=50).estimate == pytest.approx(micro)
    assert stats.group_bootstrap(_macro, y, a, b, n_boot=50).estimate == pytest.approx(macro)


def test_group_bootstrap_interval_of_two_videos_by_hand() -> None:
    # two videos: a resample is {0, 0}, {0, 1} or {1, 1}, and a video twice over has its own
    # AUROC, so the 2.5% and 97.5% percentiles are the smallest and largest of three values
    y = [np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1, 0])]
    a = [np.array([0.1, 0.2, 0.9, 0.8]), np.array([0.3, 0.2, 0.1, 0.5, 0.4])]
    b = [np.array([0.1, 0.9, 0.2, 0.8]), np.array([0.3, 0.9, 0.1, 0.8, 0.4])]
    one = [roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]) for i in (0, 1)]  # +1/2, -1/2
    both = roc_auc_score(np.concatenate(y), np.concatenate(a)) - roc_auc_score(
        np.concatenate(y), np.concatenate(b)
    )
    for metric, pair in ((_micro, both), (_macro, np.mean(one))):
        ci = stats.group_bootstrap(metric, y, a, b, n_boot=2000)
        assert ci.estimate == pytest.approx(pair)
        assert (ci.low, ci.high) == pytest.approx((min(*one, pair), max(*one, pair)))


def test_group_bootstrap_is_wider_than_a_frame_bootstrap_for_correlated_frames() -> None:
    """Frames of one video share its difficulty: which model wins is decided per video. A frame
    bootstrap treats 12 x 60 frames as independent and is far too sure; resampling whole videos
    sees that the gap depends on which videos were drawn."""
    rng = np.random.default_rng(7)
    videos, frames = 12, 60
    y = [np.ones(frames, int)] * videos
    gap = rng.choice([-0.4, 0.5], videos)  # a's accuracy minus b's, per video
    a = [(rng.random(frames) < 0.5 + g / 2).astype(int) for g in gap]
    b = [(rng.random(frames) < 0.5 - g / 2).astype(int) for g in gap]

    def pooled(labels: list[np.ndarray], outputs: list[np.ndarray]) -> float:
        return stats.accuracy(np.concatenate(labels), np.concatenate(outputs))

    by_video = stats.group_bootstrap(pooled, y, a, b, n_boot=1000)
    by_frame = stats.paired_bootstrap(
        stats.accuracy, np.concatenate(y), np.concatenate(a), np.concatenate(b), n_boot=1000
    )
    assert by_video.estimate == pytest.approx(by_frame.estimate)
    assert by_video.high - by_video.low > 3 * (by_frame.high - by_frame.low)
    # here it changes the verdict: 8 videos of 12 favour a, which frames alone call settled
    assert by_frame.low > 0 and by_video.low < 0 < by_video.high


def test_group_bootstrap_leaves_out_resamples_without_an_anomaly() -> None:
    """A resample of normal videos only has no AUROC (NaN): it is left out of the percentiles,
    which is the bootstrap conditioned on a defined metric (as redrawing it would be)."""
    y = [np.array([0, 1, 1, 0]), np.zeros(4, int), np.zeros(3, int)]
    a = [np.array([0.1, 0.9, 0.8, 0.2]), np.array([0.3, 0.5, 0.4, 0.2]), np.array([0.6, 0.1, 0.2])]
    b = [np.array([0.1, 0.5, 0.8, 0.9]), np.array([0.3, 0.5, 0.4, 0.2]), np.array([0.6, 0.7, 0.2])]
    ci = stats.group_bootstrap(_micro, y, a, b, n_boot=300, seed=2)
    # the same draws by hand: about (2/3)^3 = 30% of them hold no anomalous video
    rng = np.random.default_rng(2)
    draws = []
    for _ in range(300):
        idx = rng.integers(0, 3, 3)
        yy = [y[j] for j in idx]
        draws.append(_micro(yy, [a[j] for j in idx]) - _micro(yy, [b[j] for j in idx]))
    draws = np.array(draws)
    assert 0.2 < np.isnan(draws).mean() < 0.4
    expected = np.percentile(draws[~np.isnan(draws)], [2.5, 97.5])
    assert np.isfinite([ci.low, ci.high]).all()
    assert (ci.low, ci.high) == pytest.approx(tuple(expected))
    # no anomalous video at all: no defined resample, a NaN interval, and no verdict either way
    normal = stats.group_bootstrap(_micro, y[1:], a[1:], b[1:], n_boot=50)
    assert np.isnan([normal.estimate, normal.low, normal.high]).all()
    assert stats.verdict("a beats b", "test", normal, 1, 2).verdict == "not resolved"
    # the defined resamples decide: each holds video 1, which a ranks better (1 against 1/2)
    assert ci.low > 0 and stats.verdict("a beats b", "test", ci, 1, 3).verdict == "reproduced"
