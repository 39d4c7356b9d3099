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
# # 4. SlowFast: two frame rates, two widths
#
# SlowFast (Feichtenhofer et al., *SlowFast Networks for Video Recognition*, ICCV 2019) reads
# the same clip twice:
#
# * the **Slow pathway** sees few frames (every alpha-th of them) with the full channel width,
#   and convolves over time only in res4 and res5: earlier stages are effectively 2-D. It
#   captures what is in the scene.
# * the **Fast pathway** sees alpha times more frames with beta (1/8) of the channels, convolves
#   over time in every block and never downsamples time before the final pooling. It captures
#   motion, cheaply.
# * **Lateral connections** feed Fast into Slow after pool1, res2, res3 and res4 (one way), by
#   one of three transforms of the fast tensor {alpha T, S^2, beta C}: *time-to-channel* folds
#   each group of alpha frames into channels ({T, S^2, alpha beta C}); *time-strided sampling*
#   keeps one frame in alpha ({T, S^2, beta C}); a *time-strided convolution* (a 5x1x1 kernel in
#   the paper, 7x1x1 in pytorchvideo's model zoo, 2 beta C outputs, stride alpha) learns the
#   reduction. The result is concatenated to the slow features.
#
# Each pathway is globally average-pooled, the two vectors are concatenated, and a linear layer
# classifies. Our models come from pytorchvideo's `create_slowfast` (`vidad.models.slowfast`);
# the lateral variants, Slow-only and Fast-only are options of the same builder, so every
# variant below shares depth, stems and block layout.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of every training run
classes = "reversed_pairs"  # reversed_pairs (10 classes) | all (25 classes)
size = "tiny"  # width / depth preset of every variant (paper | small | tiny)
num_frames = 16  # frames per clip for the fast pathway (slow takes every alpha-th)
crop_size = 32  # side of the (random / resized) crop the network sees
cache_size = 40  # side at which clips are decoded once and cached
motion = True  # feed each clip minus its mean frame (chapter 2 shows why)
epochs = 20  # training epochs per variant
batch_size = 32  # clips per batch
lr = 0.003  # AdamW peak learning rate (warm-up, then cosine)
weight_decay = 0.05  # AdamW weight decay
warmup_epochs = 1  # linear warm-up epochs
variants = [
    "slowfast",
    "time_strided_sampling",
    "time_to_channel",
    "no_lateral",
    "slow_only",
    "fast_only",
]  # keys of vidad.analysis.recognition.SLOWFAST_VARIANTS

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import published
from vidad.analysis import recognition as rec
from vidad.analysis.architecture import complexity_table
from vidad.book import Chapter
from vidad.models import count_macs, count_params, create_model

