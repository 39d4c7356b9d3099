"""Chapter 7: MemAE against a plain AE, Deep SVDD / SAD and scikit-learn baselines, one-class on
scikit-learn's real 8x8 digits.

``run`` does the chapter's five measurements in the order the page shows them (every training
is seeded on its own): the one-class AUROC of every method per normal digit and seed
(:func:`vidad.anomaly.one_class_digits.one_class_table`); the reconstructions of an AE and a
MemAE trained on ``example_digit``; the sparsity of the memory addressing for three shrinkage
thresholds; a PCA of the MemAE encodings and memory items; one-at-a-time ablations of N, lambda
and alpha; and Deep SAD's AUROC against the number of labelled anomalies.

Gong et al., "Memorizing Normality to Detect Anomaly: Memory-augmented Deep Autoencoder for
Unsupervised Anomaly Detection", ICCV 2019 (MemAE); Ruff et al., "Deep One-Class
Classification", ICML 2018 (Deep SVDD); Ruff et al., "Deep Semi-Supervised Anomaly Detection",
ICLR 2020 (Deep SAD).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from sklearn.decomposition import PCA

from vidad import stats
from vidad.anomaly import one_class_digits as ocd
from vidad.config import SectionConfig
from vidad.models import published
from vidad.paths import Paths

#: reconstructions figure: this many test normals, then this many anomalies
SHOWN_NORMALS, SHOWN_ANOMALIES = 4, 6
#: Bootstrap resamples (seeds x digits) of the chapter's paired CIs.
N_BOOT = 2000


@functools.cache
def labelled_pool_sizes() -> dict[int, int]:
    """Labelled anomalies available to Deep SAD per normal digit (the split's pool)."""
    _, labels = ocd.load_digit_images()
    return {d: len(ocd.one_class_split(labels, d, 0).labelled_pool) for d in range(10)}


@dataclass(frozen=True)
class Config(SectionConfig):
    """``params.yaml`` section ``memae_digits``."""

    SECTION = "memae_digits"

    seeds: list[int]  # seeds of the protocol (split and initialization)
    digits: list[int]  # normal digits to run
    epochs: int  # AE / MemAE epochs
    svdd_epochs: int  # Deep SVDD / SAD epochs
    num_items: int  # memory size N (the paper's MNIST setting is 100)
    shrink_threshold: float  # lambda
    entropy_weight: float  # alpha
    latent_dim: int  # encoding size
    ablation_num_items: list[int]  # memory sizes to compare
    ablation_shrink: list[float]  # lambdas to compare
    ablation_entropy: list[float]  # alphas to compare
    sad_counts: list[int]  # labelled anomalies given to Deep SAD
    example_digit: int  # normal digit of the reconstruction, sparsity and PCA figures

    def validate(self) -> None:
        lists = ("seeds", "digits", "ablation_num_items", "ablation_shrink", "ablation_entropy")
        for key in (*lists, "sad_counts"):
            if not getattr(self, key):
                raise ValueError(f"{key} must not be empty")
        bad = [d for d in [*self.digits, self.example_digit] if not 0 <= d <= 9]
        if bad or len(set(self.digits)) != len(self.digits):
            raise ValueError(f"digits and example_digit must be distinct digits 0-9, got {bad}")
        for key in ("epochs", "svdd_epochs", "num_items", "latent_dim"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be at least 1, got {getattr(self, key)}")
        if min(self.ablation_num_items) < 1:
            raise ValueError(
                f"ablation_num_items must be at least 1, got {self.ablation_num_items}"
            )
        for key in ("shrink_threshold", "entropy_weight"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must not be negative, got {getattr(self, key)}")
        for key in ("ablation_shrink", "ablation_entropy", "sad_counts"):
            if min(getattr(self, key)) < 0:
                raise ValueError(f"{key} must not be negative, got {getattr(self, key)}")
        pool = min(labelled_pool_sizes()[d] for d in self.digits)
        if max(self.sad_counts) > pool:
            raise ValueError(
                f"sad_counts asks for {max(self.sad_counts)} labelled anomalies; the smallest "
                f"labelled pool of the digits {self.digits} holds {pool}"
            )

    def setup(self) -> ocd.DigitsSetup:
        """The training settings every run shares (the rest are :class:`DigitsSetup` defaults)."""
        return ocd.DigitsSetup(
            epochs=self.epochs,
            svdd_epochs=self.svdd_epochs,
            num_items=self.num_items,
            shrink_threshold=self.shrink_threshold,
            entropy_weight=self.entropy_weight,
            latent_dim=self.latent_dim,
        )

    def sparsity_lambdas(self) -> list[float]:
        """No shrinkage, the default threshold and the largest one of the ablation."""
        return sorted({0.0, self.shrink_threshold, max(self.ablation_shrink)})


@dataclass
class Result:
    """The chapter's tables and arrays, and the facts its sentences are built from."""

    profile: str
    config: Config
    table: pd.DataFrame  # long: digit, seed, method, auroc
    summary: pd.DataFrame  # digits (and "mean") x ("mean" | "std", method)
    shown_labels: np.ndarray  # digit of each image of the reconstructions figure
    reconstructions: dict[str, np.ndarray]  # "input" | "AE" | "MemAE" -> (n, 1, 8, 8)
    sparsity: pd.DataFrame  # lambda, test images (normal | anomaly), items used
    projections: dict[str, np.ndarray]  # PCA of the MemAE encodings and memory items
    ablations: pd.DataFrame  # parameter, value, digit, auroc
    sad: pd.DataFrame  # labelled anomalies, digit, auroc

    @property
    def mean(self) -> pd.DataFrame:
        return self.summary["mean"][list(ocd.METHODS)]

    @property
    def std(self) -> pd.DataFrame:
        return self.summary["std"][list(ocd.METHODS)]

    @property
    def items_used(self) -> pd.Series:
        """Median number of memory items with a non-zero weight per image, per lambda."""
        return self.sparsity.groupby("lambda")["items used"].median()

    @property
    def ablation_means(self) -> pd.Series:
        return self.ablations.groupby(["parameter", "value"])["auroc"].mean()

    @property
    def sad_means(self) -> pd.Series:
        return self.sad.groupby("labelled anomalies")["auroc"].mean()

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/07_memae_digits.json``."""
        mean, std, means = self.mean, self.std, self.ablation_means
        return {
            "auroc_mean": {m: {str(d): float(v) for d, v in mean[m].items()} for m in mean},
            "auroc_std": {m: {str(d): float(v) for d, v in std[m].items()} for m in std},
            "median_items_used": {str(k): float(v) for k, v in self.items_used.items()},
            "ablations": {
                p: {str(v): float(a) for (q, v), a in means.items() if q == p}
                for p in self.ablations["parameter"].unique()
            },
            "deep_sad": {str(k): float(v) for k, v in self.sad_means.items()},
            "claims": [v.as_dict() for v in self.claims()],
        }

    def runs_frame(self, method: str) -> pd.DataFrame:
        """AUROC of ``method`` per (seed, digit): seeds as rows, digits as columns, sorted."""
        rows = self.table[self.table["method"] == method]
        grid = rows.pivot_table(index="seed", columns="digit", values="auroc", aggfunc="first")
        return grid.sort_index().sort_index(axis=1)

    def runs_matrix(self, method: str) -> np.ndarray:
        """:meth:`runs_frame` as an array (the paired items of the chapter's claims)."""
        return self.runs_frame(method).to_numpy(dtype=float)

    def claims(self) -> list[stats.Verdict]:
        """MemAE against its memory-less twin and against a one-class SVM (the MemAE paper's
        Table 1 on MNIST), by the CI of the mean paired AUROC difference, with seeds and
        normal digits resampled together. Raises ``ValueError`` when the two methods were not
        run on the same seeds and digits (the pairs would not be pairs)."""
        source = f"{published.MEMAE_SOURCE}, Table 1 (MNIST)"
        claims = []
        for other in ("AE", "OneClassSVM"):
            if not {"MemAE", other} <= set(self.table["method"]):
                continue
            memae, base = self.runs_frame("MemAE"), self.runs_frame(other)
            same = memae.index.equals(base.index) and memae.columns.equals(base.columns)
            if not same or memae.isna().any(axis=None) or base.isna().any(axis=None):
                raise ValueError(
                    f"MemAE and {other} were not run on the same seeds and digits: seeds "
                    f"{list(memae.index)} / {list(base.index)}, digits {list(memae.columns)} / "
                    f"{list(base.columns)} (or a run is missing)"
                )
            digits = np.arange(memae.shape[1])
            ci = stats.seed_item_bootstrap(
                _mean, digits, memae.to_numpy(float), base.to_numpy(float), n_boot=N_BOOT, seed=0
            )
            name = "a plain AE of the same architecture" if other == "AE" else "a one-class SVM"
            claims.append(
                stats.verdict(
                    f"MemAE beats {name} (mean one-class AUROC over digits)",
                    source,
                    ci,
                    seeds=memae.shape[0],
                    n_test=memae.shape[1],
                    unit="normal digits",
                )
            )
        return claims


# --- compute --------------------------------------------------------------------------------------


def _mean(_: np.ndarray, values: np.ndarray) -> float:
    return float(np.mean(values))


def digits_summary() -> str:
    images, _ = ocd.load_digit_images()
    side = f"{images.shape[-1]}x{images.shape[-2]}"
    return f"{len(images)} digits of {side} pixels, values in [0, 1]"


def shown_examples(split: ocd.OneClassSplit) -> np.ndarray:
    """The test normals and anomalies of the reconstructions figure (fixed draw)."""
    rng = np.random.default_rng(0)
    return np.r_[
        rng.choice(split.test_normal, SHOWN_NORMALS, replace=False),
        rng.choice(split.test_anomaly, SHOWN_ANOMALIES, replace=False),
    ]


def items_used(weights: np.ndarray, num_normal: int, lam: float) -> list[dict[str, Any]]:
    """One row per test image: memory items with a non-zero weight (normals come first)."""
    rows = []
    for kind, idx in (("normal", slice(0, num_normal)), ("anomaly", slice(num_normal, None))):
        for n in (weights[idx] > 0).sum(axis=1):
            rows.append({"lambda": lam, "test images": kind, "items used": int(n)})
    return rows


def sparsity_table(
    images: np.ndarray,
    split: ocd.OneClassSplit,
    seed: int,
    setup: ocd.DigitsSetup,
    lambdas: list[float],
) -> pd.DataFrame:
    """Items used per test image by a MemAE trained with each shrinkage threshold."""
    rows = []
    for lam in lambdas:
        model = ocd.train_autoencoder(
            images[split.train], seed, setup, use_memory=True, shrink_threshold=lam
        )
        weights = ocd.addressing_weights(model, images[split.test])
        rows += items_used(weights, len(split.test_normal), lam)
    return pd.DataFrame(rows)


def run(config: Config, paths: Paths) -> Result:
    """All of the chapter's trainings, on one torch thread (networks this small run faster on
    one thread than on several: threading overhead dominates); the thread count is restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config, paths.profile)
    finally:
        torch.set_num_threads(threads)


def _run(config: Config, profile: str) -> Result:
    setup, seed, digits = config.setup(), config.seeds[0], config.digits
    images, labels = ocd.load_digit_images()
    table = ocd.one_class_table(digits, config.seeds, ocd.METHODS, setup)
    split = ocd.one_class_split(labels, config.example_digit, seed, setup)
    ae = ocd.train_autoencoder(images[split.train], seed, setup, use_memory=False)
    memae = ocd.train_autoencoder(images[split.train], seed, setup, use_memory=True)
    shown = shown_examples(split)
    with torch.no_grad():
        x = torch.from_numpy(images[shown])
        reconstructions = {"input": x.numpy(), "AE": ae(x)[0].numpy(), "MemAE": memae(x)[0].numpy()}
    sparsity = sparsity_table(images, split, seed, setup, config.sparsity_lambdas())
    z_normal = ocd.latents(memae, images[split.test_normal])
    z_anomaly = ocd.latents(memae, images[split.test_anomaly])
    items = memae.memory.memory.detach().numpy()
    pca = PCA(n_components=2, random_state=0).fit(z_normal)
    projections = {
        "anomalies (other digits)": pca.transform(z_anomaly),
        f"normals ({config.example_digit})": pca.transform(z_normal),
        "memory items": pca.transform(items),
    }
    ablations = pd.concat(
        [
            ocd.memae_ablation("num_items", config.ablation_num_items, digits, seed, setup),
            ocd.memae_ablation("shrink_threshold", config.ablation_shrink, digits, seed, setup),
            ocd.memae_ablation("entropy_weight", config.ablation_entropy, digits, seed, setup),
        ]
    )
    sad = ocd.deep_sad_curve(config.sad_counts, digits, seed, setup)
    return Result(
        profile=profile,
        config=config,
        table=table,
        summary=ocd.summary_table(table),
        shown_labels=labels[shown],
        reconstructions=reconstructions,
        sparsity=sparsity,
        projections=projections,
        ablations=ablations,
        sad=sad,
    )


# --- figures --------------------------------------------------------------------------------------


def plot_auroc_per_digit(result: Result) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, 3.6))
    per_digit = result.table.groupby(["digit", "method"], as_index=False)["auroc"].mean()
    sns.barplot(data=per_digit, x="digit", y="auroc", hue="method", hue_order=ocd.METHODS, ax=ax)
    ax.set_ylim(max(0.0, per_digit["auroc"].min() - 0.05), 1.0)
    ax.set_title(f"test AUROC per normal digit (mean over {len(result.config.seeds)} seed(s))")
    ax.legend(fontsize="small", ncol=3, loc="lower right")
    return fig


def plot_reconstructions(result: Result) -> plt.Figure:
    """Inputs, AE and MemAE reconstructions: test normals (left) and anomalies (right)."""
    rows, labels = result.reconstructions, result.shown_labels
    fig, axes = plt.subplots(3, len(labels), figsize=(1.1 * len(labels), 3.6))
    for r, (name, batch) in enumerate(rows.items()):
        for c in range(len(labels)):
            axes[r, c].imshow(batch[c, 0], cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if c == 0:
                axes[r, c].set_ylabel(name)
            if r == 0:
                kind = "normal" if c < SHOWN_NORMALS else "anomaly"
                axes[r, c].set_title(f"{kind}\n({labels[c]})", fontsize="small")
    fig.suptitle(
        f"normal digit {result.config.example_digit}: test normals (left) and anomalies (right)"
    )
    fig.tight_layout()
    return fig


def plot_sparsity(result: Result) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.4))
    sns.boxplot(data=result.sparsity, x="lambda", y="items used", hue="test images", ax=ax)
    ax.set_yscale("log")
    ax.set_title(f"memory items with non-zero weight (N = {result.config.num_items})")
    return fig


#: anomalies, normals, memory items: the order of :attr:`Result.projections`
PCA_STYLES: tuple[dict[str, Any], ...] = (
    {"s": 6, "alpha": 0.3, "color": "C3"},
    {"s": 10, "alpha": 0.7, "color": "C0"},
    {"s": 40, "marker": "x", "color": "black"},
)


def plot_pca(result: Result) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for (label, p), style in zip(result.projections.items(), PCA_STYLES, strict=True):
        ax.scatter(p[:, 0], p[:, 1], label=label, **style)
    ax.legend(fontsize="small")
    ax.set_title("MemAE encodings and memory items, PCA of the normal encodings")
    return fig


def plot_ablations(result: Result) -> plt.Figure:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    groups = result.ablations.groupby("parameter", sort=False)
    for ax, (name, group) in zip(axes, groups, strict=True):
        sns.pointplot(data=group, x="value", y="auroc", errorbar="sd", ax=ax)
        ax.set_title(name)
        ax.set_xlabel(name)
    axes[0].set_ylabel("MemAE test AUROC (mean ± sd over digits)")
    fig.tight_layout()
    return fig


def plot_deep_sad(result: Result) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 3.4))
    sns.pointplot(data=result.sad, x="labelled anomalies", y="auroc", errorbar="sd", ax=ax)
    ax.set_title("Deep SAD test AUROC (mean ± sd over normal digits)")
    return fig


# --- text -----------------------------------------------------------------------------------------


def auroc_table(result: Result) -> pd.DataFrame:
    """'mean ± std' over seeds per normal digit (rows) and method (columns)."""
    mean, std = result.mean, result.std
    return (mean.round(3).astype(str) + " ± " + std.round(3).astype(str)).rename_axis(
        "normal digit"
    )


def memory_verdict(claim: stats.Verdict) -> str:
    """What the paired CI of MemAE - AE says about the memory."""
    return {
        "not resolved": "On these 8x8 digits the memory does not buy a gain over the plain AE "
        "that its confidence interval can tell from zero.",
        "reproduced": "The memory helps here.",
        "reversed": "The memory costs AUROC here.",
    }[claim.verdict]


def comparison_markdown(result: Result) -> str:
    """Mean AUROC per method, MemAE against the AE run by run, the verdict on the memory, and
    every claim's sentence."""
    overall = result.mean.loc["mean"].sort_values(ascending=False)
    claims = result.claims()
    memory = next((v for v in claims if "plain AE" in v.claim), None)
    gap = result.table.pivot_table(index=["digit", "seed"], columns="method", values="auroc")
    wins = int((gap["MemAE"] > gap["AE"]).sum())
    diff = float((gap["MemAE"] - gap["AE"]).mean())
    best = overall.index[0]
    return (
        "Mean AUROC over digits: "
        + ", ".join(f"{m} {v:.3f} (± {result.std.loc['mean', m]:.3f})" for m, v in overall.items())
        + f". MemAE beats the plain AE in {wins} of {len(gap)} (digit, seed) runs; the "
        f"mean difference is {diff:+.4f}. "
        + (memory_verdict(memory) if memory is not None else "")
        + (f" The best method is {best}." if best not in ("AE", "MemAE") else "")
        + " The MemAE paper reports one-class MNIST (28x28); we report digits, which are smaller "
        "and easier, so the numbers are not comparable."
        + "".join(f"\n\n- {v.sentence()}" for v in claims)
    )


def sparsity_markdown(result: Result) -> str:
    used, n = result.items_used, result.config.num_items
    text = (
        "Median number of items used per image: "
        + ", ".join(f"lambda = {k}: {v:.0f}" for k, v in used.items())
        + "."
    )
    if (used == 0).any():
        text += (
            " A median of 0 means the threshold exceeded every weight of most images: the "
            "decoder then sees a zero vector and rebuilds the same image whatever the input. The "
            f"paper recommends lambda between 1/N and 3/N ({1 / n:.3g} to {3 / n:.3g} here)."
        )
    return text


def ablations_markdown(result: Result) -> str:
    means = result.ablation_means
    return " ".join(
        f"**{p}**: best mean AUROC {means[p].max():.3f} at {means[p].idxmax()}, worst "
        f"{means[p].min():.3f} at {means[p].idxmin()}."
        for p in result.ablations["parameter"].unique()
    )


def deep_sad_markdown(result: Result) -> str:
    text = (
        "Mean AUROC by number of labelled anomalies: "
        + ", ".join(f"{k}: {v:.3f}" for k, v in result.sad_means.items())
        + "."
    )
    if result.profile == "smoke":
        text += (
            " On the `smoke` profile the networks train for a couple of epochs: these numbers "
            "only show that the code runs."
        )
    return text
