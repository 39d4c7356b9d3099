"""Chapter 4's experiment: settings, variants, tables, metrics schema and verdict sentences."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
from recognition_fakes import FakeModel, fake_result, scored

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import slowfast
from vidad.experiments.recognition import SMOKE_NOTE, claims_markdown, results_table
from vidad.models import published
from vidad.models.base import InputSpec

REPO = Path(__file__).resolve().parents[1]


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "slowfast", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = slowfast.Config.load(profile, params_file=REPO / "params.yaml")
    assert set(config.variants) <= set(slowfast.SLOWFAST_VARIANTS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"variants": ["slowfast", "slow_fast"]}, r"unknown variants \['slow_fast'\]"),
        ({"variants": "slowfast"}, r"variants: expected list\[str\]"),
        ({"variants": ["slowfast", "slowfast"]}, "distinct"),
        ({"variants": []}, "at least one"),
        (
            {"num_frames": 12, "variants": ["slowfast", "alpha_8"]},
            "variant alpha_8: num_frames=12 must be a multiple of alpha=8",
        ),
        ({"num_frames": 6}, "num_frames=6 must be a multiple of alpha=4"),
        ({"patch_size": 8}, "unknown keys"),
        ({"model_options": {"pathways": "slow"}}, r"model_options cannot set \['pathways'\]"),
        ({"model_options": {"stem_pool": "no"}}, "invalid stem_pool='no'"),
    ],
)
def test_bad_settings_fail_with_one_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        slowfast.Config.from_params({**smoke_params(), **change})


def test_alpha_8_is_valid_when_the_clip_is_long_enough():
    config = slowfast.Config.from_params(
        {**smoke_params(), "num_frames": 16, "variants": ["alpha_8"]}
    )
    assert config.variants == ["alpha_8"]


def test_model_options_reach_every_variant_and_never_override_an_ablation():
    config = slowfast.Config.from_params(
        {
            **smoke_params(),
            "variants": ["slowfast", "fast_only"],
            "model_options": {"stem_pool": False},
        }
    )
    assert config.variant("slowfast").options == {"stem_pool": False}
    assert config.variant("fast_only").options == {"stem_pool": False, "pathways": "fast"}
    assert slowfast.SLOWFAST_VARIANTS["fast_only"].options == {"pathways": "fast"}  # untouched
    plain = slowfast.Config.from_params(smoke_params())
    assert plain.variant("slow_only") == slowfast.SLOWFAST_VARIANTS["slow_only"]


def test_families_and_pathway_frames():
    assert slowfast.family("slow_only") == "Slow-only"
    assert slowfast.family("fast_only") == "Fast-only"
    assert {slowfast.family(k) for k in ("slowfast", "no_lateral", "alpha_8")} == {"SlowFast"}
    spec = FakeModel(input_spec=InputSpec(num_frames=16, crop_size=32, alpha=4))
    both = fake_result("sf", val=0.5, test=0.5, fake_model=spec)
    slow = fake_result("so", val=0.5, test=0.5, options={"pathways": "slow"}, fake_model=spec)
    assert slowfast.pathway_frames(both) == (4, 16)
    assert slowfast.pathway_frames(slow)[0] == 16 and math.isnan(slowfast.pathway_frames(slow)[1])


def test_fast_share_is_what_slowfast_adds_to_slow_only():
    paper = {
        "slow_only_4x16": {"gmacs": 30.0},
        "slowfast_4x16": {"gmacs": 40.0},
        "slow_only_8x8": {"gmacs": 45.0},
        "slowfast_8x8": {"gmacs": 50.0},
    }
    assert slowfast.fast_shares(paper) == pytest.approx({"4x16": 0.25, "8x8": 0.1})


TINY_INPUT = InputSpec(num_frames=8, crop_size=16, alpha=4)


def hand_made(outcomes: dict[str, tuple[float, range]], profile: str = "cpu"):
    """Variants (by key) with (val accuracy, the test clips of 40 they get right); GMACs 1.0
    each, Fast-only 0.25."""
    keys = list(outcomes)
    results = [
        scored(
            slowfast.SLOWFAST_VARIANTS[k].label,
            outcomes[k][1],
            val=outcomes[k][0],
            model="slowfast_r50",
            options=slowfast.SLOWFAST_VARIANTS[k].options,
            gmacs=0.25 if k == "fast_only" else 1.0,
            params=12_000,
            fake_model=FakeModel(input_spec=TINY_INPUT),
        )
        for k in keys
    ]
    paper = {
        key: {"params": 1_000_000, "gmacs": 10.0, "head_params": 10_000}
        for _, key in slowfast.PAPER_MODELS.values()
    }
    complexity = pd.DataFrame(
        {"quantity": ["a", "b"], "ours": [1.0, 2.0], "published": [1.0, 1.6]}
    ).assign(difference=[0.0, 0.25])
    return slowfast.Result(
        profile,
        paper,
        complexity,
        {"4x16": 0.3, "8x8": 0.2},
        ["c1", "c2"],
        keys,
        results,
        results_table(results),
    )


#: The three comparisons of the paper this chapter's variants can test, in claims() order.
CLAIMS = [
    ("SlowFast beats Slow-only", "slow_only"),
    ("Lateral connections help: SlowFast beats SlowFast without laterals", "no_lateral"),
    ("SlowFast beats Fast-only", "fast_only"),
]

#: Clips right of 40 for (SlowFast, each other variant) and the verdict of every claim.
OUTCOMES = [
    ((range(36), range(20)), "reproduced"),
    ((range(2, 24), range(22)), "not resolved"),
    ((range(20), range(36)), "reversed"),
]


def test_metrics_schema():
    metrics = hand_made({"slowfast": (0.5, range(28)), "slow_only": (0.4, range(16))}).metrics()
    assert set(metrics) == {"paper_complexity", "fast_share", "variants", "claims"}
    assert set(metrics["paper_complexity"]) == {key for _, key in slowfast.PAPER_MODELS.values()}
    assert set(metrics["variants"]) == {"SlowFast (time-strided conv)", "Slow-only"}
    assert metrics["variants"]["Slow-only"]["options"] == {"pathways": "slow"}
    (claim,) = metrics["claims"]
    assert set(claim) == {
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
    assert (claim["claim"], claim["verdict"]) == ("SlowFast beats Slow-only", "reproduced")
    assert claim["source"] == published.SLOWFAST_SOURCE
    assert claim["difference"] == pytest.approx(0.3)  # SlowFast minus Slow-only
    assert 0 < claim["ci_low"] < 0.3 < claim["ci_high"]
    assert (claim["seeds"], claim["n_test"]) == (1, 40)


@pytest.mark.parametrize(("outcomes", "label"), OUTCOMES)
def test_each_claim_is_decided_by_its_paired_interval(outcomes, label):
    ours, others = outcomes
    result = hand_made({"slowfast": (0.5, ours)} | {key: (0.5, others) for _, key in CLAIMS})
    claims = result.claims()
    assert [(v.claim, v.verdict) for v in claims] == [(claim, label) for claim, _ in CLAIMS]
    assert all(v.difference == pytest.approx((len(ours) - len(others)) / 40) for v in claims)
    assert result.metrics()["claims"] == [v.as_dict() for v in claims]
    text = slowfast.verdict_markdown(result)
    assert text.endswith("\n\n" + claims_markdown(claims))
    assert all(f"- {v.sentence()}" in text for v in claims)
    assert text.count(f"**{label}") == 3


def test_claims_are_only_those_the_trained_variants_can_test():
    mixed = hand_made(
        {
            "slowfast": (0.5, range(4, 26)),
            "no_lateral": (0.5, range(22)),  # as many clips right each way: not resolved
            "slow_only": (0.5, range(10)),
            "fast_only": (0.5, range(40)),
        }
    )
    assert [v.verdict for v in mixed.claims()] == ["reproduced", "not resolved", "reversed"]
    no_slowfast = hand_made({"slow_only": (0.5, range(20)), "fast_only": (0.5, range(30))})
    assert no_slowfast.claims() == [] and no_slowfast.metrics()["claims"] == []
    text = slowfast.verdict_markdown(no_slowfast)
    assert "against 0.500 for Slow-only (SlowFast was not trained here) (published:" in text
    assert "resolved" not in text and "\n" not in text


def test_tables_of_the_trained_variants():
    result = hand_made(
        {"slowfast": (0.5, range(20)), "fast_only": (0.4, range(16)), "beta_1_4": (0.1, range(8))}
    )
    sizes = slowfast.sizes_table(result)
    assert list(sizes["slow frames"].astype(object).fillna(-1)) == [2, -1, 2]
    assert list(sizes["fast frames"]) == [8, 8, 8]
    published_column = slowfast.ablation_table(result)["published K400 top-1 (%)"]
    assert list(published_column) == [75.6, 51.7, 75.6]


def test_complexity_and_fast_share_sentences():
    result = hand_made({"slowfast": (0.5, range(20))})
    text = slowfast.complexity_markdown(result)
    assert "The largest relative difference is +25.0%, for b." in text
    assert "(0.01M parameters for SlowFast, 0.010M for Fast-only" in text
    gap = 10.0 / published.SLOWFAST_GFLOPS["fast_only_4x16"] - 1
    assert f"stays {gap:+.1%} off the published" in text
    share = slowfast.fast_share_markdown(result)
    assert "**30%** at 4x16 and **20%** at 8x8" in share
    assert share.endswith(", hence the larger share there.")
    flipped = dataclasses.replace(result, fast_share={"4x16": 0.1, "8x8": 0.2})
    assert slowfast.fast_share_markdown(flipped).endswith("the same 32.")


def test_verdict_when_the_paper_holds():
    result = hand_made(
        {
            "slowfast": (0.6, range(28)),
            "time_strided_sampling": (0.7, range(20)),
            "slow_only": (0.5, range(16)),
            "fast_only": (0.2, range(4)),
        }
    )
    text = slowfast.verdict_markdown(result)
    assert text.startswith("SlowFast against Slow-only: test accuracy 0.700 against 0.400")
    assert "for 0% more multiply-adds per clip" in text
    assert "validation picks **SlowFast (time-strided sampling)** (0.700)" in text
    assert "on test the best is **SlowFast (time-strided conv)** (0.700)" in text
    assert "all within 0.2 points." in text
    assert (
        "Fast-only (12k parameters) reaches test accuracy 0.100, against 0.700 for "
        "SlowFast (time-strided conv): resolved below SlowFast, as in the paper (published:"
    ) in text
    assert "unlike the paper" not in text and "thin network" not in text
    body, bullets = text.split("\n\n")
    assert body.endswith(
        "One seed per variant and 40 test clips; each claim below is decided by the paired 95% "
        "CI of its difference (bootstrap over the test clips), not by which number is larger."
    )
    claims = result.claims()
    assert [(v.claim, v.verdict) for v in claims] == [
        ("SlowFast beats Slow-only", "reproduced"),
        ("SlowFast beats Fast-only", "reproduced"),
    ]
    assert bullets == claims_markdown(claims)


@pytest.mark.parametrize(
    ("fast_only", "words"),
    [
        (range(2, 24), "*not* resolved below SlowFast, unlike the paper"),
        (range(40), "resolved *above* SlowFast, unlike the paper"),
    ],
)
def test_verdict_when_it_does_not_on_smoke(fast_only, words):
    result = hand_made(
        {
            "slowfast": (0.4, range(22)),
            "slow_only": (0.5, range(30)),
            "fast_only": (0.6, fast_only),
        },
        profile="smoke",
    )
    text = slowfast.verdict_markdown(result)
    assert text.startswith("SlowFast against Slow-only: test accuracy 0.550 against 0.750")
    assert "Among the lateral connections" not in text  # one lateral only
    assert f": {words} (published:" in text
    assert "on our reversed pairs the motion it sees" in text
    body, bullets = text.split("\n\n")
    assert body.endswith(SMOKE_NOTE)
    assert "- SlowFast beats Slow-only (" in bullets and "**reversed** here" in bullets


def test_verdict_of_fast_only_alone_has_no_comparison():
    result = hand_made({"fast_only": (0.6, range(20))})
    assert result.claims() == []
    assert slowfast.verdict_markdown(result).startswith("One seed per variant")
