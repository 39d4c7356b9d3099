"""Keyframe clips, person boxes and multi-hot labels for spatio-temporal action detection.

AVA-style data: at each keyframe (video, timestamp) there are person boxes, each with zero or
more action labels. A training sample is the clip of ``num_frames`` frames (every ``stride``-th
frame) centred on the keyframe, the boxes of the people at that keyframe, and a multi-hot
target per box. Frames before the start or after the end are the first / last frame repeated,
as in AVA's loaders.

Every video is decoded **once** and resized to ``size x size`` into a frame cache (one .npy per
video, keyed by the manifest rows, the bytes of every video and the size); epochs and
evaluation read memory maps. ``done.json`` records every array's checksum: a damaged cache is
rebuilt, never read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from vidad.data.ava import Keyframe
from vidad.progress import progress_bar
from vidad.video.cache import resize_clip
from vidad.video.decode import DecodeReport, VideoDecodeError, read_frames
from vidad.video.fingerprint import path_digest, read_record, write_record
from vidad.video.manifest import ManifestError, resolve_clip_path
from vidad.video.transforms import (
    KINETICS_MEAN,
    KINETICS_STD,
    Normalize,
    PackPathway,
    SubtractMeanFrame,
    ToFloatClip,
)

FRAME_CACHE_VERSION = 2
DONE_NAME = "done.json"


def frame_cache(
    root: str | Path, videos: pd.DataFrame, size: int, cache_root: str | Path
) -> dict[str, np.ndarray]:
    """``video_id -> (T, size, size, 3) uint8`` memory maps, decoding only what is missing.

    ``videos`` needs columns ``video_id`` and ``path`` (relative to ``root``; paths that
    escape ``root`` are refused). Videos that fail to decode are skipped and reported. The
    cache is keyed by the rows, the bytes of every video and ``size``; a reused one is checked
    against the checksums in its ``done.json`` and rebuilt when damaged.
    """
    rows = videos[["video_id", "path"]].sort_values("video_id").reset_index(drop=True)
    digest = hashlib.sha256(
        json.dumps({"version": FRAME_CACHE_VERSION, "size": size}).encode()
        + rows.to_csv(index=False).encode()
    )
    for rel in rows["path"]:
        try:
            content = path_digest(resolve_clip_path(root, rel))
        except ManifestError:
            content = "refused"
        digest.update(f"{rel}\t{content}\n".encode())
    folder = Path(cache_root) / digest.hexdigest()[:16]
    done, problem = read_record(folder / DONE_NAME)
    if done is None and problem is None and folder.exists():
        problem = f"{DONE_NAME} is missing"
    if problem is not None:
        print(f"frame cache {folder} is damaged ({problem}): rebuilding it", file=sys.stderr)
    stored = [] if done is None else list(done["sha256"])
    if done is None:
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        report = DecodeReport(name="frame cache")
        for vid, rel in progress_bar(
            list(zip(rows["video_id"], rows["path"], strict=True)), desc="decoding", unit="video"
        ):
            try:
                frames = read_frames(resolve_clip_path(root, rel))
                if not len(frames):
                    raise VideoDecodeError(f"{rel}: no frames")
            except (VideoDecodeError, ManifestError) as err:
                report.fail(rel, err)
                continue
            report.ok()
            np.save(tmp / f"{vid}.npy", resize_clip(frames, size, size))
            stored.append(f"{vid}.npy")
        write_record(tmp / DONE_NAME, {"skipped": report.failures}, stored)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
        if report.failures:
            print(report.summary())
    return {
        vid: np.load(folder / f"{vid}.npy", mmap_mode="r")
        for vid in rows["video_id"]
        if f"{vid}.npy" in stored
    }


def person_table(persons: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Every person box at every keyframe with its action ids, for :func:`vidad.data.ava.keyframes`.

    ``persons`` lists all people (labelled or not: video_id, timestamp, x1..y2, person_id);
    ``actions`` are AVA rows. A person without an action gets ``action_id`` 0, which no class
    uses, so :func:`~vidad.data.ava.keyframes` keeps the box as a negative for every class.
    """
    keys = ["video_id", "timestamp", "person_id"]
    people = persons.assign(timestamp=persons["timestamp"].round(3))
    labels = actions.assign(timestamp=actions["timestamp"].round(3))[[*keys, "action_id"]]
    table = people.merge(labels, on=keys, how="left")
    table["action_id"] = table["action_id"].fillna(0).astype(int)
    return table


