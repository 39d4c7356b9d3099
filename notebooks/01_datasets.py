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
# # 1. Datasets: what the models see
#
# Every chapter of this book trains or evaluates on video clips described by one table, the
# **manifest** (`path, label, class, split`, paths relative to the dataset root). This chapter
# shows the two datasets the default pipeline generates, and checks the one property that makes
# them worth using: *you cannot tell the actions apart from single frames*.
#
# * **synth-actions** is our stand-in for Kinetics-400 pretraining. The original systems start
#   from backbones pretrained on Kinetics; those weights cannot be downloaded on the machines
#   that build this book, so every backbone here is pretrained on this synthetic corpus instead.
#   That is a much smaller and simpler world than Kinetics, and results that depend on
#   pretraining are weaker for it; the chapters say so where it matters.
# * **synth-sports** is our stand-in for UCF Sports: the same ten classes, with their props and
#   scenes, the same anomaly protocol (three "not allowed" activities) and the same split
#   fractions as the source study.
#
# Both are rendered procedurally (`vidad.synth`): articulated figures with 15 joints, per-actor
# size, proportions and clothing colours, animated by per-action joint-angle trajectories with
# random phase, speed and amplitude, over random backgrounds with camera jitter and pan,
# illumination drift and sensor noise, and written as real H.264 MP4 files that are decoded by
# the same PyAV code that reads real datasets.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of the probes (the data's own seed is in params.yaml, stage synth)
filmstrip_class = "sit_down"  # synth-actions class shown as a filmstrip (with its reverse)
filmstrip_frames = 8  # frames in the filmstrip
probe_frames = 16  # frames per clip the probes see, uniformly spaced
probe_size = 32  # side of the colour thumbnails the probes see
probe_epochs = 30  # training epochs of each probe
probe_width = 16  # channels of the probes' first conv layer

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import datasets as ds
from vidad.analysis.order_probe import ProbeConfig, run_order_probe
from vidad.book import Chapter
from vidad.data import protocol
from vidad.pipeline import synth_root
from vidad.synth import REVERSED_PAIRS
from vidad.video.decode import DecodeReport, read_frames, uniform_indices
from vidad.video.manifest import read_manifest

