"""Chapter 6's experiment: its settings, the Table-2 protocols and their operating points, the
per-class breakdown, the localization aggregation, the paired comparisons and the seed study's
claims, the verdict rules and the metrics schema, on hand-computed cases."""

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
from vidad.anomaly.detector import ScoredVideo, build_detector, score_video
from vidad.config import PROFILES, ConfigError, load_params
from vidad.experiments import anomaly_conditions as ac
from vidad.experiments import embedding_anomaly as ea
from vidad.models import create_model
from vidad.stats import Verdict
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
        ({"long_video_segments": 0}, "long_video_segments must be >= 1"),
        ({"calibration_videos": 0}, "calibration_videos must be >= 1"),
        ({"target_false_alarm": 0.0}, "target_false_alarm must be in \\(0, 1\\)"),
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
        "false_alarm_rate": 0.0,
        "balanced_accuracy": 1.0,
    }
    # (b): the median of the validation normals alone, 10: no anomaly is flagged
    assert result["validation"] == {
        "threshold": 10.0,
        "train": 1.0,
        "val": 0.6,
        "test": 1.0,
        "anomaly": 0.0,
        "false_alarm_rate": 0.0,
        "balanced_accuracy": 0.5,
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
    # the published rows' operating point, from their own test (0.87) and anomaly (0.90) rows
    assert table.iloc[2]["balanced_accuracy"] == pytest.approx((0.87 + 0.90) / 2)
    assert table.iloc[2]["false_alarm_rate"] == pytest.approx(0.13)
    wide = ea.table2_wide(table)
    assert wide.loc[("r2plus1d_18", "v1"), ("(b) validation", "threshold")] == 10.0
    assert wide.loc[(ea.PUBLISHED_BACKBONE, "v2"), ("(b) validation", "anomaly")] == "-"
    assert wide.loc[("r2plus1d_18", "v1"), ("(b) validation", "balanced accuracy")] == 0.5
    assert wide.loc[("r2plus1d_18", "v1"), ("(a) optimistic", "false alarms (test)")] == 0.0
    assert wide.loc[(ea.PUBLISHED_BACKBONE, "v1"), ("(a) optimistic", "balanced accuracy")] == (
        round((0.87 + 0.90) / 2, 3)
    )
    assert list(wide.columns.get_level_values(1)[:7]) == [
        "threshold", "train", "val", "test", "anomaly", "false alarms (test)", "balanced accuracy",
    ]  # fmt: skip


#: train 0; val 1 2 3 4; test normals 1 2 3 5; anomalies 2 4 6 7
OP_SPLITS = np.repeat(["train", "val", "test", "anomaly"], [1, 4, 4, 4])
OP_VALUES = np.array([0.0, 1, 2, 3, 4, 1, 2, 3, 5, 2, 4, 6, 7])


def test_table2_false_alarm_rate_and_balanced_accuracy_by_hand() -> None:
    result = metrics.table2(ea.split_scores(OP_SPLITS, OP_VALUES), percentile=50.0)
    # (a): mean of (test accuracy, hit rate) over the candidate thresholds: 0 -> 0.5,
    # 1.5 -> (0.25 + 1)/2, 2.5 -> (0.5 + 0.75)/2, 3.5 -> (0.75 + 0.75)/2 = 0.75, 4.5 -> 0.625,
    # 5.5 -> (1 + 0.5)/2 = 0.75 (a tie: the lowest wins), 6.5 -> 0.625, 8 -> 0.5
    a = result["optimistic"]
    assert a["threshold"] == 3.5
    assert (a["test"], a["anomaly"]) == (0.75, 0.75)  # 5 flagged of the normals; 4, 6, 7
    assert a["false_alarm_rate"] == 0.25
    assert a["balanced_accuracy"] == 0.75
    # (b): the validation median 2.5 flags normals 3 and 5 and anomalies 4, 6 and 7
    b = result["validation"]
    assert b["threshold"] == 2.5
    assert (b["test"], b["anomaly"]) == (0.5, 0.75)
    assert b["false_alarm_rate"] == 0.5
    assert b["balanced_accuracy"] == 0.625
    # the same hit rate, twice the false alarms: the gap is in balanced accuracy, not in hits
    gap = ea.protocol_gap(ea.table2_frame({("timesformer", "v1"): result}))
    assert gap.gap == 0.0
    assert gap.balanced_gap == pytest.approx(0.125)
    assert (gap.test_flagged_optimistic, gap.test_flagged_validation) == (0.25, 0.5)
    assert metrics.operating_point({"test": 0.0, "anomaly": 1.0}) == {
        "false_alarm_rate": 1.0,
        "balanced_accuracy": 0.5,
    }  # flagging every clip hits every anomaly and is worth chance


def _table2_row(anomaly_a: float, anomaly_b: float, test_b: float, test_a: float = 1.0) -> dict:
    return {
        "optimistic": {
            "threshold": 1.0,
            "train": 1.0,
            "val": 1.0,
            "test": test_a,
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
    assert gap.test_flagged_optimistic == 0.0


def test_optimism_gap_in_balanced_accuracy_by_hand() -> None:
    table = ea.table2_frame(
        {
            ("r2plus1d_18", "v1"): _table2_row(1.0, 0.0, 0.9, test_a=0.4),
            ("timesformer", "v1"): _table2_row(0.5, 0.5, 0.7, test_a=0.6),
        }
    )
    gap = ea.protocol_gap(table)
    # (a): balanced accuracies (0.4 + 1)/2 = 0.7 and (0.6 + 0.5)/2 = 0.55 -> 0.625;
    # (b): (0.9 + 0)/2 = 0.45 and (0.7 + 0.5)/2 = 0.6 -> 0.525; the published rows left out
    assert gap.balanced_optimistic == pytest.approx(0.625)
    assert gap.balanced_validation == pytest.approx(0.525)
    assert gap.balanced_gap == pytest.approx(0.1)
    assert gap.gap == pytest.approx(0.5)  # what the anomaly hit rate alone would say
    assert gap.test_flagged_optimistic == pytest.approx(0.5)  # (0.6 + 0.4) / 2
    assert gap.test_flagged_validation == pytest.approx(0.2)
    means = gap.as_dict()
    assert means["optimistic"] == pytest.approx(
        {"anomaly_hit_rate": 0.75, "false_alarm_rate": 0.5, "balanced_accuracy": 0.625}
    )
    assert means["validation"] == pytest.approx(
        {"anomaly_hit_rate": 0.25, "false_alarm_rate": 0.2, "balanced_accuracy": 0.525}
    )


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


# --- verdict rules --------------------------------------------------------------------------------


#: Paired cases: one train row (left out of every comparison), 4 test normals, 4 anomalies.
PAIR_SPLITS = np.repeat(["train", "test", "anomaly"], [1, 4, 4])
PAIR_CLIPS = np.array([f"clip{i}.mp4" for i in range(len(PAIR_SPLITS))])
PERFECT = np.array([9.0, 0, 1, 2, 3, 4, 5, 6, 7])  # AUROC 1
INVERTED = np.array([9.0, 4, 5, 6, 7, 0, 1, 2, 3])  # AUROC 0
ONE_MISSED = np.array([9.0, 0, 1, 2, 3, -1, 5, 6, 7])  # one anomaly below all normals: 0.75


def _paired(scores: dict, n_boot: int = 400) -> ea.PairedScores:
    names = {name for name, _ in scores}
    return ea.PairedScores(
        scores,
        dict.fromkeys(names, PAIR_SPLITS),
        dict.fromkeys(names, PAIR_CLIPS),
        n_boot=n_boot,
        seed=0,
    )


def test_paired_test_scores_align_by_clip_and_keep_test_rows_only() -> None:
    order = np.array([8, 3, 0, 5, 1, 7, 2, 6, 4])  # the second method's rows, shuffled
    a = (PERFECT, PAIR_SPLITS, PAIR_CLIPS)
    b = (INVERTED[order], PAIR_SPLITS[order], PAIR_CLIPS[order])
    labels, got_a, got_b = ea.paired_test_scores(a, b)
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1, 1, 1, 1])  # the train row is gone
    np.testing.assert_array_equal(got_a, PERFECT[1:])
    np.testing.assert_array_equal(got_b, INVERTED[1:])  # back in a's clip order
    with pytest.raises(ValueError, match="not scored on the same test clips"):
        renamed = PAIR_CLIPS.copy()
        renamed[4] = "other.mp4"
        ea.paired_test_scores(a, (INVERTED, PAIR_SPLITS, renamed))
    with pytest.raises(ValueError, match="two rows"):
        twice = PAIR_CLIPS.copy()
        twice[2] = twice[1]
        ea.paired_test_scores(a, (INVERTED, PAIR_SPLITS, twice))
    with pytest.raises(ValueError, match="an anomaly for one method"):
        swapped = PAIR_SPLITS.copy()
        swapped[[4, 5]] = ["anomaly", "test"]
        ea.paired_test_scores(a, (INVERTED, swapped, PAIR_CLIPS))
    with pytest.raises(ValueError, match="9 scores, 8 splits"):
        ea.paired_test_scores(a, (INVERTED, PAIR_SPLITS[:8], PAIR_CLIPS))


def test_paired_auroc_difference_by_hand() -> None:
    paired = _paired({("x", "a"): PERFECT, ("x", "b"): INVERTED, ("x", "c"): ONE_MISSED})
    assert paired.auroc(("x", "a")) == 1.0 and paired.auroc(("x", "c")) == 0.75
    ci, n = paired.auroc_difference(("x", "a"), ("x", "b"))
    assert n == 8  # test normals and anomalies
    # stratified: every resample keeps 4 normals and 4 anomalies, so a and b stay 1 and 0
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)
    ci, _ = paired.auroc_difference(("x", "a"), ("x", "c"))
    # the difference is (copies of the missed anomaly) / 4; it is drawn no time with
    # probability (3/4)^4 = 0.32, so the interval's low end is exactly 0
    assert ci.estimate == 0.25 and ci.low == 0.0 and 0.25 < ci.high <= 1.0


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


