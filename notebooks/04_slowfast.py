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
# # 4. SlowFast: two frame rates, two widths
#
# SlowFast (Feichtenhofer et al., *SlowFast Networks for Video Recognition*, ICCV 2019) reads
# the same clip twice:
#
# * the **Slow pathway** sees few frames (every alpha-th of them) with the full channel width,
#   and convolves over time only in res4 and res5: earlier stages are effectively 2-D. It
#   captures what is in the scene.
# * the **Fast pathway** sees alpha times more frames with beta (1/8) of the channels, convolves
#   over time in every block and never downsamples time before the final pooling. It captures
#   motion, cheaply.
# * **Lateral connections** feed Fast into Slow after pool1, res2, res3 and res4 (one way), by
#   one of three transforms of the fast tensor {alpha T, S^2, beta C}: *time-to-channel* folds
#   each group of alpha frames into channels ({T, S^2, alpha beta C}); *time-strided sampling*
#   keeps one frame in alpha ({T, S^2, beta C}); a *time-strided convolution* (a 5x1x1 kernel in
#   the paper, 7x1x1 in pytorchvideo's model zoo, 2 beta C outputs, stride alpha) learns the
#   reduction. The result is concatenated to the slow features.
#
# Each pathway is globally average-pooled, the two vectors are concatenated, and a linear layer
# classifies. Our models come from pytorchvideo's `create_slowfast` (`vidad.models.slowfast`);
# the lateral variants, Slow-only and Fast-only are options of the same builder, so every
# variant below shares depth, stems and block layout.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
params = None  # params.yaml's slowfast.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import slowfast
from vidad.experiments.recognition import classes_line, fitting_markdown, seeds_line
from vidad.models import published

chapter = Chapter("04_slowfast", profile)
config = slowfast.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
result = slowfast.run(config, chapter.paths)

# %% [markdown]
# ## Size and compute at paper size
#
# Each network is built at paper size (ResNet-50 stages, 400-class head), counted and deleted.
# Multiply-adds are counted by fvcore for one view of 32 fast frames at 256x256 (the paper's
# inference crop); fvcore counts one multiply-add as one operation, the papers' "FLOPs". "8x8"
# is T = 8 slow frames at stride tau = 8 (alpha = 4); "4x16" is T = 4 slow frames (alpha = 8).
# Slow-only and Fast-only are the same builder with one pathway and no laterals.

# %%
display(result.complexity.round(3))
display(Markdown(slowfast.complexity_markdown(result)))

# %% [markdown]
# ### How much of SlowFast's compute is the Fast pathway?
#
# The paper states the Fast pathway costs about a fifth of the total. We measure it as what
# SlowFast adds to the Slow-only network with the same slow input, (SlowFast - Slow-only) /
# SlowFast; the lateral connections are counted in the fast share.

# %%
display(Markdown(slowfast.fast_share_markdown(result)))

# %% [markdown]
# ## Training the variants
#
# Every variant is trained from scratch with the recipe of the previous chapters: the classes
# in the parameters (by default the ten of synth-actions' time-reversed pairs), each clip minus
# its mean frame, the epoch chosen on validation, test scored once, `num_seeds` seeds each
# (printed below). The variants are the parameters' `variants`: on `cpu` the three the paper's
# Fig. 2 claims compare (time-strided-conv laterals, Slow-only, Fast-only); the lateral ablations
# (no laterals, time-strided sampling, time-to-channel) are left to `gpu`, to pay for three seeds
# of each variant within the `cpu` hour. The networks
# are the `size` preset (ResNet-18-style stages at reduced width) at the small clip size of the
# parameters, not the paper-size networks above. A profile's `model_options` apply to every
# variant alike: `cpu` drops the stem's max-pool (it has no weights), which at 32 px crops would
# leave the last stage a single position; `benchmarks/recipes.py` measured each variant with
# and without it on validation. The paper's ablations are on Kinetics-400,
# where scenes give most classes away and order matters little; on our pairs only motion
# separates the two classes of a pair.

# %%
print(classes_line(result.classes))
print(seeds_line(result.results))

# %% [markdown]
# The variants as trained: sizes, compute per clip and the frames each pathway sees.

# %%
display(slowfast.sizes_table(result).round(4))

# %% [markdown]
# Results (validation picks the epoch; test is scored once at that epoch):

# %%
display(result.table.round(3))

# %%
chapter.savefig(slowfast.plot_curves(result), "curves")
display(Markdown(fitting_markdown(result.results, result.chance)))

# %%
chapter.savefig(slowfast.plot_test_scores(result), "test_scores")

# %% [markdown]
# Direction accuracy per reversed pair (test clips, selected checkpoints):

# %%
chapter.savefig(slowfast.plot_direction_per_pair(result), "direction_per_pair")

# %% [markdown]
# ## Accuracy against compute
#
# The paper's Fig. 2 plots Kinetics accuracy against GFLOPs for Slow-only and SlowFast at
# several T x tau: SlowFast is more accurate at every budget. Our analogue plots test accuracy
# against multiply-adds per clip for the variants trained here, one point each.

# %%
chapter.savefig(slowfast.plot_accuracy_vs_compute(result), "accuracy_vs_compute")

# %% [markdown]
# ## The lateral ablation beside the paper's
#
# The published column is Kinetics-400 top-1 of 4x16 R50 models (the paper's Table 5a), given
# only for variants the paper reports. It is shown for reference, not as a target: different
# data, scale, input and training length.

# %%
display(slowfast.ablation_table(result).round(3))
display(Markdown(f"Published column: {published.SLOWFAST_SOURCE}, Table 5a."))

# %%
chapter.write_metrics(result.metrics())
display(Markdown(slowfast.verdict_markdown(result)))
