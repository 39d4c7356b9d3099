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
# # 2. C3D: learning with 3-D convolutions
#
# C3D (Tran et al., *Learning Spatiotemporal Features with 3D Convolutional Networks*, ICCV
# 2015) is the simplest space-time network: a VGG-style stack in which every convolution is
# 3x3x3, so every filter looks at three consecutive frames as well as a 3x3 neighbourhood.
# A 2-D convolution applied to a clip (frames stacked as channels) mixes all of time in its
# first layer and leaves a single image behind; a 3-D convolution returns a *volume*, so
# motion can still be modelled in every later layer. The only temporal downsampling is by
# pooling, and `pool1` is 1x2x2 so that early layers keep every frame.
#
# This chapter builds C3D exactly as published (`vidad.models.c3d`), checks its size and
# compute against the paper, and repeats the paper's search over the kernels' *temporal depth*
# on our synthetic action corpus.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of every training run
classes = "reversed_pairs"  # reversed_pairs (10 classes) | all (25 classes)
size = "tiny"  # C3D width preset for the depth search (paper | small | tiny)
num_frames = 16  # frames per clip, uniformly spaced over the whole clip
crop_size = 32  # side of the (random / resized) crop the network sees
cache_size = 40  # side at which clips are decoded once and cached
motion = True  # feed each clip minus its mean frame (see below)
epochs = 16  # training epochs per variant
batch_size = 32  # clips per batch
lr = 0.003  # AdamW peak learning rate (1 warm-up epoch, then cosine)
weight_decay = 0.05  # AdamW weight decay
warmup_epochs = 1  # linear warm-up epochs
depths = [1, 3, 5, 7, "increasing", "decreasing"]  # temporal kernel depths to compare
appearance_check = True  # also train depth 3 on raw clips, to show why clips are fed as motion

# %%
import dataclasses

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import published
from vidad.analysis import recognition as rec
from vidad.analysis.architecture import complexity_table, layer_table
from vidad.book import Chapter
from vidad.models import count_macs, count_params, create_model

