# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. MemAE: an autoencoder with a memory, on real digits
#
# An autoencoder trained only on normal data is a natural anomaly detector: what it has not
# seen, it should reconstruct badly. In practice autoencoders generalize *too* well and rebuild
# many anomalies almost perfectly. MemAE (Gong et al., ICCV 2019) forces the decoder to work from
# a **memory** of N prototypes of the normal data, learned with the network. For an encoding z,
#
# $$w = \mathrm{softmax}(z M^\top),\qquad
#   \hat w_i = \frac{\max(w_i - \lambda, 0)\, w_i}{|w_i - \lambda| + \epsilon},\qquad
#   \hat w \leftarrow \hat w / \lVert \hat w \rVert_1,\qquad \hat z = \hat w M,$$
#
# and the decoder sees only $\hat z$: a sparse convex combination of memory items. The hard
# shrinkage (threshold lambda) zeroes small weights; an entropy term $\alpha \sum_i -\hat w_i \log
# \hat w_i$ in the loss pushes the addressing further towards a few items. An anomaly is then
# rebuilt as the closest *normal-looking* input, and its reconstruction error stays high.
# `vidad.models.memae` implements the module (inner-product addressing, as the released code
# does) and a plain-AE twin with the same network and no memory.
#
# **Data.** The paper's image experiment is one-class MNIST. MNIST cannot be downloaded where this
# book is built, so we use scikit-learn's `load_digits`: 1797 real handwritten digits, 8x8 pixels,
# shipped with scikit-learn. Each digit in turn is normal: its images are split into train /
# validation / test; the other nine digits are split into a pool of labelled anomalies (used only
# by Deep SAD, never tested on) and the test anomalies. Every method is fitted on the same training
# normals and scored on the same test set by AUROC. Settings are SPEC defaults or fixed in
# `params.yaml`; none is chosen by looking at test scores.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seeds = [0, 1, 2]  # seeds of the protocol (split and initialization)
digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]  # normal digits to run
epochs = 60  # AE / MemAE epochs
svdd_epochs = 60  # Deep SVDD / SAD epochs
num_items = 100  # memory size N (the paper's MNIST setting)
shrink_threshold = 0.0025  # lambda
entropy_weight = 0.0002  # alpha
latent_dim = 32  # encoding size
ablation_num_items = [10, 25, 100, 500]  # memory sizes to compare
ablation_shrink = [0.0, 0.0025, 0.01, 0.04]  # lambdas to compare
ablation_entropy = [0.0, 0.0002, 0.002, 0.02]  # alphas to compare
sad_counts = [0, 1, 5, 10, 50]  # labelled anomalies given to Deep SAD
example_digit = 8  # normal digit of the reconstruction, sparsity and PCA figures

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from IPython.display import Markdown, display
from sklearn.decomposition import PCA

from vidad import plotting
from vidad.analysis import one_class_digits as ocd
from vidad.book import Chapter

# Networks this small run faster on one thread than on several (threading overhead dominates).
torch.set_num_threads(1)
chapter = Chapter("07_memae_digits", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))
setup = ocd.DigitsSetup(
    epochs=epochs,
    svdd_epochs=svdd_epochs,
    num_items=num_items,
    shrink_threshold=shrink_threshold,
    entropy_weight=entropy_weight,
    latent_dim=latent_dim,
)
images, labels = ocd.load_digit_images()
print(f"{len(images)} digits of {images.shape[-1]}x{images.shape[-2]} pixels, values in [0, 1]")

# %% [markdown]
# ## One-class AUROC per digit
#
# Methods: the plain **AE** and **MemAE** (reconstruction error), **Deep SVDD** (squared
# distance to the centre of a learned hypersphere; `vidad.models.svdd`), and three scikit-learn
# baselines on raw pixels: **OneClassSVM** (RBF, nu = 0.1), **IsolationForest** and the mean
# distance to the 5 nearest training normals.

# %%
table = ocd.one_class_table(digits, seeds, ocd.METHODS, setup)
summary = ocd.summary_table(table)
mean, std = summary["mean"][list(ocd.METHODS)], summary["std"][list(ocd.METHODS)]
display((mean.round(3).astype(str) + " ± " + std.round(3).astype(str)).rename_axis("normal digit"))
metrics = chapter.log_metrics(
    auroc_mean={m: {str(d): float(v) for d, v in mean[m].items()} for m in mean},
    auroc_std={m: {str(d): float(v) for d, v in std[m].items()} for m in std},
)

