"""A saved anomaly detector, and sliding-window scoring of long videos with it.

The chapter's detector (a pretrained backbone + the autoencoder fit on its embeddings + the
threshold fixed on validation normals) is saved as one checkpoint, so that
``python -m vidad score VIDEO`` can score a video nobody has seen. A long video is decoded
**once**, every frame resized to the size the training clips were cached at; each window of
``window_frames`` frames (the typical training clip's length, so the backbone sees the same
time span it was trained on) is subsampled to the backbone's frame count exactly as a cached
training clip was, embedded and scored. Windows are batched through the backbone.

Checkpoint layout (``torch.save`` of plain tensors and strings, so it loads with
``weights_only=True``): ``format``, ``version``, ``meta`` (JSON), ``backbone`` and
``autoencoder`` state dicts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from vidad.anomaly.autoencoder import EmbeddingAutoencoder
from vidad.anomaly.metrics import auroc
from vidad.models import create_model
from vidad.models.base import VideoModel
from vidad.models.pretrained import load_tensor_file, unreadable_reason
from vidad.train.loop import autocast_context, to_device
from vidad.train.recognition import RecognitionSetup, clip_transform
from vidad.video.cache import resize_clip
from vidad.video.decode import read_video, uniform_indices
from vidad.video.windows import window_starts

DETECTOR_FORMAT = "vidad-detector"
DETECTOR_VERSION = 1


class DetectorError(RuntimeError):
    """A detector checkpoint that is missing or not a vidad detector."""


@dataclass
class Detector:
    """Backbone + autoencoder + threshold, with what is needed to prepare clips for them."""

    backbone: VideoModel
    autoencoder: EmbeddingAutoencoder
    meta: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    @property
    def window_frames(self) -> int:
        return int(self.meta["window_frames"])

    @property
    def setup(self) -> RecognitionSetup:
        return RecognitionSetup(**self.meta["setup"])

    def save(self, path: str | Path) -> Path:
        """Write atomically (a reader never sees half a checkpoint)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(
            {
                "format": DETECTOR_FORMAT,
                "version": DETECTOR_VERSION,
                "meta": json.dumps(self.meta, sort_keys=True),
                "backbone": self.backbone.state_dict(),
                "autoencoder": self.autoencoder.state_dict(),
            },
            tmp,
        )
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Detector:
        """Read a checkpoint written by :meth:`save`; any problem with the file or its metadata
        is one :class:`DetectorError` line naming the file and what is wrong."""
        path = Path(path)
        if not path.is_file():
            raise DetectorError(
                f"no detector checkpoint at {path}; build the book's detectors with "
                "`dvc repro embedding_anomaly` (they are written to build/<profile>/detectors/) "
                "or pass --detector PATH"
            )
        try:
            blob = load_tensor_file(path)
        except Exception as err:  # noqa: BLE001 - any unpickling failure means "not ours"
            raise DetectorError(
                f"{path} is not a readable detector checkpoint ({unreadable_reason(path, err)}); "
                f"{REBUILD}"
            ) from err
        if not isinstance(blob, dict) or blob.get("format") != DETECTOR_FORMAT:
            raise DetectorError(f"{path} is not a vidad detector checkpoint")
        if blob.get("version") != DETECTOR_VERSION:
            raise DetectorError(f"{path}: detector version {blob.get('version')} is unsupported")
        meta = _checked_meta(path, blob)
        for part in ("backbone", "autoencoder"):
            if not isinstance(blob.get(part), dict):
                raise DetectorError(f"{path} lacks the {part!r} weights; {REBUILD}")
        setup = meta["setup"]
        inputs = {"num_frames": setup["num_frames"], "crop_size": setup["crop_size"]}
        try:  # model options override the setup's, as in load_pretrained
            backbone = create_model(
                meta["model"],
                size=meta["size"],
                num_classes=meta["num_classes"],
                **{**inputs, **meta["options"]},
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DetectorError(
                f"{path}: detector metadata 'model', 'size', 'num_classes' and 'options' "
                f"({meta['model']!r}, {meta['size']!r}) do not build a backbone: {_line(err)}"
            ) from err
        try:
            autoencoder = EmbeddingAutoencoder(
                meta["embed_dim"], meta["ae_widths"], meta["dropout"]
            )
        except (TypeError, ValueError) as err:
            raise DetectorError(
                f"{path}: detector metadata 'embed_dim', 'ae_widths' and 'dropout' do not build "
                f"an autoencoder: {_line(err)}"
            ) from err
        for part, module in (("backbone", backbone), ("autoencoder", autoencoder)):
            try:
                module.load_state_dict(blob[part])
            except (RuntimeError, TypeError, ValueError) as err:
                raise DetectorError(
                    f"{path}: the {part} weights do not match the detector's metadata "
                    f"({_line(err)}); {REBUILD}"
                ) from err
        return cls(backbone.eval(), autoencoder.eval(), meta)


#: What to do about a damaged detector file.
REBUILD = "rebuild it with `dvc repro embedding_anomaly` or pass another --detector"

#: The metadata :meth:`Detector.load` and scoring read.
META_KEYS: tuple[str, ...] = (
    "backbone",
    "model",
    "size",
    "options",
    "num_classes",
    "setup",
    "embed_dim",
    "ae_widths",
    "dropout",
    "threshold",
    "window_frames",
)


def _line(err: BaseException, limit: int = 200) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _checked_meta(path: Path, blob: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint's metadata, every key :class:`Detector` reads present and well typed."""
    try:
        meta = json.loads(blob.get("meta"))
    except (TypeError, ValueError) as err:
        raise DetectorError(f"{path}: the detector metadata is not JSON ({_line(err)})") from err
    if not isinstance(meta, dict):
        raise DetectorError(f"{path}: the detector metadata is not a JSON object")
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise DetectorError(f"{path}: the detector metadata lacks {missing}; {REBUILD}")

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    expected = {
        "threshold": ("a number", number(meta["threshold"])),
        "window_frames": (
            "an int >= 1",
            isinstance(meta["window_frames"], int)
            and not isinstance(meta["window_frames"], bool)
            and meta["window_frames"] >= 1,
        ),
        "options": ("a mapping", isinstance(meta["options"], dict)),
        "setup": ("a mapping", isinstance(meta["setup"], dict)),
    }
    for key, (kind, good) in expected.items():
        if not good:
            raise DetectorError(
                f"{path}: detector metadata {key!r} must be {kind}, got {meta[key]!r}; {REBUILD}"
            )
    try:
        RecognitionSetup(**meta["setup"])
    except (TypeError, ValueError) as err:
        raise DetectorError(
            f"{path}: detector metadata 'setup' is not a recognition setup ({_line(err)}); "
            f"{REBUILD}"
        ) from err
    return meta


def build_detector(
    backbone: VideoModel,
    pretrained_meta: dict[str, Any],
    autoencoder: EmbeddingAutoencoder,
    threshold: float,
    window_frames: int,
    **extra: Any,
) -> Detector:
    """Assemble a :class:`Detector` from a pretrained backbone's metadata and a trained AE."""
    meta = {
        "backbone": pretrained_meta.get("backbone", pretrained_meta["model"]),
        "model": pretrained_meta["model"],
        "size": pretrained_meta["size"],
        "options": pretrained_meta["options"],
        "num_classes": len(pretrained_meta["classes"]),
        "setup": pretrained_meta["setup"],
        "embed_dim": int(autoencoder.in_dim),
        "ae_widths": list(autoencoder.widths),
        "dropout": float(autoencoder.dropout),
        "threshold": float(threshold),
        "window_frames": int(window_frames),
        **extra,
    }
    return Detector(backbone.eval(), autoencoder.eval(), meta)


@torch.inference_mode()
def score_frames(
    detector: Detector,
    frames: np.ndarray,
    stride: int,
    batch_size: int = 16,
    device: str | None = None,
) -> pd.DataFrame:
    """Score every window of already-resized ``frames`` (T, side, side, 3) uint8.

    Returns one row per window: start_frame, end_frame (exclusive), score, flagged.
    """
    window = detector.window_frames
    starts = window_starts(len(frames), window, stride)
    setup = detector.setup
    spec = detector.backbone.input_spec
    transform = clip_transform(spec, setup, train=False)
    offsets = uniform_indices(window, setup.num_frames)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    backbone, autoencoder = detector.backbone.eval().to(dev), detector.autoencoder.eval().to(dev)
    scores = []
    for lo in range(0, len(starts), batch_size):
        clips = [transform(frames[s + offsets]) for s in starts[lo : lo + batch_size]]
        batch = torch.utils.data.default_collate(clips)
        with autocast_context(dev):
            z = backbone.forward_features(to_device(batch, dev)).float()
        scores.append(((autoencoder(z) - z) ** 2).sum(dim=1).cpu())
    values = torch.cat(scores).numpy().astype(float)
    return pd.DataFrame(
        {
            "start_frame": starts,
            "end_frame": starts + window,
            "score": values,
            "flagged": values > detector.threshold,
        }
    )


def score_video(
    detector: Detector, path: str | Path, stride: int | None = None, batch_size: int = 16
) -> tuple[pd.DataFrame, int, float]:
    """Decode ``path`` once and score its windows; returns (windows, num_frames, fps).

    Every frame is resized to the size the training clips were cached at while decoding (so a
    long high-resolution video never sits in memory at full size). ``stride`` defaults to a
    quarter window. A video shorter than one window is an error with the lengths in the
    message; an unreadable one raises :class:`vidad.video.decode.VideoDecodeError`.
    """
    side = detector.setup.cache_size  # frames are resized as the clip cache stored them
    frames, fps = read_video(path, lambda chunk: resize_clip(chunk, side, side))
    window = detector.window_frames
    if len(frames) < window:
        raise ValueError(
            f"{path} has {len(frames)} frames; the detector needs at least one window of "
            f"{window} frames"
            + (f" ({window / fps:.1f} s at this video's {fps:g} fps)" if fps else "")
        )
    table = score_frames(detector, frames, stride or max(1, window // 4), batch_size)
    if fps:
        table.insert(2, "start_s", table["start_frame"] / fps)
        table.insert(3, "end_s", table["end_frame"] / fps)
    return table, len(frames), fps


def frame_scores(windows: pd.DataFrame, num_frames: int, how: str = "mean") -> np.ndarray:
    """Per-frame score from overlapping windows: the mean (or max) of the windows covering it."""
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}")
    total = np.zeros(num_frames)
    count = np.zeros(num_frames)
    best = np.full(num_frames, -np.inf)
    for start, end, score in windows[["start_frame", "end_frame", "score"]].itertuples(index=False):
        total[start:end] += score
        count[start:end] += 1
        best[start:end] = np.maximum(best[start:end], score)
    if how == "max":
        return best
    return np.divide(total, count, out=np.full(num_frames, np.nan), where=count > 0)


def segment_labels(segments: pd.DataFrame, num_frames: int) -> np.ndarray:
    """0/1 per frame from a table of segments (start_frame, end_frame exclusive, anomalous)."""
    labels = np.zeros(num_frames, dtype=np.int64)
    for row in segments.itertuples(index=False):
        if bool(row.anomalous):
            labels[int(row.start_frame) : int(row.end_frame)] = 1
    return labels


def localization_scores(
    windows: pd.DataFrame, segments: pd.DataFrame, num_frames: int
) -> dict[str, float]:
    """Temporal localization of one scored video against its true segments.

    ``frame AUROC`` ranks frames by the mean score of the windows covering them (frames no
    window covers are left out); ``window AUROC`` ranks windows, a window being anomalous when
    most of its frames are (NaN when all windows share one label). The two flag rates say what
    the detector's own threshold does: a frame counts as flagged when any flagged window covers
    it.
    """
    labels = segment_labels(segments, num_frames)
    per_frame = frame_scores(windows, num_frames)
    covered = ~np.isnan(per_frame)
    starts, ends = windows["start_frame"].to_numpy(), windows["end_frame"].to_numpy()
    window_labels = np.array([labels[a:b].mean() > 0.5 for a, b in zip(starts, ends, strict=True)])
    flagged = np.zeros(num_frames, bool)
    for a, b, flag in zip(starts, ends, windows["flagged"].to_numpy(), strict=True):
        flagged[a:b] |= bool(flag)
    return {
        "frame AUROC": float(auroc(per_frame[covered], labels[covered])),
        "window AUROC": float(auroc(windows["score"].to_numpy(), window_labels.astype(int)))
        if 0 < window_labels.sum() < len(window_labels)
        else float("nan"),
        "anomalous frames flagged": float(flagged[labels == 1].mean()),
        "normal frames flagged": float(flagged[labels == 0].mean()),
    }
