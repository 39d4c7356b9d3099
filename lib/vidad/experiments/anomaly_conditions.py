"""Chapter 6, beyond the seed: is it behaviour or scenery that the detectors flag?

Three test conditions (:mod:`vidad.synth.conditions`), all against the same synth-sports test
normals:

* ``confounded``: the seed's protocol, anomaly classes in their own venues;
* ``behaviour_only``: the anomaly actions performed in normal classes' venues;
* ``new_venue``: normal actions in venues never seen in training. Here the "positives" are
  normal clips: an AUROC near 0.5 is the right answer, above it the detector flags scenery.

Every detector is scored in every condition: the frozen autoencoder (AE v1) and k-NN on each
backbone's embeddings, the same two on **controls** that say what the embedding buys (the
same preset with random weights; a scene-only feature, the clip's mean frame, which knows the
venue and nothing of the motion), and the 3-D conv AE on pixels, on raw frames and on the
input the backbones see (each clip minus its mean frame). A linear probe on the normal classes
says how much of the classes each feature space separates.

The long-video test (:func:`long_video_evaluation`) then runs the saved detectors the way a
user would: thresholds calibrated on normal long videos, frames flagged by the mean score of
their windows, rates measured on test long videos of the behaviour-only and confounded kinds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vidad import stats
from vidad.anomaly import baselines, metrics
from vidad.anomaly.detector import (
    Detector,
    ScoredVideo,
    calibrate,
    localization_scores,
    score_frames,
    scored_video,
    segment_labels,
)
from vidad.anomaly.embeddings import EmbeddingSet
from vidad.anomaly.long_video import Segment, make_long_video, video_plan
from vidad.anomaly.metrics import Estimate
from vidad.anomaly.scores import reconstruction_errors
from vidad.synth import SynthConfig
from vidad.video.cache import resize_clip
from vidad.video.footage import Footage, read_footage

CONDITIONS: tuple[str, ...] = ("confounded", "behaviour_only", "new_venue")
#: What a high AUROC means in each condition.
CONDITION_MEANING: dict[str, str] = {
    "confounded": "anomaly classes in their own venues (the seed's protocol): higher is better",
    "behaviour_only": "anomaly actions in normal venues: higher is better",
    "new_venue": "normal actions in new venues: 0.5 is right, higher means scenery is flagged",
}
AE, KNN = "AE v1 (frozen)", "k-NN distance"
SCENE_ONLY = "scene only (mean frame)"
#: Side of the scene-only feature: the mean frame shrunk to side x side colour pixels.
SCENE_SIDE = 8


def random_label(backbone: str) -> str:
    return f"{backbone} (random init)"


# --- feature spaces --------------------------------------------------------------------------


def mean_frame_features(clips: np.ndarray, side: int = SCENE_SIDE) -> np.ndarray:
    """The scene-only feature: each clip's mean frame, shrunk to ``side`` x ``side`` RGB in
    [0, 1], flattened. Motion averages out; the venue's colours and layout stay."""
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"expected (N, T, H, W, 3) clips, got {clips.shape}")
    mean = torch.from_numpy(clips.mean(axis=1, dtype=np.float32) / 255.0).permute(0, 3, 1, 2)
    small = torch.nn.functional.interpolate(mean, size=(side, side), mode="area")
    return small.flatten(1).numpy().astype(np.float32)


def like(template: EmbeddingSet, features: np.ndarray, name: str) -> EmbeddingSet:
    """``features`` as an :class:`EmbeddingSet` with ``template``'s rows (labels, splits)."""
    if len(features) != len(template.embeddings):
        raise ValueError(f"{len(features)} feature rows for {len(template.embeddings)} clips")
    return dataclasses.replace(
        template, backbone=name, key=f"{name}-{template.key}", embeddings=features
    )


@dataclasses.dataclass(frozen=True)
class FeatureSpace:
    """One feature space: synth-sports' rows (all splits) and the condition clips' rows."""

    name: str
    main: EmbeddingSet
    conditions: EmbeddingSet


