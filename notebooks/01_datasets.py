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
# them worth using: *within each time-reversed pair (`sit_down` / `stand_up`...) single frames
# cannot tell the two actions apart*. Across all classes single frames do carry information
# (a figure lying down is not a figure waving); only the order of the frames separates a pair.
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
params = None  # params.yaml's datasets.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import datasets

chapter = Chapter("01_datasets", profile)
config = datasets.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
result = datasets.run(config, chapter.paths)
display(Markdown(datasets.sizes_markdown(result)))

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
chapter.savefig(datasets.plot_sports_counts(result), "sports_counts")
display(result.sports_counts)

# %% [markdown]
# The right-hand column is the clip count per (merged) class of the real UCF Sports release;
# synth-sports keeps its proportions (`clips_scale` in `params.yaml` multiplies them). Below,
# our split sizes beside the source study's published manifest, whose train and validation
# rows are augmented copies (200 and 10 per normal class).

# %%
display(result.split_sizes)

# %%
chapter.savefig(datasets.plot_sports_durations(result), "sports_durations")
display(result.sports_durations.round(2))

# %% [markdown]
# One frame from the middle of a clip of each class, with the props and scenes that
# identify the sport. The anomaly classes are marked.

# %%
chapter.savefig(datasets.plot_sports_samples(result), "sports_samples")

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
chapter.savefig(datasets.plot_actions_counts(result), "actions_counts")
display(Markdown(datasets.reversed_pairs_markdown()))

# %%
chapter.savefig(datasets.plot_actions_samples(result), "actions_samples")

# %% [markdown]
# A single frame of `sit_down` could equally be a frame of `stand_up`. Only the order of the
# frames tells them apart: below, one clip of each.

# %%
for strip in result.filmstrips:
    chapter.savefig(datasets.plot_filmstrip(strip), f"filmstrip_{strip.cls}")

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
print(result.decode_summary)
display(result.probe.overall.round(3))
display(result.probe.pairs.round(3))
chapter.savefig(datasets.plot_order_probe(result), "order_probe")

# %%
chapter.write_metrics(result.metrics())
display(Markdown(datasets.verdict_markdown(result)))

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
