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
preset = "tiny"  # C3D width preset for the depth search (paper | small | tiny)
num_frames = 8  # frames per clip, uniformly spaced over the whole clip
crop_size = 48  # side of the (random / centre) crop the network sees
cache_size = 56  # side at which clips are decoded once and cached
depths = [1, 3, 5, 7, "increasing", "decreasing"]  # temporal kernel depths to compare
epochs = 8  # training epochs per variant
batch_size = 32  # clips per batch
lr = 0.003  # AdamW learning rate (cosine schedule)

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis.architecture import complexity_table, layer_table
from vidad.book import Chapter
from vidad.config import build_dir
from vidad.models import count_macs, count_params, create_model
from vidad.pipeline import synth_root
from vidad.train import TrainConfig
from vidad.train.classify import train_classifier
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.transforms import make_clip_transform

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
# enter `fc6`. Two thirds of the parameters sit in `fc6` and `fc7`, which is why the paper's
# depth search could change the convolution kernels while keeping the networks' sizes similar.
# Compute is counted by fvcore, which counts one multiply-add as one operation (the papers'
# "FLOPs").

# %%
ours_params = count_params(paper)
ours_macs = count_macs(paper, example)
complexity = complexity_table(
    [
        {"quantity": "parameters (millions)", "ours": ours_params / 1e6, "published": 78.4},
        {"quantity": "multiply-adds per clip (G)", "ours": ours_macs / 1e9, "published": 38.5},
    ]
)
display(complexity.round(4))
chapter.log_metrics(paper_params=ours_params, paper_gmacs=ours_macs / 1e9)
display(
    Markdown(
        "Published: 78.4M parameters and 38.5 GFLOPs (multiply-adds) for 101 classes at "
        "16x112x112 (C3D paper; SPEC section 4). For comparison, `fc6` alone holds "
        f"{layers.set_index('layer').loc['fc6', 'parameters'] / 1e6:.1f}M parameters."
    )
)
del paper

# %% [markdown]
# ## The temporal-depth search
#
# The paper trained networks from scratch on UCF101 split 1 whose 3-D kernels all had temporal
# depth 1, 3, 5 or 7, or varied over the five conv groups (increasing 3-3-5-5-7, decreasing
# 7-5-5-3-3). Its finding (published, C3D paper Fig. 2): **depth 3 was best and depth 1 (no
# temporal convolution, only temporal pooling) worst.** We repeat it on synth-actions, whose
# time-reversed class pairs punish a network that cannot model order.
#
# Our setting is far smaller than the paper's: a narrow width preset, short low-resolution clips
# (both in the parameters cell above, set per profile in `params.yaml`), a few epochs on a CPU,
# one seed per variant. Clips are decoded once into a cache
# (`vidad.video.cache`); training uses random short-side scaling and crops, evaluation a resize.
# Each variant's epoch is chosen by **validation** accuracy and only that checkpoint is scored
# on **test**. In our presets the convolutions hold most of the parameters (the fully connected
# layers are narrow), so unlike the paper the deeper kernels also mean bigger networks; the
# table shows each variant's size.

# %%
data_root = synth_root(profile, "synth-actions")
spec = ClipCacheSpec(num_frames=num_frames, height=cache_size, width=cache_size)
cache_root = build_dir(profile) / "cache" / "synth-actions"
generator = torch.Generator().manual_seed(seed)
train_tf = make_clip_transform(
    True, num_frames, crop_size, min_scale=crop_size, max_scale=cache_size, generator=generator
)
eval_tf = make_clip_transform(False, num_frames, crop_size)
train_set = CachedClipDataset(data_root, "train", spec, cache_root, transform=train_tf)
val_set = CachedClipDataset(data_root, "val", spec, cache_root, transform=eval_tf)
test_set = CachedClipDataset(data_root, "test", spec, cache_root, transform=eval_tf)
num_classes = int(pd.read_csv(data_root / "manifest.csv")["label"].max()) + 1
print(
    f"train {len(train_set)}, val {len(val_set)}, test {len(test_set)} clips; "
    f"{num_classes} classes; {train_set.report.summary()}"
)

