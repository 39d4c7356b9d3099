"""Chapter 9's experiment (vidad.experiments.action_detection): config, tables, verdict, metrics."""

from __future__ import annotations

import dataclasses
import json
import math
import typing

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from vidad import stats
from vidad.config import ConfigError, load_params, stage_params
from vidad.data.ava import Keyframe
from vidad.detection import published
from vidad.detection.data import KeyframeClips
from vidad.detection.splits import InteractSplits
from vidad.eval.detection import DET_COLUMNS, GT_COLUMNS, evaluate, voc_average_precision
from vidad.experiments import action_detection as ad
from vidad.models.slowfast import SLOWFAST_SIZES
from vidad.paths import Paths
from vidad.synth.interact import InteractConfig, generate_interact

SMOKE = stage_params(load_params(), "action_detection", "smoke")
BCE, METHOD = ad.LABELS["bce"], ad.LABELS["focal_bn"]


def _config(**changes: object) -> ad.Config:
    return ad.Config.from_params({**SMOKE, **changes})


# --- Config ---------------------------------------------------------------------------------------


def test_every_profile_of_params_yaml_builds() -> None:
    for profile in ("smoke", "cpu", "gpu"):
        config = ad.Config.load(profile)
        assert config.as_params() == stage_params(load_params(), "action_detection", profile)


