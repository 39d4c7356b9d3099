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
# # 3. R(2+1)D: factorizing space and time
#
# Tran et al. (*A Closer Look at Spatiotemporal Convolutions for Action Recognition*, CVPR 2018)
# replace every t x d x d 3-D convolution of a video ResNet by two: a **1 x d x d spatial**
# convolution to M_i channels, then a **t x 1 x 1 temporal** convolution to the N_i output
# channels, with batch norm and a ReLU in between. The middle width is chosen so that the pair
# has as many parameters as the 3-D convolution it replaces:
#
# $$M_i = \left\lfloor \frac{t\,d^2\,N_{i-1}\,N_i}{d^2\,N_{i-1} + t\,N_i} \right\rfloor .$$
#
# At equal parameters the factorized network has twice the non-linearities, and each part is
# easier to optimise. The paper's claim: **R(2+1)D has lower training *and* test error than
# R3D** (full 3-D convolutions) of the same depth. We use torchvision's R3D-18 and R(2+1)D-18
# (`vidad.models.resnet3d`, widths configurable for the small presets).

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
params = None  # params.yaml's r2plus1d.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import r2plus1d
from vidad.experiments.recognition import seeds_line

chapter = Chapter("03_r2plus1d", profile)
config = r2plus1d.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
result = r2plus1d.run(config, chapter.paths)

# %% [markdown]
# ## The M_i rule, checked on the real modules
#
# The table lists every (2+1)-D convolution of the paper-size R(2+1)D-18 as torchvision builds
# it: the widths around the split, the M_i the rule gives, and the parameters of the pair
# against those of the 3 x 3 x 3 convolution it replaces.

# %%
display(result.factorization)
display(Markdown(r2plus1d.factorization_markdown(result)))

# %%
display(result.complexity.round(4))
display(Markdown(r2plus1d.complexity_markdown(result)))

# %% [markdown]
# ## R3D vs R(2+1)D, trained from scratch
#
# Both networks at the same width preset, on the same clips, with the same recipe as the C3D
# chapter: the ten classes of synth-actions' time-reversed pairs, each clip minus its mean frame,
# the epoch chosen on validation, test scored once, each network trained once per seed
# (`num_seeds`, printed below). Training accuracy is measured on the training clips without
# augmentation, with each run's selected checkpoint, and averaged over seeds.

# %%
print(seeds_line(result.results))
display(result.table.round(3))

# %%
chapter.savefig(r2plus1d.plot_curves(result), "curves")

# %%
chapter.savefig(r2plus1d.plot_errors_and_pairs(result), "errors_and_pairs")

# %%
chapter.write_metrics(result.metrics())
display(Markdown(r2plus1d.verdict_markdown(result)))
