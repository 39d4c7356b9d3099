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
# # 9. Detecting interactions: does focal BCE + BatchNorm fix the imbalance?
#
# Spatio-temporal action detection asks, for every person in a keyframe, which actions they
# are doing (AVA style: boxes plus a multi-label set of actions). The source study of SPEC
# section 3 trained SlowFast R50 with an RoI head on a six-class surveillance interaction set
# (handshake, point, hug, push, kick, punch) whose labels are heavily imbalanced, and reported
# that two small changes lift the mean mAP@0.5IoU over its four test sequences from **56.5% to
# 79.8%** (published): a BatchNorm1d over the class logits, and a focal-style BCE on sigmoid
# probabilities, `-y (1-p)^2 log p - (1-y) p^2 log(1-p)`. Its stack (mmaction2 1.x / mmcv) no
# longer installs beside current PyTorch; this chapter rebuilds the experiment and tests the
# claim.
#
# The data is **synth-interact** (`vidad.synth.interact`): pairs of people in front of a fixed,
# elevated camera, with bystanders, in the source's class proportions. Sequences are camera
# set-ups; the test sequences are set-ups never seen in training, and validation (which picks
# each run's epoch) is a held-out train sequence. The SlowFast backbone starts from our
# synth-actions pretraining (stage `pretrain`), the book's stand-in for Kinetics-400: the real
# Kinetics weights cannot be downloaded where this book is built.

# %% tags=["parameters", "remove-cell"]
profile = "cpu"  # smoke | cpu | gpu
seeds = [0, 1]  # every variant is trained once per seed
variants = ["bce", "bce_bn", "focal", "focal_bn", "mmaction_focal"]  # vidad.detection.train
size = "tiny"  # SlowFast preset
num_frames = 16  # fast-pathway frames centred on the keyframe
frame_stride = 1  # frames between the clip's frames
crop_size = 64  # frames resized to crop_size x crop_size
motion = True  # each clip minus its mean frame (as in the architecture chapters)
init = "pretrained"  # pretrained (stage `pretrain` SlowFast) | scratch
epochs = 12
batch_size = 8
lr = 0.003
weight_decay = 0.0001
warmup_epochs = 1
val_sequences = 1  # train sequences held out for validation
detector_jitter = 0.08  # imitation person detector: box noise (fraction of box size)
detector_miss_rate = 0.1
detector_spurious_rate = 0.1
example_keyframes = 6

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from vidad import plotting
from vidad.analysis.pretrain import load_pretrained
from vidad.book import Chapter
from vidad.config import build_dir
from vidad.detection import published
from vidad.detection.experiment import class_counts, load_splits, make_datasets, run_all
from vidad.detection.train import LOSS_VARIANTS, DetectionSetup, build_detector, predict_boxes
from vidad.models import count_params
from vidad.pipeline import synth_root
from vidad.plotting import draw_boxes
from vidad.video.decode import read_frames

chapter = Chapter("09_action_detection", profile)
plotting.use_book_style()
display(Markdown(chapter.banner()))

# %% [markdown]
# ## The data and its imbalance
#
# The source's counts are annotations (a person box with an action at a keyframe). Ours are
# the same unit; videos per class are the source's counts times the profile's `scale`, so the
# proportions match.

# %%
data = load_splits(synth_root(profile, "synth-interact"), val_sequences)
counts = class_counts(data)
published_counts = pd.DataFrame(
    [
        {"split": split, "class": c, "annotations": n}
        for split, values in (("train", published.TRAIN_COUNTS), ("test", published.TEST_COUNTS))
        for c, n in zip(published.CLASSES, values, strict=True)
    ]
)
ours = counts.assign(split=counts["split"].replace({"val": "train"}))
ours = ours.groupby(["split", "class"], sort=False)["annotations"].sum().reset_index()
both = pd.concat(
    [ours.assign(source="synth-interact (ours)"), published_counts.assign(source="published")]
)
both["share"] = both["annotations"] / both.groupby(["source", "split"])["annotations"].transform(
    "sum"
)
fig = sns.catplot(
    data=both, x="class", y="share", hue="source", col="split", kind="bar", height=3.2,
    aspect=1.4, order=list(published.CLASSES),
).figure  # fmt: skip
fig.suptitle("share of annotations per class (published: the source's counts)", y=1.03)
chapter.savefig(fig, "class_counts")
display(
    counts.pivot_table(index="class", columns="split", values="annotations", sort=False)
    .fillna(0)
    .astype(int)
)
videos = data.manifest.groupby("split")["sequence"].nunique()
display(
    Markdown(
        f"{len(data.manifest)} videos; {videos.get('train', 0)} train sequences (one of them "
        f"held out for validation here) and {videos.get('test', 0)} test sequences; the source "
        f"had 16 train and {len(published.TEST_SEQUENCES)} test sequences (published)."
    )
)

