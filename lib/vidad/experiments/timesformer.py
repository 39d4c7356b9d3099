"""Chapter 5: TimeSformer's attention schemes, counted at paper size and trained from scratch.

Bertasius et al., *Is Space-Time Attention All You Need for Video Understanding?*, ICML 2021:
a ViT over the patches of every frame, with space-only, joint space-time or divided space-time
attention; divided is best, and space-only loses far more on Something-Something v2, where
order matters, than on Kinetics-400. :func:`run` counts the three schemes at paper size
(and checks whether fvcore counts the attention products), then trains each at the recipe's
preset; our time-reversed pairs ask the SSv2 question in its purest form.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import matplotlib.pyplot as plt
import pandas as pd

from vidad import stats
from vidad.experiments.recipe import SeededRecipeConfig
from vidad.experiments.recognition import (
    N_BOOT,
    SMOKE_NOTE,
    VariantRuns,
    accuracy_claim,
    chance_level,
    claims_markdown,
    direction_claim,
    direction_metric,
    learning_curves,
    noise_note,
    pair_heatmap,
    results_table,
    run_seeds,
    test_bars,
)
from vidad.models import count_macs, count_params, create_model, published
from vidad.models.timesformer import PATCH_STEMS, TIMESFORMER_SIZES
from vidad.paths import Paths
from vidad.synth import REVERSED_PAIRS
from vidad.train.recognition import Variant, class_names

CHAPTER = "05_timesformer"

#: The attention schemes of the paper (``attention_type`` of the model).
Attention = Literal["divided_space_time", "joint_space_time", "space_only"]
PatchStem = Literal["linear", "conv"]


@dataclasses.dataclass(frozen=True)
class Config(SeededRecipeConfig):
    """The recipe, the side of a patch, how patches become tokens (``linear``: the paper's
    patch embedding; ``conv``: a small convolutional stem) and the attention schemes."""

    SECTION = "timesformer"

    patch_size: int
    attention_types: list[Attention]
    patch_stem: PatchStem = "linear"

    def validate(self) -> None:
        super().validate()
        if not self.attention_types:
            raise ValueError("attention_types must name at least one scheme")
        if len(set(self.attention_types)) != len(self.attention_types):
            raise ValueError(f"attention_types must be distinct, got {self.attention_types}")
        if self.patch_stem not in PATCH_STEMS:
            raise ValueError(f"patch_stem must be one of {PATCH_STEMS}, got {self.patch_stem!r}")
        if self.patch_size < 1 or self.crop_size % self.patch_size:
            raise ValueError(
                f"patch_size {self.patch_size} must divide crop_size {self.crop_size} "
                "(the patches tile each frame)"
            )


def attention_variant(attention: str, patch_size: int, patch_stem: str = "linear") -> Variant:
    """The TimeSformer of one scheme, labelled as the tables show it ("divided space time")."""
    options: dict[str, Any] = {"attention_type": attention, "patch_size": patch_size}
    if patch_stem != "linear":  # the default stays out of the run keys
        options["patch_stem"] = patch_stem
    return Variant(attention.replace("_", " "), "timesformer", options)


@dataclasses.dataclass(frozen=True)
class Result:
    """Paper-size counts of every scheme and the schemes trained here.

    ``paper_params`` / ``paper_gmacs`` are by scheme (what the metrics record);
    ``attention_types`` are the config's, in ``results``' order.
    """

    profile: str
    paper_table: pd.DataFrame
    paper_params: dict[str, int]
    paper_gmacs: dict[str, float]
    classes: list[str]
    attention_types: list[str]
    results: list[VariantRuns]
    table: pd.DataFrame

    @property
    def chance(self) -> float:
        return chance_level(self.classes)

    @property
    def by_attention(self) -> dict[str, VariantRuns]:
        return dict(zip(self.attention_types, self.results, strict=True))

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/05_timesformer.json``."""
        return {
            "paper_params": self.paper_params,
            "paper_gmacs": self.paper_gmacs,
            "variants": {r.variant.label: r.metrics() for r in self.results},
            "claims": [v.as_dict() for v in self.claims()],
        }

    def claims(self) -> list[stats.Verdict]:
        """The paper's SSv2 finding on our order-sensitive classes (Table 1): attention across
        frames beats space-only attention, divided attention most; and it should see order."""
        by = self.by_attention
        if "space_only" not in by:
            return []
        source = f"{published.TIMESFORMER_SOURCE}, Table 1 (SSv2)"
        claims = []
        for scheme in ("divided_space_time", "joint_space_time"):
            if scheme in by:
                name = scheme.replace("_", " ").capitalize()
                claims.append(
                    accuracy_claim(
                        f"{name} attention beats space-only attention",
                        source,
                        by[scheme],
                        by["space_only"],
                    )
                )
        if "divided_space_time" in by:
            claims.append(
                direction_claim(
                    "Divided space-time attention tells the direction of time better than "
                    "space-only attention",
                    source,
                    by["divided_space_time"],
                    by["space_only"],
                )
            )
        return claims