def clip_indices(center: int, num_frames: int, stride: int, total: int) -> np.ndarray:
    """Frame indices of a clip centred on ``center``, clamped to the video (edge repeat)."""
    offsets = (np.arange(num_frames) - num_frames // 2) * stride
    return np.clip(center + offsets, 0, total - 1)


class KeyframeClips(Dataset):
    """Items: ``{"clip": tensor or [slow, fast], "boxes": (K, 4) pixels, "targets": (K, C)}``.

    Boxes are in pixels of the ``size x size`` input (the frame is resized, not cropped, so a
    normalized box maps directly). ``motion`` subtracts the clip's mean frame (as in the
    architecture chapters); ``alpha`` packs SlowFast's two pathways.
    """

    def __init__(
        self,
        frames: dict[str, np.ndarray],
        items: Sequence[Keyframe],  # vidad.data.ava.Keyframe
        fps: float,
        num_frames: int,
        stride: int,
        size: int,
        alpha: int | None = None,
        motion: bool = False,
        boxes_override: dict[tuple[str, float], np.ndarray] | None = None,
    ) -> None:
        self.frames = frames
        self.items = [k for k in items if k.video_id in frames]
        self.fps, self.num_frames, self.stride, self.size = fps, num_frames, stride, size
        steps: list[torch.nn.Module] = [ToFloatClip(), Normalize(KINETICS_MEAN, KINETICS_STD)]
        if motion:
            steps.append(SubtractMeanFrame())
        self.transform = torch.nn.Sequential(*steps)
        self.pack = PackPathway(alpha) if alpha else None
        self.boxes_override = boxes_override

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = self.items[index]
        video = self.frames[item.video_id]
        center = min(int(round(item.timestamp * self.fps)), len(video) - 1)
        idx = clip_indices(center, self.num_frames, self.stride, len(video))
        clip = self.transform(np.asarray(video[idx]))
        boxes = item.boxes
        if self.boxes_override is not None:
            boxes = self.boxes_override.get((item.video_id, round(item.timestamp, 3)), boxes[:0])
        return {
            "clip": self.pack(clip) if self.pack else clip,
            "boxes": torch.from_numpy(np.asarray(boxes, np.float32) * self.size),
            "targets": torch.from_numpy(item.labels),
            "index": index,
        }


def collate_keyframes(items: list[dict[str, Any]]) -> tuple[dict[str, Any], torch.Tensor]:
    """Stack clips; concatenate boxes as (K, 5) rows ``[batch_index, x1, y1, x2, y2]``."""
    first = items[0]["clip"]
    if isinstance(first, list):
        clip = [torch.stack([it["clip"][p] for it in items]) for p in range(len(first))]
    else:
        clip = torch.stack([it["clip"] for it in items])
    boxes = torch.cat(
        [
            torch.cat([torch.full((len(it["boxes"]), 1), float(i)), it["boxes"]], dim=1)
            for i, it in enumerate(items)
        ]
    )
    targets = torch.cat([it["targets"] for it in items])
    return {"clip": clip, "boxes": boxes}, targets


def detector_boxes(
    persons: pd.DataFrame,
    seed: int,
    jitter: float = 0.08,
    miss_rate: float = 0.1,
    spurious_rate: float = 0.1,
) -> pd.DataFrame:
    """Boxes that imitate a person detector run on the keyframes, from the true person boxes.

    Each true box is missed with probability ``miss_rate``, else kept with its corners moved by
    Gaussian noise of ``jitter`` times the box size and a detector score in (0.5, 1); each
    keyframe gets a spurious box (random place and size, score in (0.3, 0.8)) with probability
    ``spurious_rate``. Deterministic in ``seed``. Columns: video_id, timestamp, x1, y1, x2, y2,
    det_score.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for (vid, ts), group in persons.groupby(["video_id", "timestamp"], sort=True):
        for box in group[["x1", "y1", "x2", "y2"]].to_numpy(float):
            if rng.random() < miss_rate:
                continue
            w, h = box[2] - box[0], box[3] - box[1]
            moved = box + rng.normal(0, jitter, 4) * np.array([w, h, w, h])
            moved = np.clip(moved, 0, 1)
            if moved[2] - moved[0] < 0.01 or moved[3] - moved[1] < 0.01:
                continue
            rows.append((vid, ts, *moved, rng.uniform(0.5, 1.0)))
        if rng.random() < spurious_rate:
            w, h = rng.uniform(0.05, 0.2), rng.uniform(0.15, 0.5)
            x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
            rows.append((vid, ts, x, y, x + w, y + h, rng.uniform(0.3, 0.8)))
    columns = ["video_id", "timestamp", "x1", "y1", "x2", "y2", "det_score"]
    return pd.DataFrame(rows, columns=columns)


def boxes_by_keyframe(boxes: pd.DataFrame) -> dict[tuple[str, float], np.ndarray]:
    """``(video_id, timestamp rounded to 3 decimals) -> (K, 4) float32 x1, y1, x2, y2`` of a box
    table such as :func:`detector_boxes` returns (the ``boxes_override`` of
    :class:`KeyframeClips` and of :func:`vidad.detection.train.detections_table`)."""
    return {
        (vid, round(float(ts), 3)): group[["x1", "y1", "x2", "y2"]].to_numpy(np.float32)
        for (vid, ts), group in boxes.groupby(["video_id", "timestamp"])
    }