def condition_split_scores(
    main_splits: np.ndarray,
    main_scores: np.ndarray,
    condition_splits: np.ndarray,
    condition_scores: np.ndarray,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(test-normal scores, condition scores) per condition: the confounded condition's
    positives are the anomaly split, the others' the condition clips."""
    main_splits, condition_splits = np.asarray(main_splits), np.asarray(condition_splits)
    normal = np.asarray(main_scores)[main_splits == "test"]
    out = {"confounded": (normal, np.asarray(main_scores)[main_splits == "anomaly"])}
    for name in CONDITIONS[1:]:
        out[name] = (normal, np.asarray(condition_scores)[condition_splits == name])
    return out


def knn_pair(space: FeatureSpace, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-NN distance to the training normals, of every main and every condition row."""
    train = space.main.split("train")
    query = np.concatenate([space.main.embeddings, space.conditions.embeddings])
    scores = baselines.SCORERS[KNN](train, query, seed)
    return scores[: len(space.main.embeddings)], scores[len(space.main.embeddings) :]


def ae_pair(autoencoder: torch.nn.Module, space: FeatureSpace) -> tuple[np.ndarray, np.ndarray]:
    """The autoencoder's error on every main and every condition row."""
    return (
        reconstruction_errors(autoencoder, space.main.embeddings),
        reconstruction_errors(autoencoder, space.conditions.embeddings),
    )


@dataclasses.dataclass(frozen=True)
class ConditionScores:
    """Per (feature space, scorer): scores of the main rows and of the condition rows."""

    main_splits: np.ndarray
    condition_splits: np.ndarray
    condition_paths: np.ndarray
    main_paths: np.ndarray
    scores: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]

    def pairs(self, key: tuple[str, str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        main, cond = self.scores[key]
        return condition_split_scores(self.main_splits, main, self.condition_splits, cond)

    def estimates(self, n_boot: int, seed: int) -> dict[str, dict[tuple[str, str], dict]]:
        """AUROC and AUPR with bootstrap CIs, per condition and (space, scorer)."""
        out: dict[str, dict[tuple[str, str], dict[str, Estimate]]] = {c: {} for c in CONDITIONS}
        for key in self.scores:
            for condition, (normal, positive) in self.pairs(key).items():
                out[condition][key] = metrics.separation(normal, positive, n_boot, seed)
        return out

    def flagged(self, key: tuple[str, str], percentile: float) -> dict[str, float]:
        """Share of each condition's positives above the validation threshold (the
        ``percentile``-th percentile of validation-normal scores), and of test normals."""
        main, _ = self.scores[key]
        threshold = metrics.validation_threshold(
            np.asarray(main)[self.main_splits == "val"], percentile
        )
        out = {}
        for condition, (normal, positive) in self.pairs(key).items():
            out[condition] = float(np.mean(positive > threshold))
            out["test normals"] = float(np.mean(normal > threshold))
        return out

    def paired(self, condition: str, n_boot: int, seed: int):
        """A :class:`~vidad.experiments.embedding_anomaly.PairedScores`-shaped view of one
        condition: test normals ("test") and the condition's positives ("anomaly")."""
        from vidad.experiments.embedding_anomaly import PairedScores

        normal_rows = self.main_splits == "test"
        if condition == "confounded":
            positive_rows, positive_paths = self.main_splits == "anomaly", self.main_paths
        else:
            positive_rows, positive_paths = self.condition_splits == condition, self.condition_paths
        splits = np.r_[
            np.full(int(normal_rows.sum()), "test"), np.full(int(positive_rows.sum()), "anomaly")
        ]
        clips = np.r_[self.main_paths[normal_rows], positive_paths[positive_rows]]
        scores, splits_of, clips_of = {}, {}, {}
        for (space, scorer), (main, cond) in self.scores.items():
            source = main if condition == "confounded" else cond
            scores[space, scorer] = np.r_[main[normal_rows], source[positive_rows]]
            splits_of[space], clips_of[space] = splits, clips
        return PairedScores(scores, splits_of, clips_of, n_boot, seed)


def condition_frame(estimates: Mapping[str, Mapping[tuple[str, str], Mapping]]) -> pd.DataFrame:
    """Long table: condition, features, scorer, AUROC (CI), AUPR (CI)."""
    rows = []
    for condition, by_key in estimates.items():
        for (space, scorer), sep in by_key.items():
            rows.append(
                {
                    "condition": condition,
                    "features": space,
                    "scorer": scorer,
                    "AUROC": sep["auroc"].value,
                    "auroc_low": sep["auroc"].low,
                    "auroc_high": sep["auroc"].high,
                    "AUPR": sep["aupr"].value,
                    "aupr_low": sep["aupr"].low,
                    "aupr_high": sep["aupr"].high,
                }
            )
    return pd.DataFrame(rows)


def condition_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (features, scorer), one column per condition: "AUROC [low, high]"."""
    text = frame.assign(
        cell=[
            f"{v:.3f} [{lo:.3f}, {hi:.3f}]"
            for v, lo, hi in zip(
                frame["AUROC"], frame["auroc_low"], frame["auroc_high"], strict=True
            )
        ]
    )
    wide = text.pivot_table(
        index=["features", "scorer"],
        columns="condition",
        values="cell",
        aggfunc="first",
        sort=False,
    )
    return wide[[c for c in CONDITIONS if c in wide.columns]]


# --- linear probe -------------------------------------------------------------------------


def linear_probe(space: EmbeddingSet, seed: int = 0) -> dict[str, float]:
    """Accuracy of a logistic regression trained on the train normals' classes, on the test
    normals, with its Wilson interval and the majority-class chance level."""
    train, test = space.mask("train"), space.mask("test")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    model.fit(space.embeddings[train], space.labels[train])
    correct = model.predict(space.embeddings[test]) == space.labels[test]
    ci = stats.wilson_interval(int(correct.sum()), int(len(correct)))
    chance = stats.chance_accuracy(space.labels[test].tolist())
    return {
        "accuracy": float(correct.mean()),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "n_test": int(len(correct)),
        "chance": float(chance["majority"]),
    }


# --- long videos ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LongVideo:
    """A rendered long video and its true segments (one row per take)."""

    kind: str
    path: Path
    segments: pd.DataFrame


def render_long_videos(
    folder: Path,
    kinds: Mapping[str, int],
    num_segments: int,
    config: SynthConfig,
    seed: int,
    min_frames: int,
) -> list[LongVideo]:
    """``kinds[kind]`` videos of each kind, seeds disjoint across kinds and videos."""
    videos = []
    for k, (kind, count) in enumerate(kinds.items()):
        for i in range(count):
            video_seed = seed + 1000 * (k + 1) + i
            path = folder / f"{kind}_{i}.mp4"
            plan: list[Segment] = video_plan(kind, num_segments, video_seed)
            segments = make_long_video(path, plan, config, video_seed, min_frames)
            videos.append(LongVideo(kind, path, segments))
    return videos


def pooled_frame_auroc(labels: Sequence[np.ndarray], scores: Sequence[np.ndarray]) -> float:
    """AUROC over the frames of several videos pooled (frames no window covers left out)."""
    y, s = np.concatenate(labels), np.concatenate(scores)
    keep = np.isfinite(s)
    return float(metrics.auroc(s[keep], y[keep]))


def video_interval(
    metric: Callable[[list[np.ndarray], list[np.ndarray]], float],
    labels: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    n_boot: int,
    seed: int,
) -> stats.Interval:
    """Percentile CI of ``metric`` resampling whole videos (frames of one video are not
    independent draws); resamples without both labels are skipped."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(labels), len(labels))
        yy = [labels[j] for j in idx]
        pooled = np.concatenate(yy)
        if 0 < pooled.sum() < len(pooled):
            draws.append(metric(yy, [scores[j] for j in idx]))
    estimate = metric(list(labels), list(scores))
    if not draws:
        return stats.Interval(estimate, float("nan"), float("nan"))
    low, high = np.quantile(draws, [0.025, 0.975])
    return stats.Interval(estimate, float(low), float(high))


def long_video_metrics(
    scored: Sequence[ScoredVideo], videos: Sequence[LongVideo], n_boot: int, seed: int
) -> dict[str, float]:
    """Pooled frame AUROC (CI over videos) and the stored threshold's flag rates."""
    labels = [segment_labels(v.segments, s.num_frames) for s, v in zip(scored, videos, strict=True)]
    frame_scores = [s.frames["score"].to_numpy() for s in scored]
    flagged = np.concatenate([s.frames["flagged"].to_numpy(bool) for s in scored])
    y = np.concatenate(labels)
    ci = video_interval(pooled_frame_auroc, labels, frame_scores, n_boot, seed)
    per_video = [localization_scores(s, v.segments) for s, v in zip(scored, videos, strict=True)]
    return {
        "frame_auroc": ci.estimate,
        "ci_low": ci.low,
        "ci_high": ci.high,
        "normal_frames_flagged": float(flagged[y == 0].mean()),
        "anomaly_frames_flagged": float(flagged[y == 1].mean()) if (y == 1).any() else float("nan"),
        "videos": len(scored),
        "frames": int(len(y)),
        "mean_video_frame_auroc": float(np.nanmean([p["frame AUROC"] for p in per_video])),
    }


@dataclasses.dataclass(frozen=True)
class LongVideoResult:
    """Per backbone: the calibrated detector's meta, and metrics per kind of test video."""

    calibration: dict[str, dict]  # backbone -> threshold, target, measured false alarm
    metrics: dict[str, dict[str, dict[str, float]]]  # backbone -> kind -> metrics
    scored: dict[str, list[ScoredVideo]]  # backbone -> every test video, in ``videos`` order
    videos: list[LongVideo]  # test videos


class FootageCache:
    """Each long video decoded once per frame size (backbones that share a cache size share
    the decode): the test videos are scored by every backbone."""

    def __init__(self) -> None:
        self._store: dict[tuple[str, int], Footage] = {}

    def get(self, path: Path, side: int) -> Footage:
        key = (str(path), side)
        if key not in self._store:
            self._store[key] = read_footage(path, lambda chunk: resize_clip(chunk, side, side))
        return self._store[key]


def score_long_video(
    detector: Detector, video: LongVideo, stride: int, cache: FootageCache
) -> ScoredVideo:
    """:func:`vidad.anomaly.detector.score_video`, reading the frames from ``cache``."""
    footage = cache.get(video.path, detector.setup.cache_size)
    windows = score_frames(detector, footage.frames, stride)
    return scored_video(detector, windows, len(footage.frames), footage.fps, footage.note())


def long_video_evaluation(
    detectors: Mapping[str, Path],
    calibration_videos: Sequence[LongVideo],
    test_videos: Sequence[LongVideo],
    target_false_alarm: float,
    stride: int,
    n_boot: int,
    seed: int,
) -> LongVideoResult:
    """Calibrate each saved detector on the normal videos (rewriting its checkpoint with the
    calibrated threshold), then score the test videos at that threshold."""
    calibration, results, scored_all = {}, {}, {}
    cache = FootageCache()
    for name, path in detectors.items():
        detector = Detector.load(path)
        normal = [score_long_video(detector, v, stride, cache) for v in calibration_videos]
        detector = calibrate(detector, normal, target_false_alarm)
        detector.save(path)
        calibration[name] = {
            "threshold": detector.threshold,
            "target_false_alarm": target_false_alarm,
            **detector.meta["calibration"],
        }
        scored = [score_long_video(detector, v, stride, cache) for v in test_videos]
        scored_all[name] = scored
        results[name] = {}
        for kind in dict.fromkeys(v.kind for v in test_videos):
            picks = [i for i, v in enumerate(test_videos) if v.kind == kind]
            results[name][kind] = long_video_metrics(
                [scored[i] for i in picks], [test_videos[i] for i in picks], n_boot, seed
            )
    return LongVideoResult(calibration, results, scored_all, list(test_videos))


def long_video_frame(result: LongVideoResult) -> pd.DataFrame:
    """One row per (backbone, kind of test video)."""
    rows = []
    for name, by_kind in result.metrics.items():
        for kind, m in by_kind.items():
            rows.append(
                {
                    "backbone": name,
                    "test videos": kind,
                    "frame AUROC": m["frame_auroc"],
                    "95% CI (videos)": f"[{m['ci_low']:.3f}, {m['ci_high']:.3f}]",
                    "normal frames flagged": m["normal_frames_flagged"],
                    "anomalous frames flagged": m["anomaly_frames_flagged"],
                    "videos": m["videos"],
                    "frames": m["frames"],
                }
            )
    return pd.DataFrame(rows)