# %%
sample = data.keyframes["train"]
shown, images, titles = set(), [], []
for kf in sample:
    labelled = kf.labels.any(axis=1)
    if not labelled.any():
        continue
    action = data.label_names[data.classes[int(np.argmax(kf.labels[labelled][0]))]]
    if action in shown:
        continue
    shown.add(action)
    video = data.manifest.set_index("video_id").loc[kf.video_id]
    frame = read_frames(data.root / video["path"], [int(round(kf.timestamp * video["fps"]))])[0]
    h, w = frame.shape[:2]
    px = [tuple(int(round(v)) for v in b * [w, h, w, h]) for b in kf.boxes]
    images.append(draw_boxes(frame, [b for b, lab in zip(px, labelled, strict=True) if lab]))
    titles.append(action)
    if len(shown) == len(data.classes):
        break
fig = plotting.image_grid(images, titles, ncols=len(images))
chapter.savefig(fig, "sample_keyframes")

# %% [markdown]
# ## The model
#
# SlowFast (the `size` preset) cut before its pooling; `vidad.models.roi_head` pools each
# pathway over time, concatenates them, reads a 7x7 RoIAlign grid per person box from the
# final map (res5 dilated to stride 16, as in pytorchvideo's detection model), max-pools it,
# applies dropout and one linear layer per class; the optional BatchNorm1d over the logits is
# the source's change. The backbone is initialised from the synth-actions SlowFast wherever
# names and shapes match.

# %%
setup = DetectionSetup(
    size=size, num_frames=num_frames, frame_stride=frame_stride, crop_size=crop_size,
    motion=motion, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
    warmup_epochs=warmup_epochs,
)  # fmt: skip
init_state = None
if init == "pretrained":
    pretrained, _ = load_pretrained(profile, "slowfast_r50")
    init_state = pretrained.state_dict()
    del pretrained
elif init != "scratch":
    raise ValueError(f"init must be 'pretrained' or 'scratch', got {init!r}")
probe = build_detector(setup, LOSS_VARIANTS["focal_bn"], len(data.classes), 0, init_state)
alpha = probe.input_spec.alpha
display(
    pd.DataFrame(
        {
            "value": [
                f"{count_params(probe) / 1e6:.3f} M",
                f"{num_frames} fast / {num_frames // alpha} slow frames, {crop_size}x{crop_size}",
                f"stride {probe.stride}: {crop_size // probe.stride}x{crop_size // probe.stride}",
                probe.config.temporal_pool,
                f"{probe.config.dropout}",
            ]
        },
        index=["parameters", "input", "final feature map", "temporal pooling", "dropout"],
    )
)
del probe

# %% [markdown]
# ## Training the five variants
#
# Same data, backbone initialisation, optimiser (AdamW, cosine schedule) and epochs for every
# variant; only the loss and the logit BatchNorm change. Each run keeps the epoch with the
# best validation mAP (box-level AP on the held-out train sequence, ground-truth boxes), then
# test is scored once, with ground-truth person boxes and with boxes from an imitation person
# detector (`vidad.detection.data.detector_boxes`: each true box missed with probability
# `detector_miss_rate`, the others jittered; spurious boxes added), so that the IoU >= 0.5
# matching of the evaluation is really exercised.

