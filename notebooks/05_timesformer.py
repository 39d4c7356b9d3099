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
# # 5. TimeSformer: attention over space and time
#
# TimeSformer (Bertasius et al., *Is Space-Time Attention All You Need for Video
# Understanding?*, ICML 2021) is a Vision Transformer applied to clips. Each of T frames is cut
# into N non-overlapping patches (16x16 pixels at paper size), every patch is linearly embedded
# as a token, a learned spatial position embedding and a learned time embedding are added, and a
# classification (CLS) token is prepended; a ViT-Base encoder (12 blocks, 768 channels, 12 heads)
# follows and a linear layer classifies the final CLS token. The question the paper asks is
# *which tokens attend to which*:
#
# * **space-only**: each frame is its own sequence of N + 1 tokens; patches attend only within
#   their frame. The frames' CLS outputs are averaged at the end, so nothing ever compares two
#   frames. Cost: T attentions over N + 1 tokens.
# * **joint space-time**: all T x N patch tokens (and the CLS token) attend to each other in
#   every block, so the attention cost grows with (T N)^2.
# * **divided space-time**: every block first applies *temporal* attention (each patch attends to
#   the patch at the same position in the other T - 1 frames), then *spatial* attention (within
#   its frame). Each attention is over T or N + 1 tokens only, but the temporal attention has its
#   own query / key / value and output projections (plus a layer norm before it and a linear
#   layer after it) in every block, which is why the divided model has more parameters than the
#   other two, whose blocks hold a single attention.
#
# Our model is Hugging Face's `TimesformerForVideoClassification` (`vidad.models.timesformer`),
# whose module names match the released Kinetics-400 checkpoint; `attention_type` selects the
# scheme. For `space_only`, HF's `TimesformerEmbeddings` creates no time embedding and skips
# adding one: the spatial position embedding is added to every frame alike and each frame stays
# a separate sequence with its own CLS token. Our wrapper averages the frames' CLS outputs, so a
# space-only TimeSformer is *exactly* blind to frame order: reversing a clip leaves its output
# unchanged (a unit test in `tests/test_models.py` checks this). Our time-reversed action pairs
# are the sharpest possible test of that.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of every training run
classes = "reversed_pairs"  # reversed_pairs (10 classes) | all (25 classes)
size = "tiny"  # ViT width / depth preset (paper | small | tiny)
num_frames = 8  # frames per clip (TimeSformer-Base uses 8)
crop_size = 32  # side of the (random / resized) crop the network sees
cache_size = 40  # side at which clips are decoded once and cached
motion = True  # feed each clip minus its mean frame (chapter 2 shows why)
epochs = 30  # training epochs per attention scheme
batch_size = 32  # clips per batch
lr = 0.0005  # AdamW peak learning rate (warm-up, then cosine); the CNN chapters use 3e-3
weight_decay = 0.05  # AdamW weight decay
warmup_epochs = 2  # linear warm-up epochs
patch_size = 8  # side of a patch (16 at paper size; 8 keeps 16 patches per 32x32 frame)
attention_types = ["divided_space_time", "joint_space_time", "space_only"]  # schemes to compare

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import published
from vidad.analysis import recognition as rec
from vidad.book import Chapter
from vidad.models import count_macs, count_params, create_model
from vidad.models.timesformer import TIMESFORMER_SIZES
from vidad.synth import REVERSED_PAIRS