# %%
fig, ax = plt.subplots(figsize=(10, 3.6))
per_digit = table.groupby(["digit", "method"], as_index=False)["auroc"].mean()
sns.barplot(data=per_digit, x="digit", y="auroc", hue="method", hue_order=ocd.METHODS, ax=ax)
ax.set_ylim(max(0.0, per_digit["auroc"].min() - 0.05), 1.0)
ax.set_title(f"test AUROC per normal digit (mean over {len(seeds)} seed(s))")
ax.legend(fontsize="small", ncol=3, loc="lower right")
chapter.savefig(fig, "auroc_per_digit")

# %%
overall = mean.loc["mean"].sort_values(ascending=False)
gap = table.pivot_table(index=["digit", "seed"], columns="method", values="auroc")
memae_wins = int((gap["MemAE"] > gap["AE"]).sum())
diff = float((gap["MemAE"] - gap["AE"]).mean())
display(
    Markdown(
        "Mean AUROC over digits: "
        + ", ".join(f"{m} {v:.3f} (± {std.loc['mean', m]:.3f})" for m, v in overall.items())
        + f". MemAE beats the plain AE in {memae_wins} of {len(gap)} (digit, seed) runs; the "
        f"mean difference is {diff:+.4f}. "
        + (
            "On these 8x8 digits the memory does not buy a clear gain over the plain AE."
            if abs(diff) < 0.01
            else (
                "The memory helps on average here."
                if diff > 0
                else "The memory costs AUROC on average here."
            )
        )
        + (
            f" The best method is {overall.index[0]}."
            if overall.index[0] not in ("AE", "MemAE")
            else ""
        )
        + " The MemAE paper reports one-class MNIST (28x28); we report digits, which are smaller "
        "and easier, so the numbers are not comparable."
    )
)

# %% [markdown]
# ## What the memory does to reconstructions
#
# AE and MemAE trained on one digit (the first seed), shown on test normals and on anomalies.
# MemAE should rebuild an anomaly as something that looks like the normal digit.

# %%
split = ocd.one_class_split(labels, example_digit, seeds[0], setup)
ae = ocd.train_autoencoder(images[split.train], seeds[0], setup, use_memory=False)
memae = ocd.train_autoencoder(images[split.train], seeds[0], setup, use_memory=True)
rng = np.random.default_rng(0)
shown = np.r_[
    rng.choice(split.test_normal, 4, replace=False),
    rng.choice(split.test_anomaly, 6, replace=False),
]
with torch.no_grad():
    x = torch.from_numpy(images[shown])
    rows = {"input": x, "AE": ae(x)[0], "MemAE": memae(x)[0]}