chapter = Chapter("01_datasets", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

actions = read_manifest(synth_root(profile, "synth-actions"))
sports = read_manifest(synth_root(profile, "synth-sports"))
display(
    Markdown(
        f"synth-actions: **{len(actions)}** clips, {actions['class'].nunique()} classes; "
        f"synth-sports: **{len(sports)}** clips, {sports['class'].nunique()} classes."
    )
)

# %% [markdown]
# ## synth-sports and the anomaly protocol
#
# The sports ground of the book's question allows seven activities. The source study took UCF
# Sports (150 clips, 720x480, 10 actions), merged Golf-Swing-Back/Front/Side into Golf-Swing and
# Kicking-Front/Side into Kicking, dropped corrupt or shorter-than-1-s clips, and declared
# **Walk-Front, Lifting and SkateBoarding-Front** anomalous. Normal clips are split per class
# 50% train / 10% validation / 40% test; anomalies are never seen in training. We keep those
# fractions, but split *by actor* (no actor appears in two splits) and generate distinct clips
# instead of the source study's augmented copies (its 70 validation clips came from 1-2 source
# clips per class, which makes validation numbers meaningless).

# %%
fig = plotting.class_split_counts(sports, "synth-sports: clips per class and split")
chapter.savefig(fig, "sports_counts")
sports_counts = ds.split_table(sports)
real_counts = pd.Series(protocol.UCF_SPORTS_CLIP_COUNTS, name="UCF Sports release (published)")
display(sports_counts.join(real_counts))

# %% [markdown]
# The right-hand column is the clip count per (merged) class of the real UCF Sports release;
# synth-sports keeps its proportions (`clips_scale` in `params.yaml` multiplies them). Below,
# our split sizes beside the source study's published manifest, whose train and validation
# rows are augmented copies (200 and 10 per normal class).

# %%
display(
    pd.DataFrame(
        {
            "synth-sports (this build)": sports["split"].value_counts(),
            "source study (published)": pd.Series(protocol.SOURCE_STUDY_SPLIT_ROWS),
        }
    ).loc[["train", "val", "test", "anomaly"]]
)

# %%
fig = plotting.duration_histogram(sports, "synth-sports: clip durations")
chapter.savefig(fig, "sports_durations")
display(ds.duration_summary(sports).round(2))

# %% [markdown]
# One frame from the middle of a clip of each class, with the props and scenes that
# identify the sport. The anomaly classes are marked.


# %%
def middle_frame(row: pd.Series) -> np.ndarray:
    """Decode only the middle frame of a clip."""
    return read_frames(row["abspath"], [int(row["num_frames"]) // 2])[0]


def first_clip_per_class(table: pd.DataFrame, classes: list[str]) -> list[pd.Series]:
    return [table[table["class"] == c].iloc[0] for c in classes]


sports_classes = list(protocol.UCF_SPORTS_CLASSES)
rows = first_clip_per_class(sports, sports_classes)
titles = [c + (" (anomaly)" if c in protocol.ANOMALY_CLASSES else "") for c in sports_classes]
fig = plotting.image_grid([middle_frame(r) for r in rows], titles, ncols=5)
chapter.savefig(fig, "sports_samples")

# %% [markdown]
# ## synth-actions: the pretraining corpus
#
# The action classes include **time-reversed pairs**: every clip of the second class of a pair
# is a clip of the first class, rendered from its own random draw and then played backwards
# (camera motion and noise included). The two classes therefore have exactly the same
# distribution of single frames; only the order differs. The price: `walk_away` shows a figure
# facing the camera and stepping backwards.
#
# Actor size, proportions and clothing colours, background, lighting and camera shake are drawn
# independently of the class. Two things still correlate with it, and a model may use them:
# the figure's size in the frame (the camera is framed so the whole motion fits, and a jump
# needs more room than a clap), and the view of the walking classes (`walk` and `run` are
# filmed from the side, `walk_towards` / `walk_away` from the front).

# %%
fig = plotting.class_split_counts(actions, "synth-actions: clips per class and split")
chapter.savefig(fig, "actions_counts")
action_classes = sorted(actions["class"].unique())
display(Markdown("Time-reversed pairs: " + ", ".join(f"`{a}` / `{b}`" for a, b in REVERSED_PAIRS)))

# %%
rows = first_clip_per_class(actions, action_classes)
fig = plotting.image_grid([middle_frame(r) for r in rows], action_classes, ncols=6)
chapter.savefig(fig, "actions_samples")

# %% [markdown]
# A single frame of `sit_down` could equally be a frame of `stand_up`. Only the order of the
# frames tells them apart: below, one clip of each.

# %%
reverse_of = {a: b for a, b in REVERSED_PAIRS} | {b: a for a, b in REVERSED_PAIRS}
for cls in (filmstrip_class, reverse_of[filmstrip_class]):
    row = actions[actions["class"] == cls].iloc[0]
    indices = uniform_indices(int(row["num_frames"]), filmstrip_frames)
    frames = read_frames(row["abspath"], indices.tolist())
    fig = plotting.filmstrip(frames, indices / float(row["fps"]), f"one {cls} clip")
    chapter.savefig(fig, f"filmstrip_{cls}")

# %% [markdown]
# ## Are single frames enough? A measurement
#
# Two small CNNs (three conv layers, global average pooling) are trained on the **train** split
# of synth-actions, over all classes, and scored on the **test** split (other actors). Both see
# the same colour thumbnails of `probe_frames` uniformly spaced frames, each clip minus its own
# mean frame (which removes the static background and carries no hint of order):
#
# * **single frames**: the CNN classifies every frame on its own; a clip's prediction is the
#   mean of its frames' probabilities, so the order of frames cannot matter;
# * **frames in order**: the same CNN, but its first layer takes all frames of the clip as
#   input channels, in order ("early fusion").
#
# For each reversed pair we then ask only: between the two classes of the pair, does the model
# prefer the right one? If the dataset does what it should, the single-frame model is at chance
# on every pair (accuracy and AUROC 0.5) and the model that sees order is not. These are tiny
# models trained from scratch in a minute; the architecture chapters measure the same question
# with real space-time networks.

# %%
report = DecodeReport()
thumbs, decoded = ds.load_thumbnails(actions, probe_frames, probe_size, report)
print(report.summary())
config = ProbeConfig(epochs=probe_epochs, width=probe_width, seed=seed)
probe = run_order_probe(thumbs, decoded, REVERSED_PAIRS, config)
display(probe.overall.round(3))
display(probe.pairs.round(3))
fig = plotting.probe_bars(probe.pairs)
chapter.savefig(fig, "order_probe")

# %%
summary = probe.pairs.groupby("view")[["accuracy", "auroc"]].mean()
overall = probe.overall.set_index("view")["test accuracy (all classes)"]
single, ordered = summary.loc["single frames"], summary.loc["frames in order"]
chapter.log_metrics(
    synth_actions_clips=len(actions),
    synth_sports_clips=len(sports),
    synth_actions_classes=int(actions["class"].nunique()),
    sports_split_counts={k: int(v) for k, v in sports["split"].value_counts().items()},
    decode_failures=report.num_failed,
    probe_test_accuracy_all_classes={k: float(v) for k, v in overall.items()},
    probe_reversed_pairs_accuracy={
        "single frames": float(single["accuracy"]),
        "frames in order": float(ordered["accuracy"]),
    },
    probe_reversed_pairs_auroc={
        "single frames": float(single["auroc"]),
        "frames in order": float(ordered["auroc"]),
    },
)
hardest = probe.pairs[probe.pairs["view"] == "frames in order"].sort_values("auroc").iloc[0]
display(
    Markdown(
        f"On this build, averaged over the {len(REVERSED_PAIRS)} reversed pairs, the single-frame "
        f"model tells the two classes of a pair apart with test accuracy "
        f"**{single['accuracy']:.2f}** (AUROC {single['auroc']:.2f}); the model that sees the "
        f"frames in order reaches **{ordered['accuracy']:.2f}** (AUROC {ordered['auroc']:.2f}). "
        f"Over all {actions['class'].nunique()} classes their test accuracies are "
        f"{overall['single frames']:.2f} and {overall['frames in order']:.2f} "
        f"(chance {1 / actions['class'].nunique():.2f}). The hardest pair for the ordered model is "
        f"`{hardest['pair']}` (AUROC {hardest['auroc']:.2f})."
        + (
            " On the `smoke` profile the probes train for a couple of epochs on a handful of clips,"
            " so these numbers are noise."
            if profile == "smoke"
            else ""
        )
    )
)

# %% [markdown]
# ## Using the real datasets
#
# No dataset can be downloaded on the machines that build this book, so the default pipeline
# runs on the synthetic data above. The same code reads the real UCF Sports release:
#
# 1. Download UCF Sports from the UCF Center for Research in Computer Vision
#    (`ucf_sports_actions.zip`) and unpack it under `data/ucf_sports/`, keeping the release's
#    layout: `data/ucf_sports/ucf_sports_actions/ucf action/<Action>/<NNN>/*.avi`.
# 2. Build the manifest with the source study's protocol (class merges, dropping corrupt and
#    shorter-than-1-s clips, the anomaly set, 50/10/40 splits of the normal clips):
#    `python -m vidad.data.ucf_sports --src data/ucf_sports --out data/ucf_sports`.
#    Every dropped clip is reported on one line, with a summary at the end.
# 3. Track the folder with DVC: `dvc add data`.
#
# Without the data, `vidad.data.ucf_sports` stops with one message saying where to put it.