chapter = Chapter("05_timesformer", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %% [markdown]
# ## Parameters and compute at paper size
#
# TimeSformer-Base, 8 x 224 x 224, patch 16, with a 400-class head, built once per attention
# scheme, counted and deleted. Multiply-adds are counted by fvcore for one view (one multiply-add
# counts as one operation, the papers' "FLOPs"); the paper reports only the divided model's cost.

# %%
base = TIMESFORMER_SIZES["paper"]
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
paper_table = pd.DataFrame(rows)
paper_table["parameter difference"] = (
    paper_table["parameters (M)"] / paper_table["published parameters (M)"] - 1
)
chapter.log_metrics(
    paper_params={r["attention"]: round(r["parameters (M)"] * 1e6) for r in rows},
    paper_gmacs={r["attention"]: r["multiply-adds per view (G)"] for r in rows},
)
display(paper_table.round(3))

# %% [markdown]
# Does fvcore count the attention matrices themselves (Q K^T and the attention-weighted sum of
# V), or only the linear layers? Joint and space-only blocks have identical weights, so the
# difference between their counts is the attention products, (T N + 1)^2 against T (N + 1)^2
# token pairs at 2 D multiply-adds each per block, minus the linear layers' work on the T - 1
# extra CLS tokens of space-only (12 D^2 per token and block). The formula is evaluated below.

# %%
by_attention = paper_table.set_index("attention")
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
display(
    Markdown(
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
        f"{divided['parameters (M)'] - joint['parameters (M)']:.1f}M parameters (published: "
        f"{pub_extra:.1f}M)"
        f" are its temporal attention and the linear layer after it, "
        f"{(divided['parameters (M)'] - joint['parameters (M)']) * 1e6 / L:,.0f} per block "
        f"(Q, K, V and output projections, 4 D^2 + 4 D; the temporal linear layer, D^2 + D; "
        f"the temporal layer norm, 2 D: {5 * D**2 + 7 * D:,} at D = {D})."
    )
)

# %% [markdown]
# ## Training the three schemes

# %%
preset = TIMESFORMER_SIZES[size]
tokens = (crop_size // patch_size) ** 2
display(
    Markdown(
        f"One TimeSformer of the `{size}` preset ({preset.num_layers} blocks of width "
        f"{preset.hidden_size}, {preset.num_heads} heads) per attention scheme, on {num_frames} "
        f"frames of {crop_size}x{crop_size} cut into {patch_size}x{patch_size} patches "
        f"({tokens} tokens per frame), trained from scratch with the recipe of the previous "
        "chapters: the classes in the parameters (by default the ten of synth-actions' "
        "time-reversed pairs), each clip minus its mean frame, the epoch chosen on validation, "
        "test scored once, one seed each. One setting differs: the peak learning rate is "
        f"{lr:g}, not the convolutional networks' 3e-3, at which all three schemes stayed at "
        "chance in our trials (a transformer trained from scratch is far more sensitive to it, "
        "hence the warm-up and low rates of ViT recipes). Transformers without pretraining are "
        "also known to need far more data than convolutional networks; these runs show what a "
        "few hundred clips buy."
    )
)

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
print(f"{len(class_list)} classes: {', '.join(class_list)}")
variants = [
    rec.Variant(a.replace("_", " "), "timesformer", {"attention_type": a, "patch_size": patch_size})
    for a in attention_types
]
results = [rec.run_variant(v, setup, profile, chapter.name, class_list) for v in variants]
table = rec.results_table(results)
display(table.round(3))

# %%
fig = rec.learning_curves(results, "TimeSformer attention", chance=chance)
chapter.savefig(fig, "curves")

# %%
fig = rec.test_bars(results, "test scores at the epoch chosen on validation", chance)
chapter.savefig(fig, "test_scores")

# %% [markdown]
# Direction accuracy per reversed pair (test clips, selected checkpoints):

# %%
pairs = rec.pair_breakdown(results)
fig, ax = plt.subplots(figsize=(1.3 * len(results) + 3, 3.4))
sns.heatmap(pairs, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
ax.set_title("test direction accuracy per pair (0.5 = blind to order)")
ax.set_xlabel("")
chapter.savefig(fig, "direction_per_pair")

# %% [markdown]
# ## Does attention across frames see the order?
#
# Published top-1 (%) on Kinetics-400, where most classes can be told from the scene, and on
# Something-Something v2, where they differ by motion and order, beside our scores. Our
# direction accuracy asks the SSv2 question in its purest form: within a reversed pair, only
# temporal order separates the classes.

# %%
beside = pd.DataFrame(
    [
        {
            "attention": a,
            "published K400 top-1 (%)": published.TIMESFORMER[a]["k400"],
            "published SSv2 top-1 (%)": published.TIMESFORMER[a]["ssv2"],
            "ours: test accuracy": r.run.test_accuracy,
            "ours: test pair accuracy": r.order_scores()["pair_accuracy"],
            "ours: test direction accuracy": r.order_scores()["direction_accuracy"],
        }
        for a, r in zip(attention_types, results, strict=True)
        if a in published.TIMESFORMER
    ]
)
display(beside.round(3))
display(Markdown(f"Published columns: {published.TIMESFORMER_SOURCE}."))


# %%
def in_pair_count(result) -> int:
    """Test clips predicted in the right reversed pair: the direction accuracy's denominator."""
    twin = {a: b for pair in REVERSED_PAIRS for a, b in (pair, pair[::-1])}
    names = result.classes
    return sum(
        names[p] in (names[y], twin.get(names[y]))
        for y, p in zip(result.run.test_labels, result.run.test_predictions, strict=True)
    )


chapter.log_metrics(variants={r.variant.label: r.metrics() for r in results})
by = dict(zip(attention_types, results, strict=True))
lines = []
if "space_only" in by:
    so = by["space_only"].order_scores()
    n = in_pair_count(by["space_only"])
    half_width = 1.96 * np.sqrt(0.25 / n) if n else float("nan")
    lines.append(
        f"**Space-only** attention's direction accuracy is **{so['direction_accuracy']:.3f}** "
        f"over the {n} test clips it put in the right pair; "
        + (
            "too few clips to tell anything from 0.5."
            if not n or half_width >= 0.25
            else f"a model blind to order lands within 0.5 +/- {half_width:.2f} about 95% of the "
            "time at that count, and this one is "
            + (
                "inside that range."
                if abs(so["direction_accuracy"] - 0.5) <= half_width
                else "outside it (by chance, or through something other than frame order)."
            )
        )
        + f" Its pair accuracy ({so['pair_accuracy']:.3f}) is what appearance alone gives."
    )
    for a in ("divided_space_time", "joint_space_time"):
        if a not in by:
            continue
        sc = by[a].order_scores()
        lines.append(
            f"{a.replace('_', ' ').capitalize()}: direction accuracy "
            f"{sc['direction_accuracy']:.3f} ("
            + ("above" if sc["direction_accuracy"] > so["direction_accuracy"] else "not above")
            + f" space-only's), test accuracy {by[a].run.test_accuracy:.3f} against "
            f"{by['space_only'].run.test_accuracy:.3f} for space-only."
        )
    pub = published.TIMESFORMER
    lines.append(
        "Published, the space-only model loses "
        f"{pub['divided_space_time']['ssv2'] - pub['space_only']['ssv2']:.1f} points to divided "
        "attention on SSv2 but only "
        f"{pub['divided_space_time']['k400'] - pub['space_only']['k400']:.1f} on Kinetics-400."
    )
lines.append(
    f"One seed per scheme and {len(results[0].run.test_labels)} test clips: differences of a few "
    "points are within noise."
)
if profile == "smoke":
    lines.append(
        "On the `smoke` profile the models train for one epoch on a handful of clips: these "
        "numbers only show that the code runs."
    )
display(Markdown(" ".join(lines)))
