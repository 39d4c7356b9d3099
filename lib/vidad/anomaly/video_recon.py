"""Reconstruction-based anomaly detection on surveillance video (MemAE: Gong et al., "Memorizing
Normality to Detect Anomaly: Memory-augmented Deep Autoencoder for Unsupervised Anomaly
Detection", ICCV 2019).

A 3-D conv autoencoder (with or without memory; ``vidad.models.create_model("memae3d", ...)``)
is trained on sliding 16-frame grayscale clips of *normal* videos only. On a test video every
frame gets a per-pixel error map (the mean squared error of the clips covering it), a frame
score (the map's mean) and, through :mod:`vidad.anomaly.localization`, boxes around where the
error concentrates.

Evaluation follows the field's conventions, and says which one it uses because they give
different numbers on the same scores:

* **frame-level AUROC, micro**: all test frames of all videos pooled into one ROC (UCSD Ped2's
  usual protocol);
* **macro**: the mean of per-video AUROCs (videos with a single class are skipped);
* **per-video min-max normalization**: the MemAE code (and many after it) rescales each test
  video's scores to [0, 1] before pooling. This uses every frame of the test video, including
  its future, so it is not available to an online detector; it usually raises micro AUROC by
  removing differences in difficulty between videos. Both numbers are reported.
* **pixel-level AUROC**: per-pixel errors against the ground-truth masks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch.utils.data import TensorDataset

from vidad.anomaly.metrics import auroc as _rank_auroc
from vidad.models.memae import memae_loss
from vidad.train import TrainConfig, fit, load_checkpoint, make_loader
from vidad.train.classify import run_directory
from vidad.video.windows import window_starts

#: MemAE's input normalization: [0, 1] grayscale, then (x - 0.5) / 0.5.
GRAY_MEAN, GRAY_STD = 0.5, 0.5


def normalize_gray(x: torch.Tensor) -> torch.Tensor:
    """uint8 tensor -> float in [-1, 1] (MemAE's normalization)."""
    return (x.float() / 255.0 - GRAY_MEAN) / GRAY_STD


def sliding_clips(frames: np.ndarray, clip_len: int, stride: int) -> np.ndarray:
    """(T, H, W) uint8 frames -> (N, clip_len, H, W) uint8 clips, starting every ``stride``
    frames and ending on the last frame (:func:`vidad.video.windows.window_starts`)."""
    starts = window_starts(len(frames), clip_len, stride)
    return np.stack([frames[s : s + clip_len] for s in starts])


@dataclass(frozen=True)
class VideoAESettings:
    """Training recipe of the video autoencoders (Adam as in the MemAE code)."""

    clip_len: int = 16
    train_stride: int = 4
    epochs: int = 20
    batch_size: int = 8
    lr: float = 1e-4
    entropy_weight: float = 0.0002
    seed: int = 0

    def train_config(self) -> TrainConfig:
        """Adam at a constant rate (the MemAE code's optimiser), for every video autoencoder."""
        return TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            optimizer="adam",
            schedule="none",
            batch_size=self.batch_size,
            seed=self.seed,
        )


