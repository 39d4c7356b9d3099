"""What the architecture chapters (C3D, R(2+1)D, SlowFast, TimeSformer) share: the tables,
figures and sentences of their results (their settings' common part is
:class:`vidad.experiments.recipe.RecipeConfig`).

The protocol itself (train on ``train``, choose the epoch on ``val``, score ``test`` once) is
:func:`vidad.train.recognition.run_variant`; this module turns its results into what a page shows.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from vidad import stats
from vidad.paths import Paths
from vidad.synth import REVERSED_PAIRS
from vidad.train.recognition import (
    RecognitionSetup,
    Variant,
    VariantResult,
    order_scores,
    run_variant,
)

#: Bootstrap resamples of every paired CI in the architecture chapters (seeded: same CI on re-run).
N_BOOT = 2000

#: What the seaborn bands and whiskers of the chapters' figures show: the range over seeds.
SEED_RANGE = ("pi", 100)

#: The closing sentence of a verdict on the ``smoke`` profile.
SMOKE_NOTE = (
    "On the `smoke` profile the models train for one epoch on a handful of clips: these "
    "numbers only show that the code runs."
)


def chance_level(classes: Sequence[str]) -> float:
    """Accuracy of a uniform guess over ``classes``."""
    return 1 / len(classes)


def classes_line(classes: Sequence[str]) -> str:
    """``"10 classes: sit_down, stand_up, ..."`` (printed before a chapter trains)."""
    return f"{len(classes)} classes: {', '.join(classes)}"


@dataclasses.dataclass(frozen=True)
class VariantRuns:
    """One variant trained once per seed, every run tested on the same clips.

    What a chapter reports of a variant is the mean over its seeds; what it claims is decided
    by CIs that resample the seeds as well as the test clips (:func:`accuracy_claim`). The
    runs are in seed order and pair with another variant's runs seed by seed.
    """

    seeds: tuple[int, ...]
    runs: tuple[VariantResult, ...]

    def __post_init__(self) -> None:
        if not self.runs or len(self.runs) != len(self.seeds):
            raise ValueError(f"need one run per seed: {len(self.runs)} runs, seeds {self.seeds}")
        first = self.runs[0]
        for r in self.runs[1:]:
            if r.variant != first.variant or r.classes != first.classes:
                raise ValueError("every run of a VariantRuns must be of the same variant")
            if list(r.run.test_labels) != list(first.run.test_labels):
                raise ValueError(f"the seeds of {first.variant.label} saw different test clips")

    @property
    def variant(self) -> Variant:
        return self.runs[0].variant

    @property
    def classes(self) -> tuple[str, ...]:
        return self.runs[0].classes

    @property
    def params(self) -> int:
        return self.runs[0].params

    @property
    def gmacs(self) -> float:
        return self.runs[0].gmacs

    @property
    def model(self):
        """The first seed's trained model (for its input spec or a look at its weights)."""
        return self.runs[0].model

    @property
    def test_labels(self) -> np.ndarray:
        return np.asarray(self.runs[0].run.test_labels)

    @property
    def test_predictions(self) -> np.ndarray:
        """``(seeds, test clips)`` predictions."""
        return np.asarray([r.run.test_predictions for r in self.runs])

    @property
    def test_accuracy(self) -> float:
        """Mean over seeds."""
        return float(np.mean([r.run.test_accuracy for r in self.runs]))

    @property
    def val_accuracy(self) -> float:
        """Mean over seeds of the validation accuracy at each run's chosen epoch."""
        return float(np.mean([r.run.val_accuracy for r in self.runs]))

    @property
    def best_epochs(self) -> list[int]:
        return [r.run.best_epoch for r in self.runs]

    def order_scores(self) -> dict[str, float]:
        """Pair and direction accuracy (see :meth:`VariantResult.order_scores`), mean over
        the seeds where it is defined (NaN when no seed put a test clip in its pair)."""
        per_seed = [r.order_scores() for r in self.runs]
        means = {}
        for key in per_seed[0]:
            defined = [s[key] for s in per_seed if not np.isnan(s[key])]
            means[key] = float(np.mean(defined)) if defined else float("nan")
        return means

    def row(self) -> dict[str, Any]:
        """The variant's line in a chapter's table (means over seeds, with their range)."""
        scores = self.order_scores()
        accuracies = [r.run.test_accuracy for r in self.runs]
        return {
            "variant": self.variant.label,
            "parameters (M)": self.params / 1e6,
            "GMACs per clip": self.gmacs,
            "seeds": len(self.seeds),
            "best epoch (val)": " / ".join(str(e) for e in self.best_epochs),
            "val accuracy": self.val_accuracy,
            "test accuracy": self.test_accuracy,
            "test accuracy, range over seeds": f"{min(accuracies):.3f}-{max(accuracies):.3f}",
            "test pair accuracy": scores["pair_accuracy"],
            "test direction accuracy": scores["direction_accuracy"],
        }

    def metrics(self) -> dict[str, Any]:
        """What a chapter records in its metrics file for this variant: means over seeds and
        each seed's own numbers."""
        return {
            "model": self.variant.model,
            "options": {k: str(v) for k, v in self.variant.options.items()},
            "params": self.params,
            "gmacs": self.gmacs,
            "seeds": list(self.seeds),
            "best_epochs": self.best_epochs,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            **{f"test_{k}": v for k, v in self.order_scores().items()},
            "per_seed": [
                {
                    "seed": seed,
                    "best_epoch": r.run.best_epoch,
                    "val_accuracy": r.run.val_accuracy,
                    "test_accuracy": r.run.test_accuracy,
                    **{f"test_{k}": v for k, v in r.order_scores().items()},
                }
                for seed, r in zip(self.seeds, self.runs, strict=True)
            ],
        }


