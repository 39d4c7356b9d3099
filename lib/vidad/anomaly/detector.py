"""A saved anomaly detector, and sliding-window scoring of long videos with it.

A detector is a pretrained backbone, the autoencoder fit on its embeddings of normal clips, and
a **threshold calibrated on normal long videos**: per-frame scores (the mean, by default, of
the scores of every window covering the frame: :data:`FRAME_RULES`) of held-out normal videos
are computed, and the threshold is the score that a target share of their frames exceeds
(``target_false_alarm``, e.g. 5%). So the threshold means what a user needs it to mean: on
footage like the normal videos, about that share of frames is flagged. Rule, target and the
calibration's own measurements are stored in the checkpoint, and ``python -m vidad score``
prints them with its result.

It is saved as one checkpoint, so that ``python -m vidad score VIDEO`` can score a video nobody
has seen. A long video is decoded **once**, upright and evenly spaced in time
(:func:`vidad.video.footage.read_footage`: phone rotation, variable frame rate), every frame
resized to the size the training clips were cached at; each window of
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
from vidad.video.decode import uniform_indices
from vidad.video.footage import read_footage
from vidad.video.windows import window_starts

DETECTOR_FORMAT = "vidad-detector"
#: 2: the threshold is per frame, calibrated on normal long videos (1 was a clip threshold).
DETECTOR_VERSION = 2
#: How a frame's score comes from the windows covering it.
FRAME_RULES: tuple[str, ...] = ("mean", "max")


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
    def frame_rule(self) -> str:
        return str(self.meta["frame_rule"])

    def calibration_text(self) -> str:
        """What the threshold was calibrated for, in one clause of a result line."""
        target, cal = self.meta.get("target_false_alarm"), self.meta.get("calibration") or {}
        if target is None:
            return "threshold set by hand, not calibrated"
        where = ""
        if cal.get("videos"):
            where = f" of {cal['videos']} normal videos ({cal['frames']} frames)"
        return f"threshold calibrated to flag {100 * float(target):g}% of the frames{where}"

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
            raise DetectorError(
                f"{path}: detector version {blob.get('version')} is unsupported (this vidad "
                f"reads version {DETECTOR_VERSION}: per-frame thresholds calibrated on normal "
                f"videos); {REBUILD}"
            )
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
REBUILD = (
    "rebuild it with `dvc repro embedding_anomaly` or `python -m vidad fit-detector --normal DIR`,"
    " or pass another --detector"
)

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
    "frame_rule",
    "target_false_alarm",
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
        "frame_rule": (f"one of {list(FRAME_RULES)}", meta["frame_rule"] in FRAME_RULES),
        "target_false_alarm": (
            "null or a number in (0, 1)",
            meta["target_false_alarm"] is None
            or (number(meta["target_false_alarm"]) and 0 < meta["target_false_alarm"] < 1),
        ),
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
    frame_rule: str = "mean",
    target_false_alarm: float | None = None,
    **extra: Any,
) -> Detector:
    """Assemble a :class:`Detector` from a pretrained backbone's metadata and a trained AE.

    ``threshold`` is taken as given (``target_false_alarm`` None); :func:`calibrate` replaces
    it with one measured on normal videos.
    """
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
        "frame_rule": frame_rule,
        "target_false_alarm": target_false_alarm,
        **extra,
    }
    return Detector(backbone.eval(), autoencoder.eval(), meta)


@torch.inference_mode()
def embed_windows(
    backbone: VideoModel,
    setup: RecognitionSetup,
    frames: np.ndarray,
    window: int,
    stride: int,
    batch_size: int = 16,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embed every window of already-resized ``frames`` (T, side, side, 3) uint8.

    Each window of ``window`` frames is subsampled to the backbone's frame count exactly as a
    cached training clip was, then goes through its eval transform. Returns (starts, (N, D)
    float embeddings).
    """
    starts = window_starts(len(frames), window, stride)
    transform = clip_transform(backbone.input_spec, setup, train=False)
    offsets = uniform_indices(window, setup.num_frames)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    backbone = backbone.eval().to(dev)
    out = []
    for lo in range(0, len(starts), batch_size):
        clips = [transform(frames[s + offsets]) for s in starts[lo : lo + batch_size]]
        batch = torch.utils.data.default_collate(clips)
        with autocast_context(dev):
            out.append(backbone.forward_features(to_device(batch, dev)).float().cpu())
    return starts, torch.cat(out).numpy()