def paper_counts() -> list[dict[str, Any]]:
    """TimeSformer-Base (8 x 224^2, patch 16, 400 classes) of each published scheme, counted."""
    rows = []
    for attention in published.TIMESFORMER:
        model = create_model("timesformer", size="paper", attention_type=attention)
        params = count_params(model)
        head = count_params(model.hf.classifier)
        gmacs = count_macs(model, model.input_spec.example(1)) / 1e9
        del model
        rows.append(
            {
                "attention": attention,
                "parameters (M)": params / 1e6,
                "without the 400-class head (M)": (params - head) / 1e6,
                "published parameters (M)": published.TIMESFORMER[attention]["params_m"],
                "multiply-adds per view (G)": gmacs,
                "published multiply-adds per view (G)": (
                    published.TIMESFORMER_GMACS_PER_VIEW
                    if attention == "divided_space_time"
                    else float("nan")
                ),
            }
        )
    return rows


def paper_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`paper_counts` as a table, with the relative difference in parameters."""
    table = pd.DataFrame(rows)
    table["parameter difference"] = table["parameters (M)"] / table["published parameters (M)"] - 1
    return table


def run(config: Config, paths: Paths) -> Result:
    """Count the three schemes at paper size, then train every configured scheme."""
    rows = paper_counts()
    setups = config.seed_setups()
    classes = class_names(config.classes, paths)
    variants = [
        attention_variant(a, config.patch_size, config.patch_stem) for a in config.attention_types
    ]
    results = [run_seeds(v, setups, paths, CHAPTER, classes) for v in variants]
    return Result(
        paths.profile,
        paper_frame(rows),
        {r["attention"]: round(r["parameters (M)"] * 1e6) for r in rows},
        {r["attention"]: r["multiply-adds per view (G)"] for r in rows},
        classes,
        list(config.attention_types),
        results,
        results_table(results),
    )


# --- tables ---------------------------------------------------------------------------------------


def in_pair_count(result: VariantRuns) -> float:
    """Test clips predicted in the right reversed pair (the direction accuracy's denominator),
    mean over seeds."""
    twin = {a: b for pair in REVERSED_PAIRS for a, b in (pair, pair[::-1])}
    names = result.classes
    counts = [
        sum(
            names[p] in (names[y], twin.get(names[y]))
            for y, p in zip(result.test_labels, predictions, strict=True)
        )
        for predictions in result.test_predictions
    ]
    return sum(counts) / len(counts)


def beside_table(result: Result) -> pd.DataFrame:
    """Published top-1 on Kinetics-400 and SSv2 beside our test and order scores, per scheme."""
    return pd.DataFrame(
        [
            {
                "attention": a,
                "published K400 top-1 (%)": published.TIMESFORMER[a]["k400"],
                "published SSv2 top-1 (%)": published.TIMESFORMER[a]["ssv2"],
                "ours: test accuracy": r.test_accuracy,
                "ours: test pair accuracy": r.order_scores()["pair_accuracy"],
                "ours: test direction accuracy": r.order_scores()["direction_accuracy"],
            }
            for a, r in result.by_attention.items()
            if a in published.TIMESFORMER
        ]
    )


# --- figures --------------------------------------------------------------------------------------


def plot_curves(result: Result) -> plt.Figure:
    return learning_curves(result.results, "TimeSformer attention", chance=result.chance)


def plot_test_scores(result: Result) -> plt.Figure:
    return test_bars(result.results, "test scores at the epoch chosen on validation", result.chance)


def plot_direction_per_pair(result: Result) -> plt.Figure:
    return pair_heatmap(result.results, "test direction accuracy per pair (0.5 = blind to order)")


# --- text -----------------------------------------------------------------------------------------


def attention_cost_markdown(result: Result) -> str:
    """Whether fvcore counts the attention products, and where the divided model's extra
    parameters are (a formula against the paper-size counts)."""
    base = TIMESFORMER_SIZES["paper"]
    by_attention = result.paper_table.set_index("attention")
    T, D, L = base.num_frames, base.hidden_size, base.num_layers
    N = (base.image_size // base.patch_size) ** 2
    predicted = L * (2 * D * ((T * N + 1) ** 2 - T * (N + 1) ** 2) - (T - 1) * 12 * D**2) / 1e9
    measured = (
        by_attention.loc["joint_space_time", "multiply-adds per view (G)"]
        - by_attention.loc["space_only", "multiply-adds per view (G)"]
    )
    divided = by_attention.loc["divided_space_time"]
    joint = by_attention.loc["joint_space_time"]
    space = by_attention.loc["space_only"]
    pub_extra = (
        published.TIMESFORMER["divided_space_time"]["params_m"]
        - published.TIMESFORMER["joint_space_time"]["params_m"]
    )
    extra = divided["parameters (M)"] - joint["parameters (M)"]
    return (
        f"Joint minus space-only: {measured:.2f} G multiply-adds counted by fvcore, "
        f"{predicted:.2f} G by the formula, so fvcore "
        + (
            "**does** count the attention matrix products."
            if abs(measured / predicted - 1) < 0.01
            else "does **not** fully count the attention matrix products (or the formula misses "
            "something): the table's multiply-adds should be read as the linear layers' only."
        )
        + f" Divided attention: **{divided['multiply-adds per view (G)']:.1f} G** per "
        f"{T}x{base.image_size}x{base.image_size} view here, against "
        f"{published.TIMESFORMER_GMACS_PER_VIEW:.0f} G published ({published.TIMESFORMER_SOURCE}:"
        f" {3 * published.TIMESFORMER_GMACS_PER_VIEW / 1e3:.2f} TFLOPs for 3 views).\n\n"
        f"Parameters: our counts include the {base.hidden_size} x 400 + 400 = "
        f"{(base.hidden_size * 400 + 400) / 1e6:.2f}M-parameter classifier. Without it, joint and "
        f"space-only have {joint['without the 400-class head (M)']:.2f}M and "
        f"{space['without the 400-class head (M)']:.2f}M parameters (they differ only by the "
        f"time embedding, {T} x {base.hidden_size} values), against "
        f"{published.TIMESFORMER['joint_space_time']['params_m']}M published; with the head they "
        f"are {joint['parameter difference']:+.1%} off. The divided model's extra "
        f"{extra:.1f}M parameters (published: {pub_extra:.1f}M)"
        f" are its temporal attention and the linear layer after it, "
        f"{extra * 1e6 / L:,.0f} per block "
        f"(Q, K, V and output projections, 4 D^2 + 4 D; the temporal linear layer, D^2 + D; "
        f"the temporal layer norm, 2 D: {5 * D**2 + 7 * D:,} at D = {D})."
    )


def training_markdown(config: Config) -> str:
    """The model and input the schemes are trained at, how patches become tokens, and why the
    learning rate is lower."""
    preset = TIMESFORMER_SIZES[config.size]
    tokens = (config.crop_size // config.patch_size) ** 2
    start = "trained from scratch"
    if config.patch_stem == "conv":
        start += (
            " with one change to the architecture: patches become tokens through a small "
            "convolutional stem (3x3 stride-2 convolutions down to the same token grid, then a "
            "1x1 convolution; Xiao et al., *Early Convolutions Help Transformers See Better*, "
            "NeurIPS 2021) instead of the paper's linear patch embedding,"
        )
    return (
        f"One TimeSformer of the `{config.size}` preset ({preset.num_layers} blocks of width "
        f"{preset.hidden_size}, {preset.num_heads} heads) per attention scheme, on "
        f"{config.num_frames} frames of {config.crop_size}x{config.crop_size} cut into "
        f"{config.patch_size}x{config.patch_size} patches ({tokens} tokens per frame), {start} "
        "with the recipe of the previous chapters: the classes in the parameters (by "
        "default the ten of synth-actions' time-reversed pairs), each clip minus its mean frame, "
        "the epoch chosen on validation, test scored once, "
        f"{config.num_seeds} seed{'s' if config.num_seeds != 1 else ''} each. One setting "
        "differs: "
        f"the peak learning rate is {config.lr:g}, not the convolutional networks' 3e-3, at "
        "which all three schemes stayed at chance in our trials (a transformer is far more "
        "sensitive to it, hence the warm-up and low rates of ViT recipes). "
        "Transformers without pretraining are known to need far more data than "
        "convolutional networks; these runs show what a few hundred clips buy. The paper never "
        "trains from scratch: its spatial attention starts from an ImageNet ViT. Our stand-in "
        "for that, a ViT trained on single frames of synth-actions "
        "(`python -m vidad.experiments.frame_vit`, which `init_from_frame_model` copies into a "
        "TimeSformer as the paper's code does), stayed at chance for the epochs this budget "
        "affords, and neither it nor a convolutional stem bought validation accuracy in the "
        "recipe search (`benchmarks/recipes.py`), so the default book trains from scratch."
    )


def _too_few(n: float) -> bool:
    """Whether ``n`` clips are too few to tell a direction accuracy from 0.5: a Wilson interval
    at 50% that is half the scale wide or wider."""
    if n < 1:
        return True
    half = stats.wilson_interval(round(n / 2), round(n))
    return half.high - half.low >= 0.5


def _space_only(result: Result) -> list[str]:
    by = result.by_attention
    space = by["space_only"]
    so = space.order_scores()
    n = in_pair_count(space)
    seeds = len(space.seeds)
    interval = stats.seed_item_interval(
        direction_metric(space.classes),
        space.test_labels,
        space.test_predictions,
        n_boot=N_BOOT,
        seed=0,
    )
    over = f"over the {n:.0f} test clips it put in the right pair" + (
        f" (mean of {seeds} seeds)" if seeds > 1 else ""
    )
    lines = [
        f"**Space-only** attention's direction accuracy is **{so['direction_accuracy']:.3f}** "
        f"{over}; "
        + (
            "too few clips to tell anything from 0.5."
            if _too_few(n) or math.isnan(interval.low)
            else f"its 95% CI (bootstrap over seeds and test clips) is [{interval.low:.2f}, "
            f"{interval.high:.2f}], which "
            + (
                "contains 0.5: not distinguishable from a model blind to order."
                if interval.contains(0.5)
                else "excludes 0.5 (by chance, or through something other than frame order)."
            )
        )
        + f" Its pair accuracy ({so['pair_accuracy']:.3f}) is what appearance alone gives."
    ]
    for a in ("divided_space_time", "joint_space_time"):
        if a not in by:
            continue
        sc = by[a].order_scores()
        lines.append(
            f"{a.replace('_', ' ').capitalize()}: direction accuracy "
            f"{sc['direction_accuracy']:.3f}, test accuracy {by[a].test_accuracy:.3f} against "
            f"{by['space_only'].test_accuracy:.3f} for space-only."
        )
    pub = published.TIMESFORMER
    lines.append(
        "Published, the space-only model loses "
        f"{pub['divided_space_time']['ssv2'] - pub['space_only']['ssv2']:.1f} points to divided "
        "attention on SSv2 but only "
        f"{pub['divided_space_time']['k400'] - pub['space_only']['k400']:.1f} on Kinetics-400."
    )
    return lines


def verdict_markdown(result: Result) -> str:
    """Whether space-only attention is blind to order here, and what attention across frames
    adds, beside the paper's SSv2 / Kinetics-400 gap."""
    lines = _space_only(result) if "space_only" in result.by_attention else []
    claims = result.claims()
    lines.append(noise_note(result.results, "scheme", claims=bool(claims)))
    if result.profile == "smoke":
        lines.append(SMOKE_NOTE)
    return " ".join(lines) + ("\n\n" + claims_markdown(claims) if claims else "")
