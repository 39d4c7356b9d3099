"""Chapter 5's experiment: settings, metrics schema, the attention-cost note and the verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from recognition_fakes import fake_result, scored

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import timesformer
from vidad.experiments.recognition import SMOKE_NOTE, claims_markdown, results_table

REPO = Path(__file__).resolve().parents[1]

# joint minus space-only at paper size (T 8, N 196, D 768, L 12), worked by hand:
# 12 * (2 * 768 * (1569^2 - 8 * 197^2) - 7 * 12 * 768^2) = 39,058,016,256 multiply-adds
ATTENTION_PRODUCTS_G = 39.058016256


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "timesformer", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = timesformer.Config.load(profile, params_file=REPO / "params.yaml")
    assert config.attention_types and config.crop_size % config.patch_size == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attention_types": ["divided"]}, "attention_types: expected list"),
        ({"attention_types": []}, "at least one"),
        ({"attention_types": ["space_only", "space_only"]}, "distinct"),
        ({"patch_size": 5}, "patch_size 5 must divide crop_size 16"),
        ({"patch_size": 0}, "patch_size 0 must divide"),
        ({"patch_size": 8.0}, "patch_size: expected int"),
        ({"variants": ["slowfast"]}, "unknown keys"),
    ],
)
def test_bad_settings_fail_with_one_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        timesformer.Config.from_params({**smoke_params(), **change})


def test_a_variant_per_scheme():
    variant = timesformer.attention_variant("joint_space_time", 8)
    assert variant.label == "joint space time"
    assert variant.options == {"attention_type": "joint_space_time", "patch_size": 8}


def paper_rows(measured_gap: float) -> list[dict]:
    rows = []
    for attention, params, gmacs in [
        ("space_only", 86.0, 180.0),
        ("joint_space_time", 86.0, 180.0 + measured_gap),
        ("divided_space_time", 121.0, 190.0),
    ]:
        rows.append(
            {
                "attention": attention,
                "parameters (M)": params,
                "without the 400-class head (M)": params - 0.3,
                "published parameters (M)": 86.0,
                "multiply-adds per view (G)": gmacs,
                "published multiply-adds per view (G)": 196.0,
            }
        )
    return rows


def hand_made(
    results_by_attention: dict, measured_gap: float = ATTENTION_PRODUCTS_G, profile: str = "cpu"
):
    results = list(results_by_attention.values())
    rows = paper_rows(measured_gap)
    return timesformer.Result(
        profile,
        timesformer.paper_frame(rows),
        {r["attention"]: round(r["parameters (M)"] * 1e6) for r in rows},
        {r["attention"]: r["multiply-adds per view (G)"] for r in rows},
        ["sit_down", "stand_up", "raise_arms", "lower_arms"],
        list(results_by_attention),
        results,
        results_table(results),
    )


def scheme(label: str, labels, predictions, test: float | None = None):
    """A trained scheme; its test accuracy is its predictions' unless ``test`` is given."""
    return fake_result(label, val=0.5, test=test, labels=labels, predictions=predictions)


def test_metrics_schema_and_paper_table():
    result = hand_made({"space_only": scheme("space only", [0, 1], [0, 1])})
    metrics = result.metrics()
    assert set(metrics) == {"paper_params", "paper_gmacs", "variants", "claims"}
    assert metrics["paper_params"]["divided_space_time"] == 121_000_000
    assert metrics["paper_gmacs"]["space_only"] == 180.0
    assert set(metrics["variants"]) == {"space only"}
    assert metrics["claims"] == []  # nothing to compare space-only with
    assert result.paper_table["parameter difference"].round(6).tolist() == [0.0, 0.0, 0.406977]


#: The claims of the three schemes, in claims() order.
CLAIMS = [
    "Divided space time attention beats space-only attention",
    "Joint space time attention beats space-only attention",
    "Divided space-time attention tells the direction of time better than space-only attention",
]


def three_schemes(divided: range, joint: range, space_only: range) -> timesformer.Result:
    """The three schemes right on those test clips of 40, each miss the time-reversed twin
    (right pair, wrong direction): test and direction accuracy are both hits / 40."""
    return hand_made(
        {
            "divided_space_time": scored("divided space time", divided),
            "joint_space_time": scored("joint space time", joint),
            "space_only": scored("space only", space_only),
        }
    )


@pytest.mark.parametrize(
    ("outcomes", "label"),
    [
        ((range(36), range(20)), "reproduced"),
        ((range(2, 24), range(22)), "not resolved"),
        ((range(20), range(36)), "reversed"),
    ],
)
def test_each_claim_is_decided_by_its_paired_interval(outcomes, label):
    across_frames, space_only = outcomes
    result = three_schemes(across_frames, across_frames, space_only)
    claims = result.claims()
    assert [(v.claim, v.verdict) for v in claims] == [(claim, label) for claim in CLAIMS]
    gap = (len(across_frames) - len(space_only)) / 40  # the paper's way: theirs minus space-only
    assert all(v.difference == pytest.approx(gap) for v in claims)
    assert all(
        v.source == "Bertasius et al., TimeSformer, ICML 2021, Table 1 (SSv2)" for v in claims
    )
    entries = result.metrics()["claims"]
    assert entries == [v.as_dict() for v in claims]
    assert all((e["seeds"], e["n_test"]) == (1, 40) for e in entries)
    assert all(e["ci_low"] <= e["difference"] <= e["ci_high"] for e in entries)
    text = timesformer.verdict_markdown(result)
    assert text.endswith("\n\n" + claims_markdown(claims))
    assert all(f"- {v.sentence()}" in text for v in claims)


