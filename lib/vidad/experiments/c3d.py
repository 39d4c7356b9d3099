"""Chapter 2: C3D as published, and the paper's search over the kernels' temporal depth.

Tran et al., *Learning Spatiotemporal Features with 3D Convolutional Networks*, ICCV 2015:
networks trained from scratch whose 3-D kernels all have temporal depth 1, 3, 5 or 7, or vary
over the five conv groups (increasing 3-3-5-5-7, decreasing 7-5-5-3-3); depth 3 was best and
depth 1 worst (the paper's Fig. 2). :func:`run` counts the paper-size network against the
published size and compute, trains depth 3 on raw clips (why the chapter feeds motion), then
trains every configured depth on synth-actions' time-reversed pairs.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import matplotlib.pyplot as plt
import pandas as pd

from vidad import stats
from vidad.experiments.recipe import SeededRecipeConfig
from vidad.experiments.recognition import (
    SMOKE_NOTE,
    VariantRuns,
    accuracy_claim,
    chance_level,
    claims_markdown,
    learning_curves,
    noise_note,
    pair_heatmap,
    results_table,
    run_seeds,
    test_bars,
)
from vidad.models import count_macs, count_params, create_model, published
from vidad.models.registry import get_entry
from vidad.models.registry import validate as validate_options
from vidad.models.summary import complexity_table, layer_table
from vidad.paths import Paths
from vidad.train.recognition import (
    Variant,
    VariantResult,
    class_names,
    run_variant,
    train_split_accuracy,
)

CHAPTER = "02_c3d"

#: A temporal depth of every conv group, or a named schedule over the five groups.
Depth = int | Literal["increasing", "decreasing"]


@dataclasses.dataclass(frozen=True)
class Config(SeededRecipeConfig):
    """The recipe, the temporal depths to compare (each trained with every seed) and whether
    to train depth 3 on raw clips (first seed only: a sanity check, not a claim)."""

    SECTION = "c3d"

    depths: list[Depth]
    appearance_check: bool

    def validate(self) -> None:
        super().validate()
        if not self.depths:
            raise ValueError("depths must name at least one temporal depth")
        if len(set(self.depths)) != len(self.depths):
            raise ValueError(f"depths must be distinct, got {self.depths}")
        for depth in self.depths:
            validate_options(get_entry("c3d"), self.size, None, {"temporal_depth": depth})


def depth_variant(depth: Depth) -> Variant:
    """The C3D of one temporal depth, labelled as the chapter's tables show it."""
    return Variant(f"depth {depth}", "c3d", {"temporal_depth": depth})


#: The appearance check: depth 3 trained on raw clips instead of motion.
RAW_VARIANT = Variant("depth 3, raw clips", "c3d", {"temporal_depth": 3})


