"""Chapter 9's experiment: does focal BCE + BatchNorm fix the class imbalance of interactions?

SlowFast (Feichtenhofer et al., "SlowFast Networks for Video Recognition", ICCV 2019) with an
AVA-style RoI head (Gu et al., "AVA: A Video Dataset of Spatio-temporally Localized Atomic
Visual Actions", CVPR 2018) is trained on synth-interact under each loss variant of
:data:`vidad.detection.train.LOSS_VARIANTS` and each seed, and scored on the test sequences with
ground-truth person boxes and with an imitation person detector's boxes. The claim tested is the
source study's (:mod:`vidad.detection.published`): BCE -> focal BCE + BN lifts the mean mAP over
the test sequences from 56.5% to 79.8%.

The reusable pieces live below this module: the splits and datasets in
:mod:`vidad.detection.splits`, one run's training and evaluation in
:mod:`vidad.detection.train`, AP in :mod:`vidad.eval.detection`. Here: the chapter's
configuration, the grid of runs (:func:`run`), its tables, figures and verdict, and the
metrics file (:meth:`Result.metrics`).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from vidad import plotting, stats
from vidad.config import SectionConfig
from vidad.data.ava import Keyframe
from vidad.detection import published
from vidad.detection.data import KeyframeClips
from vidad.detection.splits import (
    InteractSplits,
    class_counts,
    data_key,
    load_splits,
    make_datasets,
)
from vidad.detection.train import (
    LOSS_VARIANTS,
    DetectionRun,
    DetectionSetup,
    build_detector,
    evaluate_run,
    predict_boxes,
    train_variant,
)
from vidad.models import count_params
from vidad.models.roi_head import SlowFastDetector
from vidad.models.slowfast import SLOWFAST_SIZES
from vidad.paths import Paths
from vidad.train.pretrained import load_pretrained
from vidad.video.decode import read_frames

CHAPTER = "09_action_detection"
SYNTH = "synth-interact"
BACKBONE = "slowfast_r50"  # stage `pretrain`'s backbone the detectors start from
BASELINE, METHOD = "bce", "focal_bn"  # the two variants the verdict compares
#: variant key -> its label in tables, figures and metrics keys
LABELS: dict[str, str] = {k: v.label for k, v in LOSS_VARIANTS.items()}
GROUP_NAMES = {"mean": "mean over sequences", "all": "pooled"}
#: column of the chance-level AP beside the variants' APs in :attr:`Result.class_table`
CHANCE = "chance (random scorer)"
#: random rankings drawn per class and group for the chance-level AP
CHANCE_DRAWS = 2000


@dataclass(frozen=True)
class Config(SectionConfig):
    """``params.yaml`` section ``action_detection``: variants, seeds, model, data, recipe."""

    SECTION = "action_detection"

    seeds: list[int]  # every variant is trained once per seed
    variants: list[str]  # keys of vidad.detection.train.LOSS_VARIANTS
    size: Literal["tiny", "small", "paper"]  # SlowFast preset (vidad.models.slowfast)
    num_frames: int  # fast-pathway frames centred on the keyframe
    frame_stride: int  # frames between the clip's frames
    crop_size: int  # frames resized to crop_size x crop_size
    motion: bool  # each clip minus its mean frame (as in the architecture chapters)
    init: Literal["pretrained", "scratch"]  # pretrained: stage `pretrain`'s SlowFast
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    warmup_epochs: int
    val_sequences: int  # train sequences held out for validation
    detector_jitter: float  # imitation person detector: box noise (fraction of box size)
    detector_miss_rate: float
    detector_spurious_rate: float
    example_keyframes: int

    def validate(self) -> None:
        problems = []
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            problems.append(f"seeds must be a non-empty list without repeats, got {self.seeds}")
        unknown = [v for v in self.variants if v not in LOSS_VARIANTS]
        if unknown:
            problems.append(f"unknown variants {unknown}; valid: {list(LOSS_VARIANTS)}")
        if len(set(self.variants)) != len(self.variants):
            problems.append(f"variants repeat: {self.variants}")
        missing = [v for v in (BASELINE, METHOD) if v not in self.variants]
        if missing:
            problems.append(f"variants must include {missing} (the verdict compares them)")
        alpha = SLOWFAST_SIZES[self.size].alpha
        if self.num_frames < alpha or self.num_frames % alpha:
            problems.append(
                f"num_frames must be a positive multiple of SlowFast's alpha={alpha}, "
                f"got {self.num_frames}"
            )
        for key in ("frame_stride", "crop_size", "epochs", "batch_size", "val_sequences",
                    "example_keyframes"):  # fmt: skip
            if getattr(self, key) < 1:
                problems.append(f"{key} must be >= 1, got {getattr(self, key)}")
        if not self.lr > 0:
            problems.append(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.warmup_epochs < self.epochs:
            problems.append(
                f"warmup_epochs must be in [0, epochs={self.epochs}), got {self.warmup_epochs}"
            )
        if self.detector_jitter < 0:
            problems.append(f"detector_jitter must be >= 0, got {self.detector_jitter}")
        if not 0 <= self.detector_miss_rate < 1:
            problems.append(f"detector_miss_rate must be in [0, 1), got {self.detector_miss_rate}")
        if not 0 <= self.detector_spurious_rate <= 1:
            problems.append(
                f"detector_spurious_rate must be in [0, 1], got {self.detector_spurious_rate}"
            )
        if problems:
            raise ValueError("; ".join(problems))

    def setup(self) -> DetectionSetup:
        """The detectors' settings: this section's keys of the same names (the head's
        ``temporal_pool`` and ``dropout`` keep :class:`DetectionSetup`'s defaults)."""
        own = {f.name for f in fields(self)}
        return DetectionSetup(
            **{f.name: getattr(self, f.name) for f in fields(DetectionSetup) if f.name in own}
        )


# --- the data -------------------------------------------------------------------------------------


def class_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Share of annotations per class and split, ours (validation counted as train, as the
    source's) beside the source's published counts. Columns: split, class, annotations,
    source, share."""
    published_counts = pd.DataFrame(
        [
            {"split": split, "class": c, "annotations": n}
            for split, values in (
                ("train", published.TRAIN_COUNTS),
                ("test", published.TEST_COUNTS),
            )
            for c, n in zip(published.CLASSES, values, strict=True)
        ]
    )
    ours = counts.assign(split=counts["split"].replace({"val": "train"}))
    ours = ours.groupby(["split", "class"], sort=False)["annotations"].sum().reset_index()
    both = pd.concat(
        [ours.assign(source="synth-interact (ours)"), published_counts.assign(source="published")]
    )
    total = both.groupby(["source", "split"])["annotations"].transform("sum")
    both["share"] = both["annotations"] / total
    return both


def count_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Annotations per class (rows) and split (columns)."""
    return (
        counts.pivot_table(index="class", columns="split", values="annotations", sort=False)
        .fillna(0)
        .astype(int)
    )


def sample_keyframes(data: InteractSplits, split: str = "train") -> list[tuple[Keyframe, str]]:
    """One keyframe per action, in order of first appearance: the first keyframe whose first
    labelled person does that action (stops once every class has one)."""
    shown: dict[str, Keyframe] = {}
    for kf in data.keyframes[split]:
        labelled = kf.labels.any(axis=1)
        if not labelled.any():
            continue
        action = data.label_names[data.classes[int(np.argmax(kf.labels[labelled][0]))]]
        if action in shown:
            continue
        shown[action] = kf
        if len(shown) == len(data.classes):
            break
    return [(kf, action) for action, kf in shown.items()]


def keyframe_image(
    data: InteractSplits, video_id: str, timestamp: float, boxes: Sequence[np.ndarray]
) -> np.ndarray:
    """The video's frame at ``timestamp`` (decoded at full size) with normalized ``boxes``
    (x1, y1, x2, y2 in [0, 1]) drawn in pixels."""
    video = data.manifest.set_index("video_id").loc[video_id]
    frame = read_frames(data.root / video["path"], [int(round(timestamp * video["fps"]))])[0]
    h, w = frame.shape[:2]
    px = [tuple(int(round(v)) for v in np.asarray(b) * [w, h, w, h]) for b in boxes]
    return plotting.draw_boxes(frame, px)


# --- the model ------------------------------------------------------------------------------------


def initial_state(config: Config, paths: Paths) -> dict[str, torch.Tensor] | None:
    """The backbone weights every detector starts from: stage ``pretrain``'s SlowFast for
    ``init="pretrained"``, none (random) for ``"scratch"``."""
    if config.init == "scratch":
        return None
    pretrained, _ = load_pretrained(paths.profile, BACKBONE, paths.root)
    return pretrained.state_dict()


def model_table(model: SlowFastDetector, config: Config) -> pd.DataFrame:
    """Parameters, input, final feature map and head settings of one detector."""
    alpha, stride, crop = model.input_spec.alpha, model.stride, config.crop_size
    return pd.DataFrame(
        {
            "value": [
                f"{count_params(model) / 1e6:.3f} M",
                f"{config.num_frames} fast / {config.num_frames // alpha} slow frames, "
                f"{crop}x{crop}",
                f"stride {stride}: {crop // stride}x{crop // stride}",
                model.config.temporal_pool,
                f"{model.config.dropout}",
            ]
        },
        index=["parameters", "input", "final feature map", "temporal pooling", "dropout"],
    )


# --- the runs -------------------------------------------------------------------------------------


def run_all(
    variants: list[str],
    seeds: list[int],
    setup: DetectionSetup,
    data: InteractSplits,
    sets: dict[str, KeyframeClips],
    det: pd.DataFrame,
    runs_root: str | Path,
    init_state: dict[str, torch.Tensor] | None = None,
) -> tuple[list[DetectionRun], pd.DataFrame]:
    """Train every variant with every seed (variant-major) and evaluate each on test once."""
    runs, results = [], []
    key = data_key(data)
    for variant in variants:
        for seed in seeds:
            run = train_variant(
                variant, LOSS_VARIANTS[variant], setup, sets["train"], sets["val"], seed,
                runs_root, key, init_state,
            )  # fmt: skip
            runs.append(run)
            results.append(evaluate_run(run, data.actions["test"], data.classes, sets, det))
    return runs, pd.concat(results, ignore_index=True)


def history_frame(runs: list[DetectionRun]) -> pd.DataFrame:
    """Per-epoch history of every run, with its variant's label and seed."""
    return pd.DataFrame(
        [{"variant": LABELS[r.key], "seed": r.seed, **h} for r in runs for h in r.history]
    )


# --- tables of results ----------------------------------------------------------------------------


def _map_rows(results: pd.DataFrame) -> pd.DataFrame:
    maps = results[results["metric"] == "mAP"].copy()
    maps["variant"] = maps["variant"].map(LABELS)
    return maps


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """mAP mean / std / min / max over seeds per boxes, summary (mean over sequences | pooled)
    and variant, in the order of the results."""
    maps = _map_rows(results)
    return (
        maps[maps["group"].isin(list(GROUP_NAMES))]
        .groupby(["boxes", "group", "variant"], sort=False)["value"]
        .agg(["mean", "std", "min", "max"])
        .rename(index=GROUP_NAMES, level="group")
    )


def per_class_frame(results: pd.DataFrame, label_names: dict[int, str]) -> pd.DataFrame:
    """Per-class AP rows of the mean over test sequences, with class and variant labels."""
    per_class = results[(results["metric"] == "AP") & (results["group"] == "mean")].copy()
    per_class["class"] = per_class["action_id"].map(label_names)
    per_class["variant"] = per_class["variant"].map(LABELS)
    return per_class


def class_table(per_class: pd.DataFrame) -> pd.DataFrame:
    """AP per class (rows) and (boxes, variant) (columns), averaged over seeds."""
    return per_class.pivot_table(
        index="class", columns=["boxes", "variant"], values="value", aggfunc="mean", sort=False
    )


def sequence_table(results: pd.DataFrame) -> pd.DataFrame:
    """mAP per test sequence (rows) and (boxes, variant) (columns), averaged over seeds."""
    maps = _map_rows(results)
    per_sequence = maps[~maps["group"].isin(list(GROUP_NAMES))]
    table = per_sequence.pivot_table(
        index="group", columns=["boxes", "variant"], values="value", aggfunc="mean", sort=False
    )
    table.index.name = "test sequence"
    return table


def sequence_frame(results: pd.DataFrame, variant: str, boxes: str) -> pd.DataFrame:
    """mAP of one variant per (seed, test sequence): seeds as rows, sequences as columns, both
    sorted."""
    rows = results[
        (results["metric"] == "mAP")
        & (results["variant"] == variant)
        & (results["boxes"] == boxes)
        & ~results["group"].isin(list(GROUP_NAMES))
    ]
    table = rows.pivot_table(index="seed", columns="group", values="value", aggfunc="first")
    return table.sort_index().sort_index(axis=1)


def sequence_maps(results: pd.DataFrame, variant: str, boxes: str) -> np.ndarray:
    """:func:`sequence_frame` as an array: the paired items of the chapter's claims (the same
    sequences and seeds for every variant)."""
    return sequence_frame(results, variant, boxes).to_numpy(dtype=float)


def _mean(_: np.ndarray, values: np.ndarray) -> float:
    return float(np.mean(values))


def method_claim(results: pd.DataFrame, boxes: str, n_boot: int = 2000) -> stats.Verdict:
    """The source's claim, focal BCE + BN beats BCE in mean mAP over test sequences, decided by
    the CI of the paired difference with seeds *and* test sequences resampled together. Raises
    ``ValueError`` when the two were not run on the same seeds and sequences."""
    method, baseline = (sequence_frame(results, v, boxes) for v in (METHOD, BASELINE))
    same = method.index.equals(baseline.index) and method.columns.equals(baseline.columns)
    if not same or method.empty or method.isna().any(axis=None) or baseline.isna().any(axis=None):
        raise ValueError(
            f"the method and the baseline were not run on the same seeds / sequences ({boxes} "
            f"boxes): seeds {list(method.index)} / {list(baseline.index)}, sequences "
            f"{list(method.columns)} / {list(baseline.columns)}"
        )
    sequences = np.arange(method.shape[1])
    ci = stats.seed_item_bootstrap(
        _mean, sequences, method.to_numpy(float), baseline.to_numpy(float), n_boot=n_boot, seed=0
    )
    where = "ground-truth boxes" if boxes == "gt" else "the imitation detector's boxes"
    return stats.verdict(
        f"Focal BCE + BN beats plain BCE (mean mAP over test sequences, {where})",
        published.SOURCE,
        ci,
        seeds=method.shape[0],
        n_test=method.shape[1],
        unit="test sequences",
    )


def chance_voc_ap(labels: Sequence, draws: int = CHANCE_DRAWS, seed: int = 0) -> float:
    """Expected AP of a scorer that ranks the items at random, for this class balance, as
    :func:`vidad.eval.detection.voc_average_precision` scores it; NaN without a positive (the
    evaluator's AP is NaN then, and left out of means).

    With ground-truth boxes every test box is a detection, so a random scorer's AP for a class
    is that of a random ranking of the boxes' labels. The VOC all-points AP interpolates
    precision (its envelope from the right), which lifts a random ranking's AP above the exact
    uninterpolated expectation :func:`vidad.stats.chance_average_precision` (about 0.287
    against 0.257 for 10 positives in 50). The lift alone is estimated over ``draws`` seeded
    random rankings and added to that expectation (a control variate: exact with one positive
    or with no negative, and far less noisy than averaging the AP itself).
    """
    n, positives = len(labels), int(np.sum(np.asarray(labels) > 0))
    if positives == 0:
        return float("nan")
    y = np.arange(n) < positives  # only the counts matter: the same draws for any item order
    rng = np.random.default_rng(seed)
    lift, ranks = 0.0, np.arange(1, n + 1)
    chunk = max(1, 1_000_000 // n)
    for start in range(0, draws, chunk):
        order = rng.permuted(np.tile(y, (min(chunk, draws - start), 1)), axis=1)
        precision = np.cumsum(order, axis=1) / ranks
        envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        lift += float(np.sum((envelope - precision) * order)) / positives
    return stats.chance_average_precision(y) + lift / draws


def chance_ap_table(
    items: Sequence[Keyframe],
    classes: Sequence[int],
    label_names: Mapping[int, str],
    sequence: Mapping[str, Hashable],
) -> pd.DataFrame:
    """The AP a random scorer reaches per class (rows, named, in ``classes`` order) on the
    ground-truth boxes of the test keyframes ``items`` (their ``labels`` columns follow
    ``classes``): columns ``"mean over sequences"`` (the mean over the sequences holding the
    class, as the per-class AP of :func:`per_class_frame`) and ``"pooled"``. ``sequence`` maps
    a video to its test sequence."""
    labels = np.concatenate(
        [np.asarray(kf.labels) for kf in items] or [np.zeros((0, len(classes)))]
    )
    groups = np.array([sequence[kf.video_id] for kf in items for _ in range(len(kf.labels))])
    rows = {}
    for j, c in enumerate(classes):
        per_sequence = [chance_voc_ap(labels[groups == g, j]) for g in pd.unique(groups)]
        defined = [v for v in per_sequence if np.isfinite(v)]
        rows[label_names[c]] = {
            GROUP_NAMES["mean"]: float(np.mean(defined)) if defined else float("nan"),
            GROUP_NAMES["all"]: chance_voc_ap(labels[:, j]),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(GROUP_NAMES.values()))
    table.index.name = "class"
    return table


def published_table() -> pd.DataFrame:
    """The source's mAP per test sequence and their mean, BCE and the method."""
    return pd.DataFrame(
        {
            "test sequence": list(published.TEST_SEQUENCES) + ["mean"],
            "BCE (published)": list(published.SEQUENCE_MAP[BASELINE])
            + [published.MEAN_MAP[BASELINE]],
            "focal BCE + BN (published)": list(published.SEQUENCE_MAP[METHOD])
            + [published.MEAN_MAP[METHOD]],
        }
    ).set_index("test sequence")


@dataclass(frozen=True)
class Verdict:
    """The facts the verdict is built from (ground-truth boxes, mean over test sequences)."""

    baseline: float  # BCE's mAP, mean over seeds
    method: float  # focal BCE + BN's
    gain: float  # method - baseline
    spread: float  # the larger seed range (max - min) of the two
    best: str  # label of the variant with the best mean
    class_gains: pd.Series  # per-class AP change method - baseline, ascending
    detector_baseline: float  # the same two means with the imitation detector's boxes
    detector_method: float


def verdict_facts(summary: pd.DataFrame, classes: pd.DataFrame) -> Verdict:
    """Compare the method with BCE in ``summary`` (:func:`summary_table`) and ``classes``
    (:func:`class_table`)."""
    gt_mean = summary.xs(("gt", GROUP_NAMES["mean"]), level=("boxes", "group"))
    det_mean = summary.xs(("detector", GROUP_NAMES["mean"]), level=("boxes", "group"))
    bce, method = gt_mean.loc[LABELS[BASELINE]], gt_mean.loc[LABELS[METHOD]]
    gains = (classes[("gt", LABELS[METHOD])] - classes[("gt", LABELS[BASELINE])]).sort_values()
    return Verdict(
        baseline=float(bce["mean"]),
        method=float(method["mean"]),
        gain=float(method["mean"] - bce["mean"]),
        spread=float(max(bce["max"] - bce["min"], method["max"] - method["min"])),
        best=str(gt_mean["mean"].idxmax()),
        class_gains=gains,
        detector_baseline=float(det_mean.loc[LABELS[BASELINE], "mean"]),
        detector_method=float(det_mean.loc[LABELS[METHOD], "mean"]),
    )


# --- the experiment -------------------------------------------------------------------------------


@dataclass
class Result:
    """Everything chapter 9 shows: the data, the runs, their tidy results and the examples."""

    config: Config
    profile: str
    data: InteractSplits
    counts: pd.DataFrame  # class_counts
    model: pd.DataFrame  # model_table of one detector
    sets: dict[str, KeyframeClips]  # train / val / test (gt boxes) / test_det (detector boxes)
    detector_boxes: pd.DataFrame
    runs: list[DetectionRun]
    results: pd.DataFrame  # tidy AP / mAP of every run (vidad.detection.train.evaluate_run)
    example_indices: np.ndarray  # test_det keyframes on the prediction figure
    example_probs: list[np.ndarray]  # their (K, C) probabilities (first seed of the method)

    @property
    def summary(self) -> pd.DataFrame:
        return summary_table(self.results)

    @property
    def per_class(self) -> pd.DataFrame:
        return per_class_frame(self.results, self.data.label_names)

    @property
    def class_table(self) -> pd.DataFrame:
        """:func:`class_table`, with the chance-level AP (mean over sequences) beside it."""
        table = class_table(self.per_class)
        table[("gt", CHANCE)] = self.chance_ap[GROUP_NAMES["mean"]].reindex(table.index)
        return table

    @functools.cached_property
    def chance_ap(self) -> pd.DataFrame:
        """:func:`chance_ap_table` of the test keyframes with their ground-truth boxes."""
        sequence = self.data.manifest.set_index("video_id")["sequence"]
        return chance_ap_table(
            self.sets["test"].items, self.data.classes, self.data.label_names, sequence
        )

    @property
    def sequence_table(self) -> pd.DataFrame:
        return sequence_table(self.results)

    @property
    def history(self) -> pd.DataFrame:
        return history_frame(self.runs)

    @property
    def verdict(self) -> Verdict:
        return verdict_facts(self.summary, class_table(self.per_class))

    def metrics(self) -> dict[str, Any]:
        """The chapter's metrics file (``results/<profile>/09_action_detection.json``)."""
        classes, sequences, verdict = class_table(self.per_class), self.sequence_table, self.verdict
        return {
            "summary": {
                f"{boxes}/{group}/{variant}": {"mean": float(r["mean"]), "std": float(r["std"])}
                for (boxes, group, variant), r in self.summary.iterrows()
            },
            "per_class_ap": {
                f"{boxes}/{variant}": {c: float(v) for c, v in classes[(boxes, variant)].items()}
                for boxes, variant in classes.columns
            },
            "per_sequence_map": {
                f"{boxes}/{variant}": {
                    str(s): float(v) for s, v in sequences[(boxes, variant)].items()
                }
                for boxes, variant in sequences.columns
            },
            "chance_ap": {
                group: {c: float(v) for c, v in self.chance_ap[group].items() if np.isfinite(v)}
                for group in self.chance_ap.columns
            },
            "keyframes": {split: len(self.sets[split]) for split in ("train", "val", "test")},
            "seeds": list(self.config.seeds),
            "verdict": {
                "gain_mean_map": verdict.gain,
                "seed_spread": verdict.spread,
                "best": verdict.best,
            },
            "claims": [v.as_dict() for v in self.claims()],
        }

    def claims(self) -> list[stats.Verdict]:
        """The method against BCE, with ground-truth and with detector boxes (when both ran)."""
        if not {METHOD, BASELINE} <= set(self.results["variant"]):
            return []
        return [method_claim(self.results, boxes) for boxes in ("gt", "detector")]


def run(config: Config, paths: Paths) -> Result:
    """Load the splits, train every variant with every seed, evaluate, predict the examples."""
    data = load_splits(paths.synth(SYNTH), config.val_sequences)
    counts = class_counts(data)
    setup = config.setup()
    init_state = initial_state(config, paths)
    probe = build_detector(setup, LOSS_VARIANTS[METHOD], len(data.classes), 0, init_state)
    alpha, model = probe.input_spec.alpha, model_table(probe, config)
    del probe
    sets, det = make_datasets(
        data, setup, paths.cache / SYNTH, alpha, config.seeds[0], config.detector_jitter,
        config.detector_miss_rate, config.detector_spurious_rate,
    )  # fmt: skip
    runs, results = run_all(
        config.variants, config.seeds, setup, data, sets, det, paths.runs(CHAPTER), init_state
    )
    example = ([r for r in runs if r.key == METHOD] or runs)[0].model
    test_det = sets["test_det"]
    probs = predict_boxes(example, test_det)
    picked = np.linspace(0, len(test_det) - 1, min(config.example_keyframes, len(test_det)))
    return Result(
        config, paths.profile, data, counts, model, sets, det, runs, results,
        picked.astype(int), [probs[i] for i in picked.astype(int)],
    )  # fmt: skip


# --- figures and text -----------------------------------------------------------------------------


def data_markdown(result: Result) -> str:
    """Videos and sequences per split, against the source's."""
    manifest = result.data.manifest
    videos = manifest.groupby("split")["sequence"].nunique()
    return (
        f"{len(manifest)} videos; {videos.get('train', 0)} train sequences (one of them "
        f"held out for validation here) and {videos.get('test', 0)} test sequences; the source "
        f"had 16 train and {len(published.TEST_SEQUENCES)} test sequences (published)."
    )


def run_summary(result: Result) -> str:
    sets = result.sets
    return (
        f"{len(sets['train'])} train, {len(sets['val'])} validation and {len(sets['test'])} test "
        f"keyframes; {len(result.runs)} runs"
    )


def variants_markdown(config: Config) -> str:
    """Which loss variants this profile trains, and which of the source's it leaves out.

    The claim needs only BCE and the source's method; the ablations (BN alone, focal alone,
    mmaction2's focal) answer which change does the work. A profile that drops them for its
    budget says so, instead of the chapter silently showing fewer bars.
    """
    trained = [LABELS[v] for v in config.variants]
    left_out = [label for v, label in LABELS.items() if v not in config.variants]
    text = (
        f"This profile trains {len(trained)} variant(s), each with {len(config.seeds)} seed(s): "
        + ", ".join(trained)
        + "."
    )
    if left_out:
        text += (
            " Left out on this profile, for its time budget (the claim compares only BCE and "
            "the source's method; the `gpu` profile trains all five): " + ", ".join(left_out) + "."
        )
    return text


def plot_class_counts(result: Result) -> plt.Figure:
    """Share of annotations per class, ours beside the source's, per split."""
    fig = sns.catplot(
        data=class_shares(result.counts), x="class", y="share", hue="source", col="split",
        kind="bar", height=3.2, aspect=1.4, order=list(published.CLASSES),
    ).figure  # fmt: skip
    fig.suptitle("share of annotations per class (published: the source's counts)", y=1.03)
    return fig


def plot_sample_keyframes(result: Result) -> plt.Figure:
    """One train keyframe per action, with the boxes of its labelled people."""
    images, titles = [], []
    for kf, action in sample_keyframes(result.data):
        labelled = kf.boxes[kf.labels.any(axis=1)]
        images.append(keyframe_image(result.data, kf.video_id, kf.timestamp, labelled))
        titles.append(action)
    return plotting.image_grid(images, titles, ncols=len(images))


def plot_training_curves(result: Result) -> plt.Figure:
    """Training loss and validation mAP per epoch, per variant (range over seeds)."""
    history = result.history
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    sns.lineplot(data=history, x="epoch", y="train_loss", hue="variant", ax=axes[0],
                 errorbar=None)  # fmt: skip
    axes[0].set_yscale("log")
    axes[0].set_title("training loss (each loss on its own scale)")
    sns.lineplot(data=history, x="epoch", y="val_map", hue="variant", ax=axes[1],
                 errorbar=("pi", 100))  # fmt: skip
    axes[1].set_title("validation mAP (box-level, ground-truth boxes)")
    axes[0].get_legend().remove()
    axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig


def plot_per_class_ap(result: Result) -> plt.Figure:
    """Per-class AP with ground-truth boxes: bars the mean over seeds, whiskers the range,
    dashes the AP of a random scorer."""
    per_class = result.per_class
    fig, ax = plt.subplots(figsize=(8, 3.8))
    order = list(published.CLASSES)
    sns.barplot(
        data=per_class[per_class["boxes"] == "gt"], x="class", y="value", hue="variant", ax=ax,
        errorbar=("pi", 100), order=order,
    )  # fmt: skip
    chance = result.chance_ap[GROUP_NAMES["mean"]].reindex(order)
    ax.hlines(chance.to_numpy(), np.arange(len(order)) - 0.45, np.arange(len(order)) + 0.45,
              colors="black", linestyles="dashed", label=CHANCE)  # fmt: skip
    ax.set_ylabel("AP@0.5 (mean over test sequences)")
    ax.set_title("per-class AP with ground-truth boxes (bars: mean over seeds, whiskers: range)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def prediction_title(data: InteractSplits, probs: np.ndarray, labels: np.ndarray) -> str:
    """The two first boxes' most probable actions with their probabilities, over the
    keyframe's true actions (``labels``: (K, C) multi-hot of its ground-truth boxes)."""
    predicted = [
        f"{data.label_names[data.classes[int(np.argmax(p))]]} {p.max():.2f}" for p in probs
    ]
    truth = sorted({data.label_names[data.classes[j]] for j in np.flatnonzero(labels.any(axis=0))})
    return "pred: " + ", ".join(predicted[:2]) + "\ntrue: " + (", ".join(truth) or "-")


def plot_predictions(result: Result) -> plt.Figure:
    """Test keyframes with the imitation detector's boxes, titled with the predictions."""
    test_det = result.sets["test_det"]
    images, titles = [], []
    for i, probs in zip(result.example_indices, result.example_probs, strict=True):
        item = test_det.items[i]
        boxes = test_det.boxes_override.get((item.video_id, round(item.timestamp, 3)), [])
        images.append(keyframe_image(result.data, item.video_id, item.timestamp, boxes))
        titles.append(prediction_title(result.data, probs, item.labels))
    return plotting.image_grid(images, titles, ncols=min(3, len(images)))


def published_markdown() -> str:
    return f"Published, for reference ({published.SOURCE}):"


def verdict_markdown(result: Result) -> str:
    """The verdict: the method against BCE, the claims' CIs, per class (against chance),
    detector boxes."""
    v, claims = result.verdict, result.claims()
    published_gain = published.MEAN_MAP[METHOD] - published.MEAN_MAP[BASELINE]
    level = claims[0].level if claims else 0.95
    chance = result.chance_ap[GROUP_NAMES["mean"]].dropna()
    lines = [
        f"With ground-truth boxes, the source's method (focal BCE + BN) reaches a mean mAP over "
        f"the test sequences of **{v.method:.3f}** against **{v.baseline:.3f}** for plain BCE "
        f"({v.gain:+.3f}; published: {published.MEAN_MAP[BASELINE]:.3f} -> "
        f"{published.MEAN_MAP[METHOD]:.3f}, {published_gain:+.3f}).",
        f"Highest mean mAP in this run: {v.best} (a point estimate, not a ranking). Whether "
        "the method's gain holds is decided by the "
        f"{level:.0%} CI of the paired difference, resampling the {len(result.config.seeds)} "
        "seed(s) and the test sequences together (the sequences are a sample of set-ups as the "
        "seeds are a sample of trainings):",
        "\n".join(f"- {c.sentence()}" for c in claims),
        f"Per class, the method changes AP most for {v.class_gains.index[-1]} "
        f"({v.class_gains.iloc[-1]:+.3f}) and least for {v.class_gains.index[0]} "
        f"({v.class_gains.iloc[0]:+.3f}); the source found the rare kick and punch gaining most. "
        "A random scorer would reach AP "
        + ", ".join(f"{c} {a:.3f}" for c, a in chance.items())
        + " on these test boxes (mean over sequences): the floor each class's AP is read against.",
        f"With the imitation detector's boxes, every variant loses mAP (BCE "
        f"{v.detector_baseline:.3f}, the method {v.detector_method:.3f}): missed people cost "
        "recall and jittered boxes fall below IoU 0.5.",
    ]
    if result.profile == "smoke":
        lines.append(
            "On the `smoke` profile the models train for an epoch or two on a handful of "
            "keyframes: these numbers only show that the code runs."
        )
    return "\n\n".join(lines)
