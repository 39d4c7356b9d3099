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
params = None  # params.yaml's timesformer.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import timesformer
from vidad.experiments.recognition import classes_line, fitting_markdown, seeds_line
from vidad.models import published

chapter = Chapter("05_timesformer", profile)
config = timesformer.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
result = timesformer.run(config, chapter.paths)

# %% [markdown]
# ## Parameters and compute at paper size
#
# TimeSformer-Base, 8 x 224 x 224, patch 16, with a 400-class head, built once per attention
# scheme, counted and deleted. Multiply-adds are counted by fvcore for one view (one multiply-add
# counts as one operation, the papers' "FLOPs"); the paper reports only the divided model's cost.

# %%
display(result.paper_table.round(3))

# %% [markdown]
# Does fvcore count the attention matrices themselves (Q K^T and the attention-weighted sum of
# V), or only the linear layers? Joint and space-only blocks have identical weights, so the
# difference between their counts is the attention products, (T N + 1)^2 against T (N + 1)^2
# token pairs at 2 D multiply-adds each per block, minus the linear layers' work on the T - 1
# extra CLS tokens of space-only (12 D^2 per token and block). The formula is evaluated below.

# %%
display(Markdown(timesformer.attention_cost_markdown(result)))

# %% [markdown]
# ## Training the schemes
#
# The parameters' `attention_types` (on `cpu`: divided and space-only, the pair the claims
# compare; joint attention, the costliest, is left to `gpu`).

# %%
display(Markdown(timesformer.training_markdown(config)))

# %%
print(classes_line(result.classes))
print(seeds_line(result.results))
display(result.table.round(3))

# %%
chapter.savefig(timesformer.plot_curves(result), "curves")
display(Markdown(fitting_markdown(result.results, result.chance)))

# %%
chapter.savefig(timesformer.plot_test_scores(result), "test_scores")

# %% [markdown]
# Direction accuracy per reversed pair (test clips, selected checkpoints):

# %%
chapter.savefig(timesformer.plot_direction_per_pair(result), "direction_per_pair")

# %% [markdown]
# ## Does attention across frames see the order?
#
# Published top-1 (%) on Kinetics-400, where most classes can be told from the scene, and on
# Something-Something v2, where they differ by motion and order, beside our scores. Our
# direction accuracy asks the SSv2 question in its purest form: within a reversed pair, only
# temporal order separates the classes.

# %%
display(timesformer.beside_table(result).round(3))
display(Markdown(f"Published columns: {published.TIMESFORMER_SOURCE}."))

# %%
chapter.write_metrics(result.metrics())
display(Markdown(timesformer.verdict_markdown(result)))