chapter = Chapter("04_slowfast", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %% [markdown]
# ## Size and compute at paper size
#
# Multiply-adds are counted by fvcore for one view at 256x256 (the paper's inference crop),
# with a 400-class head. "8x8" is T = 8 slow frames at stride tau = 8 (alpha = 4, 32 fast
# frames); "4x16" is 4 slow frames (alpha = 8, 32 fast frames).

# %%
paper_models = {
    "SlowFast 8x8 R50": ({"alpha": 4}, "slowfast_8x8"),
    "SlowFast 4x16 R50": ({"alpha": 8}, "slowfast_4x16"),
    "Slow-only 4x16 R50": ({"alpha": 8, "pathways": "slow"}, "slow_only_4x16"),
    "Fast-only 4x16 R50": ({"alpha": 8, "pathways": "fast"}, "fast_only_4x16"),
}
rows, paper_numbers = [], {}
for label, (options, key) in paper_models.items():
    model = create_model("slowfast_r50", size="paper", num_frames=32, crop_size=256, **options)
    params, macs = count_params(model), count_macs(model, model.input_spec.example(1))
    paper_numbers[key] = {"params": params, "gmacs": macs / 1e9}
    if key in published.SLOWFAST_GFLOPS:
        rows.append(
            {
                "quantity": f"{label}: multiply-adds (G)",
                "ours": macs / 1e9,
                "published": published.SLOWFAST_GFLOPS[key],
            }
        )
    if key in published.SLOWFAST_PARAMS_M:
        rows.append(
            {
                "quantity": f"{label}: parameters (M)",
                "ours": params / 1e6,
                "published": published.SLOWFAST_PARAMS_M[key],
            }
        )
    del model
display(complexity_table(rows).round(3))
share_4x16 = 1 - paper_numbers["slow_only_4x16"]["gmacs"] / paper_numbers["slowfast_4x16"]["gmacs"]
sf8 = create_model("slowfast_r50", size="paper", crop_size=256, pathways="slow")
slow_8x8 = count_macs(sf8, sf8.input_spec.example(1)) / 1e9
del sf8
share_8 = 1 - slow_8x8 / paper_numbers["slowfast_8x8"]["gmacs"]
chapter.log_metrics(paper=paper_numbers, fast_share={"4x16": share_4x16, "8x8": share_8})
display(
    Markdown(
        f"Published: {published.SLOWFAST_SOURCE}. The **fast pathway's share of compute** (what "
        f"SlowFast adds to the Slow-only network with the same slow input): {share_4x16:.0%} at "
        f"4x16 and {share_8:.0%} at 8x8, against about "
        f"{published.SLOWFAST_FAST_SHARE:.0%} in the paper. The lateral connections are counted "
        "in SlowFast's share. Small differences in the counts come from pytorchvideo's 7x1x1 "
        "lateral kernels (the paper's 4x16 model uses 5x1x1) and from the 400-class head."
    )
)

# %% [markdown]
# ## Training the variants
#
# Every variant is trained from scratch with the recipe of the previous chapters: the ten
# classes of synth-actions' time-reversed pairs, each clip minus its mean frame, the epoch chosen
# on validation, test scored once, one seed each. The paper's ablations are on Kinetics-400,
# where scenes give most classes away and order matters little; on our pairs only motion
# separates the two classes of a pair.

# %%
setup = rec.RecognitionSetup(
    classes=classes,
    num_frames=num_frames,
    crop_size=crop_size,
    cache_size=cache_size,
    motion=motion,
    size=size,
    epochs=epochs,
    batch_size=batch_size,
    lr=lr,
    weight_decay=weight_decay,
    warmup_epochs=warmup_epochs,
    seed=seed,
)
class_list = rec.class_names(profile, classes)
chance = 1 / len(class_list)
results = [
    rec.run_variant(rec.SLOWFAST_VARIANTS[v], setup, profile, chapter.name, class_list)
    for v in variants
]
table = rec.results_table(results)
display(table.round(3))

# %%
fig = rec.learning_curves(results, "SlowFast variants", chance=chance)
chapter.savefig(fig, "curves")

# %%
fig = rec.test_bars(results, "test scores at the epoch chosen on validation", chance)
chapter.savefig(fig, "test_scores")

# %% [markdown]
# ## Accuracy against compute
#
# The paper's Fig. 2 plots Kinetics accuracy against GFLOPs for Slow-only and SlowFast at
# several T x tau: SlowFast is better at every budget. Our analogue plots test accuracy
# against multiply-adds per clip for the variants trained here.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
palette = dict(zip(table["variant"], sns.color_palette("colorblind", len(table)), strict=False))
for _, row in table.iterrows():
    ax.scatter(row["GMACs per clip"], row["test accuracy"], s=70, color=palette[row["variant"]])
    ax.annotate(
        row["variant"],
        (row["GMACs per clip"], row["test accuracy"]),
        textcoords="offset points",
        xytext=(6, 4),
        fontsize="small",
    )
ax.axhline(chance, color="black", linestyle="--", linewidth=1)
ax.set_xlabel("multiply-adds per clip (G)")
ax.set_ylabel("test accuracy")
ax.set_title("accuracy against compute (the paper's Fig. 2 analogue)")
fig.tight_layout()
chapter.savefig(fig, "accuracy_vs_compute")

# %%
pairs = rec.pair_breakdown(results)
fig, ax = plt.subplots(figsize=(1.3 * len(results) + 3, 3.4))
sns.heatmap(pairs, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
ax.set_title("test direction accuracy per pair (0.5 = blind to order)")
ax.set_xlabel("")
ax.tick_params(axis="x", rotation=20)
chapter.savefig(fig, "direction_per_pair")

# %% [markdown]
# ## The lateral ablation beside the paper's
#
# The published column is Kinetics-400 top-1 of 4x16 R50 models (the paper's Table 5a). It is
# shown for reference, not as a target: different data, scale and training length.

# %%
ablation = table[["variant", "test accuracy", "test direction accuracy", "GMACs per clip"]].copy()
ablation["published K400 top-1 (%)"] = [
    published.SLOWFAST_TOP1.get(v, float("nan")) for v in variants
]
display(ablation.round(3))
display(Markdown(f"Published column: {published.SLOWFAST_SOURCE}, Table 5a."))

# %%
chapter.log_metrics(variants={r.variant.label: r.metrics() for r in results})
by = table.set_index(pd.Index(variants))
lines = []
if {"slowfast", "slow_only"} <= set(by.index):
    sf, so = by.loc["slowfast"], by.loc["slow_only"]
    lines.append(
        f"SlowFast reaches test accuracy {sf['test accuracy']:.3f} against "
        f"{so['test accuracy']:.3f} for Slow-only ("
        + ("better, as in the paper" if sf["test accuracy"] > so["test accuracy"] else "not better")
        + f"), for {sf['GMACs per clip'] / so['GMACs per clip'] - 1:.0%} more multiply-adds;"
        f" direction accuracy {sf['test direction accuracy']:.3f} vs "
        f"{so['test direction accuracy']:.3f}."
    )
if "fast_only" in by.index:
    fo = by.loc["fast_only"]
    best_two = by.drop(index=[v for v in ("fast_only", "slow_only") if v in by.index])
    lines.append(
        f"Fast-only, with {fo['parameters (M)'] * 1e3:.0f}k parameters, reaches "
        f"{fo['test accuracy']:.3f}"
        + (
            f" against {best_two['test accuracy'].max():.3f} for the best two-pathway variant."
            if len(best_two)
            else "."
        )
    )
lateral_keys = ("slowfast", "time_strided_sampling", "time_to_channel", "no_lateral")
lateral_spread = max(published.SLOWFAST_TOP1[k] for k in lateral_keys) - min(
    published.SLOWFAST_TOP1[k] for k in lateral_keys
)
laterals = [
    v
    for v in ("slowfast", "time_strided_sampling", "time_to_channel", "no_lateral")
    if v in by.index
]
if len(laterals) > 1:
    best_val = by.loc[laterals, "val accuracy"].idxmax()
    best_test = by.loc[laterals, "test accuracy"].idxmax()
    lines.append(
        f"Among the lateral connections, validation picks **{by.loc[best_val, 'variant']}**; "
        f"on test the best is {by.loc[best_test, 'variant']} "
        f"({by.loc[best_test, 'test accuracy']:.3f}). The paper's order (published) is "
        "time-strided conv > time-strided sampling > time-to-channel > no lateral, within "
        f"{lateral_spread:.1f} points."
    )
lines.append(
    f"One seed per variant and {len(results[0].run.test_labels)} test clips: differences of a "
    "few points are within noise."
)
if profile == "smoke":
    lines.append("On the `smoke` profile these numbers only show that the code runs.")
display(Markdown(" ".join(lines)))