def window_errors(detector: Detector, z: np.ndarray) -> np.ndarray:
    """The autoencoder's reconstruction error (sum of squares) of each window embedding."""
    with torch.inference_mode():
        autoencoder = detector.autoencoder.eval().cpu()
        zt = torch.as_tensor(z, dtype=torch.float32)
        return ((autoencoder(zt) - zt) ** 2).sum(dim=1).numpy().astype(float)


def window_table(detector: Detector, starts: np.ndarray, z: np.ndarray) -> pd.DataFrame:
    """One row per window: start_frame, end_frame (exclusive), score."""
    window = detector.window_frames
    return pd.DataFrame(
        {"start_frame": starts, "end_frame": starts + window, "score": window_errors(detector, z)}
    )


def score_frames(
    detector: Detector,
    frames: np.ndarray,
    stride: int,
    batch_size: int = 16,
    device: str | None = None,
) -> pd.DataFrame:
    """Score every window of already-resized ``frames`` (T, side, side, 3) uint8
    (:func:`window_table` of :func:`embed_windows`)."""
    starts, z = embed_windows(
        detector.backbone, detector.setup, frames, detector.window_frames, stride, batch_size,
        device,
    )  # fmt: skip
    return window_table(detector, starts, z)


@dataclass(frozen=True)
class ScoredVideo:
    """A scored video: its windows, its frames (score and flag by the detector's rule)."""

    windows: pd.DataFrame  # start_frame, end_frame, [start_s, end_s,] score
    frames: pd.DataFrame  # frame, [time_s,] score, flagged
    fps: float
    note: str  # what decoding did to the video (rotation, resampling), "" if nothing

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def frame_table(
    detector: Detector, windows: pd.DataFrame, num_frames: int, fps: float
) -> pd.DataFrame:
    """Per-frame score by the detector's rule and its flag (score above the threshold)."""
    score = frame_scores(windows, num_frames, detector.frame_rule)
    table = pd.DataFrame({"frame": np.arange(num_frames), "score": score})
    if fps:
        table.insert(1, "time_s", table["frame"] / fps)
    table["flagged"] = score > detector.threshold
    return table