def _separation_of(paired: ea.PairedScores) -> pd.DataFrame:
    return _separation([(n, m, paired.auroc((n, m)), 0.0, 1.0) for n, m in paired.scores])


def test_backbone_verdict_rules() -> None:
    tsf = "timesformer"
    scores = {(tsf, ea.AE_V1): PERFECT, (tsf, ea.AE_V2): ONE_MISSED}
    beats = _paired({**scores, (tsf, ea.CENTROID): INVERTED, (tsf, "k-NN distance"): INVERTED})
    v = ea.backbone_verdict(_separation_of(beats), tsf, beats)
    # the rival is the best method other than both autoencoders (a tie: the first)
    assert (v.rival, v.rival_auroc, v.ae_auroc, v.v2_auroc) == (ea.CENTROID, 0.0, 1.0, 0.75)
    assert (v.difference.estimate, v.difference.low, v.difference.high) == (1.0, 1.0, 1.0)
    assert v.comparison.startswith("the autoencoder beats it")
    assert "paired 95% CI [+1.000, +1.000]" in v.comparison
    assert v.best == ea.AE_V1 and v.above_chance is False  # the made-up interval starts at 0
    tie = _paired({**scores, (tsf, ea.CENTROID): ONE_MISSED})
    v = ea.backbone_verdict(_separation_of(tie), tsf, tie)
    assert v.difference.low == 0.0 and v.comparison.startswith("the data cannot tell")
    loses = _paired(
        {(tsf, ea.AE_V1): INVERTED, (tsf, ea.AE_V2): INVERTED, (tsf, ea.CENTROID): PERFECT}
    )
    v = ea.backbone_verdict(_separation_of(loses), tsf, loses)
    assert v.comparison.startswith("it beats the autoencoder") and v.best == ea.CENTROID
    chance = _separation(
        [
            (tsf, ea.AE_V1, 0.6, 0.5, 0.7),
            (tsf, ea.AE_V2, 0.6, 0.5, 0.7),
            (tsf, ea.CENTROID, 1, 1, 1),
        ]
    )
    assert not ea.backbone_verdict(chance, tsf, tie).above_chance  # low end must be *above* 0.5
    above = chance.assign(auroc_low=0.51)
    assert ea.backbone_verdict(above, tsf, tie).above_chance