# %%
sets, det_boxes = make_datasets(
    data, setup, build_dir(profile) / "cache" / "synth-interact", alpha, seeds[0],
    detector_jitter, detector_miss_rate, detector_spurious_rate,
)  # fmt: skip
runs, results = run_all(
    variants, seeds, setup, data, sets, det_boxes,
    build_dir(profile) / "runs" / chapter.name, init_state,
)  # fmt: skip
print(
    f"{len(sets['train'])} train, {len(sets['val'])} validation and {len(sets['test'])} test "
    f"keyframes; {len(runs)} runs"
)

# %%
history = pd.DataFrame(
    [{"variant": LOSS_VARIANTS[r.key].label, "seed": r.seed, **h} for r in runs for h in r.history]
)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
sns.lineplot(data=history, x="epoch", y="train_loss", hue="variant", ax=axes[0], errorbar=None)
axes[0].set_yscale("log")
axes[0].set_title("training loss (each loss on its own scale)")
sns.lineplot(data=history, x="epoch", y="val_map", hue="variant", ax=axes[1], errorbar=("pi", 100))
axes[1].set_title("validation mAP (box-level, ground-truth boxes)")
axes[0].get_legend().remove()
axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
fig.tight_layout()
chapter.savefig(fig, "training_curves")

# %% [markdown]
# ## Results on the test sequences
#
# Frame-level AP per class at IoU >= 0.5 (PASCAL VOC, each detection matched to at most one
# ground-truth box, greedy by score). Two summaries: **mean over sequences** (the source's:
# mAP per test sequence, then averaged) and **pooled** (every test keyframe in one AP, the AVA
# convention). Mean and spread are over seeds.

# %%
label = {k: v.label for k, v in LOSS_VARIANTS.items()}
maps = results[results["metric"] == "mAP"].copy()
maps["variant"] = maps["variant"].map(label)
summary = (
    maps[maps["group"].isin(["mean", "all"])]
    .groupby(["boxes", "group", "variant"], sort=False)["value"]
    .agg(["mean", "std", "min", "max"])
    .rename(index={"mean": "mean over sequences", "all": "pooled"}, level="group")
)
display(summary.round(3))
per_class = results[(results["metric"] == "AP") & (results["group"] == "mean")].copy()
per_class["class"] = per_class["action_id"].map(data.label_names)
per_class["variant"] = per_class["variant"].map(label)
class_table = per_class.pivot_table(
    index="class", columns=["boxes", "variant"], values="value", aggfunc="mean", sort=False
)
display(class_table.round(3))
per_sequence = maps[~maps["group"].isin(["mean", "all"])]
sequence_table = per_sequence.pivot_table(
    index="group", columns=["boxes", "variant"], values="value", aggfunc="mean", sort=False
)
sequence_table.index.name = "test sequence"
display(sequence_table.round(3))

# %%
fig, ax = plt.subplots(figsize=(8, 3.8))
gt_classes = per_class[per_class["boxes"] == "gt"]
sns.barplot(
    data=gt_classes, x="class", y="value", hue="variant", ax=ax, errorbar=("pi", 100),
    order=list(published.CLASSES),
)  # fmt: skip
ax.set_ylabel("AP@0.5 (mean over test sequences)")
ax.set_title("per-class AP with ground-truth boxes (bars: mean over seeds, whiskers: range)")
ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
chapter.savefig(fig, "per_class_ap")

# %%
gains = (class_table[("gt", label["focal_bn"])] - class_table[("gt", label["bce"])]).sort_values()
published_rows = pd.DataFrame(
    {
        "test sequence": list(published.TEST_SEQUENCES) + ["mean"],
        "BCE (published)": list(published.SEQUENCE_MAP["bce"]) + [published.MEAN_MAP["bce"]],
        "focal BCE + BN (published)": list(published.SEQUENCE_MAP["focal_bn"])
        + [published.MEAN_MAP["focal_bn"]],
    }
).set_index("test sequence")
display(Markdown(f"Published, for reference ({published.SOURCE}):"))
display(published_rows)
_ = chapter.log_metrics(
    summary={
        f"{boxes}/{group}/{variant}": {"mean": float(r["mean"]), "std": float(r["std"])}
        for (boxes, group, variant), r in summary.iterrows()
    },
    per_class_ap={
        f"{boxes}/{variant}": {c: float(v) for c, v in class_table[(boxes, variant)].items()}
        for boxes, variant in class_table.columns
    },
    per_sequence_map={
        f"{boxes}/{variant}": {
            str(s): float(v) for s, v in sequence_table[(boxes, variant)].items()
        }
        for boxes, variant in sequence_table.columns
    },
    keyframes={split: len(sets[split]) for split in ("train", "val", "test")},
    seeds=list(seeds),
)

