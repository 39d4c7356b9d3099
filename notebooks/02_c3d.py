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
params = None  # params.yaml's c3d.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import c3d
from vidad.experiments.recognition import classes_line, seeds_line

chapter = Chapter("02_c3d", profile)
config = c3d.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
result = c3d.run(config, chapter.paths)

# %% [markdown]
# ## The architecture, layer by layer
#
# Shapes are recorded by hooks during a real forward pass of one 3x16x112x112 clip through the
# paper-size network with 101 outputs (UCF101's classes), so the table shows what the code does.

# %%
display(result.layers)

# %% [markdown]
# `pool5` pads the 7x7 map to 8x8 so that it halves to 4x4: 512 x 1 x 4 x 4 = 8192 features
# enter `fc6`. Two thirds of the parameters sit in `fc6` and `fc7`. Compute is counted by
# fvcore, which counts one multiply-add as one operation (the papers' "FLOPs").

# %%
display(result.complexity.round(4))
display(Markdown(c3d.complexity_markdown(result)))

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
# 9.5k clips): the width preset, clip size and number of epochs are set per profile in
# `params.yaml` (section `c3d`), and every variant is trained once per seed (`num_seeds`, printed
# below). The depths trained are the parameters' `depths`: on `cpu` the uniform 1, 3, 5 and 7,
# which both findings are about; the increasing and decreasing schedules are left to `gpu`, so
# that the `cpu` hour pays for three seeds of each depth instead. Two changes to the published
# network make the small presets trainable from scratch on a few hundred clips, and both apply
# to every variant alike: batch normalization after each convolution, and global average
# pooling before `fc6` instead of the flatten (`head="avgpool"`; the paper preset keeps the
# flatten, as the table above shows). Each variant's epoch is chosen by **validation** accuracy
# and only that checkpoint is scored on **test**.

# %%
print(classes_line(result.classes))
print(seeds_line(result.results))

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
display(Markdown(c3d.appearance_markdown(result)))

# %% [markdown]
# ## The temporal-depth search: results

# %%
display(result.table.round(3))

# %%
chapter.savefig(c3d.plot_curves(result), "depth_search_curves")

# %%
chapter.savefig(c3d.plot_test_scores(result), "depth_search_test")

# %% [markdown]
# Direction accuracy per reversed pair (test clips, selected checkpoints):

# %%
chapter.savefig(c3d.plot_direction_per_pair(result), "direction_per_pair")

# %%
chapter.write_metrics(result.metrics())
display(Markdown(c3d.verdict_markdown(result)))