def test_pixel_facts_are_the_pixel_row_the_best_frozen_ae_and_the_best_detector() -> None:
    rows = [
        ("r2plus1d_18", ea.AE_V1, 0.70, 0.6, 0.8),
        ("timesformer", ea.AE_V1, 0.65, 0.6, 0.8),
        ("timesformer", "k-NN distance", 0.75, 0.6, 0.8),
        (ea.PIXELS, ea.PIXEL_METHOD, 0.6, 0.5, 0.69),
    ]
    pixel, frozen, best = ea.pixel_facts(_separation(rows))
    assert pixel["AUROC"] == 0.6
    assert (frozen["backbone"], frozen["AUROC"]) == ("r2plus1d_18", 0.70)
    assert (best["backbone"], best["method"]) == ("timesformer", "k-NN distance")


# --- the seed study's claims ----------------------------------------------------------------------

CLAIM_KEYS = {"claim", "source", "verdict", "difference", "ci_low", "ci_high", "seeds", "n_test"}


def _claims(ae: dict[str, np.ndarray], pixels: np.ndarray) -> list[Verdict]:
    scores = {(name, ea.AE_V1): values for name, values in ae.items()}
    paired = _paired({**scores, (ea.PIXELS, ea.PIXEL_METHOD): pixels})
    return ea.seed_claims(paired, list(ae))


