"""Chapter 6's experiment: its settings, the Table-2 protocols, the per-class breakdown, the
localization aggregation, the verdict rules and the metrics schema, on hand-computed cases."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from vidad.anomaly import metrics, published
from vidad.anomaly.autoencoder import EmbeddingAutoencoder, ae_widths
from vidad.anomaly.detector import build_detector, score_video
from vidad.config import PROFILES, ConfigError, load_params
from vidad.experiments import embedding_anomaly as ea
from vidad.models import create_model
from vidad.synth.writer import write_mp4
from vidad.train.recognition import RecognitionSetup

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "params.yaml"


def smoke_values() -> dict:
    return dict(load_params(PARAMS)["embedding_anomaly"]["smoke"])


# --- Config --------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_of_params_yaml_builds(profile: str) -> None:
    config = ea.Config.load(profile, params_file=PARAMS)
    assert config.detector_backbone in config.backbones
    assert set(config.as_params()) == set(load_params(PARAMS)["embedding_anomaly"][profile])


def test_a_mistyped_or_unknown_key_is_one_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"ae_lr: expected float, got '1e-3'"):
        ea.Config.from_params({**smoke_values(), "ae_lr": "1e-3"})
    with pytest.raises(ConfigError, match="unknown keys \\['ae_stepsize'\\]"):
        ea.Config.from_params({**smoke_values(), "ae_stepsize": 3})
    values = smoke_values()
    del values["long_videos"]
    with pytest.raises(ConfigError, match="lacks keys \\['long_videos'\\]"):
        ea.Config.from_params(values)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"long_videos": 0}, "long_videos must be >= 1, got 0"),
        ({"bootstrap": 0}, "bootstrap must be >= 1"),
        ({"backbones": []}, "at least one backbone"),
        ({"backbones": ["r2plus1d_18", "c3d"]}, "unknown backbones \\['c3d'\\]"),
        ({"backbones": ["timesformer", "timesformer"]}, "distinct"),
        ({"detector_backbone": "slowfast_r50", "backbones": ["timesformer"]}, "not among"),
        ({"ae_batch": {"r2plus1d_18": 8, "timesformer": 8}}, "lacks a batch size"),
        ({"ae_batch": {"r2plus1d_18": 8, "slowfast_r50": 1, "timesformer": 8}}, ">= 2"),
        ({"ae_lr": 0.0}, "ae_lr must be > 0"),
        ({"ae_gamma": 1.5}, "ae_gamma must be in"),
        ({"ae_dropout": 1.0}, "ae_dropout must be in"),
        ({"threshold_percentile": 120.0}, "threshold_percentile must be in"),
        ({"pixel_side": 20}, "multiple of 16"),
        ({"long_video_classes": []}, "at least one class"),
        ({"long_video_classes": ["Run-Side", "Juggling"]}, "unknown classes \\['Juggling'\\]"),
    ],
)
def test_cross_field_checks(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ea.Config.from_params({**smoke_values(), **change})


def test_ae_settings_map_the_params_once_and_v2_differs_only_in_epochs() -> None:
    config = ea.Config.from_params(
        {**smoke_values(), "ae_epochs": 7, "v2_epochs": 5, "v2_unfreeze_epoch": 3}
    )
    v1 = config.ae_settings("slowfast_r50")
    v2 = config.ae_settings("slowfast_r50", "v2")
    assert (v1.epochs, v1.batch_size, v1.lr, v1.step_size, v1.gamma, v1.dropout) == (
        7,
        2,
        config.ae_lr,
        config.ae_step,
        config.ae_gamma,
        config.ae_dropout,
    )
    assert dataclasses.replace(v1, epochs=5) == v2
    train = v2.train_config(unfreeze_last_n=4)
    assert (train.unfreeze_at_epoch, train.unfreeze_lr, train.unfreeze_module) == (
        3,
        config.v2_lr,
        "backbone",
    )
    assert v1.train_config().unfreeze_at_epoch is None
    with pytest.raises(ValueError, match="version"):
        config.ae_settings("slowfast_r50", "v3")
    assert config.pixel_settings().side == config.pixel_side
    assert config.shown_backbone == "timesformer"
    no_tsf = ea.Config.from_params({**smoke_values(), "backbones": ["slowfast_r50", "r2plus1d_18"]})
    assert no_tsf.shown_backbone == "slowfast_r50"
    assert config.threshold_rule == "95th percentile of validation-normal errors"


# --- split scores and Table 2 --------------------------------------------------------------------

SPLITS5 = np.array(
    ["train", "val", "val", "val", "val", "val", "test", "test", "anomaly", "anomaly"]
)


def test_split_scores_by_hand() -> None:
    values = np.arange(10.0)
    got = ea.split_scores(SPLITS5, values)
    assert list(got) == ["train", "val", "test", "anomaly"]
    np.testing.assert_array_equal(got["val"], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(got["anomaly"], [8, 9])
    with pytest.raises(KeyError, match="anomaly"):
        ea.split_scores(SPLITS5[:8], values[:8])
    with pytest.raises(ValueError, match="9 scores for 10 clips"):
        ea.split_scores(SPLITS5, values[:9])


def test_table2_protocols_by_hand() -> None:
    # train 1; val 1 2 10 11 12; test 1 2; anomalies 4 5
    values = np.array([1.0, 1, 2, 10, 11, 12, 1, 2, 4, 5])
    result = metrics.table2(ea.split_scores(SPLITS5, values), percentile=50.0)
    # (a): candidates -> 0, 1.5, 3, 4.5, 6 between test/anomaly scores; 3 separates them
    assert result["optimistic"] == {
        "threshold": 3.0,
        "train": 1.0,
        "val": 0.4,
        "test": 1.0,
        "anomaly": 1.0,
    }
    # (b): the median of the validation normals alone, 10: no anomaly is flagged
    assert result["validation"] == {
        "threshold": 10.0,
        "train": 1.0,
        "val": 0.6,
        "test": 1.0,
        "anomaly": 0.0,
    }
    table = ea.table2_frame({("r2plus1d_18", "v1"): result})
    assert list(table["protocol"]) == [
        "(a) optimistic",
        "(b) validation",
        "(a) optimistic",
        "(a) optimistic",
    ]
    assert list(table["backbone"])[2:] == [ea.PUBLISHED_BACKBONE] * 2
    assert table.iloc[2]["threshold"] == published.TABLE2["v1"]["threshold"]
    wide = ea.table2_wide(table)
    assert wide.loc[("r2plus1d_18", "v1"), ("(b) validation", "threshold")] == 10.0
    assert wide.loc[(ea.PUBLISHED_BACKBONE, "v2"), ("(b) validation", "anomaly")] == "-"


def _table2_row(anomaly_a: float, anomaly_b: float, test_b: float) -> dict:
    return {
        "optimistic": {
            "threshold": 1.0,
            "train": 1.0,
            "val": 1.0,
            "test": 1.0,
            "anomaly": anomaly_a,
        },
        "validation": {
            "threshold": 2.0,
            "train": 1.0,
            "val": 1.0,
            "test": test_b,
            "anomaly": anomaly_b,
        },
    }


def test_protocol_gap_averages_our_rows_only() -> None:
    table = ea.table2_frame(
        {
            ("r2plus1d_18", "v1"): _table2_row(1.0, 0.0, 0.9),
            ("timesformer", "v1"): _table2_row(0.5, 0.5, 0.7),
        }
    )
    gap = ea.protocol_gap(table)  # the published rows (anomaly 0.9) are left out
    assert gap.flagged_optimistic == pytest.approx(0.75)
    assert gap.flagged_validation == pytest.approx(0.25)
    assert gap.gap == pytest.approx(0.5)
    assert gap.test_flagged_validation == pytest.approx(0.2)


# --- per-class breakdown, missed clips, windows, localization -------------------------------------

PC_SPLITS = np.array(["train", "val", "val", "test", "test", "anomaly", "anomaly", "anomaly"])
PC_CLASSES = np.array(
    [
        "Run-Side",
        "Run-Side",
        "Golf-Swing",
        "Run-Side",
        "Golf-Swing",
        "Walk-Front",
        "Walk-Front",
        "Lifting",
    ]
)
PC_ERRORS = np.array([0.0, 1.0, 3.0, 1.0, 2.0, 3.0, 1.5, 0.5])


def test_per_class_breakdown_by_hand() -> None:
    table = ea.per_class_table(
        {("timesformer", "v1"): PC_ERRORS},
        {"timesformer": PC_SPLITS},
        {"timesformer": PC_CLASSES},
        percentile=50.0,
    )
    # threshold = median of val (1, 3) = 2; SkateBoarding-Front has no clip and no row
    assert list(table["class"]) == ["Walk-Front", "Lifting"]
    walk, lifting = table.iloc[0], table.iloc[1]
    assert walk["clips"] == 2 and walk["flagged (b)"] == 0.5  # 3 > 2, 1.5 is not
    # Walk-Front (3, 1.5) vs test normals (1, 2): 3 beats both, 1.5 beats 1 -> 3 of 4 pairs
    assert walk["AUROC vs test normals"] == 0.75
    assert lifting["flagged (b)"] == 0.0 and lifting["AUROC vs test normals"] == 0.0


def test_missed_rows_are_the_lowest_anomalies_at_or_below_the_threshold() -> None:
    splits = np.array(["test", "anomaly", "anomaly", "anomaly", "anomaly", "anomaly"])
    errors = np.array([0.1, 5.0, 2.0, 1.0, 2.0, 0.5])
    assert ea.missed_rows(errors, splits, threshold=2.0) == [5, 3, 2]
    assert ea.missed_rows(errors, splits, threshold=2.0, limit=5) == [5, 3, 2, 4]
    assert ea.missed_rows(errors, splits, threshold=0.1) == []


def test_window_is_the_median_training_clip() -> None:
    manifest = pd.DataFrame(
        {"split": ["train", "train", "train", "test"], "num_frames": [20, 31, 24, 100]}
    )
    assert ea.window_length(manifest) == 24


def test_localization_is_the_mean_and_population_spread_over_videos() -> None:
    per_video = pd.DataFrame(
        {
            "backbone": ["timesformer", "timesformer", "r2plus1d_18", "r2plus1d_18"],
            "video": [0, 1, 0, 1],
            "frame AUROC": [0.5, 0.5, 0.6, 0.8],
            "window AUROC": [np.nan, 0.4, 1.0, 0.0],
        }
    )
    mean, std = ea.aggregate_localization(per_video)
    assert list(mean.index) == ["timesformer", "r2plus1d_18"]  # first-seen order
    assert list(mean.columns) == ["frame AUROC", "window AUROC"]
    assert mean.loc["r2plus1d_18", "frame AUROC"] == pytest.approx(0.7)
    assert std.loc["r2plus1d_18", "frame AUROC"] == pytest.approx(0.1)  # ddof 0, not 0.141
    assert std.loc["timesformer", "frame AUROC"] == 0.0
    assert mean.loc["timesformer", "window AUROC"] == 0.4  # an undefined AUROC is skipped
    assert mean.loc["r2plus1d_18", "window AUROC"] == 0.5
    assert std.loc["r2plus1d_18", "window AUROC"] == 0.5


# --- verdict rules --------------------------------------------------------------------------------


def test_interval_overlap_counts_a_shared_end() -> None:
    assert ea.intervals_overlap((0.4, 0.6), (0.6, 0.9))
    assert ea.intervals_overlap((0.5, 0.9), (0.6, 0.7))  # one inside the other
    assert not ea.intervals_overlap((0.4, 0.59), (0.6, 0.9))
    assert not ea.intervals_overlap((0.7, 0.8), (0.2, 0.3))


def _separation(rows: list[tuple[str, str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "backbone": b,
                "method": m,
                "AUROC": v,
                "AUROC 95% CI": f"[{lo:.3f}, {hi:.3f}]",
                "auroc_low": lo,
                "auroc_high": hi,
            }
            for b, m, v, lo, hi in rows
        ]
    )


def test_backbone_verdict_rules() -> None:
    base = [
        ("timesformer", ea.AE_V1, 0.70, 0.60, 0.80),
        ("timesformer", ea.AE_V2, 0.90, 0.85, 0.95),
    ]
    overlap = ea.backbone_verdict(
        _separation(
            base
            + [
                ("timesformer", "k-NN distance", 0.75, 0.65, 0.85),
                ("timesformer", ea.CENTROID, 0.60, 0.40, 0.70),
            ]
        ),
        "timesformer",
    )
    # the rival is the best method other than both autoencoders; v2 is best overall
    assert (overlap.rival, overlap.best, overlap.overlap) == ("k-NN distance", ea.AE_V2, True)
    assert overlap.above_chance and overlap.comparison.startswith("its interval overlaps")
    beats = ea.backbone_verdict(
        _separation(base + [("timesformer", ea.CENTROID, 0.95, 0.81, 0.99)]), "timesformer"
    )
    assert not beats.overlap and beats.comparison == "it beats the autoencoder"
    assert beats.best == ea.CENTROID
    loses = ea.backbone_verdict(
        _separation(base + [("timesformer", ea.CENTROID, 0.40, 0.30, 0.59)]), "timesformer"
    )
    assert loses.comparison == "the autoencoder beats it"
    at_chance = ea.backbone_verdict(
        _separation(
            [("timesformer", ea.AE_V1, 0.6, 0.5, 0.7)]
            + base[1:]
            + [("timesformer", ea.CENTROID, 0.4, 0.3, 0.45)]
        ),
        "timesformer",
    )
    assert not at_chance.above_chance  # the low end must be *above* 0.5


def test_pixel_verdict_needs_the_best_embedding_above_the_whole_pixel_interval() -> None:
    rows = [("timesformer", ea.AE_V1, 0.70, 0.6, 0.8), (ea.PIXELS, ea.PIXEL_METHOD, 0.6, 0.5, 0.69)]
    pixel, best, helps = ea.pixel_verdict(_separation(rows))
    assert pixel["AUROC"] == 0.6 and best == 0.70 and helps
    rows[1] = (ea.PIXELS, ea.PIXEL_METHOD, 0.6, 0.5, 0.70)
    assert not ea.pixel_verdict(_separation(rows))[2]


def test_shrinking_means_more_than_ten_percent() -> None:
    autoencoders = pd.DataFrame(
        {
            "backbone": ["a", "a", "b", "b", "c", "c"],
            "config": ["v1", "v2"] * 3,
            "mean embedding norm": [10.0, 8.0, 10.0, 9.5, 4.0, 5.0],
        }
    ).set_index(["backbone", "config"])
    change = ea.embedding_norm_change(autoencoders)
    assert list(change.index) == ["a", "b", "c"]
    np.testing.assert_allclose(change, [-0.2, -0.05, 0.25])
    assert ea.shrunk_backbone(change) == "a"
    assert ea.shrunk_backbone(change.drop("a")) is None
    assert ea.shrunk_backbone(pd.Series({"a": -0.10})) is None  # exactly 10% is not "more"


def test_cli_scores_must_equal_the_library_scores() -> None:
    library = pd.DataFrame({"score": [1.0, 2.0, 3.0]})
    ea.check_cli_scores(pd.DataFrame({"score": [1.00001, 2.0, 3.0]}), library)  # CSV rounding
    with pytest.raises(RuntimeError, match="other scores"):
        ea.check_cli_scores(pd.DataFrame({"score": [1.0, 2.1, 3.0]}), library)


# --- a small hand-made Result: the metrics schema, the sentences and the figures -----------------


def small_result() -> ea.Result:
    config = ea.Config.from_params(
        {**smoke_values(), "backbones": ["r2plus1d_18", "timesformer"], "long_videos": 2}
    )
    rng = np.random.default_rng(0)
    splits = np.repeat(["train", "val", "test", "anomaly"], [6, 6, 6, 6])
    classes = np.array(["Run-Side"] * 18 + ["Walk-Front", "Lifting", "SkateBoarding-Front"] * 2)
    shift = (splits == "anomaly") * 1.0
    scores, splits_of = {}, {}
    for name in config.backbones:
        splits_of[name] = splits
        for method in (ea.AE_V1, ea.AE_V2, ea.CENTROID, "k-NN distance"):
            scores[name, method] = rng.normal(size=len(splits)) + shift
    splits_of[ea.PIXELS] = splits
    scores[ea.PIXELS, ea.PIXEL_METHOD] = rng.normal(size=len(splits))
    runs = {
        (n, c): scores[n, ea.AE_V1 if c == "v1" else ea.AE_V2]
        for n in config.backbones
        for c in ("v1", "v2")
    }
    backbones = pd.DataFrame(
        {
            "backbone": config.backbones,
            "embedding size": [64, 192],
            "parameters (M)": [0.2, 2.5],
            "pretraining classes": [25, 25],
            "pretraining val accuracy": [0.08, 0.04],
            "pretraining test accuracy": [0.04, 0.12],
        }
    ).set_index("backbone")
    autoencoders = pd.DataFrame(
        {
            "backbone": np.repeat(config.backbones, 2),
            "config": ["v1", "v2"] * 2,
            "mean embedding norm": [10.0, 8.0, 5.0, 5.1],
        }
    ).set_index(["backbone", "config"])
    history = pd.DataFrame(
        [
            {"backbone": n, "config": c, "epoch": e, "split": s, "loss": 1.0 / e + (s == "val")}
            for n in config.backbones
            for c in ("v1", "v2")
            for e in (1, 2)
            for s in ("train", "val")
        ]
    )
    errors = pd.DataFrame(
        [
            {"backbone": n, "config": c, "split": s, "error": float(e) + 2.0}
            for (n, c), values in runs.items()
            for s, e in zip(splits, values, strict=True)
        ]
    )
    segments = [
        pd.DataFrame({"start_frame": [0, 10], "end_frame": [10, 20], "anomalous": [False, True]}),
        pd.DataFrame({"start_frame": [0, 12], "end_frame": [12, 25], "anomalous": [True, False]}),
    ]
    windows = pd.DataFrame(
        {
            "start_frame": [0, 5, 10],
            "end_frame": [10, 15, 20],
            "score": [1.0, 2.0, 3.0],
            "flagged": [False, True, True],
        }
    )
    per_video = pd.DataFrame(
        [
            {
                "backbone": n,
                "video": v,
                "frame AUROC": 0.5 + 0.1 * v,
                "window AUROC": 0.5,
                "anomalous frames flagged": 1.0,
                "normal frames flagged": 0.25,
            }
            for n in config.backbones
            for v in (0, 1)
        ]
    )
    missed = ea.MissedAnomalies(
        backbone="timesformer",
        threshold=1.5,
        flagged=2,
        total=6,
        rows=[18],
        images=[np.zeros((8, 8, 3), np.uint8)] * config.example_frames,
        titles=["Walk-Front, error 0.1"] + [""] * (config.example_frames - 1),
    )
    return ea.Result(
        config=config,
        profile="smoke",
        backbones=backbones,
        split_counts=ea.split_count_table(splits),
        embed_dims={"r2plus1d_18": 64, "timesformer": 192},
        autoencoders=autoencoders,
        history=history,
        errors=errors,
        table2_results={
            k: metrics.table2(ea.split_scores(splits, v), 95.0) for k, v in runs.items()
        },
        method_scores=scores,
        splits_of=splits_of,
        estimates=ea.separation_estimates(scores, splits_of, 20, 0),
        per_class=ea.per_class_table(
            runs, splits_of, dict.fromkeys(config.backbones, classes), 95.0
        ),
        missed=missed,
        window_frames=10,
        thresholds={"r2plus1d_18": 1.5, "timesformer": 2.5},
        segments=segments,
        cli=ea.CliRun([".venv/bin/python", "-m", "vidad", "score", "v.mp4"], "ok\n", windows),
        localization_per_video=per_video,
        timelines=dict.fromkeys(config.backbones, windows),
        fps=8.0,
    )


def _shape(value: object, depth: int) -> object:
    """Keys down to ``depth`` levels, with lists and scalars reduced to their type."""
    if isinstance(value, dict) and depth:
        return {k: _shape(v, depth - 1) for k, v in value.items()}
    return type(value).__name__ if not isinstance(value, int | float) else "number"


def test_metrics_schema_is_the_chapters_json() -> None:
    result = small_result()
    got = result.metrics()
    text = json.dumps(got, sort_keys=True)  # serializable without a default
    assert "NaN" not in text
    committed = json.loads((REPO / "results" / "cpu" / "06_embedding_anomaly.json").read_text())
    assert (
        sorted(got)
        == sorted(committed)
        == [
            "anomaly_share",
            "backbones",
            "best",
            "bootstrap_resamples",
            "localization",
            "localization_std",
            "long_video",
            "optimism_gap_anomaly",
            "per_class",
            "separation",
            "table2",
            "threshold_percentile",
        ]
    )
    # same nesting and leaf keys as the committed file, for a backbone both have
    for key in ("backbones", "localization", "localization_std"):
        assert _shape(got[key]["timesformer"], 3) == _shape(committed[key]["timesformer"], 3)
    assert _shape(got["separation"]["timesformer"][ea.AE_V1], 3) == _shape(
        committed["separation"]["timesformer"][ea.AE_V1], 3
    )
    assert sorted(got["table2"]) == [
        "r2plus1d_18/v1",
        "r2plus1d_18/v2",
        "timesformer/v1",
        "timesformer/v2",
    ]
    assert _shape(got["table2"]["timesformer/v1"], 3) == _shape(
        committed["table2"]["timesformer/v1"], 3
    )
    assert set(got["per_class"]["timesformer/v2/Lifting"]) == {"flagged_b", "auroc"}
    assert len(got["per_class"]) == 2 * 2 * 3
    assert set(got["separation"]) == {"r2plus1d_18", "timesformer", ea.PIXELS}
    assert got["long_video"] == {"videos": 2, "frames": [20, 25], "window_frames": 10}
    assert isinstance(got["long_video"]["frames"][0], int)
    assert got["anomaly_share"] == 0.5  # 6 anomalies, 6 test normals
    assert got["bootstrap_resamples"] == result.config.bootstrap
    assert got["localization"]["timesformer"]["frame AUROC"] == pytest.approx(0.55)
    assert got["localization_std"]["timesformer"]["frame AUROC"] == pytest.approx(0.05)
    best = result.separation.loc[result.separation["AUROC"].idxmax()]
    assert got["best"] == {
        "backbone": best["backbone"],
        "method": best["method"],
        "auroc": best["AUROC"],
    }
    assert got["optimism_gap_anomaly"] == pytest.approx(result.protocol_gap.gap)


def test_sentences_state_the_facts() -> None:
    result = small_result()
    assert "Chance level of the pretraining task is 0.040" in ea.backbones_markdown(result)
    assert "(timesformer)" in ea.backbones_markdown(result)
    assert "24 clips per backbone: r2plus1d_18 64-d, timesformer 192-d" in ea.embeddings_markdown(
        result
    )
    norm = ea.embedding_norm_markdown(result)
    assert "r2plus1d_18 -20.0%, timesformer +2.0%" in norm and "**r2plus1d_18**" in norm
    assert "2 of 6 anomaly clips flagged at threshold 1.5; the lowest" in ea.missed_markdown(result)
    assert "5% the validation percentile aims at" in ea.protocol_markdown(result)
    loc = ea.localization_markdown(result)
    assert "over 2 long video(s) of 2 segments" in loc and "0.550 (+/- 0.050)" in loc
    verdict = ea.verdict_markdown(result)
    assert verdict.count("- **") == 3  # two backbones and the pixel baseline
    assert "With 6 test normals and 6 anomalies" in verdict
    assert "`smoke` profile" in verdict
    assert "`smoke`" not in ea.verdict_markdown(dataclasses.replace(result, profile="cpu"))
    shown = ea.localization_display(result)
    assert shown.loc["timesformer", "frame AUROC"] == "0.55 +/- 0.05"
    assert ea.separation_display(result).index.names == ["backbone", "method"]
    assert ea.per_class_display(result).shape == (3, 2 * 2 * 2)
    assert result.cli.prompt == "$ python -m vidad score v.mp4"


def test_every_figure_draws() -> None:
    result = small_result()
    figures = [
        ea.plot_loss_curves(result),
        ea.plot_error_boxplots(result),
        ea.plot_roc_curves(result),
        ea.plot_auroc_intervals(result),
        ea.plot_missed_anomalies(result),
        *(ea.plot_timeline(result, name) for name in result.config.backbones),
    ]
    assert all(isinstance(fig, plt.Figure) for fig in figures)
    assert len(figures[3].axes[0].get_yticklabels()) == len(result.separation)
    plt.close("all")
    none_missed = dataclasses.replace(result.missed, rows=[], images=[], titles=[])
    with pytest.raises(ValueError, match="missed no anomaly"):
        ea.plot_missed_anomalies(dataclasses.replace(result, missed=none_missed))


# --- the score command as the chapter runs it -----------------------------------------------------


def test_score_cli_writes_the_library_scores(tmp_path: Path) -> None:
    setup = RecognitionSetup(
        classes="all", num_frames=8, crop_size=16, cache_size=20, motion=False, size="tiny",
        epochs=1, batch_size=2, lr=1e-3, weight_decay=0.0, warmup_epochs=0, seed=0,
    )  # fmt: skip
    torch.manual_seed(0)
    backbone = create_model("r2plus1d_18", size="tiny", num_classes=3, num_frames=8, crop_size=16)
    meta = {
        "model": "r2plus1d_18",
        "size": "tiny",
        "options": {},
        "classes": ["a", "b", "c"],
        "setup": dataclasses.asdict(setup),
    }
    autoencoder = EmbeddingAutoencoder(backbone.embed_dim, ae_widths(backbone.embed_dim))
    detector = build_detector(backbone, meta, autoencoder, threshold=1.0, window_frames=12)
    checkpoint = detector.save(tmp_path / "det.pt")
    video = tmp_path / "clip.mp4"
    write_mp4(np.random.default_rng(1).integers(0, 255, (30, 32, 48, 3), np.uint8), video, 10.0)
    cli = ea.run_score_cli(video, checkpoint, tmp_path / "out", stride=4)
    assert cli.prompt.startswith(f"$ python -m vidad score {video} --detector {checkpoint}")
    assert "6 windows of 12 frames" in cli.output
    windows, _, _ = score_video(detector, video, 4)
    ea.check_cli_scores(cli.windows, windows)


def test_a_failing_score_command_stops_the_chapter_with_its_output(monkeypatch) -> None:
    def failing(command, **kwargs):
        return subprocess.CompletedProcess(command, 2, "", "error: v.mp4: no such video\n")

    monkeypatch.setattr(ea.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="failed with status 2:\nerror: v.mp4: no such video"):
        ea.run_score_cli(Path("v.mp4"), Path("det.pt"), Path("out"), stride=4)