# %% [markdown]
# ## What the models see: predictions on test keyframes
#
# Boxes of the imitation detector on test keyframes, with each box's most probable action
# and its probability (first seed of the source's method), beside the true labels.

# %%
method_runs = [r for r in runs if r.key == "focal_bn"] or runs
model = method_runs[0].model
test_det = sets["test_det"]
probs = predict_boxes(model, test_det)
picked = np.linspace(0, len(test_det) - 1, min(example_keyframes, len(test_det))).astype(int)
images, titles = [], []
for i in picked:
    item = test_det.items[i]
    video = data.manifest.set_index("video_id").loc[item.video_id]
    frame = read_frames(data.root / video["path"], [int(round(item.timestamp * video["fps"]))])[0]
    h, w = frame.shape[:2]
    boxes = test_det.boxes_override.get((item.video_id, round(item.timestamp, 3)), [])
    px = [tuple(int(round(v)) for v in b * [w, h, w, h]) for b in boxes]
    images.append(draw_boxes(frame, px))
    predicted = [
        f"{data.label_names[data.classes[int(np.argmax(p))]]} {p.max():.2f}" for p in probs[i]
    ]
    truth = sorted(
        {data.label_names[data.classes[j]] for j in np.flatnonzero(item.labels.any(axis=0))}
    )
    titles.append("pred: " + ", ".join(predicted[:2]) + "\ntrue: " + (", ".join(truth) or "-"))
fig = plotting.image_grid(images, titles, ncols=min(3, len(images)))
chapter.savefig(fig, "predictions")

# %% [markdown]
# ## Verdict

# %%
gt_mean = summary.xs(("gt", "mean over sequences"), level=("boxes", "group"))
bce, method = gt_mean.loc[label["bce"]], gt_mean.loc[label["focal_bn"]]
gain = method["mean"] - bce["mean"]
spread = max(bce["max"] - bce["min"], method["max"] - method["min"])
best = gt_mean["mean"].idxmax()
published_gain = published.MEAN_MAP["focal_bn"] - published.MEAN_MAP["bce"]
lines = [
    f"With ground-truth boxes, the source's method (focal BCE + BN) reaches a mean mAP over the "
    f"test sequences of **{method['mean']:.3f}** against **{bce['mean']:.3f}** for plain BCE "
    f"({gain:+.3f}; published: {published.MEAN_MAP['bce']:.3f} -> "
    f"{published.MEAN_MAP['focal_bn']:.3f}, {published_gain:+.3f}).",
    (
        "The gain is larger than the spread between seeds "
        if abs(gain) > spread
        else "The difference is within the spread between seeds "
    )
    + f"({spread:.3f}), over {len(seeds)} seed(s). Best variant here: {best}.",
    f"Per class, the method changes AP most for {gains.index[-1]} ({gains.iloc[-1]:+.3f}) and "
    f"least for {gains.index[0]} ({gains.iloc[0]:+.3f}); the source found the rare kick and "
    "punch gaining most.",
]
det_mean = summary.xs(("detector", "mean over sequences"), level=("boxes", "group"))
lines.append(
    f"With the imitation detector's boxes, every variant loses mAP (BCE "
    f"{det_mean.loc[label['bce'], 'mean']:.3f}, the method "
    f"{det_mean.loc[label['focal_bn'], 'mean']:.3f}): missed people cost recall and jittered "
    "boxes fall below IoU 0.5."
)
if profile == "smoke":
    lines.append(
        "On the `smoke` profile the models train for an epoch or two on a handful of keyframes: "
        "these numbers only show that the code runs."
    )
display(Markdown("\n\n".join(lines)))
_ = chapter.log_metrics(
    verdict={"gain_mean_map": float(gain), "seed_spread": float(spread), "best": best}
)