def run_seeds(
    variant: Variant,
    setups: Sequence[RecognitionSetup],
    paths: Paths,
    chapter: str,
    classes: Sequence[str],
) -> VariantRuns:
    """Train and test ``variant`` once per setup (one per seed, see
    :meth:`~vidad.experiments.recipe.SeededRecipeConfig.seed_setups`); each run resumes or
    is reused from its own run directory."""
    runs = tuple(run_variant(variant, s, paths, chapter, classes) for s in setups)
    return VariantRuns(tuple(s.seed for s in setups), runs)


def seed_count(results: Sequence[VariantRuns]) -> int:
    """The seeds every variant of a chapter was trained with (they must agree)."""
    counts = {len(r.seeds) for r in results}
    if len(counts) != 1:
        raise ValueError(f"variants trained with different numbers of seeds: {sorted(counts)}")
    return counts.pop()


def seeds_line(results: Sequence[VariantRuns]) -> str:
    """``"3 seeds per variant (0, 1, 2), 240 test clips"`` (printed before a chapter's tables)."""
    seeds = results[0].seeds
    return (
        f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} per variant "
        f"({', '.join(map(str, seeds))}), {len(results[0].test_labels)} test clips"
    )


def noise_note(results: Sequence[VariantRuns], unit: str, claims: bool = True) -> str:
    """The closing caveat of a verdict: seeds per ``unit``, the size of the test set and (when
    the chapter states ``claims``) what decides them."""
    seeds = seed_count(results)
    n = len(results[0].test_labels)
    if seeds == 1:
        return f"One seed per {unit} and {n} test clips" + (
            "; each claim below is decided by the paired 95% CI of its difference (bootstrap "
            "over the test clips), not by which number is larger."
            if claims
            else ": differences of a few points are within noise."
        )
    return (
        f"Every {unit} was trained with {seeds} seeds and scored on the same {n} test clips; "
        "the numbers are means over seeds (the figures' bands and whiskers show their range)"
        + (
            "; each claim below is decided by a paired 95% CI that resamples seeds and test "
            "clips, not by which number is larger."
            if claims
            else "."
        )
    )


def results_table(results: Sequence[VariantRuns]) -> pd.DataFrame:
    """One row per variant: size, compute, chosen epochs, val / test accuracy, order scores."""
    return pd.DataFrame([r.row() for r in results])


def history_frame(results: Sequence[VariantRuns]) -> pd.DataFrame:
    """Per-epoch training loss and validation accuracy of every variant and seed (long format)."""
    return pd.DataFrame(
        [
            {
                "variant": r.variant.label,
                "seed": seed,
                "epoch": h["epoch"],
                "train loss": h["train_loss"],
                "val accuracy": h["val_accuracy"],
            }
            for r in results
            for seed, run in zip(r.seeds, r.runs, strict=True)
            for h in run.run.history
        ]
    )