def test_the_direction_claim_is_not_the_accuracy_claim():
    # both right on the same 20 clips; divided misses into the other pair (direction 20 / 20),
    # space-only into the reversed twin (direction 20 / 40)
    result = hand_made(
        {
            "divided_space_time": scored("divided space time", range(20), miss="other_pair"),
            "space_only": scored("space only", range(20)),
        }
    )
    accuracy, direction = result.claims()
    assert (accuracy.claim, accuracy.verdict) == (CLAIMS[0], "not resolved")
    assert accuracy.difference == 0.0
    assert (direction.claim, direction.verdict) == (CLAIMS[2], "reproduced")
    assert direction.difference == pytest.approx(0.5) and direction.ci_low > 0


def test_attention_cost_note_detects_whether_fvcore_counts_the_products():
    counted = timesformer.attention_cost_markdown(hand_made({}))
    assert counted.startswith("Joint minus space-only: 39.06 G multiply-adds counted by fvcore")
    assert "so fvcore **does** count the attention matrix products." in counted
    assert "The divided model's extra 35.0M parameters (published: 35.5M)" in counted
    assert "2,916,667 per block" in counted and "2,954,496 at D = 768" in counted
    missed = timesformer.attention_cost_markdown(hand_made({}, measured_gap=20.0))
    assert "does **not** fully count the attention matrix products" in missed


def test_training_note_reads_the_config():
    config = timesformer.Config.load("cpu", params_file=REPO / "params.yaml")
    text = timesformer.training_markdown(config)
    assert "on 8 frames of 32x32 cut into 8x8 patches (16 tokens per frame)" in text
    assert "the peak learning rate is 0.0005, not" in text


def test_in_pair_count_is_the_direction_denominator():
    # right, reversed, wrong pair, right
    result = scheme("s", [0, 0, 1, 2], [0, 1, 2, 2])
    assert timesformer.in_pair_count(result) == 3


def test_beside_table_keeps_published_schemes_only():
    result = hand_made({"space_only": scheme("space only", [0, 1], [1, 0])})
    row = timesformer.beside_table(result).iloc[0]
    assert row["published SSv2 top-1 (%)"] == 36.6
    assert (row["ours: test pair accuracy"], row["ours: test direction accuracy"]) == (1.0, 0.0)


def test_verdict_when_space_only_is_blind_to_order():
    labels = [0, 1] * 50
    blind = [0, 1] * 25 + [1, 0] * 25  # half the directions right: 0.5
    result = hand_made(
        {
            "divided_space_time": scheme("divided space time", labels, labels),
            "space_only": scheme("space only", labels, blind),
        }
    )
    text = timesformer.verdict_markdown(result)
    assert text.startswith(
        "**Space-only** attention's direction accuracy is **0.500** over the 100 test clips"
    )
    assert "its 95% CI (bootstrap over seeds and test clips) is [0.4" in text
    assert "which contains 0.5: not distinguishable from a model blind to order." in text
    assert "Its pair accuracy (1.000) is what appearance alone gives." in text
    assert (
        "Divided space time: direction accuracy 1.000, test accuracy 1.000 against 0.500 for "
        "space-only." in text
    )
    assert "Joint space time" not in text
    assert "loses 22.9 points to divided attention on SSv2 but only 1.1 on Kinetics-400." in text
    body, bullets = text.split("\n\n")
    assert body.endswith(
        "One seed per scheme and 100 test clips; each claim below is decided by the paired 95% "
        "CI of its difference (bootstrap over the test clips), not by which number is larger."
    )
    claims = result.claims()
    assert [(v.claim, v.verdict, v.n_test) for v in claims] == [
        (CLAIMS[0], "reproduced", 100),
        (CLAIMS[2], "reproduced", 100),
    ]
    assert bullets == claims_markdown(claims)
    assert SMOKE_NOTE not in text


def test_verdict_outside_the_range_and_with_too_few_clips():
    labels = [0, 1] * 50
    outside = hand_made({"space_only": scheme("space only", labels, labels)})
    assert (
        "its 95% CI (bootstrap over seeds and test clips) is [1.00, 1.00], which excludes 0.5 "
        "(by chance, or through something" in timesformer.verdict_markdown(outside)
    )
    few = hand_made({"space_only": scheme("space only", [0, 1, 2], [0, 1, 2])}, profile="smoke")
    text = timesformer.verdict_markdown(few)
    assert "over the 3 test clips it put in the right pair; too few clips to tell" in text
    assert text.endswith(SMOKE_NOTE)


def test_verdict_without_space_only_is_the_caveat_alone():
    result = hand_made({"joint_space_time": scheme("joint space time", [0], [0])})
    assert result.claims() == []
    assert timesformer.verdict_markdown(result) == (
        "One seed per scheme and 1 test clips: differences of a few points are within noise."
    )
