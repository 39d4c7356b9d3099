"""Chapter 9's experiment (vidad.experiments.action_detection): config, tables, verdict, metrics."""

from __future__ import annotations

import dataclasses
import math
import typing

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from vidad.config import ConfigError, load_params, stage_params
from vidad.data.ava import Keyframe
from vidad.detection import published
from vidad.detection.splits import InteractSplits
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
    assert v.beyond_seed_spread and v.best == METHOD
    assert v.class_gains.index.tolist() == ["handshake", "hug"]
    np.testing.assert_allclose(v.class_gains.to_numpy(), [-0.1, 0.5])
    assert (v.detector_baseline, v.detector_method) == pytest.approx((0.1, 0.2))


def test_published_table() -> None:
    table = ad.published_table()
    assert table.index.tolist() == [*published.TEST_SEQUENCES, "mean"]
    assert table.loc["mean", "BCE (published)"] == published.MEAN_MAP["bce"]
    assert table.loc["mean", "focal BCE + BN (published)"] == published.MEAN_MAP["focal_bn"]


def _result(profile: str = "cpu", results: pd.DataFrame | None = None) -> ad.Result:
    sets = {"train": [0] * 7, "val": [0] * 3, "test": [0] * 4}
    data = InteractSplits(None, pd.DataFrame(), {1: "handshake", 3: "hug"}, {}, {}, {})
    return ad.Result(
        _config(seeds=[0, 1]), profile, data, pd.DataFrame(), pd.DataFrame(), sets,
        pd.DataFrame(), [], _results() if results is None else results, np.array([0]), [],
    )  # fmt: skip


def test_metrics_schema() -> None:
    metrics = _result().metrics()
    assert set(metrics) == {
        "summary", "per_class_ap", "per_sequence_map", "keyframes", "seeds", "verdict",
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


def test_verdict_markdown() -> None:
    text = ad.verdict_markdown(_result())
    assert "**0.700** against **0.300** for plain BCE (+0.400;" in text
    assert "The gain is larger than the spread between seeds (0.200), over 2 seed(s)." in text
    assert f"Best variant here: {METHOD}." in text
    assert "most for hug (+0.500) and least for handshake (-0.100)" in text
    assert "(BCE 0.100, the method 0.200)" in text
    assert "`smoke`" not in text
    # the method's seeds spread over 0.6 .. 1.4: a gain of 0.7 is within that
    within = _results()
    within.loc[(within["variant"] == "focal_bn") & (within["seed"] == 1), "value"] += 0.6
    text = ad.verdict_markdown(_result("smoke", within))
    assert "(+0.700;" in text
    assert "The difference is within the spread between seeds (0.800)" in text
    assert "On the `smoke` profile" in text


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
