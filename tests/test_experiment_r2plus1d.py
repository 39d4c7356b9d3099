"""Chapter 3's experiment: its settings, metrics schema, factorization note and verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recognition_fakes import fake_result

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import r2plus1d
from vidad.experiments.recognition import results_table

REPO = Path(__file__).resolve().parents[1]


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "r2plus1d", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = r2plus1d.Config.load(profile, params_file=REPO / "params.yaml")
    assert config.setup().epochs == config.epochs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": "3e-3"}, "lr: expected float"),
        ({"seed": 0.5}, "seed: expected int"),
        ({"batch_size": 0}, "must be >= 1"),
        ({"warmup_epochs": -1}, "warmup_epochs must be >= 0"),
        ({"crop_size": 64, "cache_size": 32}, "cache_size 32 < crop_size 64"),
        ({"depths": [1]}, "unknown keys"),
    ],
)
def test_bad_settings_fail_with_one_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        r2plus1d.Config.from_params({**smoke_params(), **change})


def test_with_errors_adds_train_accuracy_and_both_errors():
    table = r2plus1d.with_errors(pd.DataFrame({"test accuracy": [0.75, 0.5]}), [1.0, 0.25])
    assert list(table["train error"]) == [0.0, 0.75]
    assert list(table["test error"]) == [0.25, 0.5]


def hand_made(r3d: tuple[float, float], r21: tuple[float, float], profile="cpu"):
    """R3D and R(2+1)D with (train, test) accuracies."""
    results = [
        fake_result("R3D-18", val=0.5, test=r3d[1], model="r3d_18", params=2000),
        fake_result("R(2+1)D-18", val=0.5, test=r21[1], model="r2plus1d_18", params=1000),
    ]
    table = r2plus1d.with_errors(results_table(results), [r3d[0], r21[0]])
    factorization = pd.DataFrame(
        {
            "layer": ["a", "b", "c"],
            "M_i": [10, 20, 30],
            "M_i by the rule": [10, 20, 40],
            "ratio": [0.995, 1.0, 0.75],
        }
    )
    paper = {
        "r2plus1d_18": {"params": 31_500_000, "gmacs": 40.5},
        "r3d_18": {"params": 33_400_000, "gmacs": 41.0},
    }
    return r2plus1d.Result(
        profile, factorization, pd.DataFrame(), paper, ["a", "b"], results, table
    )


def test_metrics_schema():
    metrics = hand_made((0.9, 0.6), (0.8, 0.7)).metrics()
    assert set(metrics) == {"paper", "variants"}
    assert set(metrics["variants"]) == {"R3D-18", "R(2+1)D-18"}
    assert metrics["variants"]["R3D-18"]["train_accuracy"] == 0.9
    assert type(metrics["variants"]["R3D-18"]["train_accuracy"]) is float
    assert metrics["variants"]["R(2+1)D-18"]["model"] == "r2plus1d_18"


def test_factorization_note_counts_the_convolutions_off_the_rule():
    text = r2plus1d.factorization_markdown(hand_made((0.9, 0.6), (0.8, 0.7)))
    assert text.startswith("2 of the 3 factorized convolutions follow the rule exactly")
    assert "ratios between 0.995 and 1." in text
    assert "The other 1 (c) are the second convolutions" in text
    assert "Those get 25% fewer parameters than the rule asks." in text


def test_complexity_note():
    text = r2plus1d.complexity_markdown(hand_made((0.9, 0.6), (0.8, 0.7)))
    assert "R3D-18 here: 33.40M parameters and 41.0 G" in text
    assert "against 31.50M and 40.5 G for R(2+1)D-18" in text


@pytest.mark.parametrize(
    ("r3d", "r21", "verdict"),
    [
        ((0.8, 0.6), (0.9, 0.7), "both lower, as the paper reports"),
        ((0.8, 0.7), (0.9, 0.6), "lower training error but not lower test error"),
        ((0.9, 0.6), (0.8, 0.7), "lower test error but not lower training error"),
        ((0.9, 0.7), (0.9, 0.7), "neither lower: the paper's finding does not reproduce here"),
    ],
)
def test_verdict_on_the_papers_claim(r3d, r21, verdict):
    text = r2plus1d.verdict_markdown(hand_made(r3d, r21))
    assert f"**{verdict}**" in text
    assert text.startswith("At 0.002M (R3D) vs 0.001M (R(2+1)D) parameters")
    assert "One seed per network and 4 test clips" in text
    assert "smoke" not in text


def test_verdict_on_smoke_says_so():
    text = r2plus1d.verdict_markdown(hand_made((0.8, 0.6), (0.9, 0.7), profile="smoke"))
    assert text.endswith(" On the `smoke` profile these numbers only show that the code runs.")