def test_size_names_are_the_slowfast_presets() -> None:
    hints = typing.get_type_hints(ad.Config)
    assert set(typing.get_args(hints["size"])) == set(SLOWFAST_SIZES)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"init": "imagenet"}, r"init: expected 'pretrained' \| 'scratch', got 'imagenet'"),
        ({"seeds": "0"}, r"action_detection\.seeds: expected list\[int\]"),
        ({"epochs": 2.0}, r"epochs: expected int"),
        ({"motion": "true"}, r"motion: expected bool"),
        ({"size": "huge"}, r"size: expected 'tiny' \| 'small' \| 'paper'"),
        ({"seed": 0}, r"unknown keys \['seed'\]"),
        ({"seeds": []}, "seeds must be a non-empty list without repeats"),
        ({"seeds": [0, 0]}, "seeds must be a non-empty list without repeats"),
        ({"variants": ["bce", "focal_bn", "huber"]}, r"unknown variants \['huber'\]"),
        ({"variants": ["bce", "focal_bn", "bce"]}, "variants repeat"),
        ({"variants": ["bce", "focal"]}, r"must include \['focal_bn'\]"),
        ({"num_frames": 10}, "num_frames must be a positive multiple of SlowFast's alpha=4"),
        ({"num_frames": 0}, "num_frames must be a positive multiple"),
        ({"frame_stride": 0}, "frame_stride must be >= 1"),
        ({"val_sequences": 0}, "val_sequences must be >= 1"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
        ({"warmup_epochs": 2}, r"warmup_epochs must be in \[0, epochs=2\)"),
        ({"detector_jitter": -0.1}, "detector_jitter must be >= 0"),
        ({"detector_miss_rate": 1.0}, r"detector_miss_rate must be in \[0, 1\)"),
        ({"detector_spurious_rate": 1.5}, r"detector_spurious_rate must be in \[0, 1\]"),
        ({"example_keyframes": 0}, "example_keyframes must be >= 1"),
    ],
)
def test_config_rejects(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(**changes)


def test_missing_key_is_named() -> None:
    values = dict(SMOKE)
    del values["init"]
    with pytest.raises(ConfigError, match=r"lacks keys \['init'\]"):
        ad.Config.from_params(values)


def test_setup_and_train_config_come_from_the_config() -> None:
    config = _config(epochs=5, lr=0.01, batch_size=3, warmup_epochs=2)
    setup = config.setup()
    for field in dataclasses.fields(setup):
        if field.name in ("temporal_pool", "dropout"):  # head settings: not chapter keys
            assert getattr(setup, field.name) == field.default
        else:
            assert getattr(setup, field.name) == getattr(config, field.name)
    train = setup.train_config(seed=7)
    assert (train.epochs, train.lr, train.batch_size, train.warmup_epochs) == (5, 0.01, 3, 2)
    assert (train.optimizer, train.schedule, train.seed) == ("adamw", "cosine", 7)
    assert train.weight_decay == config.weight_decay


def test_variants_markdown_names_what_a_profile_leaves_out() -> None:
    pair = ad.variants_markdown(_config(variants=["bce", "focal_bn"], seeds=[0, 1, 2]))
    assert "2 variant(s), each with 3 seed(s): BCE, focal BCE + BN (source)." in pair
    left_out = pair.split("Left out")[1].split("): ")[1].rstrip(".").split(", ")
    assert left_out == [ad.LABELS[v] for v in ("bce_bn", "focal", "mmaction_focal")]
    every = ad.variants_markdown(_config(variants=list(ad.LABELS)))
    assert "Left out" not in every and "5 variant(s)" in every


def test_initial_state(tmp_path) -> None:
    paths = Paths("smoke", tmp_path)
    assert ad.initial_state(_config(init="scratch"), paths) is None
    with pytest.raises(FileNotFoundError, match="dvc repro pretrain"):
        ad.initial_state(_config(init="pretrained"), paths)


# --- data tables ----------------------------------------------------------------------------------


def _counts() -> pd.DataFrame:
    rows = []
    for split, values in (("train", (6, 2)), ("val", (2, 0)), ("test", (3, 1))):
        for c, n in zip(("handshake", "kick"), values, strict=True):
            rows.append({"split": split, "class": c, "annotations": n})
    return pd.DataFrame(rows)


def test_class_shares_merge_validation_into_train_beside_the_published_counts() -> None:
    shares = ad.class_shares(_counts())
    ours = shares[shares["source"] == "synth-interact (ours)"].set_index(["split", "class"])
    assert ours.loc[("train", "handshake"), "annotations"] == 8
    assert ours.loc[("train", "handshake"), "share"] == 0.8
    assert ours.loc[("test", "kick"), "share"] == 0.25
    theirs = shares[shares["source"] == "published"]
    assert len(theirs) == 2 * len(published.CLASSES)
    sums = shares.groupby(["source", "split"])["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)


def test_count_table() -> None:
    table = ad.count_table(_counts())
    assert table.index.tolist() == ["handshake", "kick"]
    assert table.loc["handshake"].to_dict() == {"train": 6, "val": 2, "test": 3}
    assert table.loc["kick", "val"] == 0


def _kf(video: str, labels: list[list[int]]) -> Keyframe:
    k = len(labels)
    boxes = np.tile(np.array([[0.1, 0.2, 0.3, 0.4]], np.float32), (k, 1))
    return Keyframe(video, 1.0, boxes, np.asarray(labels, np.float32), np.arange(k))


def _splits(train: list[Keyframe]) -> InteractSplits:
    return InteractSplits(
        root=None, manifest=pd.DataFrame(), label_names={3: "hug", 1: "handshake", 5: "kick"},
        actions={}, persons={}, keyframes={"train": train, "val": [], "test": []},
    )  # fmt: skip


def test_sample_keyframes_one_per_action_in_order_of_appearance() -> None:
    # classes are sorted ids [1, 3, 5] = handshake, hug, kick
    frames = [
        _kf("a", [[0, 0, 0]]),  # nobody labelled: skipped
        _kf("b", [[0, 0, 0], [0, 1, 0]]),  # first labelled person hugs
        _kf("c", [[0, 1, 1]]),  # hug again (argmax: the first of hug / kick)
        _kf("d", [[1, 0, 0]]),
        _kf("e", [[0, 0, 1]]),
        _kf("f", [[1, 0, 0]]),  # every class found before: never reached
    ]
    picked = ad.sample_keyframes(_splits(frames))
    assert [(kf.video_id, action) for kf, action in picked] == [
        ("b", "hug"), ("d", "handshake"), ("e", "kick"),
    ]  # fmt: skip
    assert [a for _, a in ad.sample_keyframes(_splits(frames[:3]))] == ["hug"]


def test_prediction_title() -> None:
    data = _splits([])
    probs = np.array([[0.1, 0.9, 0.2], [0.7, 0.1, 0.2], [0.3, 0.2, 0.95]])
    labels = np.array([[0, 0, 1], [0, 0, 0]], np.float32)
    assert ad.prediction_title(data, probs, labels) == "pred: hug 0.90, handshake 0.70\ntrue: kick"
    assert ad.prediction_title(data, probs[:0], labels[:0]) == "pred: \ntrue: -"


# --- result tables and verdict on hand-made results -----------------------------------------------

# (variant, seed) -> gt mean-over-sequences mAP; sequence 5 is that - 0.1, sequence 10 that + 0.1
GT_MEAN = {("bce", 0): 0.2, ("bce", 1): 0.4, ("focal_bn", 0): 0.6, ("focal_bn", 1): 0.8}
# per-class AP (gt, mean over sequences): class 1 (handshake), class 3 (hug)
CLASS_AP = {"bce": (0.5, 0.1), "focal_bn": (0.4, 0.6)}
DET_MEAN = {"bce": 0.1, "focal_bn": 0.2}


def _results() -> pd.DataFrame:
    rows = []
    for (variant, seed), mean in GT_MEAN.items():
        for boxes in ("gt", "detector"):
            m = mean if boxes == "gt" else DET_MEAN[variant]
            maps = {5: m - 0.1, 10: m + 0.1, "mean": m, "all": m + 0.05}
            for group, value in maps.items():
                rows.append(dict(group=group, metric="mAP", action_id=pd.NA, value=value,
                                 boxes=boxes, variant=variant, seed=seed))  # fmt: skip
            for c, ap in zip((1, 3), CLASS_AP[variant], strict=True):
                rows.append(dict(group="mean", metric="AP", action_id=c, value=ap,
                                 boxes=boxes, variant=variant, seed=seed))  # fmt: skip
    return pd.DataFrame(rows)


def test_summary_table() -> None:
    summary = ad.summary_table(_results())
    assert summary.index.names == ["boxes", "group", "variant"]
    row = summary.loc[("gt", "mean over sequences", METHOD)]
    assert row["mean"] == pytest.approx(0.7) and row["std"] == pytest.approx(math.sqrt(0.02))
    assert (row["min"], row["max"]) == (0.6, 0.8)
    assert summary.loc[("gt", "pooled", BCE), "mean"] == pytest.approx(0.35)
    assert summary.loc[("detector", "mean over sequences", BCE), "mean"] == pytest.approx(0.1)
    assert len(summary) == 2 * 2 * 2


def test_class_and_sequence_tables() -> None:
    results = _results()
    per_class = ad.per_class_frame(results, {1: "handshake", 3: "hug"})
    classes = ad.class_table(per_class)
    assert classes.index.tolist() == ["handshake", "hug"]
    assert classes.loc["hug", ("gt", METHOD)] == pytest.approx(0.6)
    sequences = ad.sequence_table(results)
    assert sequences.index.name == "test sequence"
    assert sequences.index.tolist() == [5, 10]
    assert sequences.loc[5, ("gt", BCE)] == pytest.approx(0.2)  # mean of 0.1 and 0.3
    assert sequences.loc[10, ("detector", METHOD)] == pytest.approx(0.3)


def test_verdict_facts() -> None:
    results = _results()
    classes = ad.class_table(ad.per_class_frame(results, {1: "handshake", 3: "hug"}))
    v = ad.verdict_facts(ad.summary_table(results), classes)
    assert v.baseline == pytest.approx(0.3) and v.method == pytest.approx(0.7)
    assert v.gain == pytest.approx(0.4) and v.spread == pytest.approx(0.2)
    assert v.best == METHOD
    assert not hasattr(v, "beyond_seed_spread")  # the claims' CIs decide, not the seed spread
    assert v.class_gains.index.tolist() == ["handshake", "hug"]
    np.testing.assert_allclose(v.class_gains.to_numpy(), [-0.1, 0.5])
    assert (v.detector_baseline, v.detector_method) == pytest.approx((0.1, 0.2))


def test_published_table() -> None:
    table = ad.published_table()
    assert table.index.tolist() == [*published.TEST_SEQUENCES, "mean"]
    assert table.loc["mean", "BCE (published)"] == published.MEAN_MAP["bce"]
    assert table.loc["mean", "focal BCE + BN (published)"] == published.MEAN_MAP["focal_bn"]


# test keyframes of the hand-made result: sequence 5 (video "a") has 6 boxes, 2 handshakes and
# 1 hug; sequence 10 (video "c") has 4 boxes, 1 handshake and no hug. Classes: [1, 3].
TEST_LABELS = {
    ("a", 1.0): [[1, 0], [0, 1], [0, 0]],
    ("a", 2.0): [[1, 0], [0, 0], [0, 0]],
    ("c", 1.0): [[1, 0], [0, 0]],
    ("c", 2.0): [[0, 0], [0, 0]],
}
SEQUENCE = {"a": 5, "c": 10}


def _test_keyframes() -> list[Keyframe]:
    out = []
    for (video, t), labels in TEST_LABELS.items():
        k = len(labels)  # side by side, never overlapping: a box matches only itself
        boxes = np.array([[0.2 * i, 0.1, 0.2 * i + 0.15, 0.5] for i in range(k)], np.float32)
        out.append(Keyframe(video, t, boxes, np.asarray(labels, np.float32), np.arange(k)))
    return out


def _test_set() -> KeyframeClips:
    return KeyframeClips({v: None for v in SEQUENCE}, _test_keyframes(), 8.0, 8, 1, 32)


def _result(profile: str = "cpu", results: pd.DataFrame | None = None) -> ad.Result:
    sets = {"train": [0] * 7, "val": [0] * 3, "test": _test_set()}
    manifest = pd.DataFrame({"video_id": list(SEQUENCE), "sequence": list(SEQUENCE.values())})
    data = InteractSplits(None, manifest, {1: "handshake", 3: "hug"}, {}, {}, {})
    return ad.Result(
        _config(seeds=[0, 1]), profile, data, pd.DataFrame(), pd.DataFrame(), sets,
        pd.DataFrame(), [], _results() if results is None else results, np.array([0]), [],
    )  # fmt: skip


def test_metrics_schema() -> None:
    metrics = _result().metrics()
    assert set(metrics) == {
        "summary", "per_class_ap", "per_sequence_map", "chance_ap", "keyframes", "seeds",
        "verdict", "claims",
    }  # fmt: skip
    assert metrics["keyframes"] == {"train": 7, "val": 3, "test": 4}
    assert metrics["seeds"] == [0, 1]
    key = f"gt/mean over sequences/{METHOD}"
    assert metrics["summary"][key]["mean"] == pytest.approx(0.7)
    assert set(metrics["summary"][key]) == {"mean", "std"}
    assert set(metrics["per_class_ap"]) == {f"{b}/{v}" for b in ("gt", "detector")
                                            for v in (BCE, METHOD)}  # fmt: skip
    assert metrics["per_class_ap"][f"gt/{BCE}"] == pytest.approx({"handshake": 0.5, "hug": 0.1})
    assert set(metrics["per_sequence_map"][f"gt/{BCE}"]) == {"5", "10"}
    verdict = metrics["verdict"]
    assert verdict["best"] == METHOD and verdict["gain_mean_map"] == pytest.approx(0.4)
    assert verdict["seed_spread"] == pytest.approx(0.2)
    assert all(type(v) is float for v in metrics["summary"][key].values())
    assert set(metrics["chance_ap"]) == {"mean over sequences", "pooled"}
    assert set(metrics["chance_ap"]["pooled"]) == {"handshake", "hug"}
    # every variant gains the same in _results: both claims are reproduced
    assert [c["verdict"] for c in metrics["claims"]] == ["reproduced", "reproduced"]
    assert json.loads(json.dumps(metrics)) == metrics


def test_verdict_markdown() -> None:
    result = _result()
    text = ad.verdict_markdown(result)
    assert "**0.700** against **0.300** for plain BCE (+0.400;" in text
    assert "spread between seeds" not in text
    assert f"Highest mean mAP in this run: {METHOD} (a point estimate, not a ranking)." in text
    assert "decided by the 95% CI of the paired difference, resampling the 2 seed(s)" in text
    claims = result.claims()
    assert len(claims) == 2
    for claim in claims:
        assert f"- {claim.sentence()}" in text
    assert "most for hug (+0.500) and least for handshake (-0.100)" in text
    assert "(BCE 0.100, the method 0.200)" in text
    assert "`smoke`" not in text
    within = _results()
    within.loc[(within["variant"] == "focal_bn") & (within["seed"] == 1), "value"] += 0.6
    text = ad.verdict_markdown(_result("smoke", within))
    assert "(+0.700;" in text
    assert "On the `smoke` profile" in text


# --- claims on hand-made per-sequence mAPs ------------------------------------------------------

#: focal BCE + BN minus BCE per (seed, test sequence): above 0, mixed signs, below 0
GAPS = {
    "reproduced": np.array([[0.10, 0.20], [0.15, 0.05]]),
    "not resolved": np.array([[0.20, -0.10], [0.20, -0.10]]),
}
GAPS["reversed"] = -GAPS["reproduced"]
CLAIM_KEYS = {"claim", "source", "verdict", "difference", "ci_low", "ci_high", "seeds", "n_test"}


def _claim_results(gaps: dict[str, np.ndarray]) -> pd.DataFrame:
    """:func:`_results` with the method's per-sequence mAP set to BCE's plus ``gaps[boxes]``
    (seeds 0, 1 as rows; sequences 5, 10 as columns)."""
    results = _results()
    bce = results[(results["variant"] == "bce") & (results["metric"] == "mAP")]
    for row in bce.itertuples():
        if row.group not in (5, 10):
            continue
        gap = gaps[row.boxes][row.seed, (5, 10).index(row.group)]
        same = (
            (results["variant"] == "focal_bn") & (results["metric"] == "mAP")
            & (results["boxes"] == row.boxes) & (results["seed"] == row.seed)
            & (results["group"] == row.group)
        )  # fmt: skip
        results.loc[same, "value"] = row.value + gap
    return results


def test_sequence_maps_are_seeds_by_sequences() -> None:
    results = _claim_results({"gt": GAPS["reproduced"], "detector": GAPS["reversed"]})
    bce = ad.sequence_maps(results, "bce", "gt")
    np.testing.assert_allclose(bce, [[0.1, 0.3], [0.3, 0.5]])
    np.testing.assert_allclose(ad.sequence_maps(results, "focal_bn", "gt") - bce,
                               GAPS["reproduced"])  # fmt: skip
    frame = ad.sequence_frame(results.iloc[::-1], "focal_bn", "detector")  # order-free
    assert list(frame.index) == [0, 1] and list(frame.columns) == [5, 10]


@pytest.mark.parametrize("label", ["reproduced", "not resolved", "reversed"])
@pytest.mark.parametrize("boxes", ["gt", "detector"])
def test_each_claim_is_decided_by_its_paired_ci(boxes: str, label: str) -> None:
    gaps = {"gt": GAPS["not resolved"], "detector": GAPS["not resolved"], boxes: GAPS[label]}
    result = _result(results=_claim_results(gaps))
    claims = result.claims()
    assert ["ground-truth boxes" in c.claim for c in claims] == [True, False]
    claim = claims[0 if boxes == "gt" else 1]
    assert claim.verdict == label
    assert claim.difference == pytest.approx(GAPS[label].mean())
    assert claim.ci_low <= claim.difference <= claim.ci_high
    assert (claim.seeds, claim.n_test) == (2, 2)  # two seeds, two test sequences
    assert claim.source == published.SOURCE
    assert claims[1 if boxes == "gt" else 0].verdict == "not resolved"
    entries = result.metrics()["claims"]
    assert entries == [c.as_dict() for c in claims]
    assert all(set(e) >= CLAIM_KEYS for e in entries)
    assert all((e["seeds"], e["n_test"]) == (2, 2) for e in entries)
    text = ad.verdict_markdown(result)
    assert all(c.sentence() in text for c in claims)


def test_method_claim_by_itself() -> None:
    results = _claim_results({"gt": GAPS["reversed"], "detector": GAPS["reproduced"]})
    claim = ad.method_claim(results, "gt", n_boot=200)
    assert claim.verdict == "reversed" and claim.ci_high < 0
    assert claim.claim == (
        "Focal BCE + BN beats plain BCE (mean mAP over test sequences, ground-truth boxes)"
    )
    assert ad.method_claim(results, "detector").claim.endswith("the imitation detector's boxes)")


@pytest.mark.parametrize("change", ["missing run", "other sequence", "other seed", "no method"])
def test_a_mismatch_of_seeds_or_sequences_raises(change: str) -> None:
    results = _results()
    method = results["variant"] == "focal_bn"
    if change == "missing run":
        results = results[~(method & (results["seed"] == 1) & (results["group"] == 10))]
    elif change == "other sequence":  # same shape, but the method's sequence 10 is an 11
        results = results.assign(
            group=results["group"].where(~(method & (results["group"] == 10)), 11)
        )
    elif change == "other seed":  # same shape, but the method's seed 1 is a seed 2
        results = results.assign(seed=results["seed"].where(~(method & (results["seed"] == 1)), 2))
    else:
        results = results[~method | (results["boxes"] == "detector")]
    with pytest.raises(ValueError, match="not run on the same seeds / sequences"):
        ad.method_claim(results, "gt")


# --- chance-level AP --------------------------------------------------------------------------


def test_chance_voc_ap_edge_cases_and_interpolation() -> None:
    assert math.isnan(ad.chance_voc_ap([0, 0, 0]))
    assert ad.chance_voc_ap([1, 1, 1]) == 1.0
    # one positive: no interpolation to do, the exact E[1 / rank] = H_N / N
    assert ad.chance_voc_ap([1, 0, 0, 0, 0]) == pytest.approx(
        stats.chance_average_precision([1, 0, 0, 0, 0])
    )
    # more positives: VOC's precision envelope lifts a random ranking above the uninterpolated
    # expectation (0.257 for 10 in 50)
    labels = [1] * 10 + [0] * 40
    assert ad.chance_voc_ap(labels) == pytest.approx(0.287, abs=0.005)
    assert ad.chance_voc_ap(labels) > stats.chance_average_precision(labels) + 0.02
    assert ad.chance_voc_ap(labels) == ad.chance_voc_ap(labels[::-1])  # seeded, order-free


def test_chance_voc_ap_is_the_mean_ap_of_random_rankings() -> None:
    rng = np.random.default_rng(1)
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], bool)
    draws = [voc_average_precision(rng.permutation(y), int(y.sum())) for _ in range(4000)]
    assert ad.chance_voc_ap(y, draws=4000) == pytest.approx(np.mean(draws), abs=0.01)