@dataclasses.dataclass(frozen=True)
class Result:
    """The paper-size network's tables and counts, the appearance check and the depth search.

    ``raw`` and ``raw_train_accuracy`` are None when the appearance check did not run
    (``appearance_check`` off, or the recipe already feeds raw clips).
    """

    profile: str
    layers: pd.DataFrame
    complexity: pd.DataFrame
    paper_params: int
    paper_gmacs: float
    classes: list[str]
    raw: VariantResult | None
    raw_train_accuracy: float | None
    results: list[VariantRuns]
    table: pd.DataFrame

    @property
    def chance(self) -> float:
        return chance_level(self.classes)

    @property
    def fc_share(self) -> float:
        """Share of the paper-size network's parameters held by ``fc6`` and ``fc7``."""
        fc = self.layers.set_index("layer").loc[["fc6", "fc7"], "parameters"].sum()
        return fc / self.paper_params

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/02_c3d.json``."""
        metrics: dict[str, Any] = {
            "paper_params": self.paper_params,
            "paper_gmacs": self.paper_gmacs,
        }
        if self.raw is not None:
            metrics["raw_clips"] = {
                "val_accuracy": self.raw.run.val_accuracy,
                "test_accuracy": self.raw.run.test_accuracy,
                "train_accuracy": self.raw_train_accuracy,
            }
        metrics["depth_search"] = {r.variant.label: r.metrics() for r in self.results}
        metrics["claims"] = [v.as_dict() for v in self.claims()]
        return metrics

    def claims(self) -> list[stats.Verdict]:
        """The paper's two findings (Fig. 2): depth 3 is best and depth 1 worst.

        "Depth 3 is best" is one paired comparison of depth 3 with each other searched depth,
        "depth 1 is worst" one of each other depth with depth 1 (a finding holds when every
        one of its comparisons is reproduced); depth 3 against depth 1 belongs to both and is
        stated once, as "Depth 3 beats depth 1".
        """
        by = {r.variant.label: r for r in self.results}
        source = f"{published.C3D_SOURCE}, Fig. 2"
        claims = []
        if "depth 3" in by:
            if "depth 1" in by:
                claims.append(
                    accuracy_claim("Depth 3 beats depth 1", source, by["depth 3"], by["depth 1"])
                )
            for label in by:
                if label not in ("depth 1", "depth 3"):
                    claim = f"Depth 3 is best: depth 3 beats {label}"
                    claims.append(accuracy_claim(claim, source, by["depth 3"], by[label]))
        if "depth 1" in by:
            for label in by:
                if label not in ("depth 1", "depth 3"):
                    claim = f"Depth 1 is worst: {label} beats depth 1"
                    claims.append(accuracy_claim(claim, source, by[label], by["depth 1"]))
        return claims


def run(config: Config, paths: Paths) -> Result:
    """Count the paper-size C3D, then train the appearance check and every depth."""
    paper = create_model("c3d", size="paper", num_classes=101)
    example = paper.input_spec.example(1)
    layers = layer_table(paper, example)
    params = count_params(paper)
    gmacs = count_macs(paper, example) / 1e9
    del paper
    complexity = complexity_table(
        [
            {
                "quantity": "parameters (millions)",
                "ours": params / 1e6,
                "published": published.C3D_PARAMS_M,
            },
            {
                "quantity": "multiply-adds per clip (G)",
                "ours": gmacs,
                "published": published.C3D_GMACS,
            },
        ]
    )
    setup = config.setup()
    classes = class_names(config.classes, paths)
    raw = raw_train = None
    if config.appearance_check and config.motion:
        raw_setup = dataclasses.replace(setup, motion=False)
        raw = run_variant(RAW_VARIANT, raw_setup, paths, CHAPTER, classes)
        raw_train = train_split_accuracy(raw, raw_setup, paths)
    setups = config.seed_setups()
    results = [run_seeds(depth_variant(d), setups, paths, CHAPTER, classes) for d in config.depths]
    return Result(
        paths.profile,
        layers,
        complexity,
        params,
        gmacs,
        classes,
        raw,
        raw_train,
        results,
        results_table(results),
    )


# --- figures --------------------------------------------------------------------------------------


def plot_curves(result: Result) -> plt.Figure:
    return learning_curves(result.results, "C3D temporal depth", chance=result.chance)


def plot_test_scores(result: Result) -> plt.Figure:
    return test_bars(result.results, "test scores at the epoch chosen on validation", result.chance)


def plot_direction_per_pair(result: Result) -> plt.Figure:
    return pair_heatmap(
        result.results,
        "direction accuracy per pair (0.5 = blind to order)",
        width_per_variant=1.2,
        height=3.2,
    )


# --- text -----------------------------------------------------------------------------------------


def complexity_markdown(result: Result) -> str:
    """The published size and compute, and the share of the parameters in ``fc6`` / ``fc7``."""
    return (
        f"Published ({published.C3D_SOURCE}): {published.C3D_PARAMS_M}M parameters and "
        f"{published.C3D_GMACS} GFLOPs (multiply-adds) for 101 classes at 16x112x112. Here "
        f"`fc6` and `fc7` hold {result.fc_share:.0%} of the parameters."
    )


def appearance_markdown(result: Result) -> str:
    """What depth 3 learned from raw clips ("" when the check did not run)."""
    if result.raw is None:
        return ""
    raw, raw_train = result.raw, result.raw_train_accuracy
    return (
        f"Depth 3 on raw clips: training accuracy {raw_train:.3f} (no augmentation, selected "
        f"checkpoint), validation {raw.run.val_accuracy:.3f}, test "
        f"{raw.run.test_accuracy:.3f}; chance is {result.chance:.3f}. "
        + (
            "It fitted its training clips without learning anything that transfers."
            if raw_train > 2 * raw.run.val_accuracy
            else "It did not even fit its training clips in this budget."
        )
    )


def verdict_markdown(result: Result) -> str:
    """The depth validation chooses, depth 3 against depth 1 (the paper's finding), caveats."""
    by = result.table.set_index("variant")
    best = by["val accuracy"].idxmax()
    lines = [
        f"The depth chosen on validation is **{best}** (validation accuracy "
        f"{by.loc[best, 'val accuracy']:.3f}, test {by.loc[best, 'test accuracy']:.3f})."
    ]
    if {"depth 1", "depth 3"} <= set(by.index):
        d1, d3 = by.loc["depth 1"], by.loc["depth 3"]
        lines.append(
            f"Direction accuracy: {d3['test direction accuracy']:.3f} (depth 3) vs "
            f"{d1['test direction accuracy']:.3f} (depth 1). Depth 1 can only see order through "
            "its temporal max-pooling windows, which are order-blind, so it should stay near 0.5."
        )
    worst = by["test accuracy"].idxmin()
    lines.append(
        f"The lowest test accuracy is **{worst}**'s ({by.loc[worst, 'test accuracy']:.3f})."
    )
    claims = result.claims()
    lines.append(noise_note(result.results, "depth", claims=bool(claims)))
    if result.profile == "smoke":
        lines.append(SMOKE_NOTE)
    text = " ".join(lines)
    return text + ("\n\n" + claims_markdown(claims) if claims else "")