# %%
config = TrainConfig(
    epochs=epochs,
    lr=lr,
    optimizer="adamw",
    weight_decay=0.05,
    schedule="cosine",
    batch_size=batch_size,
    seed=seed,
)
runs, rows = [], []
for depth in depths:
    torch.manual_seed(seed)
    model = create_model(
        "c3d",
        size=preset,
        num_classes=num_classes,
        temporal_depth=depth,
        num_frames=num_frames,
        crop_size=crop_size,
    )
    run = train_classifier(
        f"depth-{depth}",
        model,
        train_set,
        val_set,
        test_set,
        config,
        build_dir(profile) / "runs" / "02_c3d",
        settings={
            "preset": preset,
            "depth": depth,
            "frames": num_frames,
            "crop": crop_size,
            "cache": cache_size,
        },
    )
    runs.append(run)
    rows.append(
        {
            "temporal depth": str(depth),
            "parameters (M)": count_params(model) / 1e6,
            "best epoch (val)": run.best_epoch,
            "val accuracy": run.val_accuracy,
            "test accuracy": run.test_accuracy,
        }
    )
results = pd.DataFrame(rows)
display(results.round(3))

# %%
curves = pd.DataFrame(
    [
        {
            "temporal depth": run.name.removeprefix("depth-"),
            "epoch": h["epoch"],
            "val accuracy": h["val_accuracy"],
            "train loss": h["train_loss"],
        }
        for run in runs
        for h in run.history
    ]
)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
sns.lineplot(data=curves, x="epoch", y="val accuracy", hue="temporal depth", marker="o", ax=axes[0])
axes[0].set_title("validation accuracy (the paper's Fig. 2 analogue)")
sns.lineplot(
    data=curves,
    x="epoch",
    y="train loss",
    hue="temporal depth",
    marker="o",
    ax=axes[1],
    legend=False,
)
axes[1].set_title("training loss")
fig.tight_layout()
chapter.savefig(fig, "depth_search_curves")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
sns.barplot(data=results, x="temporal depth", y="test accuracy", ax=ax, color="C0")
ax.axhline(1 / num_classes, color="black", linestyle="--", linewidth=1, label="chance")
ax.set_title("test accuracy at the best validation epoch")
ax.legend()
chapter.savefig(fig, "depth_search_test")

# %%
by_depth = results.set_index("temporal depth")
best = by_depth["val accuracy"].idxmax()
chapter.log_metrics(
    depth_search={
        d: {
            "val_accuracy": float(r["val accuracy"]),
            "test_accuracy": float(r["test accuracy"]),
            "best_epoch": int(r["best epoch (val)"]),
            "params_m": float(r["parameters (M)"]),
        }
        for d, r in by_depth.iterrows()
    },
    depth_selected_on_val=best,
)
verdict = []
if "1" in by_depth.index and "3" in by_depth.index:
    d1, d3 = by_depth.loc["1", "test accuracy"], by_depth.loc["3", "test accuracy"]
    verdict.append(
        f"Depth 3 reaches test accuracy {d3:.3f} against {d1:.3f} for depth 1 "
        + ("(the paper's ordering)." if d3 > d1 else "(the paper's ordering does *not* hold here).")
    )
display(
    Markdown(
        f"On this build, the depth chosen on validation is **{best}** "
        f"(validation accuracy {by_depth.loc[best, 'val accuracy']:.3f}, test "
        f"{by_depth.loc[best, 'test accuracy']:.3f}). "
        + " ".join(verdict)
        + " One seed per variant and a few epochs: differences of a few points are within the"
        " noise of this setting."
        + (
            " On the `smoke` profile the models train for one epoch on a handful of clips, so these"
            " numbers are noise."
            if profile == "smoke"
            else ""
        )
    )
)