fig, axes = plt.subplots(3, len(shown), figsize=(1.1 * len(shown), 3.6))
for r, (name, batch) in enumerate(rows.items()):
    for c in range(len(shown)):
        axes[r, c].imshow(batch[c, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
        if c == 0:
            axes[r, c].set_ylabel(name)
        if r == 0:
            kind = "normal" if c < 4 else "anomaly"
            axes[r, c].set_title(f"{kind}\n({labels[shown[c]]})", fontsize="small")
fig.suptitle(f"normal digit {example_digit}: test normals (left) and anomalies (right)")
fig.tight_layout()
chapter.savefig(fig, "reconstructions")

# %% [markdown]
# ## Sparsity of the addressing
#
# Number of memory items with a non-zero weight per test image, for three shrinkage thresholds.
# Without shrinkage (lambda = 0) the softmax gives every item some weight.

# %%
sparsity = []
for lam in sorted({0.0, shrink_threshold, max(ablation_shrink)}):
    model = ocd.train_autoencoder(
        images[split.train], seeds[0], setup, use_memory=True, shrink_threshold=lam
    )
    w = ocd.addressing_weights(model, images[split.test])
    for kind, idx in (
        ("normal", slice(0, len(split.test_normal))),
        ("anomaly", slice(len(split.test_normal), None)),
    ):
        for n in (w[idx] > 0).sum(axis=1):
            sparsity.append({"lambda": lam, "test images": kind, "items used": int(n)})
sparsity = pd.DataFrame(sparsity)
fig, ax = plt.subplots(figsize=(7, 3.4))
sns.boxplot(data=sparsity, x="lambda", y="items used", hue="test images", ax=ax)
ax.set_yscale("log")
ax.set_title(f"memory items with non-zero weight (N = {num_items})")
chapter.savefig(fig, "sparsity")
used = sparsity.groupby("lambda")["items used"].median()
chapter.log_metrics(median_items_used={str(k): float(v) for k, v in used.items()})
display(
    Markdown(
        "Median number of items used per image: "
        + ", ".join(f"lambda = {k}: {v:.0f}" for k, v in used.items())
        + "."
        + (
            " A median of 0 means the threshold exceeded every weight of most images: the "
            "decoder then sees a zero vector and rebuilds the same image whatever the input. The "
            f"paper recommends lambda between 1/N and 3/N ({1 / num_items:.3g} to "
            f"{3 / num_items:.3g} here)."
            if (used == 0).any()
            else ""
        )
    )
)

# %% [markdown]
# ## The latent space and the memory (PCA)
#
# Encodings of test normals and anomalies and the memory items, projected on the first two
# principal components of the normal encodings.

# %%
z_normal = ocd.latents(memae, images[split.test_normal])
z_anomaly = ocd.latents(memae, images[split.test_anomaly])
items = memae.memory.memory.detach().numpy()
pca = PCA(n_components=2, random_state=0).fit(z_normal)
fig, ax = plt.subplots(figsize=(6, 4.5))
for data, label, style in (
    (z_anomaly, "anomalies (other digits)", {"s": 6, "alpha": 0.3, "color": "C3"}),
    (z_normal, f"normals ({example_digit})", {"s": 10, "alpha": 0.7, "color": "C0"}),
    (items, "memory items", {"s": 40, "marker": "x", "color": "black"}),
):
    p = pca.transform(data)
    ax.scatter(p[:, 0], p[:, 1], label=label, **style)
ax.legend(fontsize="small")
ax.set_title("MemAE encodings and memory items, PCA of the normal encodings")
chapter.savefig(fig, "pca")

# %% [markdown]
# ## Ablations: memory size N, shrinkage lambda, entropy weight alpha
#
# MemAE AUROC for one setting changed at a time (others at their defaults), over all normal
# digits with the first seed.

# %%
ablations = pd.concat(
    [
        ocd.memae_ablation("num_items", ablation_num_items, digits, seeds[0], setup),
        ocd.memae_ablation("shrink_threshold", ablation_shrink, digits, seeds[0], setup),
        ocd.memae_ablation("entropy_weight", ablation_entropy, digits, seeds[0], setup),
    ]
)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
for ax, (name, group) in zip(axes, ablations.groupby("parameter", sort=False), strict=True):
    sns.pointplot(data=group, x="value", y="auroc", errorbar="sd", ax=ax)
    ax.set_title(name)
    ax.set_xlabel(name)
axes[0].set_ylabel("MemAE test AUROC (mean ± sd over digits)")
fig.tight_layout()
chapter.savefig(fig, "ablations")
ablation_means = ablations.groupby(["parameter", "value"])["auroc"].mean()
chapter.log_metrics(
    ablations={
        p: {str(v): float(a) for (q, v), a in ablation_means.items() if q == p}
        for p in ablations["parameter"].unique()
    }
)
display(
    Markdown(
        " ".join(
            f"**{p}**: best mean AUROC {ablation_means[p].max():.3f} at "
            f"{ablation_means[p].idxmax()}, worst {ablation_means[p].min():.3f} at "
            f"{ablation_means[p].idxmin()}."
            for p in ablations["parameter"].unique()
        )
    )
)

# %% [markdown]
# ## Deep SAD: a few labelled anomalies
#
# A supervised classifier is the wrong tool when anomalies are rare and unforeseeable, but a
# handful of *known* anomalies can still help. Deep SAD (Ruff et al., ICLR 2020) trains the Deep
# SVDD objective on normals and adds the inverse squared distance of labelled anomalies, pushing
# them away from the centre. The labelled anomalies come from the pool that is never tested on;
# with 0 labels Deep SAD is Deep SVDD.

# %%
sad = ocd.deep_sad_curve(sad_counts, digits, seeds[0], setup)
fig, ax = plt.subplots(figsize=(6, 3.4))
sns.pointplot(data=sad, x="labelled anomalies", y="auroc", errorbar="sd", ax=ax)
ax.set_title("Deep SAD test AUROC (mean ± sd over normal digits)")
chapter.savefig(fig, "deep_sad")
sad_means = sad.groupby("labelled anomalies")["auroc"].mean()
chapter.log_metrics(deep_sad={str(k): float(v) for k, v in sad_means.items()})
display(
    Markdown(
        "Mean AUROC by number of labelled anomalies: "
        + ", ".join(f"{k}: {v:.3f}" for k, v in sad_means.items())
        + "."
        + (
            " On the `smoke` profile the networks train for a couple of epochs: these numbers "
            "only show that the code runs."
            if profile == "smoke"
            else ""
        )
    )
)
