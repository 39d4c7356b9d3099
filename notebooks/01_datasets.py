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

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of the probes (the data's own seed is in params.yaml, stage synth)
frame_size = 24  # side of the grey thumbnails used by the single-frame vs order probe
filmstrip_class = "sit_down"  # synth-actions class shown as a filmstrip
filmstrip_frames = 8  # frames in the filmstrip

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import datasets as ds
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
# synth-sports keeps its proportions (`clips_scale` in `params.yaml` multiplies them). For
# reference, the source study's own table after its augmentation had 1396 train, 70 validation,
# 38 test and 40 anomaly rows (published, source study Table 1).

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
# The action classes include **time-reversed pairs**: one member of each pair is rendered
# from exactly the time reversal of the other's trajectory distribution. Appearance (actor
# size and colours, background, camera) is drawn independently of the class.

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
# frames tells them apart, as the filmstrip of one clip shows.

# %%
row = actions[actions["class"] == filmstrip_class].iloc[0]
indices = uniform_indices(int(row["num_frames"]), filmstrip_frames)
frames = read_frames(row["abspath"], indices.tolist())
fig = plotting.filmstrip(frames, indices / float(row["fps"]), f"one `{filmstrip_class}` clip")
chapter.savefig(fig, "filmstrip")

# %% [markdown]
# ## Are single frames ambiguous? A measurement
#
# Every synth-actions clip is decoded once into 16 uniformly spaced grey thumbnails. First, the
# class averages: the time-averaged frame of `sit_down` clips against that of `stand_up` clips,
# and the first frames of one against the last frames of the other.

# %%
report = DecodeReport()
probe_frames = 16
thumbs, decoded = ds.load_thumbnails(actions, probe_frames, frame_size, report)
print(report.summary())
similarity = ds.mean_frame_similarity(thumbs, decoded, REVERSED_PAIRS)
display(similarity.round(3))

# %%
images, titles = [], []
for a, b in REVERSED_PAIRS:
    for cls, which in (
        (a, "mean"),
        (b, "mean"),
        (a, "first"),
        (b, "last"),
        (a, "last"),
        (b, "first"),
    ):
        images.append(ds.class_average(thumbs, decoded, cls, which))
        titles.append(f"{which}: {cls}")
fig = plotting.image_grid(images, titles, ncols=6, cmap="gray")
chapter.savefig(fig, "reversed_pair_averages")

# %% [markdown]
# Second, two linear probes per reversed pair, trained on the **train** split and scored on the
# **test** split. Both see the same thumbnails (as absolute deviation from the clip's mean frame,
# which removes the static background). The *single frames* probe classifies every frame on its
# own and averages over the clip; the *frames in order* probe sees the first and the last third
# of the clip, in that order. If the dataset does what it should, the first is near chance
# (accuracy 0.5, AUROC 0.5) and the second is not.

# %%
probe = ds.reversed_pair_probe(thumbs, decoded, REVERSED_PAIRS, seed=seed)
display(probe.round(3))
fig = plotting.probe_bars(probe)
chapter.savefig(fig, "order_probe")
summary = probe.groupby("view")[["accuracy", "auroc"]].mean()
display(summary.round(3))

# %%
single, ordered = summary.loc["single frames"], summary.loc["frames in order"]
within = similarity["mean-frame corr. within pair"].mean()
others = similarity["mean-frame corr. to other classes (median)"].mean()
chapter.log_metrics(
    synth_actions_clips=len(actions),
    synth_sports_clips=len(sports),
    synth_actions_classes=int(actions["class"].nunique()),
    sports_split_counts={k: int(v) for k, v in sports["split"].value_counts().items()},
    decode_failures=report.num_failed,
    reversed_pairs_mean_frame_corr_within=float(within),
    reversed_pairs_mean_frame_corr_others=float(others),
    probe_single_frame_accuracy=float(single["accuracy"]),
    probe_single_frame_auroc=float(single["auroc"]),
    probe_ordered_accuracy=float(ordered["accuracy"]),
    probe_ordered_auroc=float(ordered["auroc"]),
)
display(
    Markdown(
        f"On this build, the class-average mean frames of reversed pairs correlate at "
        f"**{within:.3f}** (median {others:.3f} to other classes). Averaged over the "
        f"{len(REVERSED_PAIRS)} pairs, the single-frame probe reaches test accuracy "
        f"**{single['accuracy']:.2f}** (AUROC {single['auroc']:.2f}); the probe that sees order "
        f"reaches **{ordered['accuracy']:.2f}** (AUROC {ordered['auroc']:.2f})."
        + (
            " On the `smoke` profile the splits hold only a handful of clips, so these numbers are"
            " noise."
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
