"""Chapter 7's experiment: its settings, its metrics schema, its tables and its sentences."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from vidad import stats
from vidad.anomaly import one_class_digits as ocd
from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import memae_digits as md
from vidad.paths import Paths

REPO = Path(__file__).resolve().parents[1]


def smoke_params() -> dict:
    return stage_params(load_params(REPO / "params.yaml"), "memae_digits", "smoke")


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = md.Config.load(profile, params_file=REPO / "params.yaml")
    setup = config.setup()
    assert (setup.epochs, setup.num_items, setup.shrink_threshold) == (
        config.epochs,
        config.num_items,
        config.shrink_threshold,
    )
    assert setup.batch_size == ocd.DigitsSetup().batch_size  # the rest are the defaults


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 2.0}, r"memae_digits\.smoke\.epochs: expected int"),
        ({"ablation_shrink": ["0.0"]}, r"ablation_shrink: expected list\[float\]"),
        ({"seeds": 0}, r"seeds: expected list\[int\]"),
        ({"memory": 3}, r"unknown keys \['memory'\]"),
        ({"seeds": []}, "seeds must not be empty"),
        ({"sad_counts": []}, "sad_counts must not be empty"),
        ({"digits": [0, 10]}, "distinct digits 0-9"),
        ({"digits": [1, 1]}, "distinct digits 0-9"),
        ({"example_digit": -1}, "distinct digits 0-9"),
        ({"svdd_epochs": 0}, "svdd_epochs must be at least 1"),
        ({"ablation_num_items": [0, 10]}, "ablation_num_items must be at least 1"),
        ({"shrink_threshold": -0.1}, "shrink_threshold must not be negative"),
        ({"ablation_entropy": [-1.0]}, "ablation_entropy must not be negative"),
        ({"sad_counts": [0, 10_000]}, "smallest labelled pool"),
    ],
)
def test_a_bad_value_is_one_config_error(change, message):
    with pytest.raises(ConfigError, match=message):
        md.Config.load("smoke", {**smoke_params(), **change})


def test_an_int_is_accepted_where_a_float_is_declared():
    config = md.Config.load("smoke", {**smoke_params(), "shrink_threshold": 0})
    assert config.sparsity_lambdas() == [0.0, 0.0025]


def test_the_labelled_pool_is_three_tenths_of_the_other_digits():
    _, labels = ocd.load_digit_images()
    sizes = md.labelled_pool_sizes()
    assert sizes[0] == round(0.3 * int((labels != 0).sum()))
    md.Config.load("smoke", {**smoke_params(), "sad_counts": [min(sizes.values())]})


def test_sparsity_lambdas_are_none_the_default_and_the_largest():
    config = md.Config.load("cpu", params_file=REPO / "params.yaml")
    assert config.sparsity_lambdas() == [0.0, 0.0025, 0.04]
    smoke = md.Config.load("smoke", params_file=REPO / "params.yaml")
    assert smoke.sparsity_lambdas() == [0.0, 0.0025]  # the largest is the default


def test_items_used_counts_non_zero_weights_per_image():
    weights = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    rows = md.items_used(weights, num_normal=2, lam=0.1)
    assert [(r["test images"], r["items used"]) for r in rows] == [
        ("normal", 2),
        ("normal", 1),
        ("anomaly", 3),
    ]
    assert {r["lambda"] for r in rows} == {0.1}


def test_shown_examples_are_a_fixed_draw_of_normals_then_anomalies():
    _, labels = ocd.load_digit_images()
    split = ocd.one_class_split(labels, 3, 0)
    shown = md.shown_examples(split)
    assert np.array_equal(shown, md.shown_examples(split))
    assert set(shown[:4]) <= set(split.test_normal) and set(shown[4:]) <= set(split.test_anomaly)
    assert len(shown) == 10 and len(set(shown)) == 10


def _verdict(label: str) -> stats.Verdict:
    return stats.Verdict("MemAE beats a plain AE", "paper", label, 0.0, -1.0, 1.0, 3, 4)


@pytest.mark.parametrize(
    ("label", "words"),
    [("not resolved", "does not buy a gain"), ("reproduced", "helps"), ("reversed", "costs")],
)
def test_memory_verdict_follows_the_claims_verdict(label, words):
    text = md.memory_verdict(_verdict(label))
    assert words in text
    others = {"not resolved": "does not buy", "reproduced": "helps", "reversed": "costs"}
    assert not any(w in text for k, w in others.items() if k != label)


def hand_made_result(profile: str = "cpu") -> md.Result:
    """Two digits, two seeds; MemAE beats the AE in three of the four runs."""
    auroc = {
        "AE": [0.6, 0.7, 0.8, 0.9],
        "MemAE": [0.7, 0.8, 0.9, 0.8],
        "Deep SVDD": [0.5, 0.5, 0.5, 0.5],
        "OneClassSVM": [0.9, 0.9, 0.9, 0.9],
        "IsolationForest": [0.6, 0.6, 0.6, 0.6],
        "k-NN distance": [0.95, 0.95, 0.95, 0.95],
    }
    runs = [(0, 0), (0, 1), (1, 0), (1, 1)]
    table = pd.DataFrame(
        [
            {"digit": d, "seed": s, "method": m, "auroc": a[i]}
            for m, a in auroc.items()
            for i, (d, s) in enumerate(runs)
        ]
    )
    config = md.Config.from_params({**smoke_params(), "seeds": [0, 1], "num_items": 100})
    sparsity = pd.DataFrame(
        {
            "lambda": [0.0, 0.0, 0.0025, 0.0025, 0.0025],
            "test images": ["normal", "anomaly", "normal", "anomaly", "anomaly"],
            "items used": [100, 100, 0, 0, 3],
        }
    )
    ablations = pd.concat(
        [
            pd.DataFrame(
                {"parameter": "num_items", "value": [10, 10, 100, 100], "digit": [0, 1] * 2}
            ).assign(auroc=[0.5, 0.7, 0.8, 0.8]),
            pd.DataFrame(
                {"parameter": "shrink_threshold", "value": [0.0, 0.0025], "digit": [0, 0]}
            ).assign(auroc=[0.7, 0.6]),
        ]
    )
    sad = pd.DataFrame(
        {"labelled anomalies": [0, 0, 5, 5], "digit": [0, 1, 0, 1], "auroc": [0.5, 0.7, 0.9, 0.9]}
    )
    arrays = np.zeros((10, 1, 8, 8), dtype=np.float32)
    return md.Result(
        profile=profile,
        config=config,
        table=table,
        summary=ocd.summary_table(table),
        shown_labels=np.arange(10),
        reconstructions={"input": arrays, "AE": arrays, "MemAE": arrays},
        sparsity=sparsity,
        projections={
            "anomalies (other digits)": np.zeros((5, 2)),
            "normals (1)": np.ones((5, 2)),
            "memory items": np.ones((3, 2)),
        },
        ablations=ablations,
        sad=sad,
    )


def test_metrics_schema_and_values():
    metrics = hand_made_result().metrics()
    assert set(metrics) == {
        "auroc_mean", "auroc_std", "median_items_used", "ablations", "deep_sad", "claims",
    }  # fmt: skip
    assert set(metrics["auroc_mean"]) == set(ocd.METHODS)
    assert metrics["auroc_mean"]["AE"] == pytest.approx({"0": 0.65, "1": 0.85, "mean": 0.75})
    # std over seeds of the per-seed means over digits: (0.7, 0.8) for the AE
    assert metrics["auroc_std"]["AE"]["mean"] == pytest.approx(0.05)
    assert metrics["auroc_std"]["AE"]["0"] == pytest.approx(0.05)
    assert metrics["median_items_used"] == {"0.0": 100.0, "0.0025": 0.0}
    # the three ablations share one value column, so N is written as a float ("10.0")
    assert metrics["ablations"]["num_items"] == pytest.approx({"10.0": 0.6, "100.0": 0.8})
    assert metrics["ablations"]["shrink_threshold"] == pytest.approx({"0.0": 0.7, "0.0025": 0.6})
    assert metrics["deep_sad"] == pytest.approx({"0": 0.6, "5": 0.9})


def test_comparison_counts_memae_wins_and_names_the_best_method():
    text = md.comparison_markdown(hand_made_result())
    assert text.startswith("Mean AUROC over digits: k-NN distance 0.950 (± 0.000), OneClassSVM")
    assert "MemAE beats the plain AE in 3 of 4 (digit, seed) runs" in text
    assert "the mean difference is +0.0500" in text
    # MemAE - AE per (digit, seed): +0.1, +0.1, +0.1, -0.1: a CI that contains 0
    assert "the memory does not buy a gain over the plain AE" in text
    assert "The best method is k-NN distance." in text


# --- claims on hand-made tables: 3 seeds x 4 digits -------------------------------------------

CLAIM_SEEDS, CLAIM_DIGITS = [0, 1, 2], [1, 3, 5, 7]
#: MemAE minus the other method per (seed, digit): all above 0, mixed signs, all below 0
GAPS = {
    "reproduced": np.array(
        [[0.04, 0.06, 0.05, 0.07], [0.05, 0.03, 0.06, 0.05], [0.06, 0.05, 0.04, 0.05]]
    ),
    "not resolved": np.array(
        [[0.10, -0.10, 0.05, -0.05], [-0.08, 0.09, -0.04, 0.06], [0.07, -0.06, 0.02, -0.03]]
    ),
}
GAPS["reversed"] = -GAPS["reproduced"]


def claims_result(ae_gap: np.ndarray, svm_gap: np.ndarray) -> md.Result:
    """:func:`hand_made_result` with a seeds x digits table in which MemAE - AE is ``ae_gap``
    and MemAE - OneClassSVM is ``svm_gap`` (rows shuffled: the pairing must not rely on order)."""
    rows = []
    for i, seed in enumerate(CLAIM_SEEDS):
        for j, digit in enumerate(CLAIM_DIGITS):
            memae = 0.8 + 0.02 * j - 0.01 * i
            auroc = {m: 0.5 + 0.01 * j for m in ocd.METHODS}
            auroc |= {
                "MemAE": memae,
                "AE": memae - ae_gap[i, j],
                "OneClassSVM": memae - svm_gap[i, j],
            }
            rows += [
                {"digit": digit, "seed": seed, "method": m, "auroc": a} for m, a in auroc.items()
            ]
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)
    result = hand_made_result()
    result.table, result.summary = table, ocd.summary_table(table)
    return result


CLAIM_KEYS = {"claim", "source", "verdict", "difference", "ci_low", "ci_high", "seeds", "n_test"}


def test_runs_matrix_is_seeds_by_digits_in_sorted_order():
    result = claims_result(GAPS["reproduced"], GAPS["reversed"])
    ae = result.runs_matrix("AE")
    assert ae.shape == (3, 4)
    np.testing.assert_allclose(result.runs_matrix("MemAE") - ae, GAPS["reproduced"])
    assert list(result.runs_frame("AE").index) == CLAIM_SEEDS
    assert list(result.runs_frame("AE").columns) == CLAIM_DIGITS


@pytest.mark.parametrize("label", ["reproduced", "not resolved", "reversed"])
@pytest.mark.parametrize("other", ["AE", "OneClassSVM"])
def test_each_claim_is_decided_by_its_paired_ci(label, other):
    neutral = GAPS["not resolved"]
    gaps = {"AE": neutral, "OneClassSVM": neutral, other: GAPS[label]}
    result = claims_result(gaps["AE"], gaps["OneClassSVM"])
    claims = result.claims()
    assert [("plain AE" in c.claim, "one-class SVM" in c.claim) for c in claims] == [
        (True, False),
        (False, True),
    ]
    claim = claims[0 if other == "AE" else 1]
    assert claim.verdict == label
    assert claim.difference == pytest.approx(GAPS[label].mean())
    assert claim.ci_low <= claim.difference <= claim.ci_high
    if label == "reproduced":
        assert claim.ci_low > 0
    elif label == "reversed":
        assert claim.ci_high < 0
    else:
        assert claim.ci_low < 0 < claim.ci_high
    assert (claim.seeds, claim.n_test) == (len(CLAIM_SEEDS), len(CLAIM_DIGITS))
    assert "Gong et al." in claim.source and "Table 1 (MNIST)" in claim.source
    assert claims[1 if other == "AE" else 0].verdict == "not resolved"


def test_claims_are_the_metrics_claims_list_and_json_serializable():
    result = claims_result(GAPS["reproduced"], GAPS["reversed"])
    entries = result.metrics()["claims"]
    assert entries == [c.as_dict() for c in result.claims()]
    assert [e["verdict"] for e in entries] == ["reproduced", "reversed"]
    for entry in entries:
        assert set(entry) >= CLAIM_KEYS
        assert (entry["seeds"], entry["n_test"]) == (3, 4)
        assert type(entry["seeds"]) is int and type(entry["n_test"]) is int
        assert all(type(entry[k]) is float for k in ("difference", "ci_low", "ci_high"))
    assert json.loads(json.dumps(entries)) == entries


def test_every_claim_sentence_is_in_the_comparison():
    result = claims_result(GAPS["reversed"], GAPS["reproduced"])
    text = md.comparison_markdown(result)
    claims = result.claims()
    assert len(claims) == 2
    for claim in claims:
        assert claim.sentence() in text
    assert "The memory costs AUROC here." in text  # the AE claim decides the memory sentence
    assert "helps" not in text


def test_a_claim_needs_both_methods():
    result = claims_result(GAPS["reproduced"], GAPS["reproduced"])
    result.table = result.table[result.table["method"] != "OneClassSVM"]
    assert [c.verdict for c in result.claims()] == ["reproduced"]
    result.table = result.table[result.table["method"] != "AE"]
    assert result.claims() == []


@pytest.mark.parametrize(
    "change",
    ["missing run", "other digit", "other seed"],
)
def test_a_mismatch_of_seeds_or_digits_raises(change):
    result = claims_result(GAPS["reproduced"], GAPS["reproduced"])
    table = result.table
    ae = table["method"] == "AE"
    last = ae & (table["seed"] == 2) & (table["digit"] == 7)
    if change == "missing run":
        table = table[~last]
    elif change == "other digit":  # same shape, but AE's digit 7 is a digit 9
        table = table.assign(digit=table["digit"].where(~(ae & (table["digit"] == 7)), 9))
    else:  # same shape, but AE's seed 2 is a seed 4
        table = table.assign(seed=table["seed"].where(~(ae & (table["seed"] == 2)), 4))
    result.table = table
    with pytest.raises(ValueError, match="not run on the same seeds and digits"):
        result.claims()


def test_auroc_table_is_mean_plus_minus_std():
    table = md.auroc_table(hand_made_result())
    assert table.index.name == "normal digit"
    assert table.loc[0, "AE"] == "0.65 ± 0.05"
    assert list(table.columns) == list(ocd.METHODS)


def test_sparsity_note_appears_only_when_a_median_is_zero():
    result = hand_made_result()
    text = md.sparsity_markdown(result)
    assert text.startswith("Median number of items used per image: lambda = 0.0: 100, ")
    assert "between 1/N and 3/N (0.01 to 0.03 here)" in text
    result.sparsity["items used"] = 7
    assert "1/N" not in md.sparsity_markdown(result)


def test_ablations_and_deep_sad_sentences():
    result = hand_made_result()
    assert md.ablations_markdown(result) == (
        "**num_items**: best mean AUROC 0.800 at 100.0, worst 0.600 at 10.0. "
        "**shrink_threshold**: best mean AUROC 0.700 at 0.0, worst 0.600 at 0.0025."
    )
    assert (
        md.deep_sad_markdown(result)
        == "Mean AUROC by number of labelled anomalies: 0: 0.600, 5: 0.900."
    )
    assert "only show that the code runs" in md.deep_sad_markdown(hand_made_result("smoke"))


def test_figures_draw_from_a_result():
    result = hand_made_result()
    result.ablations = pd.concat(
        [result.ablations, result.ablations.assign(parameter="entropy_weight")]
    )
    for plot in (
        md.plot_auroc_per_digit,
        md.plot_reconstructions,
        md.plot_sparsity,
        md.plot_pca,
        md.plot_ablations,
        md.plot_deep_sad,
    ):
        fig = plot(result)
        assert isinstance(fig, plt.Figure)
        plt.close(fig)


def test_a_tiny_run_end_to_end_restores_the_thread_count(tmp_path):
    params = {
        **smoke_params(),
        "digits": [3],
        "epochs": 1,
        "svdd_epochs": 1,
        "ablation_num_items": [10],
        "ablation_shrink": [0.01],
        "ablation_entropy": [0.0],
        "sad_counts": [0, 2],
        "example_digit": 3,
    }
    config = md.Config.from_params(params)
    threads = torch.get_num_threads()
    result = md.run(config, Paths("smoke", tmp_path))
    assert torch.get_num_threads() == threads
    metrics = result.metrics()
    assert set(metrics["auroc_mean"]["MemAE"]) == {"3", "mean"}
    assert set(metrics["median_items_used"]) == {"0.0", "0.0025", "0.01"}
    assert set(metrics["ablations"]) == {"num_items", "shrink_threshold", "entropy_weight"}
    assert set(metrics["deep_sad"]) == {"0", "2"}
    assert result.reconstructions["MemAE"].shape == (10, 1, 8, 8)
    assert result.projections["memory items"].shape == (config.num_items, 2)
    assert all(0.0 <= v <= 1.0 for v in metrics["auroc_mean"]["OneClassSVM"].values())
    claims = metrics["claims"]
    assert len(claims) == 2 and all(set(c) >= CLAIM_KEYS for c in claims)
    assert {(c["seeds"], c["n_test"]) for c in claims} == {(len(config.seeds), 1)}
    assert {c["verdict"] for c in claims} <= {"reproduced", "not resolved", "reversed"}
    text = md.comparison_markdown(result)
    assert all(c.sentence() in text for c in result.claims())