chapter = Chapter("02_c3d", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %% [markdown]
# ## The architecture, layer by layer
#
# Shapes are recorded by hooks during a real forward pass of one 3x16x112x112 clip through the
# paper-size network with 101 outputs (UCF101's classes), so the table shows what the code does.

# %%
paper = create_model("c3d", size="paper", num_classes=101)
example = paper.input_spec.example(1)
layers = layer_table(paper, example)
display(layers)

# %% [markdown]
# `pool5` pads the 7x7 map to 8x8 so that it halves to 4x4: 512 x 1 x 4 x 4 = 8192 features
# enter `fc6`. Two thirds of the parameters sit in `fc6` and `fc7`. Compute is counted by
# fvcore, which counts one multiply-add as one operation (the papers' "FLOPs").

# %%
ours_params = count_params(paper)
ours_macs = count_macs(paper, example)
complexity = complexity_table(
    [
        {
            "quantity": "parameters (millions)",
            "ours": ours_params / 1e6,
            "published": published.C3D_PARAMS_M,
        },
        {
            "quantity": "multiply-adds per clip (G)",
            "ours": ours_macs / 1e9,
            "published": published.C3D_GMACS,
        },
    ]
)
display(complexity.round(4))
chapter.log_metrics(paper_params=ours_params, paper_gmacs=ours_macs / 1e9)
fc_share = layers.set_index("layer").loc[["fc6", "fc7"], "parameters"].sum() / ours_params
display(
    Markdown(
        f"Published ({published.C3D_SOURCE}): {published.C3D_PARAMS_M}M parameters and "
        f"{published.C3D_GMACS} GFLOPs (multiply-adds) for 101 classes at 16x112x112. Here "
        f"`fc6` and `fc7` hold {fc_share:.0%} of the parameters."
    )
)
del paper

# %% [markdown]
# ## The temporal-depth search: setting
#
# The paper trained networks from scratch on UCF101 split 1 whose 3-D kernels all had temporal
# depth 1, 3, 5 or 7, or varied over the five conv groups (increasing 3-3-5-5-7, decreasing
# 7-5-5-3-3). Its finding (published, C3D paper Fig. 2): **depth 3 was best and depth 1 (no
# temporal convolution, only temporal pooling) worst.**
#
# We repeat it on the ten classes of synth-actions' five **time-reversed pairs**
# (`sit_down`/`stand_up`, `raise_arms`/`lower_arms`, ...). The second class of a pair is the
# first played backwards, so within a pair only temporal order tells the classes apart. Besides
# accuracy over the ten classes we report the **direction accuracy**: of the test clips whose
# prediction is in the right pair, the share that also got the direction right. A network blind
# to order scores 0.5 there, however well it recognises the pair.
#
# Our setting is far smaller than the paper's (its nets had 17.5M parameters and trained on
# 9.5k clips): the width preset, clip size and number of epochs are in the parameters above,
# set per profile in `params.yaml`, with one seed per variant. Two changes to the published
# network make the small presets trainable from scratch on a few hundred clips, and both apply
# to every variant alike: batch normalization after each convolution, and global average
# pooling before `fc6` instead of the flatten (`head="avgpool"`; the paper preset keeps the
# flatten, as the table above shows). Each variant's epoch is chosen by **validation** accuracy
# and only that checkpoint is scored on **test**.

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

# %% [markdown]
# ## Why the clips are fed as motion
#
# Every synth-actions clip has its own random background, lighting and camera, and the actor
# covers a small part of the frame. A network trained from scratch on a few dozen clips per
# class has to find that small moving figure in clutter that changes from clip to clip; it can
# memorise its training clips' backgrounds, or fail to fit anything at all. The first run below
# trains the depth-3 network on raw clips; the rest of the chapter feeds every clip **minus its
# own mean frame** (scaled to unit variance), which removes whatever does not move and keeps
# frame order intact (`vidad.video.transforms.SubtractMeanFrame`). Kinetics-scale pretraining
# solves the same problem with data; we cannot download it, and say so.

# %%
if appearance_check and motion:
    raw = rec.run_variant(
        rec.Variant("depth 3, raw clips", "c3d", {"temporal_depth": 3}),
        dataclasses.replace(setup, motion=False),
        profile,
        chapter.name,
        class_list,
    )
    raw_train = rec.train_split_accuracy(raw, dataclasses.replace(setup, motion=False), profile)
    chapter.log_metrics(
        raw_clips={
            "val_accuracy": raw.run.val_accuracy,
            "test_accuracy": raw.run.test_accuracy,
            "train_accuracy": raw_train,
        }
    )
    display(
        Markdown(
            f"Depth 3 on raw clips: training accuracy {raw_train:.3f} (no augmentation, selected "
            f"checkpoint), validation {raw.run.val_accuracy:.3f}, test "
            f"{raw.run.test_accuracy:.3f}; chance is {chance:.3f}. "
            + (
                "It fitted its training clips without learning anything that transfers."
                if raw_train > 2 * raw.run.val_accuracy
                else "It did not even fit its training clips in this budget."
            )
        )
    )

# %% [markdown]
# ## The temporal-depth search: results

# %%
results = [
    rec.run_variant(
        rec.Variant(f"depth {d}", "c3d", {"temporal_depth": d}),
        setup,
        profile,
        chapter.name,
        class_list,
    )
    for d in depths
]
table = rec.results_table(results)
display(table.round(3))

# %%
fig = rec.learning_curves(results, "C3D temporal depth", chance=chance)
chapter.savefig(fig, "depth_search_curves")

# %%
fig = rec.test_bars(results, "test scores at the epoch chosen on validation", chance)
chapter.savefig(fig, "depth_search_test")

# %% [markdown]
# Direction accuracy per reversed pair (test clips, selected checkpoints):

# %%
pairs = rec.pair_breakdown(results)
fig, ax = plt.subplots(figsize=(1.2 * len(results) + 3, 3.2))
sns.heatmap(pairs, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="viridis", ax=ax)
ax.set_title("direction accuracy per pair (0.5 = blind to order)")
ax.set_xlabel("")
chapter.savefig(fig, "direction_per_pair")

# %%
chapter.log_metrics(depth_search={r.variant.label: r.metrics() for r in results})
by = table.set_index("variant")
best = by["val accuracy"].idxmax()
lines = [
    f"The depth chosen on validation is **{best}** (validation accuracy "
    f"{by.loc[best, 'val accuracy']:.3f}, test {by.loc[best, 'test accuracy']:.3f})."
]
if {"depth 1", "depth 3"} <= set(by.index):
    d1, d3 = by.loc["depth 1"], by.loc["depth 3"]
    holds = d3["test accuracy"] > d1["test accuracy"]
    lines.append(
        f"Depth 3 reaches test accuracy {d3['test accuracy']:.3f} against "
        f"{d1['test accuracy']:.3f} for depth 1, "
        + ("the paper's ordering." if holds else "so the paper's ordering does *not* hold here.")
        + f" Direction accuracy: {d3['test direction accuracy']:.3f} (depth 3) vs "
        f"{d1['test direction accuracy']:.3f} (depth 1). Depth 1 can only see order through "
        "its temporal max-pooling windows, which are order-blind, so it should stay near 0.5."
    )
worst = by["test accuracy"].idxmin()
lines.append(f"The lowest test accuracy is **{worst}**'s ({by.loc[worst, 'test accuracy']:.3f}).")
lines.append(
    f"Test sets are small ({len(results[0].run.test_labels)} clips) and each variant ran with one "
    "seed, so differences of a few points are within noise."
)
if profile == "smoke":
    lines.append(
        "On the `smoke` profile the models train for one epoch on a handful of clips: these "
        "numbers only show that the code runs."
    )
display(Markdown(" ".join(lines)))
