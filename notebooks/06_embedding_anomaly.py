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
# # 6. Anomalies in the embedding space of pretrained space-time models
#
# A sports ground allows only certain activities. Knowing only clips of *allowed* behaviour,
# can a video system flag anything else? The seed system's answer: do not model pixels. Take a
# network pretrained for action classification, cut it before its classifier, and use its clip
# embedding; then train a small autoencoder to reconstruct *embeddings of normal clips*. The
# backbone does the spatio-temporal reasoning, the autoencoder only learns the normal manifold,
# and a clip it reconstructs badly is an anomaly.
#
# This chapter rebuilds that system on synth-sports (our stand-in for UCF Sports: seven
# allowed sports, and Walk-Front, Lifting and SkateBoarding-Front as the anomalies never seen in
# training) with the three backbones of the architecture chapters, pretrained on synth-actions
# (our stand-in for Kinetics-400, stage `pretrain`). It then fixes what the seed's evaluation
# could not show: its threshold was chosen looking at the test and anomaly clips, and it
# reported no threshold-free metric and no uncertainty.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seed = 0  # seed of every training run, bootstrap and baseline
backbones = ["r2plus1d_18", "slowfast_r50", "timesformer"]  # pretrained in stage `pretrain`
ae_epochs = 30  # v1: autoencoder epochs on frozen embeddings
ae_batch = {"r2plus1d_18": 8, "slowfast_r50": 2, "timesformer": 8}  # batch size per backbone
ae_lr = 0.001  # Adam learning rate
ae_step = 10  # StepLR step (epochs)
ae_gamma = 0.1  # StepLR factor
ae_dropout = 0.3  # dropout between autoencoder layers
v2_epochs = 30  # v2: epochs of autoencoder + backbone
v2_unfreeze_epoch = 20  # v2: epoch from which the backbone's last tensors train
v2_lr = 0.0005  # v2: learning rate of the unfrozen backbone tensors
bootstrap = 1000  # bootstrap resamples for every confidence interval
threshold_percentile = 95.0  # protocol (b): percentile of validation-normal scores
example_frames = 4  # frames shown per missed anomaly
pixel_epochs = 30  # pixel-space baseline: epochs of the 3-D conv AE on normal clips
pixel_side = 32  # pixel-space baseline: frames resized to this side (multiple of 16)
detector_backbone = "r2plus1d_18"  # the detector `python -m vidad score` uses by default
long_video_classes = ["Run-Side", "Golf-Swing", "Walk-Front", "Diving-Side", "Lifting"]
score_stride = 4  # frames between the windows scored on the long video
long_videos = 5  # long videos rendered (seeds differ): localization is reported as mean and spread

# %%
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis import recognition as rec
from vidad.analysis.pretrain import load_pretrained
from vidad.anomaly import baselines, metrics, published
from vidad.anomaly import plots as aplots
from vidad.anomaly.autoencoder import ae_widths
from vidad.anomaly.detector import build_detector, score_video
from vidad.anomaly.embeddings import DATASET, SPLITS, extract_embeddings, sports_dataset
from vidad.anomaly.long_video import make_long_video
from vidad.anomaly.pixel import PixelAESettings, pixel_ae_scores
from vidad.anomaly.scores import centroid_distances, class_centroids
from vidad.anomaly.train_ae import AESettings, train_v1, train_v2
from vidad.book import Chapter
from vidad.config import build_dir
from vidad.data.protocol import ANOMALY_CLASSES
from vidad.models import count_params
from vidad.pipeline import synth_configs, synth_root
from vidad.video.decode import read_clip

if long_videos < 1:  # checked before any backbone runs
    raise ValueError(f"long_videos must be >= 1, got {long_videos}")
