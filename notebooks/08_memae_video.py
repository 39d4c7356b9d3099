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
# # 8. MemAE on surveillance video: frame scores, pixel masks and red boxes
#
# Chapter 7 showed the memory module on digits. Here it does what it was built for (Gong et
# al., ICCV 2019): a 3-D convolutional autoencoder reads 16-frame grayscale clips of a fixed
# camera trained on normal footage only, and anything it reconstructs badly (a cyclist among
# pedestrians, a cart, someone cutting across the lawn) lights up in its error map. The data is
# **synth-ped** (`vidad.synth.ped`), written in the layout of UCSD Ped2; set `data_root` to a real
# UCSD Ped2 folder and the same code runs on it (`vidad.data.ucsd_ped`).
#
# Four models, same data, same recipe: MemAE 3-D (the official architecture at this profile's
# width preset) and its plain-AE twin, and the frame-by-frame 2-D versions of both, which can
# learn what normal frames look like but never how they move.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
params = None  # params.yaml's memae_video.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import memae_video as mv

chapter = Chapter("08_memae_video", profile)
config = mv.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %%
result = mv.run(config, chapter.paths)

# %% [markdown]
# ## The data

# %%
display(result.summary)
if result.data.skipped:
    display(Markdown(f"Skipped videos: {result.data.skipped}"))

# %%
chapter.savefig(mv.plot_filmstrip(result), "test_filmstrip")

# %% [markdown]
# ## The models
#
# The official video MemAE (Gong et al., ICCV 2019): Conv3d 3x3x3 encoder 1 -> 96 -> 128 ->
# 256 -> 256 (strides 1x2x2 then 2x2x2), BatchNorm3d + LeakyReLU(0.2), a memory of 2000 x 256
# at every position of the last feature map, mirrored transposed convolutions. At `paper` size
# it is too slow for a CPU; the profile's preset keeps the layout with fewer channels and items.

# %%
display(result.models)

# %% [markdown]
# ## Training
#
# Adam (the MemAE code's optimiser) on normal clips only, loss = squared reconstruction error
# + 0.0002 x addressing entropy for the memory models; the epoch with the lowest loss on the
# held-out normal videos is kept. The MemAE code trains 100 epochs at lr 1e-4; a CPU budget
# allows `epochs` at a higher rate.

# %%
chapter.savefig(mv.plot_training_curves(result), "training_curves")

# %% [markdown]
# ## Frame-level detection
#
# A frame's score is the mean squared reconstruction error over the frame (3-D models: the
# mean over the clips covering it). Three ways to turn scores into an AUROC, all reported,
# because papers mix them: **micro** pools every test frame; **macro** averages per-video
# AUROCs; **min-max** rescales each test video's scores to [0, 1] first, as the MemAE code
# does. Min-max uses the whole video, future frames included, so it is not available to an
# online detector.

# %%
display(result.frame_table.round(3))
display(Markdown(mv.published_markdown()))

# %%
chapter.savefig(mv.plot_frame_scores(result), "frame_scores")

# %%
if result.per_kind is not None:
    display(Markdown("Per-video AUROC, averaged per anomaly kind:"))
    display(result.per_kind.round(3))

# %% [markdown]
# ## Where is the anomaly? Pixel AUROC and red boxes
#
# Per-pixel errors against the ground-truth masks give the pixel-level AUROC above. For boxes,
# each error map is smoothed and thresholded at the `pixel_percentile`-th percentile of the
# *validation* videos' smoothed errors; regions above it become boxes (their half-maximum
# extent). A box **hits** when it overlaps the mask's bounding box with IoU >= 0.1; on normal
# test frames any box is a false alarm.

# %%
display(result.localization_table.round(3))
chapter.savefig(mv.plot_red_boxes(result), "red_boxes")

# %% [markdown]
# ## Verdict

# %%
display(Markdown(mv.verdict_markdown(result)))
chapter.write_metrics(result.metrics())