def learning_curves(
    results: Sequence[VariantRuns], title: str, chance: float | None = None
) -> plt.Figure:
    """Validation accuracy and training loss per epoch, one line per variant (mean over seeds,
    the band their range)."""
    curves = history_frame(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    line = dict(x="epoch", hue="variant", marker="o", errorbar=SEED_RANGE)
    sns.lineplot(data=curves, y="val accuracy", ax=axes[0], **line)
    if chance is not None:
        axes[0].axhline(chance, color="black", linestyle="--", linewidth=1, label="chance")
        axes[0].legend(fontsize="small")
    axes[0].set_title(f"{title}: validation accuracy")
    sns.lineplot(data=curves, y="train loss", ax=axes[1], legend=False, **line)
    if chance is not None:  # the loss of a classifier that learned nothing: ln K
        axes[1].axhline(-math.log(chance), color="black", linestyle="--", linewidth=1)
        axes[1].annotate("ln K: nothing learned", (0.02, 0.03), xycoords="axes fraction")
    axes[1].set_title("training loss")
    fig.tight_layout()
    return fig


#: A run whose last training loss is above this fraction of ln K has not fitted its own clips.
UNDERFIT_FRACTION = 0.75


def fitting_markdown(results: Sequence[VariantRuns], chance: float) -> str:
    """How far each variant fitted its *training* clips: first and last epoch's training loss
    (mean over seeds) against ln K, the loss of a classifier that learned nothing.

    Test accuracy near chance has two readings, a model that fits but does not generalize, or
    one that never fitted at all; only the second makes a comparison between variants
    meaningless, so the chapters say which it is.
    """
    floor = -math.log(chance)
    curves = history_frame(results)
    parts, stuck = [], []
    for label, rows in curves.groupby("variant", sort=False):
        by_epoch = rows.groupby("epoch")["train loss"].mean()
        first, last = float(by_epoch.iloc[0]), float(by_epoch.iloc[-1])
        parts.append(f"{label} {first:.2f} -> {last:.2f}")
        if last > UNDERFIT_FRACTION * floor:
            stuck.append(str(label))
    text = (
        "Training loss, first -> last epoch (mean over seeds): " + "; ".join(parts) + ". A "
        f"classifier that has learned nothing scores ln K = {floor:.2f}."
    )
    if stuck:
        text += (
            f" {', '.join(stuck)} ended above {UNDERFIT_FRACTION:.0%} of it: "
            + ("they have" if len(stuck) > 1 else "it has")
            + " not fitted even the training clips, so low test accuracy here is a failure to "
            "train at this size and budget, not evidence about the architecture."
        )
    return text


def seed_scores(results: Sequence[VariantRuns]) -> pd.DataFrame:
    """Test and direction accuracy per variant and seed (long format, for bars with whiskers)."""
    return pd.DataFrame(
        [
            {"variant": r.variant.label, "seed": seed, "score": name, "value": value}
            for r in results
            for seed, run in zip(r.seeds, r.runs, strict=True)
            for name, value in (
                ("test accuracy", run.run.test_accuracy),
                ("test direction accuracy", run.order_scores()["direction_accuracy"]),
            )
        ]
    )


def test_bars(results: Sequence[VariantRuns], title: str, chance: float) -> plt.Figure:
    """Test accuracy and direction accuracy per variant (mean over seeds, whiskers their
    range), with their chance levels."""
    long = seed_scores(results)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(results) + 2), 3.4))
    sns.barplot(
        data=long, x="variant", y="value", hue="score", errorbar=SEED_RANGE, capsize=0.1, ax=ax
    )
    ax.axhline(chance, color="black", linestyle="--", linewidth=1, label="chance (accuracy)")
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="chance (direction)")
    ax.set_ylim(0, 1)
    ax.set_xlabel("")
    seeds = seed_count(results)
    ax.set_title(title + (f" (mean of {seeds} seeds, whiskers: range)" if seeds > 1 else ""))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return fig


def _pooled(result: VariantRuns) -> tuple[np.ndarray, np.ndarray]:
    """Every seed's (label, prediction) pairs, one after another."""
    predictions = result.test_predictions
    return np.tile(result.test_labels, len(predictions)), predictions.reshape(-1)


