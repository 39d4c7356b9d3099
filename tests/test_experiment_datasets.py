"""Chapter 1's experiment: its settings, its metrics schema, its tables and its verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_video

from vidad.config import ConfigError, load_params, stage_params
from vidad.data import protocol
from vidad.experiments import datasets
from vidad.paths import Paths
from vidad.synth.actions import REVERSED_PAIRS
from vidad.train.order_probe import OrderProbeResult

REPO = Path(__file__).resolve().parents[1]


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "datasets", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = datasets.Config.load(profile, params_file=REPO / "params.yaml")
    probe = config.probe()
    assert (probe.epochs, probe.width, probe.seed) == (
        config.probe_epochs,
        config.probe_width,
        config.seed,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"probe_epochs": "2"}, r"datasets\.smoke\.probe_epochs: expected int"),
        ({"seed": 0.5}, r"seed: expected int"),
        ({"probe_sise": 3}, r"unknown keys \['probe_sise'\]"),
        ({"filmstrip_class": "jump"}, "not in a time-reversed pair"),
        ({"filmstrip_frames": 0}, "filmstrip_frames must be at least 1"),
        ({"probe_frames": 0}, "probe_frames must be at least 1"),
        ({"probe_size": -1}, "probe_size must be at least 1"),
        ({"probe_epochs": 0}, "probe_epochs must be at least 1"),
        ({"probe_width": 0}, "probe_width must be at least 1"),
    ],
)
def test_a_bad_value_is_one_config_error(change, message):
    with pytest.raises(ConfigError, match=message):
        datasets.Config.load("smoke", {**smoke_params(), **change})


def test_a_missing_key_is_named():
    params = smoke_params()
    del params["probe_width"]
    with pytest.raises(ConfigError, match=r"lacks keys \['probe_width'\]"):
        datasets.Config.load("smoke", params)


def test_every_class_of_a_pair_has_its_reverse():
    assert datasets.REVERSE_OF["sit_down"] == "stand_up"
    assert datasets.REVERSE_OF["stand_up"] == "sit_down"
    assert len(datasets.REVERSE_OF) == 2 * len(REVERSED_PAIRS)


def test_sports_titles_mark_the_anomaly_classes():
    assert datasets.sports_titles(["Kicking", "Lifting"]) == ["Kicking", "Lifting (anomaly)"]


def test_split_sizes_sit_beside_the_published_manifest():
    sports = pd.DataFrame({"split": ["train"] * 3 + ["val", "test", "test", "anomaly"]})
    table = datasets.split_sizes(sports)
    assert list(table.index) == ["train", "val", "test", "anomaly"]
    assert table["synth-sports (this build)"].tolist() == [3, 1, 2, 1]
    assert table["source study (published)"].tolist() == [1396, 70, 38, 40]


def hand_made_result(profile: str = "cpu") -> datasets.Result:
    """Two views, two pairs, numbers chosen so every average is easy to check by hand."""
    actions = pd.DataFrame({"class": ["a", "b", "c", "d"] * 2, "split": ["train", "test"] * 4})
    sports = pd.DataFrame({"class": ["x", "y", "z"], "split": ["train", "test", "anomaly"]})
    overall = pd.DataFrame(
        {
            "view": ["single frames", "frames in order"],
            "test accuracy (all classes)": [0.25, 0.75],
            "chance": [0.25, 0.25],
        }
    )
    pairs = pd.DataFrame(
        {
            "view": ["single frames"] * 2 + ["frames in order"] * 2,
            "pair": ["a / b", "c / d"] * 2,
            "clips": [2, 2, 2, 2],
            "accuracy": [0.5, 0.5, 1.0, 0.5],
            "auroc": [0.4, 0.6, 0.9, 0.7],
        }
    )
    probe = OrderProbeResult(overall, pairs, {}, np.zeros(0), ["a", "b", "c", "d"])
    return datasets.Result(
        profile=profile,
        actions=actions,
        sports=sports,
        sports_counts=pd.DataFrame(),
        split_sizes=pd.DataFrame(),
        sports_durations=pd.DataFrame(),
        sports_samples=[],
        sports_titles=[],
        actions_samples=[],
        actions_titles=[],
        filmstrips=[],
        decode_failures=1,
        decode_summary="",
        probe=probe,
    )


def test_metrics_schema_and_values():
    metrics = hand_made_result().metrics()
    assert metrics == {
        "synth_actions_clips": 8,
        "synth_sports_clips": 3,
        "synth_actions_classes": 4,
        "sports_split_counts": {"train": 1, "test": 1, "anomaly": 1},
        "decode_failures": 1,
        "probe_test_accuracy_all_classes": {"single frames": 0.25, "frames in order": 0.75},
        "probe_reversed_pairs_accuracy": {"single frames": 0.5, "frames in order": 0.75},
        "probe_reversed_pairs_auroc": {"single frames": 0.5, "frames in order": 0.8},
    }


def test_verdict_names_the_hardest_pair_and_the_smoke_caveat():
    result = hand_made_result()
    assert result.hardest_pair()["pair"] == "c / d"
    text = datasets.verdict_markdown(result)
    assert "test accuracy **0.50** (AUROC 0.50)" in text
    assert "reaches **0.75** (AUROC 0.80)" in text
    assert "Over all 4 classes their test accuracies are 0.25 and 0.75 (chance 0.25)" in text
    assert "it is within a reversed pair that they cannot" in text
    assert "`c / d` (AUROC 0.70)" in text
    assert "noise" not in text
    assert "noise" in datasets.verdict_markdown(hand_made_result("smoke"))


def test_sizes_and_pairs_markdown():
    assert datasets.sizes_markdown(hand_made_result()) == (
        "synth-actions: **8** clips, 4 classes; synth-sports: **3** clips, 3 classes."
    )
    assert datasets.reversed_pairs_markdown().startswith("Time-reversed pairs: `sit_down` / ")


def test_a_tiny_run_end_to_end(tmp_path):
    """Both manifests point at one tiny clip; the probes train for one epoch."""
    paths = Paths("smoke", tmp_path)
    actions_root, sports_root = paths.synth("synth-actions"), paths.synth("synth-sports")
    actions_root.mkdir(parents=True)
    sports_root.mkdir(parents=True)
    make_video(actions_root / "clip.mp4", num_frames=8, height=32, width=32)
    make_video(sports_root / "clip.mp4", num_frames=8, height=32, width=32)
    common = {"path": "clip.mp4", "num_frames": 8, "fps": 10.0, "duration_s": 0.8}
    classes = [c for pair in REVERSED_PAIRS for c in pair]
    actions = [
        {**common, "label": i, "class": c, "split": split}
        for i, c in enumerate(classes)
        for split in ("train", "train", "test")
    ]
    sports = [
        {
            **common,
            "label": i,
            "class": c,
            "split": "anomaly" if c in protocol.ANOMALY_CLASSES else "test",
        }
        for i, c in enumerate(protocol.UCF_SPORTS_CLASSES)
    ]
    pd.DataFrame(actions).to_csv(actions_root / "manifest.csv", index=False)
    pd.DataFrame(sports).to_csv(sports_root / "manifest.csv", index=False)
    config = datasets.Config.from_params(
        {
            "seed": 0,
            "filmstrip_class": "stand_up",
            "filmstrip_frames": 3,
            "probe_frames": 4,
            "probe_size": 8,
            "probe_epochs": 1,
            "probe_width": 2,
        }
    )
    result = datasets.run(config, paths)
    metrics = result.metrics()
    assert metrics["synth_actions_clips"] == 30 and metrics["synth_sports_clips"] == 10
    assert metrics["sports_split_counts"] == {"test": 7, "anomaly": 3}
    assert metrics["decode_failures"] == 0
    assert [s.cls for s in result.filmstrips] == ["stand_up", "sit_down"]
    assert result.filmstrips[0].frames.shape[0] == 3
    assert len(result.sports_samples) == 10 and "Lifting (anomaly)" in result.sports_titles
    assert result.actions_titles == sorted(classes)
    assert set(result.probe.pairs["view"]) == {"single frames", "frames in order"}
    assert result.sports_counts.loc["Lifting", "UCF Sports release (published)"] == 6
