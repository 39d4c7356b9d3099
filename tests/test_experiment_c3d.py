"""Chapter 2's experiment: its settings, its metrics schema and the sentences of its verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recognition_fakes import fake_result

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import c3d
from vidad.experiments.recognition import SMOKE_NOTE, results_table

REPO = Path(__file__).resolve().parents[1]


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "c3d", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = c3d.Config.load(profile, params_file=REPO / "params.yaml")
    assert config.setup().classes == config.classes and config.depths


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": "1"}, r"c3d\.epochs: expected int"),
        ({"motion": "true"}, "motion: expected bool"),
        ({"classes": "some"}, "classes: expected"),
        ({"size": "huge"}, "size: expected"),
        ({"depths": [1, 2]}, "temporal_depth=2"),
        ({"depths": [3, 3]}, "distinct"),
        ({"depths": []}, "at least one"),
        ({"crop_size": 64, "cache_size": 32}, "cache_size 32 < crop_size 64"),
        ({"depht": [1]}, "unknown keys"),
    ],
)
def test_bad_settings_fail_with_one_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        c3d.Config.from_params({**smoke_params(), **change}, "c3d")


def test_a_missing_key_is_named():
    params = smoke_params()
    del params["appearance_check"]
    with pytest.raises(ConfigError, match="appearance_check"):
        c3d.Config.from_params(params)


def hand_made(
    d1: tuple[float, float], d3: tuple[float, float], raw: bool = True, profile: str = "cpu"
) -> c3d.Result:
    """Depth 1 and depth 3 with (val, test) accuracies; depth 3 predicts every direction right,
    depth 1 swaps the direction of every clip (direction accuracy 1 and 0)."""
    results = [
        fake_result("depth 1", val=d1[0], test=d1[1], predictions=[1, 0, 3, 2]),
        fake_result("depth 3", val=d3[0], test=d3[1]),
    ]
    layers = pd.DataFrame({"layer": ["conv1", "fc6", "fc7"], "parameters": [10, 50, 30]})
    return c3d.Result(
        profile=profile,
        layers=layers,
        complexity=pd.DataFrame(),
        paper_params=100,
        paper_gmacs=38.5,
        classes=["a", "b", "c", "d"],
        raw=fake_result("depth 3, raw clips", val=0.2, test=0.25) if raw else None,
        raw_train_accuracy=0.9 if raw else None,
        results=results,
        table=results_table(results),
    )


def test_metrics_schema():
    result = hand_made((0.5, 0.4), (0.6, 0.7))
    metrics = result.metrics()
    assert set(metrics) == {"paper_params", "paper_gmacs", "raw_clips", "depth_search"}
    assert metrics["raw_clips"] == {
        "val_accuracy": 0.2,
        "test_accuracy": 0.25,
        "train_accuracy": 0.9,
    }
    assert list(metrics["depth_search"]) == ["depth 1", "depth 3"]
    assert set(metrics["depth_search"]["depth 3"]) == {
        "model",
        "options",
        "params",
        "gmacs",
        "best_epoch",
        "val_accuracy",
        "test_accuracy",
        "test_pair_accuracy",
        "test_direction_accuracy",
    }
    assert "raw_clips" not in hand_made((0.5, 0.4), (0.6, 0.7), raw=False).metrics()


def test_complexity_sentence_gives_the_fc_share():
    result = hand_made((0.5, 0.4), (0.6, 0.7))
    assert result.fc_share == pytest.approx(0.8)
    assert "`fc6` and `fc7` hold 80% of the parameters" in c3d.complexity_markdown(result)


def test_appearance_sentence():
    result = hand_made((0.5, 0.4), (0.6, 0.7))  # train 0.9 > 2 x val 0.2
    text = c3d.appearance_markdown(result)
    assert "training accuracy 0.900" in text and "chance is 0.250" in text
    assert text.endswith("without learning anything that transfers.")
    low = hand_made((0.5, 0.4), (0.6, 0.7))
    object.__setattr__(low, "raw_train_accuracy", 0.3)
    assert c3d.appearance_markdown(low).endswith(
        "did not even fit its training clips in this budget."
    )
    assert c3d.appearance_markdown(hand_made((0.5, 0.4), (0.6, 0.7), raw=False)) == ""


def test_verdict_when_depth_3_wins():
    text = c3d.verdict_markdown(hand_made((0.5, 0.4), (0.6, 0.7)))
    assert text.startswith(
        "The depth chosen on validation is **depth 3** (validation accuracy 0.600, test 0.700)."
    )
    assert (
        "Depth 3 reaches test accuracy 0.700 against 0.400 for depth 1, the paper's ordering."
        in text
    )
    assert "Direction accuracy: 1.000 (depth 3) vs 0.000 (depth 1)." in text
    assert "The lowest test accuracy is **depth 1**'s (0.400)." in text
    assert "Test sets are small (4 clips)" in text
    assert SMOKE_NOTE not in text


def test_verdict_when_the_paper_ordering_fails_on_smoke():
    text = c3d.verdict_markdown(hand_made((0.7, 0.8), (0.6, 0.3), profile="smoke"))
    assert "**depth 1** (validation accuracy 0.700" in text
    assert "so the paper's ordering does *not* hold here." in text
    assert "The lowest test accuracy is **depth 3**'s (0.300)." in text
    assert text.endswith(SMOKE_NOTE)
