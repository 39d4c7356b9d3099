"""Variants trained with several seeds: means, tables, figures, and claims that resample seeds."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from recognition_fakes import fake_run, seeded

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import c3d
from vidad.experiments.recognition import (
    VariantRuns,
    accuracy_claim,
    history_frame,
    learning_curves,
    noise_note,
    results_table,
    seed_count,
    seed_scores,
    seeds_line,
)
from vidad.experiments.recognition import (
    test_bars as seed_bars,
)

REPO = Path(__file__).resolve().parents[1]


def three_seeds() -> VariantRuns:
    return seeded("depth 3", [range(20), range(30), range(40)])  # 0.5, 0.75, 1.0 of 40


def test_means_row_and_metrics_over_seeds():
    runs = three_seeds()
    assert runs.seeds == (0, 1, 2) and runs.test_predictions.shape == (3, 40)
    assert runs.test_accuracy == pytest.approx(0.75)
    assert runs.order_scores()["direction_accuracy"] == pytest.approx(0.75)
    row = runs.row()
    assert row["seeds"] == 3 and row["best epoch (val)"] == "1 / 1 / 1"
    assert row["test accuracy, range over seeds"] == "0.500-1.000"
    metrics = runs.metrics()
    assert metrics["seeds"] == [0, 1, 2] and metrics["best_epochs"] == [1, 1, 1]
    assert [s["test_accuracy"] for s in metrics["per_seed"]] == [0.5, 0.75, 1.0]
    assert metrics["test_accuracy"] == pytest.approx(0.75)
    assert seeds_line([runs]) == "3 seeds per variant (0, 1, 2), 40 test clips"


def test_every_seed_must_be_the_same_variant_on_the_same_clips():
    a = fake_run("a", val=0.5, labels=(0, 1, 2, 3))
    with pytest.raises(ValueError, match="saw different test clips"):
        VariantRuns((0, 1), (a, fake_run("a", val=0.5, labels=(1, 0, 2, 3))))
    with pytest.raises(ValueError, match="same variant"):
        VariantRuns((0, 1), (a, fake_run("b", val=0.5, labels=(0, 1, 2, 3))))
    with pytest.raises(ValueError, match="one run per seed"):
        VariantRuns((0, 1, 2), (a, a))


def test_tables_and_figures_carry_every_seed():
    runs, other = three_seeds(), seeded("depth 1", [range(10), range(12), range(14)])
    history = history_frame([runs, other])
    assert sorted(history["seed"].unique()) == [0, 1, 2] and len(history) == 6
    scores = seed_scores([runs, other])
    assert len(scores) == 2 * 3 * 2
    table = results_table([runs, other])
    assert list(table["seeds"]) == [3, 3]
    fig = seed_bars([runs, other], "test", chance=0.25)
    assert "mean of 3 seeds, whiskers: range" in fig.axes[0].get_title()
    plt.close(fig)
    plt.close(learning_curves([runs, other], "curves", chance=0.25))
    note = noise_note([runs, other], "depth")
    assert note.startswith("Every depth was trained with 3 seeds and scored on the same 40 test")
    assert "resamples seeds and test clips" in note
    with pytest.raises(ValueError, match="different numbers of seeds"):
        seed_count([runs, seeded("x", [range(3)])])


def test_a_claim_pairs_seeds_and_is_not_resolved_when_seeds_disagree():
    steady = accuracy_claim(
        "A beats B",
        "paper",
        seeded("A", [range(30)] * 3),
        seeded("B", [range(18)] * 3),
    )
    assert steady.verdict == "reproduced" and steady.seeds == 3 and steady.n_test == 40
    # seed 0 alone resolves A over B; seed 1 reverses it: over three seeds it is not resolved
    a_runs, b_runs = [range(36), range(4), range(30)], [range(4), range(36), range(20)]
    one = accuracy_claim("A beats B", "paper", seeded("A", a_runs[:1]), seeded("B", b_runs[:1]))
    three = accuracy_claim("A beats B", "paper", seeded("A", a_runs), seeded("B", b_runs))
    assert one.verdict == "reproduced"
    assert three.difference == pytest.approx((0.8 - 0.8 + 0.25) / 3)
    assert three.verdict == "not resolved" and three.ci_low < 0 < three.ci_high
    with pytest.raises(ValueError, match="not trained with the same seeds"):
        accuracy_claim("A beats B", "paper", seeded("A", a_runs), seeded("B", b_runs[:2]))


def test_num_seeds_is_checked_and_gives_one_setup_per_seed():
    params = stage_params(load_params(REPO / "params.yaml"), "c3d", "smoke")
    config = c3d.Config.from_params({**params, "seed": 5, "num_seeds": 3})
    assert config.seeds == (5, 6, 7)
    assert [s.seed for s in config.seed_setups()] == [5, 6, 7]
    assert config.seed_setups()[0] == config.setup()
    with pytest.raises(ConfigError, match="num_seeds must be >= 1"):
        c3d.Config.from_params({**params, "num_seeds": 0})