def score_video(
    detector: Detector, path: str | Path, stride: int | None = None, batch_size: int = 16
) -> ScoredVideo:
    """Decode ``path`` once, as displayed, and score its windows and frames.

    Every frame is resized to the size the training clips were cached at while decoding (so a
    long high-resolution video never sits in memory at full size). ``stride`` defaults to a
    quarter window. A video shorter than one window is an error with the lengths in the
    message; an unreadable one raises :class:`vidad.video.decode.VideoDecodeError`.
    """
    side = detector.setup.cache_size  # frames are resized as the clip cache stored them
    footage = read_footage(path, lambda chunk: resize_clip(chunk, side, side))
    frames, fps = footage.frames, footage.fps
    window = detector.window_frames
    if len(frames) < window:
        raise ValueError(
            f"{path} has {len(frames)} frames; the detector needs at least one window of "
            f"{window} frames"
            + (f" ({window / fps:.1f} s at this video's {fps:g} fps)" if fps else "")
        )
    windows = score_frames(detector, frames, stride or max(1, window // 4), batch_size)
    return scored_video(detector, windows, len(frames), fps, footage.note())


def scored_video(
    detector: Detector, windows: pd.DataFrame, num_frames: int, fps: float, note: str = ""
) -> ScoredVideo:
    """A :class:`ScoredVideo` from a video's window table (times added when ``fps`` is known)."""
    windows = windows.copy()
    if fps and "start_s" not in windows:
        windows.insert(2, "start_s", windows["start_frame"] / fps)
        windows.insert(3, "end_s", windows["end_frame"] / fps)
    return ScoredVideo(windows, frame_table(detector, windows, num_frames, fps), fps, note)


def calibrated_threshold(normal_frame_scores: list[np.ndarray], target_false_alarm: float) -> float:
    """The lowest threshold that flags at most ``target_false_alarm`` of the given normal
    frames (a frame is flagged when its score is above the threshold).

    With n pooled scores sorted, at most k = floor(target * n) may lie above: the threshold is
    the (n - k)-th smallest score (ties can only make fewer lie above).
    """
    if not 0 < target_false_alarm < 1:
        raise ValueError(f"target_false_alarm must be in (0, 1), got {target_false_alarm}")
    pooled = np.concatenate([np.asarray(s, float) for s in normal_frame_scores])
    pooled = np.sort(pooled[np.isfinite(pooled)])
    if not len(pooled):
        raise ValueError("no normal frame scores to calibrate on")
    allowed = int(np.floor(target_false_alarm * len(pooled) + 1e-9))
    return float(pooled[len(pooled) - allowed - 1])


def calibrate(
    detector: Detector,
    normal_videos: list[ScoredVideo],
    target_false_alarm: float,
) -> Detector:
    """The detector with its threshold calibrated on scored normal videos (see the module)."""
    scores = [video.frames["score"].to_numpy() for video in normal_videos]
    threshold = calibrated_threshold(scores, target_false_alarm)
    pooled = np.concatenate(scores)
    pooled = pooled[np.isfinite(pooled)]
    meta = {
        **detector.meta,
        "threshold": threshold,
        "target_false_alarm": float(target_false_alarm),
        "calibration": {
            "videos": len(normal_videos),
            "frames": int(len(pooled)),
            "false_alarm": float(np.mean(pooled > threshold)),
        },
    }
    return Detector(detector.backbone, detector.autoencoder, meta)


def frame_scores(windows: pd.DataFrame, num_frames: int, how: str = "mean") -> np.ndarray:
    """Per-frame score from overlapping windows: the mean (or max) of the windows covering it."""
    if how not in FRAME_RULES:
        raise ValueError(f"how must be one of {list(FRAME_RULES)}, got {how!r}")
    total = np.zeros(num_frames)
    count = np.zeros(num_frames)
    best = np.full(num_frames, -np.inf)
    for start, end, score in windows[["start_frame", "end_frame", "score"]].itertuples(index=False):
        total[start:end] += score
        count[start:end] += 1
        best[start:end] = np.maximum(best[start:end], score)
    if how == "max":
        return np.where(count > 0, best, np.nan)
    return np.divide(total, count, out=np.full(num_frames, np.nan), where=count > 0)


def segment_labels(segments: pd.DataFrame, num_frames: int) -> np.ndarray:
    """0/1 per frame from a table of segments (start_frame, end_frame exclusive, anomalous)."""
    labels = np.zeros(num_frames, dtype=np.int64)
    for row in segments.itertuples(index=False):
        if bool(row.anomalous):
            labels[int(row.start_frame) : int(row.end_frame)] = 1
    return labels


def localization_scores(scored: ScoredVideo, segments: pd.DataFrame) -> dict[str, float]:
    """Temporal localization of one scored video against its true segments.

    ``frame AUROC`` ranks frames by their score under the detector's frame rule (frames no
    window covers are left out); ``window AUROC`` ranks windows, a window being anomalous when
    most of its frames are (NaN when all windows share one label). The two flag rates are what
    the detector's stored threshold does to this video's normal and anomalous frames.
    """
    num_frames = scored.num_frames
    labels = segment_labels(segments, num_frames)
    per_frame = scored.frames["score"].to_numpy()
    flagged = scored.frames["flagged"].to_numpy(dtype=bool)
    covered = ~np.isnan(per_frame)
    windows = scored.windows
    starts, ends = windows["start_frame"].to_numpy(), windows["end_frame"].to_numpy()
    window_labels = np.array([labels[a:b].mean() > 0.5 for a, b in zip(starts, ends, strict=True)])
    both = 0 < labels[covered].sum() < covered.sum()
    return {
        "frame AUROC": float(auroc(per_frame[covered], labels[covered])) if both else float("nan"),
        "window AUROC": float(auroc(windows["score"].to_numpy(), window_labels.astype(int)))
        if 0 < window_labels.sum() < len(window_labels)
        else float("nan"),
        "anomalous frames flagged": float(flagged[labels == 1].mean())
        if (labels == 1).any()
        else float("nan"),
        "normal frames flagged": float(flagged[labels == 0].mean())
        if (labels == 0).any()
        else float("nan"),
    }