def test_chance_ap_table_on_hand_made_keyframes() -> None:
    table = ad.chance_ap_table(_test_keyframes(), [1, 3], {1: "handshake", 3: "hug"}, SEQUENCE)
    assert table.index.tolist() == ["handshake", "hug"]
    assert table.columns.tolist() == ["mean over sequences", "pooled"]
    h6, h4, h10 = (sum(1 / r for r in range(1, n + 1)) / n for n in (6, 4, 10))
    # hug: one positive, only in sequence 5 (6 boxes); pooled over 10 boxes
    assert table.loc["hug", "mean over sequences"] == pytest.approx(h6)
    assert table.loc["hug", "pooled"] == pytest.approx(h10)
    # handshake: 2 of 6 in sequence 5, 1 of 4 in sequence 10; 3 of 10 pooled
    seq5 = ad.chance_voc_ap([1, 0, 0, 1, 0, 0])
    assert table.loc["handshake", "mean over sequences"] == pytest.approx((seq5 + h4) / 2)
    assert table.loc["handshake", "pooled"] == pytest.approx(ad.chance_voc_ap([1] * 3 + [0] * 7))


def test_chance_ap_is_what_the_evaluator_gives_a_random_scorer() -> None:
    """Random scores on the ground-truth boxes, through vidad.eval.detection.evaluate."""
    keyframes, classes = _test_keyframes(), [1, 3]
    gt = pd.DataFrame(
        [(kf.video_id, kf.timestamp, *map(float, box), c, SEQUENCE[kf.video_id])
         for kf in keyframes for box, labels in zip(kf.boxes, kf.labels, strict=True)
         for c, on in zip(classes, labels, strict=True) if on],
        columns=[*GT_COLUMNS, "sequence"],
    )  # fmt: skip
    boxes = [(kf.video_id, kf.timestamp, *map(float, box)) for kf in keyframes for box in kf.boxes]
    rng, draws = np.random.default_rng(0), []
    for _ in range(150):
        det = pd.DataFrame(
            [(*b, c, rng.random()) for b in boxes for c in classes], columns=list(DET_COLUMNS)
        )
        ap = evaluate(gt, det, classes, group_by="sequence")
        draws.append(ap[ap["metric"] == "AP"].set_index(["group", "action_id"])["value"])
    mean = pd.concat(draws, axis=1).mean(axis=1)
    table = ad.chance_ap_table(keyframes, classes, {1: "handshake", 3: "hug"}, SEQUENCE)
    for c, name in zip(classes, ("handshake", "hug"), strict=True):
        assert mean[("mean", c)] == pytest.approx(table.loc[name, "mean over sequences"], abs=0.04)
        assert mean[("all", c)] == pytest.approx(table.loc[name, "pooled"], abs=0.04)