def _pixel_claim(backbone: str) -> str:
    return (
        "Reconstructing the embedding beats reconstructing pixels: the frozen autoencoder on "
        f"{backbone}'s embeddings beats the {ea.PIXEL_METHOD} in AUROC"
    )


def test_claims_reproduced_on_hand_made_scores() -> None:
    claims = _claims(
        {"r2plus1d_18": INVERTED, "slowfast_r50": INVERTED, "timesformer": PERFECT}, INVERTED
    )
    assert [c.claim for c in claims] == [
        "TimeSformer separates anomalies best: its frozen autoencoder's AUROC beats r2plus1d_18's",
        "TimeSformer separates anomalies best: its frozen autoencoder's AUROC beats slowfast_r50's",
        _pixel_claim("r2plus1d_18"),  # one pixel claim per backbone: none picked on test
        _pixel_claim("slowfast_r50"),
        _pixel_claim("timesformer"),
    ]
    for c in (claims[0], claims[1], claims[4]):
        assert (c.verdict, c.difference, c.ci_low, c.ci_high) == ("reproduced", 1.0, 1.0, 1.0)
    for c in (claims[2], claims[3]):  # inverted embeddings against inverted pixels: a tie
        assert (c.verdict, c.difference, c.ci_low, c.ci_high) == ("not resolved", 0.0, 0.0, 0.0)
    for c in claims:
        assert (c.source, c.seeds, c.n_test, c.unit) == (ea.SEED_STUDY, 1, 8, "test clips")
    assert ea.SEED_STUDY == "seed study: TimeSformer embeddings of UCF Sports"
    assert published.SOURCE.startswith(ea.SEED_STUDY)


def test_claims_reversed_on_hand_made_scores() -> None:
    tsf_worst, pixels_r21, pixels_tsf = _claims(
        {"r2plus1d_18": PERFECT, "timesformer": INVERTED}, PERFECT
    )
    assert "beats r2plus1d_18's" in tsf_worst.claim
    assert (tsf_worst.verdict, tsf_worst.difference) == ("reversed", -1.0)
    assert pixels_r21.claim == _pixel_claim("r2plus1d_18")
    assert (pixels_r21.verdict, pixels_r21.difference) == ("not resolved", 0.0)
    assert pixels_tsf.claim == _pixel_claim("timesformer")
    assert (pixels_tsf.verdict, pixels_tsf.difference, pixels_tsf.ci_high) == (
        "reversed",
        -1.0,
        -1.0,
    )


def test_claims_not_resolved_when_the_interval_contains_zero() -> None:
    tsf, pixels_r21, pixels_tsf = _claims(
        {"r2plus1d_18": ONE_MISSED, "timesformer": PERFECT}, ONE_MISSED
    )
    for c in (tsf, pixels_tsf):
        assert c.verdict == "not resolved"
        assert c.difference == 0.25 and c.ci_low == 0.0 < c.ci_high
        assert "**not resolved** at this budget" in c.sentence()
    assert (pixels_r21.verdict, pixels_r21.difference) == ("not resolved", 0.0)


def test_claims_pair_rows_by_clip_whatever_the_row_order() -> None:
    order = np.array([8, 3, 0, 5, 1, 7, 2, 6, 4])
    scores = {("timesformer", ea.AE_V1): PERFECT, ("r2plus1d_18", ea.AE_V1): INVERTED[order]}
    paired = ea.PairedScores(
        scores,
        {"timesformer": PAIR_SPLITS, "r2plus1d_18": PAIR_SPLITS[order]},
        {"timesformer": PAIR_CLIPS, "r2plus1d_18": PAIR_CLIPS[order]},
        n_boot=50,
        seed=0,
    )
    (claim,) = ea.seed_claims(paired, ["r2plus1d_18", "timesformer"])  # no pixels: one claim
    assert (claim.verdict, claim.difference) == ("reproduced", 1.0)