def confusion_frame(result: VariantRuns) -> pd.DataFrame:
    """Row-normalized test confusion matrix (true class x predicted class), pooled over seeds."""
    k = len(result.classes)
    counts = np.zeros((k, k))
    for label, pred in zip(*_pooled(result), strict=True):
        counts[label, pred] += 1
    rows = counts.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0),
        index=list(result.classes),
        columns=list(result.classes),
    )


def pair_breakdown(results: Sequence[VariantRuns]) -> pd.DataFrame:
    """Direction accuracy per reversed pair (rows) and variant (columns) on test, pooled over
    seeds."""
    rows = []
    for r in results:
        labels, predictions = _pooled(r)
        for a, b in REVERSED_PAIRS:
            if a not in r.classes or b not in r.classes:
                continue
            keep = [r.classes[y] in (a, b) for y in labels]
            scores = order_scores(
                [int(y) for y in labels[keep]], [int(p) for p in predictions[keep]], r.classes
            )
            rows.append(
                {
                    "pair": f"{a} / {b}",
                    "variant": r.variant.label,
                    "direction accuracy": scores["direction_accuracy"],
                }
            )
    return pd.DataFrame(rows).pivot(index="pair", columns="variant", values="direction accuracy")


def pair_heatmap(
    results: Sequence[VariantRuns],
    title: str,
    width_per_variant: float = 1.3,
    height: float = 3.4,
    rotation: float | None = None,
) -> plt.Figure:
    """:func:`pair_breakdown` as a heat map: direction accuracy per reversed pair and variant."""
    pairs = pair_breakdown(results)
    fig, ax = plt.subplots(figsize=(width_per_variant * len(results) + 3, height))
    sns.heatmap(pairs, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
    ax.set_title(title)
    ax.set_xlabel("")
    if rotation is not None:
        ax.tick_params(axis="x", rotation=rotation)
    return fig


# --- claims ---------------------------------------------------------------------------------------


def _paired(a: VariantRuns, b: VariantRuns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and ``(seeds, clips)`` predictions of two variants, checked to pair up."""
    if not np.array_equal(a.test_labels, b.test_labels) or tuple(a.classes) != tuple(b.classes):
        raise ValueError(
            f"{a.variant.label} and {b.variant.label} were not tested on the same clips"
        )
    if a.seeds != b.seeds:
        raise ValueError(
            f"{a.variant.label} (seeds {a.seeds}) and {b.variant.label} (seeds {b.seeds}) "
            "were not trained with the same seeds"
        )
    return a.test_labels, a.test_predictions, b.test_predictions


def direction_metric(classes: Sequence[str]):
    """Direction accuracy on the reversed pairs as a ``metric(labels, predictions)``."""

    def direction(labels: np.ndarray, predictions: np.ndarray) -> float:
        return order_scores(list(labels), list(predictions), classes)["direction_accuracy"]

    return direction


def accuracy_claim(
    claim: str, source: str, paper_better: VariantRuns, paper_worse: VariantRuns
) -> stats.Verdict:
    """The paper says ``paper_better`` classifies better: the paired CI of the seed-averaged
    test-accuracy difference decides (bootstrap over seeds and the test clips both were scored
    on, :func:`vidad.stats.seed_item_bootstrap`)."""
    y, a, b = _paired(paper_better, paper_worse)
    ci = stats.seed_item_bootstrap(stats.accuracy, y, a, b, n_boot=N_BOOT, seed=0)
    return stats.verdict(claim, source, ci, seeds=len(a), n_test=len(y), unit="test clips")


def direction_claim(
    claim: str, source: str, paper_better: VariantRuns, paper_worse: VariantRuns
) -> stats.Verdict:
    """As :func:`accuracy_claim`, for direction accuracy on the reversed pairs."""
    y, a, b = _paired(paper_better, paper_worse)
    direction = direction_metric(paper_better.classes)
    ci = stats.seed_item_bootstrap(direction, y, a, b, n_boot=N_BOOT, seed=0)
    return stats.verdict(claim, source, ci, seeds=len(a), n_test=len(y), unit="test clips")


def claims_markdown(claims: Sequence[stats.Verdict]) -> str:
    """One bullet per claim, each sentence formatted from its verdict (see ``stats.Verdict``)."""
    return "\n".join(f"- {v.sentence()}" for v in claims)
