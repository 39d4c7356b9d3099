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
# # 7. MemAE: an autoencoder with a memory, on real digits
#
# An autoencoder trained only on normal data is a natural anomaly detector: what it has not
# seen, it should reconstruct badly. In practice autoencoders generalize *too* well and rebuild
# many anomalies almost perfectly. MemAE (Gong et al., ICCV 2019) forces the decoder to work from
# a **memory** of N prototypes of the normal data, learned with the network. For an encoding z,
#
# $$w = \mathrm{softmax}(z M^\top),\qquad
#   \hat w_i = \frac{\max(w_i - \lambda, 0)\, w_i}{|w_i - \lambda| + \epsilon},\qquad
#   \hat w \leftarrow \hat w / \lVert \hat w \rVert_1,\qquad \hat z = \hat w M,$$
#
# and the decoder sees only $\hat z$: a sparse convex combination of memory items. The hard
# shrinkage (threshold lambda) zeroes small weights; an entropy term $\alpha \sum_i -\hat w_i \log
# \hat w_i$ in the loss pushes the addressing further towards a few items. An anomaly is then
# rebuilt as the closest *normal-looking* input, and its reconstruction error stays high.
# `vidad.models.memae` implements the module (inner-product addressing, as the released code
# does) and a plain-AE twin with the same network and no memory.
#
# **Data.** The paper's image experiment is one-class MNIST. MNIST cannot be downloaded where this
# book is built, so we use scikit-learn's `load_digits`: 1797 real handwritten digits, 8x8 pixels,
# shipped with scikit-learn. Each digit in turn is normal: its images are split into train /
# validation / test; the other nine digits are split into a pool of labelled anomalies (used only
# by Deep SAD, never tested on) and the test anomalies. Every method is fitted on the same training
# normals and scored on the same test set by AUROC. Settings are the papers' defaults or fixed
# in `params.yaml`; none is chosen by looking at test scores.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
params = None  # params.yaml's memae_digits.<profile>; papermill passes it, None reads params.yaml

# %%
from IPython.display import Markdown, display

from vidad import plotting
from vidad.book import Chapter
from vidad.experiments import memae_digits as md

chapter = Chapter("07_memae_digits", profile)
config = md.Config.load(profile, params)
plotting.use_book_style()
display(Markdown(chapter.banner()))
print(md.digits_summary())
result = md.run(config, chapter.paths)

# %% [markdown]
# ## One-class AUROC per digit
#
# Methods: the plain **AE** and **MemAE** (reconstruction error), **Deep SVDD** (squared
# distance to the centre of a learned hypersphere; `vidad.models.svdd`), and three scikit-learn
# baselines on raw pixels: **OneClassSVM** (RBF, nu = 0.1), **IsolationForest** and the mean
# distance to the 5 nearest training normals.

# %%
display(md.auroc_table(result))

# %%
chapter.savefig(md.plot_auroc_per_digit(result), "auroc_per_digit")

# %%
display(Markdown(md.comparison_markdown(result)))

# %% [markdown]
# ## What the memory does to reconstructions
#
# AE and MemAE trained on one digit (the first seed), shown on test normals and on anomalies.
# MemAE should rebuild an anomaly as something that looks like the normal digit.

# %%
chapter.savefig(md.plot_reconstructions(result), "reconstructions")

# %% [markdown]
# ## Sparsity of the addressing
#
# Number of memory items with a non-zero weight per test image, for three shrinkage thresholds.
# Without shrinkage (lambda = 0) the softmax gives every item some weight.

# %%
chapter.savefig(md.plot_sparsity(result), "sparsity")
display(Markdown(md.sparsity_markdown(result)))

# %% [markdown]
# ## The latent space and the memory (PCA)
#
# Encodings of test normals and anomalies and the memory items, projected on the first two
# principal components of the normal encodings.

# %%
chapter.savefig(md.plot_pca(result), "pca")

# %% [markdown]
# ## Ablations: memory size N, shrinkage lambda, entropy weight alpha
#
# MemAE AUROC for one setting changed at a time (others at their defaults), over all normal
# digits with the first seed.

# %%
chapter.savefig(md.plot_ablations(result), "ablations")
display(Markdown(md.ablations_markdown(result)))

# %% [markdown]
# ## Deep SAD: a few labelled anomalies
#
# A supervised classifier is the wrong tool when anomalies are rare and unforeseeable, but a
# handful of *known* anomalies can still help. Deep SAD (Ruff et al., ICLR 2020) trains the Deep
# SVDD objective on normals and adds the inverse squared distance of labelled anomalies, pushing
# them away from the centre. The labelled anomalies come from the pool that is never tested on;
# with 0 labels Deep SAD is Deep SVDD.

# %%
chapter.savefig(md.plot_deep_sad(result), "deep_sad")
display(Markdown(md.deep_sad_markdown(result)))
chapter.write_metrics(result.metrics())
