"""Chapter 3's experiment: its settings, metrics schema, factorization note and verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recognition_fakes import LABELS_40, right_on, scored

from vidad import stats
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


def hand_made(r3d: tuple[range, range], r21: tuple[range, range], profile="cpu"):
    """R3D and R(2+1)D right on (training clips, test clips) of 40 each."""
    results = [
        scored("R3D-18", r3d[1], model="r3d_18", params=2000),
        scored("R(2+1)D-18", r21[1], model="r2plus1d_18", params=1000),
    ]
    train_outcomes = [[(list(LABELS_40), right_on(right))] for right in (r3d[0], r21[0])]
    train_accuracy = [stats.accuracy(y, p) for ((y, p),) in train_outcomes]
    table = r2plus1d.with_errors(results_table(results), train_accuracy)
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
        profile, factorization, pd.DataFrame(), paper, ["a", "b"], results, table, train_outcomes
    )


#: Clips right of 40: nested and far apart (resolved), or as many each way (not resolved).
LOW, HIGH, SAME_A, SAME_B = range(20), range(36), range(2, 24), range(22)
#: R3D (train, test) 0.9 / 0.5 and R(2+1)D 0.5 / 0.9.
MIXED = ((HIGH, LOW), (LOW, HIGH))


def test_metrics_schema():
    metrics = hand_made(*MIXED).metrics()
    assert set(metrics) == {"paper", "variants", "claims"}
    assert set(metrics["variants"]) == {"R3D-18", "R(2+1)D-18"}
    assert metrics["variants"]["R3D-18"]["train_accuracy"] == 0.9
    assert type(metrics["variants"]["R3D-18"]["train_accuracy"]) is float
    assert metrics["variants"]["R(2+1)D-18"]["model"] == "r2plus1d_18"
    test, train = metrics["claims"]
    assert (
        set(test)
        == set(train)
        == {
            "claim",
            "source",
            "verdict",
            "difference",
            "ci_low",
            "ci_high",
            "seeds",
            "n_test",
            "level",
            "unit",
        }
    )
    assert test["claim"] == "R(2+1)D-18 has lower test error than R3D-18"
    assert train["claim"] == "R(2+1)D-18 has lower training error than R3D-18"
    assert test["source"] == train["source"] == "Tran et al., CVPR 2018, Fig. 4"
    # signed the paper's way: R3D's error minus R(2+1)D's
    assert (test["verdict"], test["difference"]) == ("reproduced", pytest.approx(0.4))
    assert (train["verdict"], train["difference"]) == ("reversed", pytest.approx(-0.4))
    assert test["ci_low"] > 0 and train["ci_high"] < 0
    assert (test["seeds"], test["n_test"], train["n_test"]) == (1, 40, 40)
    assert (test["unit"], train["unit"]) == ("test clips", "training clips")


def test_factorization_note_counts_the_convolutions_off_the_rule():
    text = r2plus1d.factorization_markdown(hand_made(*MIXED))
    assert text.startswith("2 of the 3 factorized convolutions follow the rule exactly")
    assert "ratios between 0.995 and 1." in text
    assert "The other 1 (c) are the second convolutions" in text
    assert "Those get 25% fewer parameters than the rule asks." in text


def test_complexity_note():
    text = r2plus1d.complexity_markdown(hand_made(*MIXED))
    assert "R3D-18 here: 33.40M parameters and 41.0 G" in text
    assert "against 31.50M and 40.5 G for R(2+1)D-18" in text


@pytest.mark.parametrize(
    ("r3d", "r21", "labels", "verdict"),
    [
        (
            (LOW, LOW),
            (HIGH, HIGH),
            ("reproduced", "reproduced"),
            "both lower, as the paper reports",
        ),
        (
            (LOW, SAME_B),
            (HIGH, SAME_A),
            ("not resolved", "reproduced"),
            "lower training error but test error not resolved lower",
        ),
        (
            (SAME_B, LOW),
            (SAME_A, HIGH),
            ("reproduced", "not resolved"),
            "lower test error but training error not resolved lower",
        ),
        (
            (HIGH, SAME_B),
            (LOW, SAME_A),
            ("not resolved", "reversed"),
            "neither resolved lower: the paper's finding is not reproduced here",
        ),
    ],
)
def test_verdict_on_the_papers_claim(r3d, r21, labels, verdict):
    result = hand_made(r3d, r21)
    test, train = result.claims()
    assert (test.verdict, train.verdict) == labels
    assert test.difference == pytest.approx((len(r21[1]) - len(r3d[1])) / 40)
    assert train.difference == pytest.approx((len(r21[0]) - len(r3d[0])) / 40)
    text = r2plus1d.verdict_markdown(result)
    assert f"**{verdict}** (each difference judged by its paired 95% CI below)" in text
    assert text.startswith("At 0.002M (R3D) vs 0.001M (R(2+1)D) parameters")
    assert (
        f"R(2+1)D's training error is {1 - len(r21[0]) / 40:.3f} against "
        f"{1 - len(r3d[0]) / 40:.3f}" in text
    )
    assert "One seed per network and 40 test clips" in text
    assert text.endswith(f"\n\n- {test.sentence()}\n- {train.sentence()}")
    assert train.sentence().endswith(", 1 seed, 40 training clips.")
    assert "smoke" not in text


def test_training_clips_of_the_two_networks_must_match():
    result = hand_made(*MIXED)
    ((labels, predictions),) = result.train_outcomes[0]
    result.train_outcomes[0] = [(labels[:-1], predictions[:-1])]
    with pytest.raises(ValueError, match="not scored on the same training clips"):
        result.claims()


def test_verdict_on_smoke_says_so():
    text = r2plus1d.verdict_markdown(hand_made((LOW, LOW), (HIGH, HIGH), profile="smoke"))
    body, bullets = text.split("\n\n")
    assert body.endswith(" On the `smoke` profile these numbers only show that the code runs.")
    assert bullets.count("\n- ") == 1 and bullets.startswith("- R(2+1)D-18 has lower test error")


def test_training_error_claim_resamples_seeds_too():
    from recognition_fakes import seeded

    results = [
        seeded("R3D-18", [LOW] * 3, model="r3d_18", params=2000),
        seeded("R(2+1)D-18", [HIGH] * 3, model="r2plus1d_18", params=1000),
    ]
    train_outcomes = [
        [(list(LABELS_40), right_on(r)) for r in rights]
        for rights in ([LOW, SAME_A, LOW], [HIGH, SAME_B, HIGH])
    ]
    train_accuracy = [
        sum(stats.accuracy(y, p) for y, p in per_seed) / 3 for per_seed in train_outcomes
    ]
    table = r2plus1d.with_errors(results_table(results), train_accuracy)
    result = r2plus1d.Result(
        "cpu", pd.DataFrame(), pd.DataFrame(), {}, ["a", "b"], results, table, train_outcomes
    )
    test, train = result.claims()
    assert (test.seeds, train.seeds) == (3, 3)
    assert train.difference == pytest.approx(((36 - 20) + (22 - 22) + (36 - 20)) / 3 / 40)
    assert train.sentence().endswith(", 3 seeds, 40 training clips.")
    variant = result.metrics()["variants"]["R3D-18"]
    assert variant["train_accuracy_per_seed"] == [0.5, 22 / 40, 0.5]
