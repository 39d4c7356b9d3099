"""The video MemAE chapter's experiment: four autoencoders on one surveillance dataset.

MemAE 3-D (the official video model, at a profile's width preset) and its plain-AE twin, plus
the frame-by-frame 2-D versions of both, trained on the same normal training videos, chosen on
the same held-out normal videos, and scored on the same test videos. Everything that turns
scores into numbers lives in :mod:`vidad.anomaly.video_recon` and
:mod:`vidad.anomaly.localization`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidad.anomaly import localization as loc
from vidad.anomaly import video_recon as vr
from vidad.data.ucsd_ped import UCSDPed, frame_labels, read_gray, read_masks
from vidad.models.memae import memae2d_frames, memae3d

#: name -> (kind, uses memory)
MODELS: dict[str, tuple[str, bool]] = {
    "MemAE 3-D": ("3d", True),
    "AE 3-D": ("3d", False),
    "MemAE 2-D per frame": ("2d", True),
    "AE 2-D per frame": ("2d", False),
}


@dataclass(frozen=True)
class VideoSetup:
    """Input size, clips and training recipe (SPEC section 5 defaults where they apply)."""

    height: int = 64  # frames are resized to height x width (multiples of 16)
    width: int = 96
    preset: str = "tiny"  # vidad.models.memae.MEMAE3D_SIZES
    clip_len: int = 16
    train_stride: int = 4
    test_stride: int = 4
    epochs: int = 15
    batch_size: int = 8
    lr: float = 1e-4
    entropy_weight: float = 0.0002
    val_videos: int = 2
    seed: int = 0

    def train_settings(self, kind: str) -> vr.VideoAESettings:
        batch = self.batch_size if kind == "3d" else self.batch_size * 4
        return vr.VideoAESettings(
            clip_len=self.clip_len, train_stride=self.train_stride, epochs=self.epochs,
            batch_size=batch, lr=self.lr, entropy_weight=self.entropy_weight, seed=self.seed,
        )  # fmt: skip


@dataclass
class VideoData:
    """Frames of the normal (train / validation) and test videos, with test ground truth."""

    train: list[np.ndarray]
    val: list[np.ndarray]
    test: list[np.ndarray]
    test_names: list[str]
    test_labels: list[np.ndarray]
    test_masks: list[np.ndarray | None]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def load_video_data(root: str | Path, setup: VideoSetup) -> VideoData:
    """Read every video once at the working size; the last ``val_videos`` normal videos are
    held out for choosing epochs and the localization threshold."""
    data = UCSDPed(root)
    if len(data.train) <= setup.val_videos or not data.test:
        raise ValueError(
            f"{data.root}: need more than {setup.val_videos} train videos and a test video"
        )
    size = (setup.height, setup.width)
    normal = [read_gray(v.frames, size) for v in data.train]
    return VideoData(
        train=normal[: -setup.val_videos],
        val=normal[-setup.val_videos :],
        test=[read_gray(v.frames, size) for v in data.test],
        test_names=[v.name for v in data.test],
        test_labels=[frame_labels(v) for v in data.test],
        test_masks=[read_masks(v, size) for v in data.test],
        skipped=list(data.report.failures),
    )


def builder(name: str, setup: VideoSetup) -> Callable[[], torch.nn.Module]:
    kind, memory = MODELS[name]
    factory = memae3d if kind == "3d" else memae2d_frames
    return lambda: factory(setup.preset, use_memory=memory)


def training_samples(videos: list[np.ndarray], kind: str, setup: VideoSetup) -> np.ndarray:
    """Sliding clips (3-D models) or every ``train_stride``-th frame (2-D models)."""
    if kind == "3d":
        return np.concatenate(
            [vr.sliding_clips(v, setup.clip_len, setup.train_stride) for v in videos]
        )
    return np.concatenate([v[:: setup.train_stride] for v in videos])


@dataclass
class ModelResult:
    """One trained model: history and per-video error maps (validation and test)."""

    name: str
    model: torch.nn.Module
    history: list[dict[str, float]]
    best_epoch: int
    val_maps: list[np.ndarray]
    test_maps: list[np.ndarray]


def error_maps(model: torch.nn.Module, kind: str, frames: np.ndarray, setup: VideoSetup):
    if kind == "3d":
        return vr.error_maps_3d(model, frames, setup.clip_len, setup.test_stride)
    return vr.error_maps_2d(model, frames)


def run_model(name: str, setup: VideoSetup, data: VideoData, runs_root: str | Path) -> ModelResult:
    """Train (or resume) one model and compute its error maps on validation and test videos."""
    kind, _ = MODELS[name]
    model, history, best = vr.train_video_ae(
        builder(name, setup),
        training_samples(data.train, kind, setup),
        training_samples(data.val, kind, setup),
        setup.train_settings(kind),
        runs_root,
        name.replace(" ", "_"),
    )
    val_maps = [error_maps(model, kind, v, setup) for v in data.val]
    test_maps = [error_maps(model, kind, v, setup) for v in data.test]
    return ModelResult(name, model, history, best, val_maps, test_maps)


def evaluate_model(result: ModelResult, data: VideoData, pixel_percentile: float) -> dict:
    """Frame AUROC (micro, macro, min-max normalized micro), pixel AUROC, localization rates."""
    scores = [vr.frame_scores(m) for m in result.test_maps]
    metrics = {
        "frame_auroc_micro": vr.frame_auroc(scores, data.test_labels, "micro"),
        "frame_auroc_macro": vr.frame_auroc(scores, data.test_labels, "macro"),
        "frame_auroc_micro_minmax": vr.frame_auroc(scores, data.test_labels, "micro", True),
    }
    with_masks = [(m, g) for m, g in zip(result.test_maps, data.test_masks, strict=True)
                  if g is not None]  # fmt: skip
    metrics["pixel_auroc"] = (
        vr.pixel_auroc([m for m, _ in with_masks], [g for _, g in with_masks])
        if with_masks
        else float("nan")
    )
    threshold = loc.pixel_threshold(result.val_maps, pixel_percentile)
    boxes = [[loc.error_boxes(frame, threshold) for frame in m] for m, _ in with_masks]
    rates = loc.localization_rates(
        [b for video in boxes for b in video],
        np.concatenate([g for _, g in with_masks]) if with_masks else np.zeros((0, 1, 1), bool),
    )
    metrics.update({f"box_{k}": v for k, v in rates.items()})
    metrics["pixel_threshold"] = threshold
    return metrics
