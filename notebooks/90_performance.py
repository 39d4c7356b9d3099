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
# # Appendix: performance
#
# Speed is measured by the scripts in `benchmarks/`, never by timed unit tests, on whatever
# machine runs them; each writes a JSON file to `benchmarks/results/` that names the machine,
# and this page shows every such file that is committed. A file is a measurement of one machine
# at one time: the tables say which.
#
# * `benchmarks/decode.py`: clips per second of our decoding + transform path (PyAV, seeking
#   straight to the frames a clip needs) against pytorchvideo's `EncodedVideo` (decode the whole
#   video, then subsample), on the same files with the same transform.
# * `benchmarks/backbones.py`: forward clips per second of the four paper-size backbones in fp32
#   eager (what the original implementations run) and in our inference path (bf16 autocast +
#   `channels_last_3d`, optionally `torch.compile`). The target on one H100 is at least 5x the
#   fp32 throughput.
# * `benchmarks/ae_training.py`: wall time of training the chapter 6 autoencoder on a frozen
#   backbone for 30 epochs the seed's way (decode every clip and run the backbone in every
#   epoch) against the embedding cache (decode and embed once), same clips and settings.
#   Target: at least 20x.
# * `benchmarks/training.py`: full training steps, through the book's own `fit`, of every model
#   preset a `cpu` stage trains: the training path before this appendix had the measurement
#   against today's, side by side in one process, with the achieved GFLOP/s, their share of a
#   matmul timed in the same rounds, and the share of each step spent waiting for data.
# * `benchmarks/synth.py`: what one synthetic clip costs to render and to encode, per x264
#   preset, and how far the decoded frames move between presets (codec noise).

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu (this page reads committed measurements, not the profile)
params = None  # params.yaml's performance.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad.book import Chapter
from vidad.experiments import performance

chapter = Chapter("90_performance", profile)
config = performance.Config.load(profile, params)
display(Markdown(chapter.banner()))
result = performance.run(config, chapter.paths)
chapter.write_metrics(result.metrics())
print(result.files_summary())

# %% [markdown]
# ## Decoding

# %%
for m in result.decode:
    display(Markdown(m.header))
    display(m.table.round(2))
    if m.verdict:
        display(Markdown(m.verdict))
if not result.decode:
    display(Markdown(performance.NO_DECODE))

# %% [markdown]
# ## Backbones
#
# Published anchors (`PUBLISHED_H100` in `benchmarks/backbones.py`: one H100, random weights,
# forward only, batch 32, clips/s) are printed by the script beside ours when it runs on a GPU.

# %%
for m in result.backbones:
    display(Markdown(m.header))
    display(m.table.round(2))
if not result.has_gpu_measurement:
    display(Markdown(performance.NO_GPU))

# %% [markdown]
# ## Autoencoder training on a frozen backbone
#
# "cold" builds the clip cache and the embedding cache from nothing and then trains; "warm" is
# every later run (the embeddings are on disk): AE epochs only.

# %%
for m in result.ae_training:
    display(Markdown(m.header))
    display(m.table.round(2))
    display(Markdown(m.verdict))
if not result.ae_training:
    display(Markdown(performance.NO_AE))

# %% [markdown]
# ## Training on the CPU
#
# "before" is the training path as it was when the measurement was added (contiguous tensors,
# the float conversion of a permuted uint8 view, a pandas row per clip); "now" is what `fit` and
# the stages run: `channels_last_3d` tensors for the model families that measured faster with
# oneDNN's channels-last 3-D convolutions (C3D, R3D / R(2+1)D, Slow / SlowFast:
# `channels_last_3d_on_cpu`), the uint8 clip reordered before its float conversion. The
# single-change columns are ratios to "before". "max rel. loss diff" compares the per-epoch
# training losses of the two paths (same model, seed and batches): fp32 rounding, not a change
# of what is learned. The speed-up is the median over the rounds; "speed-up, rounds" is its
# range, round by round (both paths ran in each round), the spread a shared machine adds.

# %%
for m in result.training:
    display(Markdown(m.header))
    display(m.table.round(3))
    display(Markdown(m.verdict))
for m in result.shapes:
    if len(m.table):
        display(Markdown(m.header))
        display(m.table.round(3))
if not result.training:
    display(Markdown(performance.NO_TRAINING))

# %% [markdown]
# ## Rendering the synthetic data

# %%
for m in result.synth:
    display(Markdown(m.header))
    display(m.table.round(2))
    display(Markdown(m.verdict))
if not result.synth:
    display(Markdown(performance.NO_SYNTH))