def test_without_timesformer_only_the_pixel_claims_are_made() -> None:
    claims = _claims({"r2plus1d_18": PERFECT, "slowfast_r50": ONE_MISSED}, INVERTED)
    assert [c.claim for c in claims] == [_pixel_claim("r2plus1d_18"), _pixel_claim("slowfast_r50")]
    assert [c.verdict for c in claims] == ["reproduced", "reproduced"]


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
    windows = pd.DataFrame(
        {"start_frame": [0, 5, 10], "end_frame": [10, 15, 20], "score": [1.0, 2.0, 3.0]}
    )
    frames = pd.DataFrame(
        {
            "frame": np.arange(20),
            "time_s": np.arange(20) / 8.0,
            "score": np.r_[np.ones(10), np.full(10, 3.0)],
            "flagged": np.r_[np.zeros(10, bool), np.ones(10, bool)],
        }
    )
    segments = pd.DataFrame(
        {"start_frame": [0, 10], "end_frame": [10, 20], "anomalous": [False, True]}
    )
    kinds = ("behaviour_only", "confounded")
    videos = [ac.LongVideo(kind, Path(f"{kind}_0.mp4"), segments) for kind in kinds]
    scored = [ScoredVideo(windows, frames, 8.0, "")] * 2
    long_videos = ac.LongVideoResult(
        calibration={
            n: {
                "threshold": 2.0,
                "target_false_alarm": 0.05,
                "videos": 1,
                "frames": 40,
                "false_alarm": 0.05,
            }
            for n in config.backbones
        },  # fmt: skip
        metrics={
            n: {k: ac.long_video_metrics(scored[:1], videos[:1], 20, 0) for k in kinds}
            for n in config.backbones
        },
        scored=dict.fromkeys(config.backbones, scored),
        videos=videos,
    )
    # conditions: every feature space x scorer, scores shifted up for the positives
    cond_splits = np.repeat(["behaviour_only", "new_venue"], [4, 4])
    cond_paths = np.array([f"cond{i}.mp4" for i in range(len(cond_splits))])
    cond_scores = {}
    for space in [*config.backbones, ac.SCENE_ONLY]:
        for scorer in (ac.AE, ac.KNN):
            cond_scores[space, scorer] = (
                rng.normal(size=len(splits)) + shift,
                rng.normal(size=len(cond_splits)) + (cond_splits == "behaviour_only"),
            )
    conditions = ac.ConditionScores(
        splits, cond_splits, cond_paths, np.array([f"clip{i}.mp4" for i in range(len(splits))]),
        cond_scores,
    )  # fmt: skip
    probes = {
        space: {"accuracy": 0.5, "ci_low": 0.3, "ci_high": 0.7, "n_test": 6, "chance": 1 / 7}
        for space in [*config.backbones, ac.SCENE_ONLY]
    }
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
        clips_of=dict.fromkeys(splits_of, np.array([f"clip{i}.mp4" for i in range(len(splits))])),
        estimates=ea.separation_estimates(scores, splits_of, 20, 0),
        per_class=ea.per_class_table(
            runs, splits_of, dict.fromkeys(config.backbones, classes), 95.0
        ),
        missed=missed,
        conditions=conditions,
        condition_estimates=conditions.estimates(20, 0),
        probes=probes,
        window_frames=10,
        long_videos=long_videos,
        cli=ea.CliRun([".venv/bin/python", "-m", "vidad", "score", "v.mp4"], "ok\n", windows),
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
    # the keys of issue 13 (claims, the operating points) are in the committed file once the
    # chapter has been re-run on cpu; every other key is there already
    assert sorted(got) == [
        "anomaly_share",
        "backbones",
        "best",
        "bootstrap_resamples",
        "claims",
        "conditions",
        "linear_probe",
        "long_video",
        "optimism_gap_anomaly",
        "optimism_gap_balanced_accuracy",
        "per_class",
        "protocol_means",
        "separation",
        "table2",
        "threshold_percentile",
    ]
    # the committed file has every key once the chapter has been re-run on this code
    assert set(committed) <= set(got) | {"localization", "localization_std"}
    # same nesting and leaf keys as the committed file, for a backbone both have
    assert _shape(got["backbones"]["timesformer"], 3) == _shape(
        committed["backbones"]["timesformer"], 3
    )
    assert _shape(got["separation"]["timesformer"][ea.AE_V1], 3) == _shape(
        committed["separation"]["timesformer"][ea.AE_V1], 3
    )
    assert sorted(got["table2"]) == [
        "r2plus1d_18/v1",
        "r2plus1d_18/v2",
        "timesformer/v1",
        "timesformer/v2",
    ]
    operating = {"false_alarm_rate": "number", "balanced_accuracy": "number"}
    for protocol in ("optimistic", "validation"):
        assert _shape(got["table2"]["timesformer/v1"][protocol], 1) == {
            **_shape(committed["table2"]["timesformer/v1"][protocol], 1),
            **operating,
        }
    row = got["table2"]["timesformer/v1"]["optimistic"]
    assert row["false_alarm_rate"] == pytest.approx(1 - row["test"])
    assert row["balanced_accuracy"] == pytest.approx((row["test"] + row["anomaly"]) / 2)
    assert set(got["per_class"]["timesformer/v2/Lifting"]) == {"flagged_b", "auroc"}
    assert len(got["per_class"]) == 2 * 2 * 3
    assert set(got["separation"]) == {"r2plus1d_18", "timesformer", ea.PIXELS}
    # issue 16's names: conditions.<condition>.<features>.<scorer>.auroc (with its CI) and
    # long_video.<backbone>.{normal,anomaly}_frames_flagged / frame_auroc at the stored threshold
    for condition in ac.CONDITIONS:
        entry = got["conditions"][condition]["timesformer"][ac.AE]
        assert {"auroc", "ci_low", "ci_high", "aupr", "aupr_ci_low", "flagged"} <= set(entry)
        assert entry["ci_low"] <= entry["auroc"] <= entry["ci_high"]
    assert set(got["conditions"]["behaviour_only"]) == {"r2plus1d_18", "timesformer", ac.SCENE_ONLY}
    video = got["long_video"]["timesformer"]
    assert video["normal_frames_flagged"] == 0.0 and video["anomaly_frames_flagged"] == 1.0
    assert video["frame_auroc"] == 1.0 and set(video["by_kind"]) == {"behaviour_only", "confounded"}
    assert video["calibration"]["target_false_alarm"] == 0.05
    assert got["long_video"]["window_frames"] == 10
    assert got["linear_probe"]["timesformer"]["accuracy"] == 0.5
    assert got["anomaly_share"] == 0.5  # 6 anomalies, 6 test normals
    assert got["bootstrap_resamples"] == result.config.bootstrap
    best = result.separation.loc[result.separation["AUROC"].idxmax()]
    assert got["best"] == {
        "backbone": best["backbone"],
        "method": best["method"],
        "auroc": best["AUROC"],
    }
    assert got["optimism_gap_anomaly"] == pytest.approx(result.protocol_gap.gap)
    gap = result.protocol_gap
    assert got["optimism_gap_balanced_accuracy"] == pytest.approx(gap.balanced_gap)
    assert got["protocol_means"] == gap.as_dict()
    assert got["protocol_means"]["validation"]["false_alarm_rate"] == pytest.approx(
        gap.test_flagged_validation
    )
    # the claims: TimeSformer against r2plus1d_18, and every backbone's frozen AE against pixels;
    # then the first of them again on behaviour-only anomalies (no pixel scores in this Result)
    claims = got["claims"]
    assert len(claims) == 4
    assert claims[3]["claim"].endswith("(behaviour-only anomalies)")
    for entry, verdict in zip(claims, result.claims(), strict=True):
        assert set(entry) == CLAIM_KEYS | {"level", "unit"}
        assert entry == verdict.as_dict()
        assert entry["verdict"] in ("reproduced", "not resolved", "reversed")
        assert entry["ci_low"] <= entry["difference"] <= entry["ci_high"]
        assert entry["seeds"] == 1 and entry["source"] == ea.SEED_STUDY
        assert entry["n_test"] == (12 if not entry["claim"].endswith("anomalies)") else 10)
    separation = result.separation.set_index(["backbone", "method"])["AUROC"]
    assert claims[0]["difference"] == pytest.approx(
        separation["timesformer", ea.AE_V1] - separation["r2plus1d_18", ea.AE_V1]
    )  # the paired estimate is the difference of the table's AUROCs
    for entry, backbone in zip(claims[1:3], result.config.backbones, strict=True):
        assert entry["difference"] == pytest.approx(
            separation[backbone, ea.AE_V1] - separation[ea.PIXELS, ea.PIXEL_METHOD]
        )


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
    protocol = ea.protocol_markdown(result)
    gap = result.protocol_gap
    assert "5% the validation percentile aims at" in protocol
    assert f"a gap of {gap.balanced_gap:+.3f}" in protocol
    assert (
        f"{gap.flagged_optimistic:.0%} of the anomalies at a false-alarm rate of "
        f"{gap.test_flagged_optimistic:.0%}" in protocol
    )
    assert f"{gap.flagged_validation:.0%} at {gap.test_flagged_validation:.0%}" in protocol
    assert "balanced accuracy 0.885 at 13% false alarms" in protocol  # the published v1 row
    loc = ea.long_video_markdown(result)
    assert "threshold 2 flags 5.0% of the 40 calibration frames (target 5%)" in loc
    assert "flags 0.0% of normal frames and 100.0% of anomalous ones" in loc
    assert "(met)" in loc
    cond = ea.conditions_markdown(result)
    assert cond.count("- **") == 2 * 3  # every feature space and scorer
    assert "behaviour-only" in cond and "scene-only control" in cond
    assert "Linear probe on the 7 normal classes" in ea.probe_markdown(result)
    assert ea.conditions_display(result).shape == (6, 3)
    assert ea.probe_display(result).shape == (3, 4)
    verdict = ea.verdict_markdown(result)
    assert verdict.count("- **") == 3  # two backbones and the pixel baseline
    assert "With 6 test normals and 6 anomalies" in verdict
    claims = result.claims()
    for claim in claims:
        assert f"- {claim.sentence()}" in verdict
    assert ea.claims_markdown(claims) in verdict
    stated = (
        verdict.count("**reproduced**")
        + verdict.count("**reversed** here")
        + verdict.count("**not resolved** at this budget")
    )
    assert stated == len(claims) == 4  # each verdict once, and no other
    assert f"balanced accuracy by {result.protocol_gap.balanced_gap:+.3f}" in verdict
    assert "AUROC difference, autoencoder minus it: paired 95% CI" in verdict
    assert "`smoke` profile" in verdict
    assert "`smoke`" not in ea.verdict_markdown(dataclasses.replace(result, profile="cpu"))
    shown = ea.long_video_display(result)
    assert shown.loc[("timesformer", "behaviour_only"), "frame AUROC"] == 1.0
    assert ea.calibration_display(result).shape[0] == 2
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
        ea.plot_condition_aurocs(result),
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
        classes="all", num_frames=8, crop_size=16, cache_size=20, motion=False,
        mirror=False, size="tiny",
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
    assert "in 6 windows of 12 frames" in cli.output
    ea.check_cli_scores(cli.windows, score_video(detector, video, 4).windows)


