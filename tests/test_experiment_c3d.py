"""Chapter 2's experiment: its settings, its metrics schema and the sentences of its verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recognition_fakes import fake_run, scored

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import c3d
from vidad.experiments.recognition import SMOKE_NOTE, claims_markdown, results_table

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


#: The keys of every entry of a chapter's ``claims`` list (``stats.Verdict.as_dict``).
CLAIM_KEYS = {
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

#: Clips right for (the paper's better variant, its worse one) of 40, and the verdict:
#: nested hits (16 discordant clips, all one way), a null difference (2 each way), the reverse.
OUTCOMES = [
    ((range(36), range(20)), "reproduced"),
    ((range(2, 24), range(22)), "not resolved"),
    ((range(20), range(36)), "reversed"),
]


def hand_made(
    depths: dict[str, tuple[float, range]], raw: bool = True, profile: str = "cpu"
) -> c3d.Result:
    """Depths by label with (val accuracy, the test clips of 40 they get right); a miss is the
    time-reversed twin (right pair, wrong direction), so direction accuracy is hits / 40."""
    results = [scored(label, right, val=val) for label, (val, right) in depths.items()]
    layers = pd.DataFrame({"layer": ["conv1", "fc6", "fc7"], "parameters": [10, 50, 30]})
    return c3d.Result(
        profile=profile,
        layers=layers,
        complexity=pd.DataFrame(),
        paper_params=100,
        paper_gmacs=38.5,
        classes=["a", "b", "c", "d"],
        raw=fake_run("depth 3, raw clips", val=0.2, test=0.25) if raw else None,
        raw_train_accuracy=0.9 if raw else None,
        results=results,
        table=results_table(results),
    )


#: Depth 3 right on 28 clips of 40 (0.700), depth 1 on 16 (0.400): the paper's ordering.
PAPER_HOLDS = {"depth 1": (0.5, range(16)), "depth 3": (0.6, range(28))}


def test_metrics_schema():
    result = hand_made(PAPER_HOLDS)
    metrics = result.metrics()
    assert set(metrics) == {"paper_params", "paper_gmacs", "raw_clips", "depth_search", "claims"}
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
        "seeds",
        "best_epochs",
        "val_accuracy",
        "test_accuracy",
        "test_pair_accuracy",
        "test_direction_accuracy",
        "per_seed",
    }
    (claim,) = metrics["claims"]
    assert set(claim) == CLAIM_KEYS
    assert claim["claim"] == "Depth 3 beats depth 1" and claim["verdict"] == "reproduced"
    assert claim["source"].endswith(", Fig. 2") and (claim["seeds"], claim["n_test"]) == (1, 40)
    assert claim["difference"] == pytest.approx(0.3)  # depth 3 minus depth 1: the paper's way
    assert 0 < claim["ci_low"] < 0.3 < claim["ci_high"] and claim["level"] == 0.95
    assert claim["unit"] == "test clips"
    assert "raw_clips" not in hand_made(PAPER_HOLDS, raw=False).metrics()


@pytest.mark.parametrize(("outcomes", "label"), OUTCOMES)
def test_depth_3_against_depth_1_is_decided_by_the_paired_interval(outcomes, label):
    d3, d1 = outcomes
    result = hand_made({"depth 1": (0.5, d1), "depth 3": (0.6, d3)})
    (claim,) = result.claims()
    assert (claim.claim, claim.verdict) == ("Depth 3 beats depth 1", label)
    assert claim.difference == pytest.approx((len(d3) - len(d1)) / 40)
    assert claim.ci_low <= claim.difference <= claim.ci_high
    assert result.metrics()["claims"] == [claim.as_dict()]
    text = c3d.verdict_markdown(result)
    assert text.endswith("\n\n- " + claim.sentence())
    assert f"**{label}" in claim.sentence()


def test_the_full_depth_search_checks_both_findings():
    result = hand_made(
        {
            "depth 1": (0.3, range(10)),
            "depth 3": (0.6, range(36)),
            "depth 5": (0.5, range(2, 38)),  # as good as depth 3, better than depth 1
            "depth 7": (0.2, range(5)),  # worse than depth 1
        }
    )
    claims = result.claims()
    assert [(v.claim, v.verdict) for v in claims] == [
        ("Depth 3 beats depth 1", "reproduced"),
        ("Depth 3 is best: depth 3 beats depth 5", "not resolved"),
        ("Depth 3 is best: depth 3 beats depth 7", "reproduced"),
        ("Depth 1 is worst: depth 5 beats depth 1", "reproduced"),
        ("Depth 1 is worst: depth 7 beats depth 1", "reversed"),
    ]
    assert claims[-1].difference == pytest.approx(-5 / 40)  # depth 7 minus depth 1
    assert [v["claim"] for v in result.metrics()["claims"]] == [v.claim for v in claims]
    text = c3d.verdict_markdown(result)
    assert text.endswith("\n\n" + claims_markdown(claims))
    assert all(f"- {v.sentence()}" in text for v in claims)


def test_claims_need_depth_1_or_depth_3():
    only_3 = hand_made({"depth 3": (0.6, range(36)), "depth 5": (0.5, range(20))})
    assert [(v.claim, v.verdict) for v in only_3.claims()] == [
        ("Depth 3 is best: depth 3 beats depth 5", "reproduced")
    ]
    only_1 = hand_made({"depth 1": (0.3, range(10)), "depth 7": (0.5, range(20))})
    assert [v.claim for v in only_1.claims()] == ["Depth 1 is worst: depth 7 beats depth 1"]
    neither = hand_made({"depth 5": (0.5, range(20)), "depth 7": (0.6, range(30))})
    assert neither.claims() == [] and neither.metrics()["claims"] == []
    text = c3d.verdict_markdown(neither)
    assert (
        "One seed per depth and 40 test clips: differences of a few points are within noise."
        in text
    )
    assert "\n" not in text and "claim below" not in text


def test_complexity_sentence_gives_the_fc_share():
    result = hand_made(PAPER_HOLDS)
    assert result.fc_share == pytest.approx(0.8)
    assert "`fc6` and `fc7` hold 80% of the parameters" in c3d.complexity_markdown(result)


def test_appearance_sentence():
    result = hand_made(PAPER_HOLDS)  # train 0.9 > 2 x val 0.2
    text = c3d.appearance_markdown(result)
    assert "training accuracy 0.900" in text and "chance is 0.250" in text
    assert text.endswith("without learning anything that transfers.")
    low = hand_made(PAPER_HOLDS)
    object.__setattr__(low, "raw_train_accuracy", 0.3)
    assert c3d.appearance_markdown(low).endswith(
        "did not even fit its training clips in this budget."
    )
    assert c3d.appearance_markdown(hand_made(PAPER_HOLDS, raw=False)) == ""


def test_verdict_when_depth_3_wins():
    result = hand_made(PAPER_HOLDS)
    text = c3d.verdict_markdown(result)
    assert text.startswith(
        "The depth chosen on validation is **depth 3** (validation accuracy 0.600, test 0.700)."
    )
    assert "Direction accuracy: 0.700 (depth 3) vs 0.400 (depth 1)." in text
    assert "The lowest test accuracy is **depth 1**'s (0.400)." in text
    assert (
        "One seed per depth and 40 test clips; each claim below is decided by the paired 95% CI"
        in text
    )
    (claim,) = result.claims()
    assert claim.verdict == "reproduced"
    assert text.endswith(
        "\n\n- Depth 3 beats depth 1 (Tran et al., C3D, ICCV 2015, Fig. 2): **reproduced**; "
        f"difference +0.300, 95% CI [{claim.ci_low:+.3f}, {claim.ci_high:+.3f}], "
        "1 seed, 40 test clips."
    )
    assert "paper's ordering" not in text and SMOKE_NOTE not in text


def test_verdict_when_the_paper_ordering_fails_on_smoke():
    result = hand_made({"depth 1": (0.7, range(32)), "depth 3": (0.6, range(12))}, profile="smoke")
    text = c3d.verdict_markdown(result)
    assert "**depth 1** (validation accuracy 0.700" in text
    assert "The lowest test accuracy is **depth 3**'s (0.300)." in text
    assert [v.verdict for v in result.claims()] == ["reversed"]
    body, bullets = text.split("\n\n")
    assert body.endswith(SMOKE_NOTE)
    assert bullets.startswith("- Depth 3 beats depth 1 (") and "**reversed** here" in bullets