def _to_inputs(batch: tuple[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    (x,) = batch
    x = normalize_gray(x).unsqueeze(1)  # (B, 1, T, H, W) or (B, 1, H, W)
    return x, x


def train_video_ae(
    build: Callable[[], torch.nn.Module],
    train: np.ndarray,
    val: np.ndarray,
    settings: VideoAESettings,
    runs_root: str | Path,
    name: str,
) -> tuple[torch.nn.Module, list[dict[str, float]], int]:
    """Build a model with ``build()`` (seeded) and fit it on uint8 ``train`` samples (clips
    (N, T, H, W) or frames (N, H, W)).

    Goes through the book's training loop: best epoch on the ``val`` loss (normal clips held
    out from training videos), resumable run folder keyed by settings, data and code.
    """
    torch.manual_seed(settings.seed)
    model = build()
    entropy_weight = settings.entropy_weight

    def loss_fn(outputs: tuple[torch.Tensor, torch.Tensor | None], target: torch.Tensor):
        x_hat, weights = outputs
        return memae_loss(target, x_hat, weights, entropy_weight)

    data_key = {  # every byte of the samples (a sum of some frames missed changed ones)
        name: [list(a.shape), str(a.dtype), hashlib.sha256(np.ascontiguousarray(a)).hexdigest()]
        for name, a in (("train", train), ("val", val))
    }
    run_dir = run_directory(
        runs_root, name, {"settings": settings.__dict__, "data": data_key}, model
    )
    result = fit(
        model,
        make_loader(TensorDataset(torch.from_numpy(train)), settings.batch_size, shuffle=True,
                    seed=settings.seed, drop_last=True),
        make_loader(TensorDataset(torch.from_numpy(val)), settings.batch_size, shuffle=False,
                    seed=settings.seed),
        loss_fn,
        settings.train_config(),
        run_dir,
        live=False,
        device="cpu" if not torch.cuda.is_available() else None,
        batch_to_inputs=_to_inputs,
    )  # fmt: skip
    state = load_checkpoint(result.best_path, map_location="cpu")["model"]
    model.load_state_dict(state)
    return model.cpu().eval(), result.history, int(result.best_epoch or 0)


@torch.no_grad()
def error_maps_3d(
    model: torch.nn.Module, frames: np.ndarray, clip_len: int, stride: int, batch_size: int = 8
) -> np.ndarray:
    """Per-frame squared-error maps (T, H, W) of a 3-D AE: the mean over the clips covering
    each frame (clips start every ``stride`` frames; every frame is covered)."""
    model.eval()
    starts = window_starts(len(frames), clip_len, stride)
    total = np.zeros(frames.shape, np.float64)
    count = np.zeros(len(frames), np.float64)
    for lo in range(0, len(starts), batch_size):
        chunk = starts[lo : lo + batch_size]
        x = normalize_gray(torch.from_numpy(np.stack([frames[s : s + clip_len] for s in chunk])))
        x = x.unsqueeze(1)
        x_hat, _ = model(x)
        err = (x_hat - x).pow(2)[:, 0].numpy()
        for s, e in zip(chunk, err, strict=True):
            total[s : s + clip_len] += e
            count[s : s + clip_len] += 1
    return (total / count[:, None, None]).astype(np.float32)


@torch.no_grad()
def error_maps_2d(model: torch.nn.Module, frames: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Per-frame squared-error maps (T, H, W) of a 2-D (frame-by-frame) AE."""
    model.eval()
    out = []
    for lo in range(0, len(frames), batch_size):
        x = normalize_gray(torch.from_numpy(frames[lo : lo + batch_size])).unsqueeze(1)
        x_hat, _ = model(x)
        out.append((x_hat - x).pow(2)[:, 0].numpy())
    return np.concatenate(out).astype(np.float32)


def frame_scores(error_maps: np.ndarray) -> np.ndarray:
    """Frame anomaly score: the mean squared error over the frame."""
    return error_maps.reshape(len(error_maps), -1).mean(axis=1)


def minmax_per_video(scores: np.ndarray) -> np.ndarray:
    """Rescale one video's scores to [0, 1] (the MemAE code's normalization; uses the whole
    video, so it is an offline protocol)."""
    lo, hi = float(np.min(scores)), float(np.max(scores))
    return (scores - lo) / (hi - lo) if hi > lo else np.zeros_like(scores, dtype=float)


def frame_auroc(
    scores: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    average: str = "micro",
    normalize: bool = False,
) -> float:
    """Frame-level AUROC over test videos: ``micro`` pools frames, ``macro`` averages videos.

    NaN where undefined: micro when the pooled frames are all of one class, macro when no video
    has both. Rank-based (equal to sklearn's ``roc_auc_score``, ties counted half), so cheap
    enough for the chapter's bootstrap over test videos.
    """
    if average not in ("micro", "macro"):
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")
    if len(scores) != len(labels):
        raise ValueError("one score array and one label array per video")
    scores = [minmax_per_video(s) if normalize else np.asarray(s, float) for s in scores]
    if average == "micro":
        y = np.concatenate(labels)
        if y.min() == y.max():
            return float("nan")
        return _rank_auroc(np.concatenate(scores), y)
    per_video = [
        _rank_auroc(s, y) for s, y in zip(scores, labels, strict=True) if 0 < np.sum(y) < len(y)
    ]
    return float(np.mean(per_video)) if per_video else float("nan")


def pixel_auroc(
    error_maps: Sequence[np.ndarray], masks: Sequence[np.ndarray], max_pixels: int = 4_000_000
) -> float:
    """Pixel-level AUROC of per-pixel errors against ground-truth masks, over all test frames.

    Pixels are subsampled with a fixed stride when there are more than ``max_pixels`` (the
    result is deterministic).
    """
    errors = np.concatenate([m.reshape(-1) for m in error_maps])
    truth = np.concatenate([np.asarray(m, bool).reshape(-1) for m in masks])
    if errors.shape != truth.shape:
        raise ValueError(f"error maps ({errors.shape}) and masks ({truth.shape}) differ in size")
    step = max(1, int(np.ceil(len(errors) / max_pixels)))
    errors, truth = errors[::step], truth[::step]
    if truth.all() or not truth.any():
        return float("nan")
    return float(roc_auc_score(truth, errors))