def test_a_failing_score_command_stops_the_chapter_with_its_output(monkeypatch) -> None:
    def failing(command, **kwargs):
        return subprocess.CompletedProcess(command, 2, "", "error: v.mp4: no such video\n")

    monkeypatch.setattr(ea.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="failed with status 2:\nerror: v.mp4: no such video"):
        ea.run_score_cli(Path("v.mp4"), Path("det.pt"), Path("out"), stride=4)


def test_a_pixel_auroc_below_chance_is_remarked_on() -> None:
    rows = [
        {"backbone": ea.PIXELS, "method": ea.PIXEL_METHOD, "AUROC": 0.39,
         "AUROC 95% CI": "[0.320, 0.460]", "auroc_high": 0.46},
        {"backbone": ea.PIXELS, "method": ea.PIXEL_MOTION_METHOD, "AUROC": 0.55,
         "AUROC 95% CI": "[0.480, 0.620]", "auroc_high": 0.62},
    ]  # fmt: skip
    remark = ea._pixel_remark(pd.DataFrame(rows))
    assert "lies below 0.5" in remark and "reaches 0.550 [0.480, 0.620]" in remark
    rows[0]["auroc_high"] = 0.6
    assert "below 0.5" not in ea._pixel_remark(pd.DataFrame(rows))
    assert ea._below_chance(pd.DataFrame(rows), ea.PIXELS, ea.PIXEL_MOTION_METHOD) is False