chapter = Chapter("06_embedding_anomaly", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %% [markdown]
# ## The backbones
#
# The seed used R(2+1)D-18, SlowFast R50 and TimeSformer-base with Kinetics-400 weights. Those
# cannot be downloaded where this book is built, so the same architectures were pretrained on
# all classes of synth-actions at this profile's preset (stage `pretrain`). Their embeddings
# are therefore smaller than the seed's, and their pretraining is far weaker than Kinetics:
# the last two columns say how much these backbones know about actions at all.

# %%
backbone_rows, metas = [], {}
for name in backbones:
    model, meta = load_pretrained(profile, name)
    metas[name] = meta
    spec = model.input_spec
    backbone_rows.append(
        {
            "backbone": name,
            "preset": meta["size"],
            "parameters (M)": count_params(model) / 1e6,
            "input (frames x side)": f"{spec.num_frames} x {spec.crop_size}",
            "embedding size": model.embed_dim,
            "published embedding size": published.EMBED_DIM[name],
            "pretraining classes": len(meta["classes"]),
            "pretraining val accuracy": meta["val_accuracy"],
            "pretraining test accuracy": meta["test_accuracy"],
        }
    )
    del model
backbone_table = pd.DataFrame(backbone_rows).set_index("backbone")
display(backbone_table.round(3))
_ = chapter.log_metrics(
    backbones={
        name: {
            "embed_dim": int(row["embedding size"]),
            "params_m": float(row["parameters (M)"]),
            "pretrain_val_accuracy": float(row["pretraining val accuracy"]),
            "pretrain_test_accuracy": float(row["pretraining test accuracy"]),
        }
        for name, row in backbone_table.iterrows()
    }
)
chance = 1 / backbone_table["pretraining classes"].iloc[0]
display(
    Markdown(
        f"Chance level of the pretraining task is {chance:.3f}. The best pretraining test "
        f"accuracy here is {backbone_table['pretraining test accuracy'].max():.3f} "
        f"({backbone_table['pretraining test accuracy'].idxmax()})."
    )
)

# %% [markdown]
# ## Embeddings, computed once
#
# Every clip of synth-sports (all four splits) goes through each backbone's *evaluation*
# transform (uniform frames, resize, normalization; no augmentation) and `forward_features`,
# once. The result is stored under `build/<profile>/embeddings/`, keyed by the hash of the
# weights file, the transform settings and the manifest rows, so every scorer below reads the
# same embeddings and a re-run only recomputes what changed.

# %%
sets = {name: extract_embeddings(profile, name) for name in backbones}
first = sets[backbones[0]]
split_counts = pd.Series(first.splits).value_counts().reindex(list(SPLITS))
count_table = pd.DataFrame(
    {"clips here": split_counts, "rows in the seed (published)": pd.Series(published.SPLIT_ROWS)}
)
display(count_table)
display(
    Markdown(
        f"Embeddings of {len(first.splits)} clips per backbone: "
        + ", ".join(f"{n} {sets[n].dim}-d" for n in backbones)
        + ". The seed's train and val rows were augmented copies (200 and 10 per class); ours "
        "are distinct clips, and nothing below is fit on test or anomaly clips."
    )
)

# %% [markdown]
# ## The autoencoder, frozen (v1) and fine-tuned (v2)
#
# As in the seed: BatchNorm1d on the input, Linear/ReLU layers with dropout 0.3 between them,
# the mirrored decoder ending in a Linear without activation; MSE with reduction `sum`, Adam,
# StepLR. The seed's widths (768 -> 512 -> 256 -> 128 and so on) are for 512- to 2304-d
# embeddings; ours are narrower, so the widths halve at each layer from half the embedding
# size (`vidad.anomaly.autoencoder.ae_widths`): a code as wide as the input could learn the
# identity and reconstruct anomalies as well as normals. The epoch is chosen on the
# **validation** loss. v2 puts the same autoencoder on top of the backbone and, from epoch
# `v2_unfreeze_epoch`, also trains the backbone's last parameter tensors, the seed's
# fraction of them (12 of 110, 30 of 329, 22 of 246) scaled to our backbones' depth.

# %%
runs_root = build_dir(profile) / "runs" / chapter.name
runs = {}
for name in backbones:
    settings = AESettings(
        epochs=ae_epochs,
        batch_size=ae_batch[name],
        lr=ae_lr,
        step_size=ae_step,
        gamma=ae_gamma,
        dropout=ae_dropout,
        seed=seed,
        unfreeze_at_epoch=v2_unfreeze_epoch,
        unfreeze_lr=v2_lr,
    )
    runs[name, "v1"] = train_v1(sets[name], settings, runs_root)
    runs[name, "v2"] = train_v2(
        profile, name, sets[name], dataclasses.replace(settings, epochs=v2_epochs), runs_root
    )

ae_rows = []
for (name, config), run in runs.items():
    seed_n, seed_total = published.UNFREEZE_LAST_N[name]
    embeds = run.embeddings if run.embeddings is not None else sets[name].embeddings
    ae_rows.append(
        {
            "backbone": name,
            "config": config,
            "widths": " -> ".join(map(str, (sets[name].dim, *ae_widths(sets[name].dim)))),
            "batch": ae_batch[name],
            "epoch chosen (val loss)": run.best_epoch,
            "val loss": min(h["val_loss"] for h in run.history),
            "backbone tensors unfrozen": run.unfreeze_last_n if config == "v2" else 0,
            "published (of)": f"{seed_n} of {seed_total}" if config == "v2" else "0",
            "mean embedding norm": float(np.linalg.norm(embeds, axis=1).mean()),
        }
    )
ae_table = pd.DataFrame(ae_rows).set_index(["backbone", "config"])
display(ae_table.round(3))

# %%
history = pd.DataFrame(
    [
        {"backbone": n, "config": c, "epoch": h["epoch"], "split": split, "loss": h[key]}
        for (n, c), run in runs.items()
        for h in run.history
        for split, key in (("train", "train_loss"), ("val", "val_loss"))
    ]
)
fig = aplots.loss_curves(history, v2_unfreeze_epoch if v2_epochs > 1 else None)
chapter.savefig(fig, "ae_loss_curves")

# %% [markdown]
# The last column above is a check the seed could not make: its v2 loss compares the
# backbone's embedding with its own reconstruction, and both move during fine-tuning. The
# loss can fall simply because the fine-tuned backbone shrinks its embeddings; a falling norm
# from v1 (frozen) to v2 (fine-tuned) is that effect.

# %%
norms = ae_table["mean embedding norm"].unstack("config")
change = (norms["v2"] / norms["v1"] - 1).sort_values()
display(
    Markdown(
        "Mean embedding norm, fine-tuned (v2) relative to frozen (v1): "
        + ", ".join(f"{n} {c:+.1%}" for n, c in change.items())
        + ". "
        + (
            f"**{change.index[0]}**'s embeddings shrank by more than 10%: part of its lower v2 "
            "loss comes from smaller embeddings, not a better model of normal clips."
            if change.iloc[0] < -0.10
            else "No backbone's embeddings shrank by more than 10%, so the v2 losses are not "
            "explained by a collapsing embedding."
        )
    )
)

# %% [markdown]
# ## Reconstruction error per split (the seed's Figs. 7 and 8)
#
# One box per split: train and val normals (seen while fitting and selecting), test normals
# and the anomaly clips (never seen). A useful detector puts the anomaly box above the test box.

# %%
errors = pd.DataFrame(
    [
        {"backbone": n, "config": c, "split": split, "error": float(err)}
        for (n, c), run in runs.items()
        for split, err in zip(sets[n].splits, run.errors, strict=True)
    ]
)
fig = aplots.error_boxplots(errors, backbones)
chapter.savefig(fig, "error_per_split")


def split_scores(name: str, values: np.ndarray) -> dict[str, np.ndarray]:
    """Per-split score arrays of one backbone's clips (the pixel baseline uses the same rows)."""
    rows = sets.get(name, first)
    return {s: values[rows.mask(s)] for s in SPLITS}


def rec_setup(meta: dict) -> rec.RecognitionSetup:
    return rec.RecognitionSetup(**meta["setup"])


# %% [markdown]
# ## The seed's Table 2, under two threshold protocols
#
# The seed flags a clip whose error exceeds a threshold and reports, per split, the share of
# clips on the right side of it. **(a) optimistic, as the original:** the threshold that
# maximizes the mean of the test and anomaly accuracies, chosen by looking at those very clips;
# an upper bound, not a result. **(b) ours:** the `threshold_percentile`-th percentile of the
# *validation normals'* errors, fixed before any test or anomaly clip is scored (a target
# false-alarm rate of about 100 minus that percentile, in percent). The seed's published
# TimeSformer rows come from its own data and backbone; they are shown for the shape of the
# table, not as a like-for-like comparison.

# %%
table2_rows, table2_log = [], {}
for (name, config), run in runs.items():
    result = metrics.table2(split_scores(name, run.errors), threshold_percentile)
    table2_log[f"{name}/{config}"] = result
    for protocol, row in result.items():
        label = "(a) optimistic" if protocol == "optimistic" else "(b) validation"
        table2_rows.append({"backbone": name, "config": config, "protocol": label, **row})
for config, row in published.TABLE2.items():
    table2_rows.append(
        {
            "backbone": "TimeSformer (published)",
            "config": config,
            "protocol": "(a) optimistic",
            **row,
        }
    )
table2 = pd.DataFrame(table2_rows)
wide = (
    table2.pivot_table(
        index=["backbone", "config"],
        columns="protocol",
        values=["threshold", *SPLITS],
        sort=False,
    )
    .swaplevel(0, 1, axis=1)
    .sort_index(axis=1, level=0, sort_remaining=False)
)
display(wide.round(3).astype(object).where(wide.notna(), "-"))
_ = chapter.log_metrics(table2=table2_log, threshold_percentile=threshold_percentile)

# %%
ours = table2[~table2["backbone"].str.contains("published")]
by_protocol = ours.groupby("protocol")[["test", "anomaly"]].mean()
gap = by_protocol.loc["(a) optimistic", "anomaly"] - by_protocol.loc["(b) validation", "anomaly"]
val_fa = 1 - ours[ours["protocol"] == "(b) validation"]["test"].mean()
display(
    Markdown(
        f"Averaged over backbones and configurations, protocol (a) flags "
        f"{by_protocol.loc['(a) optimistic', 'anomaly']:.0%} of the anomalies and protocol (b) "
        f"{by_protocol.loc['(b) validation', 'anomaly']:.0%}: choosing the threshold on the "
        f"evaluation clips is worth {gap:+.0%} of flagged anomalies here. Under (b), "
        f"{val_fa:.0%} of test normals are flagged on average, against the "
        f"{100 - threshold_percentile:.0f}% the validation percentile aims at. The seed's "
        f"published anomaly accuracy ({published.TABLE2['v1']['anomaly']:.2f}) was obtained "
        f"the (a) way, on {published.SPLIT_ROWS['anomaly']} anomaly clips (published)."
    )
)

# %% [markdown]
# ## Threshold-free: ROC, AUROC and AUPR with confidence intervals
#
# Test normals are the negatives and anomaly clips the positives. AUROC is the probability
# that a random anomaly scores above a random test normal (0.5 = chance); AUPR's chance level
# is the anomaly share. Intervals are 95% percentile bootstraps, resampling normals and
# anomalies separately. Beside the autoencoder: the seed's second rule (distance to the
# nearest normal-class centroid of the train embeddings), four classical one-class
# detectors fit on the same frozen train embeddings (k-NN distance, mean of 5; Mahalanobis
# with a Ledoit-Wolf covariance; IsolationForest; a One-Class SVM) and two learned heads from
# chapter 7's library: a **MemAE head** (the autoencoder with a memory of 50 items between
# encoder and decoder, `vidad.anomaly.heads`) and **Deep SVDD** (a bias-free MLP pulling normal
# embeddings to a centre). If they match the autoencoder, the autoencoder adds nothing.
#
# One baseline does not use the backbone at all: a **3-D convolutional autoencoder on the
# pixels** (MemAE's plain-AE twin, `vidad.anomaly.pixel`), trained on the same train normals
# as grayscale clips read from the same clip cache. It is what the embedding has to beat.

# %%
method_scores = {}
for name in backbones:
    emb = sets[name]
    method_scores[name, "AE v1 (frozen)"] = runs[name, "v1"].errors
    method_scores[name, "AE v2 (fine-tuned)"] = runs[name, "v2"].errors
    train_mask = emb.mask("train")
    _, centroids = class_centroids(emb.embeddings[train_mask], emb.labels[train_mask])
    method_scores[name, "centroid rule"] = centroid_distances(emb.embeddings, centroids)
    for method, values in baselines.score_all(emb.split("train"), emb.embeddings, seed).items():
        method_scores[name, method] = values

# the pixel-space baseline reads the first backbone's clip cache (no extra decoding)
pixel_setup = rec_setup(metas[backbones[0]])
pixel_data = sports_dataset(profile, pixel_setup, None)
if list(pixel_data.table["path"]) != list(first.paths):
    raise RuntimeError("clip order of the cache differs from the embeddings'")
pixel_clips = pixel_data.clips
pixel_settings = PixelAESettings(side=pixel_side, epochs=pixel_epochs, seed=seed)
PIXELS = "none (pixels)"
method_scores[PIXELS, "3-D conv AE on pixels"] = pixel_ae_scores(
    np.asarray(pixel_clips), first.mask("train"), pixel_settings
)

sep_rows, sep_log = [], {}
for (name, method), values in method_scores.items():
    by_split = split_scores(name, values)
    sep = metrics.separation(by_split["test"], by_split["anomaly"], bootstrap, seed)
    sep_log.setdefault(name, {})[method] = {k: v.as_dict() for k, v in sep.items()}
    sep_rows.append(
        {
            "backbone": name,
            "method": method,
            "AUROC": sep["auroc"].value,
            "AUROC 95% CI": f"[{sep['auroc'].low:.3f}, {sep['auroc'].high:.3f}]",
            "AUPR": sep["aupr"].value,
            "AUPR 95% CI": f"[{sep['aupr'].low:.3f}, {sep['aupr'].high:.3f}]",
            "auroc_low": sep["auroc"].low,
            "auroc_high": sep["auroc"].high,
        }
    )
separation = pd.DataFrame(sep_rows)
display(
    separation.drop(columns=["auroc_low", "auroc_high"]).set_index(["backbone", "method"]).round(3)
)
_ = chapter.log_metrics(
    separation=sep_log,
    bootstrap_resamples=bootstrap,
    anomaly_share=float(
        len(first.split("anomaly")) / (len(first.split("anomaly")) + len(first.split("test")))
    ),
)

# %%
curves = {
    name: {
        method: (
            split_scores(name, method_scores[name, method])["test"],
            split_scores(name, method_scores[name, method])["anomaly"],
        )
        for method in ("AE v1 (frozen)", "AE v2 (fine-tuned)", "centroid rule")
    }
    for name in backbones
}
fig = aplots.roc_figure(curves)
chapter.savefig(fig, "roc_curves")

# %%
fig, ax = plt.subplots(figsize=(8, 0.32 * len(separation) + 1))
labels = [f"{b} | {m}" for b, m in zip(separation["backbone"], separation["method"], strict=True)]
ypos = np.arange(len(separation))
ax.errorbar(
    separation["AUROC"],
    ypos,
    xerr=[
        separation["AUROC"] - separation["auroc_low"],
        separation["auroc_high"] - separation["AUROC"],
    ],
    fmt="o",
    capsize=3,
)
ax.axvline(0.5, color="black", linestyle="--", linewidth=1, label="chance")
ax.set_yticks(ypos, labels, fontsize=8)
ax.invert_yaxis()
ax.set_xlim(0, 1)
ax.set_xlabel("AUROC, test normals vs anomalies (95% CI)")
ax.legend(fontsize="small")
chapter.savefig(fig, "auroc_intervals")

# %% [markdown]
# ## Which anomalies are caught?
#
# Per anomaly class: the share flagged at the protocol (b) threshold, and the AUROC of that
# class's clips against the test normals.

# %%
class_rows = []
for (name, config), run in runs.items():
    by_split = split_scores(name, run.errors)
    threshold = metrics.validation_threshold(by_split["val"], threshold_percentile)
    anomaly_mask = sets[name].mask("anomaly")
    for cls in ANOMALY_CLASSES:
        values = run.errors[anomaly_mask & (sets[name].classes == cls)]
        if not len(values):
            continue
        class_rows.append(
            {
                "class": cls,
                "backbone": name,
                "config": config,
                "clips": len(values),
                "flagged (b)": float(np.mean(values > threshold)),
                "AUROC vs test normals": metrics.auroc(
                    np.r_[by_split["test"], values],
                    np.r_[np.zeros(len(by_split["test"])), np.ones(len(values))],
                ),
            }
        )
per_class = pd.DataFrame(class_rows)
display(
    per_class.pivot_table(
        index="class",
        columns=["backbone", "config"],
        values=["flagged (b)", "AUROC vs test normals"],
        sort=False,
    ).round(3)
)
_ = chapter.log_metrics(
    per_class={
        f"{r['backbone']}/{r['config']}/{r['class']}": {
            "flagged_b": r["flagged (b)"],
            "auroc": r["AUROC vs test normals"],
        }
        for r in class_rows
    }
)

# %% [markdown]
# Missed anomalies: clips of the anomaly set whose v1 error stays below the protocol (b)
# threshold, for TimeSformer (the seed's best backbone) or the first backbone configured.

# %%
shown = "timesformer" if "timesformer" in backbones else backbones[0]
by_split = split_scores(shown, runs[shown, "v1"].errors)
threshold = metrics.validation_threshold(by_split["val"], threshold_percentile)
anomaly_rows = np.flatnonzero(sets[shown].mask("anomaly"))
missed = [i for i in anomaly_rows if runs[shown, "v1"].errors[i] <= threshold]
missed = sorted(missed, key=lambda i: runs[shown, "v1"].errors[i])[:3]
if missed:
    data_root = synth_root(profile, DATASET)
    images, titles = [], []
    for i in missed:
        frames = read_clip(data_root / sets[shown].paths[i], example_frames)
        for k, frame in enumerate(frames):
            images.append(frame)
            titles.append(
                f"{sets[shown].classes[i]}, error {runs[shown, 'v1'].errors[i]:.3g}"
                if k == 0
                else ""
            )
    fig = plotting.image_grid(images, titles, ncols=example_frames)
    chapter.savefig(fig, "missed_anomalies")
display(
    Markdown(
        f"{shown}, v1: {int(np.sum(runs[shown, 'v1'].errors[anomaly_rows] > threshold))} of "
        f"{len(anomaly_rows)} anomaly clips flagged at threshold {threshold:.4g}"
        + ("; the lowest-scoring missed clips are shown above." if missed else ".")
    )
)

# %% [markdown]
# ## Beyond the seed: score a long video of your own
#
# Each backbone's v1 detector (backbone, autoencoder and the protocol (b) threshold fixed on
# validation normals) is saved to `build/<profile>/detectors/<backbone>.pt`. The command
# `python -m vidad score VIDEO` loads one, decodes the video once, slides a window as long as a
# typical training clip over it, embeds and scores every window, and writes a CSV of
# (start, end, score, flagged) and a timeline plot.
#
# To measure temporal localization, long test videos are rendered from fresh synth-sports
# clips (seeds disjoint from the dataset's, so none was seen in training) played back to back,
# normal and anomalous activities mixed (`long_video_classes`), with the true segments known.
# Per-frame scores are the mean of the windows covering the frame; the localization AUROC
# compares them with the true per-frame labels. One video holds only a few segments, so a
# single AUROC swings a lot with the rendering: `long_videos` videos (same classes, different
# seeds) are scored and the table gives the mean and the standard deviation over them.

# %%
manifest = pd.read_csv(synth_root(profile, DATASET) / "manifest.csv")
window_frames = int(np.median(manifest.loc[manifest["split"] == "train", "num_frames"]))
detector_dir = build_dir(profile) / "detectors"
for name in backbones:
    model, meta = load_pretrained(profile, name)
    threshold = metrics.validation_threshold(
        split_scores(name, runs[name, "v1"].errors)["val"], threshold_percentile
    )
    build_detector(
        model,
        {**meta, "backbone": name},
        runs[name, "v1"].autoencoder,
        threshold,
        window_frames,
        profile=profile,
        threshold_rule=f"{threshold_percentile:g}th percentile of validation-normal errors",
    ).save(detector_dir / f"{name}.pt")
    del model

long_dir = build_dir(profile) / "long_video"
long_paths = [long_dir / f"long_video_{i}.mp4" for i in range(long_videos)]
long_segments = [
    make_long_video(path, long_video_classes, synth_configs(profile)["synth-sports"], seed + i)
    for i, path in enumerate(long_paths)
]
long_video, segments = long_paths[0], long_segments[0]  # the one shown and given to the CLI
display(segments)

# %% [markdown]
# The command line, exactly as a user would run it, on the long video:

# %%
import subprocess
import sys

command = [
    sys.executable, "-m", "vidad", "score", str(long_video),
    "--detector", str(detector_dir / f"{detector_backbone}.pt"),
    "--out", str(long_dir), "--stride", str(score_stride),
]  # fmt: skip
print("$ python -m vidad score", " ".join(command[4:]))
completed = subprocess.run(command, capture_output=True, text=True, check=False)
print(completed.stdout + completed.stderr)
if completed.returncode != 0:
    raise RuntimeError(f"the score command failed with status {completed.returncode}")
cli_windows = pd.read_csv(long_dir / f"{long_video.stem}_scores.csv")
display(cli_windows.head())

# %%
from vidad.anomaly.detector import Detector, localization_scores

loc_rows, timelines = [], {}
for name in backbones:
    detector = Detector.load(detector_dir / f"{name}.pt")
    for video_index, (path, video_segments) in enumerate(
        zip(long_paths, long_segments, strict=True)
    ):
        windows, num_frames, fps = score_video(detector, path, score_stride)
        if video_index == 0:
            timelines[name] = windows
        loc_rows.append(
            {
                "backbone": name,
                "video": video_index,
                **localization_scores(windows, video_segments, num_frames),
            }
        )
per_video = pd.DataFrame(loc_rows)
localization = per_video.drop(columns="video").groupby("backbone", sort=False).mean()
localization_std = per_video.drop(columns="video").groupby("backbone", sort=False).std(ddof=0)
display(
    localization.round(3).astype(str)
    + " +/- "
    + localization_std.round(3).astype(str)
)
np.testing.assert_allclose(
    cli_windows["score"], timelines[detector_backbone]["score"], rtol=1e-4, atol=1e-6
)
_ = chapter.log_metrics(
    localization={n: {k: float(v) for k, v in r.items()} for n, r in localization.iterrows()},
    localization_std={
        n: {k: float(v) for k, v in r.items()} for n, r in localization_std.iterrows()
    },
    long_video={
        "videos": long_videos,
        "frames": [int(seg["end_frame"].iloc[-1]) for seg in long_segments],
        "window_frames": window_frames,
    },
)

# %%
for name in backbones:
    detector = Detector.load(detector_dir / f"{name}.pt")
    fig = aplots.timeline_figure(
        timelines[name], int(segments["end_frame"].iloc[-1]), fps, detector.threshold, segments,
        title=f"{name}: window scores on the long video (red: true anomalous segments)",
    )  # fmt: skip
    chapter.savefig(fig, f"timeline_{name}")

# %%
best_loc = localization["frame AUROC"].idxmax()
display(
    Markdown(
        "Temporal localization: mean frame-level AUROC over "
        f"{long_videos} long video(s) of {len(segments)} segments, "
        f"{localization.loc[best_loc, 'frame AUROC']:.3f} "
        f"(+/- {localization_std.loc[best_loc, 'frame AUROC']:.3f}) for {best_loc}, "
        + ", ".join(
            f"{n} {localization.loc[n, 'frame AUROC']:.3f} "
            f"(+/- {localization_std.loc[n, 'frame AUROC']:.3f})"
            for n in localization.index
            if n != best_loc
        )
        + " for the others (standard deviation over the videos; a video with a few segments "
        "is a noisy measurement on its own). The table above (from the CLI, on the first "
        f"video) and the library call give the same window scores for {detector_backbone}."
    )
)

# %% [markdown]
# ## Verdict

# %%
lines = []
for name in backbones:
    part = separation[separation["backbone"] == name].set_index("method")
    best = part["AUROC"].idxmax()
    ae = part.loc["AE v1 (frozen)"]
    rivals = part.drop(index=["AE v1 (frozen)", "AE v2 (fine-tuned)"])
    rival = rivals["AUROC"].idxmax()
    overlap = (
        rivals.loc[rival, "auroc_low"] <= ae["auroc_high"]
        and ae["auroc_low"] <= rivals.loc[rival, "auroc_high"]
    )
    verdict = (
        "its interval overlaps the autoencoder's, so the data cannot tell them apart"
        if overlap
        else (
            "it beats the autoencoder"
            if rivals.loc[rival, "AUROC"] > ae["AUROC"]
            else "the autoencoder beats it"
        )
    )
    above = "above" if ae["auroc_low"] > 0.5 else "not clearly above"
    lines.append(
        f"- **{name}**: the frozen autoencoder reaches AUROC {ae['AUROC']:.3f} {ae['AUROC 95% CI']}"
        f" ({above} chance); fine-tuned (v2) "
        f"{part.loc['AE v2 (fine-tuned)', 'AUROC']:.3f}. The best alternative on the same "
        f"embeddings is {rival} ({rivals.loc[rival, 'AUROC']:.3f}); {verdict}. Best overall: "
        f"{best}."
    )
pixel_row = separation[separation["backbone"] == PIXELS].iloc[0]
best_embedding = separation[separation["backbone"] != PIXELS]["AUROC"].max()
lines.append(
    f"- **Pixels instead of embeddings**: the 3-D conv autoencoder on the clips reaches AUROC "
    f"{pixel_row['AUROC']:.3f} {pixel_row['AUROC 95% CI']}, against {best_embedding:.3f} for the "
    "best detector on an embedding: "
    + (
        "the embedding helps here."
        if best_embedding > pixel_row["auroc_high"]
        else "the pixel baseline is not clearly worse, so the embedding's advantage is not shown."
    )
)
best_row = separation.loc[separation["AUROC"].idxmax()]
lines.append(
    f"\nThe highest AUROC in this chapter is {best_row['AUROC']:.3f} {best_row['AUROC 95% CI']}"
    f" ({best_row['backbone']}, {best_row['method']}), picked after looking at the test clips,"
    f" so it is itself optimistic. With {int(split_counts['test'])} test normals and "
    f"{int(split_counts['anomaly'])} anomalies, intervals are wide; one seed per run."
)
lines.append(
    f"Choosing the threshold on the evaluation clips (protocol (a)) changes the share of "
    f"anomalies flagged by {gap:+.0%} on average against a threshold fixed on validation "
    "normals; results quoted the seed's way overstate what a deployed detector would do."
)
if profile == "smoke":
    lines.append(
        "\nOn the `smoke` profile the backbones were pretrained for one epoch and the "
        "autoencoders for a couple: these numbers only show that the code runs."
    )
display(Markdown("\n".join(lines)))
_ = chapter.log_metrics(
    best={
        "backbone": best_row["backbone"],
        "method": best_row["method"],
        "auroc": float(best_row["AUROC"]),
    },
    optimism_gap_anomaly=float(gap),
)