def test_chance_ap_on_the_result_its_table_sentence_and_figure() -> None:
    result = _result()
    chance = result.chance_ap
    assert chance.index.tolist() == ["handshake", "hug"]
    table = result.class_table
    assert table[("gt", ad.CHANCE)].to_dict() == chance["mean over sequences"].to_dict()
    assert ("gt", ad.CHANCE) not in ad.class_table(result.per_class).columns
    metrics = result.metrics()
    assert metrics["chance_ap"]["mean over sequences"] == pytest.approx(
        chance["mean over sequences"].to_dict()
    )
    assert f"gt/{ad.CHANCE}" not in metrics["per_class_ap"]
    text = ad.verdict_markdown(result)
    hs, hug = chance["mean over sequences"]
    assert f"A random scorer would reach AP handshake {hs:.3f}, hug {hug:.3f} on these" in text
    fig = ad.plot_per_class_ap(result)
    assert ad.CHANCE in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    plt.close(fig)


# --- a tiny run -----------------------------------------------------------------------------------


def test_tiny_run_end_to_end(tmp_path) -> None:
    paths = Paths("smoke", tmp_path)
    interact = InteractConfig(scale=0.004, train_sequences=2, test_sequences=2, height=48,
                              width=64, num_frames=24, fps=8.0, seed=1)  # fmt: skip
    generate_interact(paths.synth("synth-interact"), interact)
    config = _config(init="scratch", epochs=1, warmup_epochs=0, batch_size=4, example_keyframes=2)
    result = ad.run(config, paths)
    metrics = result.metrics()
    assert set(metrics["keyframes"]) == {"train", "val", "test"}
    assert len(result.runs) == 2 and {r.key for r in result.runs} == {"bce", "focal_bn"}
    assert set(result.results["boxes"]) == {"gt", "detector"}
    assert result.model.loc["input", "value"] == "8 fast / 2 slow frames, 32x32"
    assert len(result.example_probs) == 2
    for plot in (ad.plot_class_counts, ad.plot_sample_keyframes, ad.plot_training_curves,
                 ad.plot_per_class_ap, ad.plot_predictions):  # fmt: skip
        assert isinstance(plot(result), plt.Figure)
    plt.close("all")
    assert "keyframes; 2 runs" in ad.run_summary(result)
    sequences = result.data.manifest.query("split == 'test'")["sequence"].nunique()
    claims = metrics["claims"]
    assert [c["n_test"] for c in claims] == [sequences, sequences]
    assert [c["seeds"] for c in claims] == [len(config.seeds)] * 2
    assert all(set(c) >= CLAIM_KEYS for c in claims)
    assert set(metrics["chance_ap"]["pooled"]) <= set(result.data.label_names.values())
    assert all(0 < v <= 1 for v in metrics["chance_ap"]["pooled"].values())
    text = ad.verdict_markdown(result)
    assert all(c.sentence() in text for c in result.claims())
