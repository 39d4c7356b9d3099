"""What the architecture chapters (C3D, R(2+1)D, SlowFast, TimeSformer) share: the tables,
figures and sentences of their results (their settings' common part is
:class:`vidad.experiments.recipe.RecipeConfig`).

The protocol itself (train on ``train``, choose the epoch on ``val``, score ``test`` once) is
:func:`vidad.train.recognition.run_variant`; this module turns its results into what a page shows.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from vidad import stats
from vidad.synth import REVERSED_PAIRS
from vidad.train.recognition import VariantResult, order_scores

#: Bootstrap resamples of every paired CI in the architecture chapters (seeded: same CI on re-run).
N_BOOT = 2000

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


def noise_note(results: Sequence[VariantResult], unit: str) -> str:
    """The closing caveat of a verdict: one seed per ``unit`` and the size of the test set."""
    return (
        f"One seed per {unit} and {len(results[0].run.test_labels)} test clips: differences of a "
        "few points are within noise."
    )


def results_table(results: Sequence[VariantResult]) -> pd.DataFrame:
    """One row per variant: size, compute, chosen epoch, val / test accuracy, order scores."""
    return pd.DataFrame([r.row() for r in results])


def history_frame(results: Sequence[VariantResult]) -> pd.DataFrame:
    """Per-epoch training loss and validation accuracy of every variant (long format)."""
    return pd.DataFrame(
        [
            {
                "variant": r.variant.label,
                "epoch": h["epoch"],
                "train loss": h["train_loss"],
                "val accuracy": h["val_accuracy"],
            }
            for r in results
            for h in r.run.history
        ]
    )


def learning_curves(
    results: Sequence[VariantResult], title: str, chance: float | None = None
) -> plt.Figure:
    """Validation accuracy and training loss per epoch, one line per variant."""
    curves = history_frame(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    sns.lineplot(data=curves, x="epoch", y="val accuracy", hue="variant", marker="o", ax=axes[0])
    if chance is not None:
        axes[0].axhline(chance, color="black", linestyle="--", linewidth=1, label="chance")
        axes[0].legend(fontsize="small")
    axes[0].set_title(f"{title}: validation accuracy")
    sns.lineplot(
        data=curves, x="epoch", y="train loss", hue="variant", marker="o", ax=axes[1], legend=False
    )
    axes[1].set_title("training loss")
    fig.tight_layout()
    return fig


def test_bars(results: Sequence[VariantResult], title: str, chance: float) -> plt.Figure:
    """Test accuracy and direction accuracy per variant, with their chance levels."""
    table = results_table(results)
    long = table.melt(
        id_vars="variant",
        value_vars=["test accuracy", "test direction accuracy"],
        var_name="score",
        value_name="value",
    )
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(table) + 2), 3.4))
    sns.barplot(data=long, x="variant", y="value", hue="score", ax=ax)
    ax.axhline(chance, color="black", linestyle="--", linewidth=1, label="chance (accuracy)")
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="chance (direction)")
    ax.set_ylim(0, 1)
    ax.set_xlabel("")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return fig


def confusion_frame(result: VariantResult) -> pd.DataFrame:
    """Row-normalized test confusion matrix (true class x predicted class)."""
    k = len(result.classes)
    counts = np.zeros((k, k))
    for label, pred in zip(result.run.test_labels, result.run.test_predictions, strict=True):
        counts[label, pred] += 1
    rows = counts.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0),
        index=list(result.classes),
        columns=list(result.classes),
    )


def pair_breakdown(results: Sequence[VariantResult]) -> pd.DataFrame:
    """Direction accuracy per reversed pair (rows) and variant (columns) on test."""
    rows = []
    for r in results:
        for a, b in REVERSED_PAIRS:
            if a not in r.classes or b not in r.classes:
                continue
            keep = [
                (y, p)
                for y, p in zip(r.run.test_labels, r.run.test_predictions, strict=True)
                if r.classes[y] in (a, b)
            ]
            scores = order_scores([y for y, _ in keep], [p for _, p in keep], r.classes)
            rows.append(
                {
                    "pair": f"{a} / {b}",
                    "variant": r.variant.label,
                    "direction accuracy": scores["direction_accuracy"],
                }
            )
    return pd.DataFrame(rows).pivot(index="pair", columns="variant", values="direction accuracy")


def pair_heatmap(
    results: Sequence[VariantResult],
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


def _paired(a: VariantResult, b: VariantResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ya, yb = np.asarray(a.run.test_labels), np.asarray(b.run.test_labels)
    if not np.array_equal(ya, yb) or tuple(a.classes) != tuple(b.classes):
        raise ValueError(
            f"{a.variant.label} and {b.variant.label} were not tested on the same clips"
        )
    return ya, np.asarray(a.run.test_predictions), np.asarray(b.run.test_predictions)


def accuracy_claim(
    claim: str, source: str, paper_better: VariantResult, paper_worse: VariantResult
) -> stats.Verdict:
    """The paper says ``paper_better`` classifies better: our paired CI of the test-accuracy
    difference (bootstrap over the test clips both were scored on) decides."""
    y, a, b = _paired(paper_better, paper_worse)
    ci = stats.paired_bootstrap(stats.accuracy, y, a, b, n_boot=N_BOOT, seed=0)
    return stats.verdict(claim, source, ci, seeds=1, n_test=len(y), unit="test clips")


def direction_claim(
    claim: str, source: str, paper_better: VariantResult, paper_worse: VariantResult
) -> stats.Verdict:
    """As :func:`accuracy_claim`, for direction accuracy on the reversed pairs."""
    y, a, b = _paired(paper_better, paper_worse)
    classes = paper_better.classes

    def direction(labels: np.ndarray, predictions: np.ndarray) -> float:
        return order_scores(list(labels), list(predictions), classes)["direction_accuracy"]

    ci = stats.paired_bootstrap(direction, y, a, b, n_boot=N_BOOT, seed=0)
    return stats.verdict(claim, source, ci, seeds=1, n_test=len(y), unit="test clips")


def claims_markdown(claims: Sequence[stats.Verdict]) -> str:
    """One bullet per claim, each sentence formatted from its verdict (see ``stats.Verdict``)."""
    return "\n".join(f"- {v.sentence()}" for v in claims)
