"""UCSD Ped1 / Ped2 (real data, or synth-ped in the same layout) -> grayscale frames and labels.

The release unpacks to ``UCSD_Anomaly_Dataset.v1p2/UCSDped2/{Train,Test}``: ``Train/Train001``
... hold the frames of normal videos as ``001.tif``...; ``Test/Test001`` ... the test videos,
and ``Test/Test001_gt`` their per-pixel ground truth (``.bmp``, non-zero = anomalous). Frame
labels also ship in ``UCSDped2.m`` as ``TestVideoFile{end+1}.gt_frame = [61:180];`` (one line
per test video, in order); they are used for a video without a ``_gt`` folder (all 12 Ped2
test videos have one; Ped1 has masks for only some). The release contains ``.DS_Store`` and
``Thumbs.db`` files, which are ignored like every non-image file.

Videos with a frame that cannot be read (every frame is opened and decoded once when the
dataset is listed, not just the first and last), or with no frames, are skipped and reported
(one log line each, plus a summary), never crash a run; an unreadable mask folder is reported
and its masks ignored. All paths stay inside the dataset root: a video folder or a frame image
that is a link out of it is refused (:func:`vidad.video.decode.frame_files`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vidad.video.decode import (
    DecodeReport,
    VideoDecodeError,
    frame_files,
    load_image,
)
from vidad.video.manifest import resolve_inside

UCSD_URL = "http://www.svcl.ucsd.edu/projects/anomaly/dataset.htm"
_GT_FRAME = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")


class UCSDLayoutError(FileNotFoundError):
    """The folder is not a UCSD Ped dataset (one message saying what to download, where)."""


def find_root(path: str | Path) -> Path:
    """The folder holding ``Train`` and ``Test``: ``path`` itself, or ``UCSDped2`` / ``UCSDped1``
    below it (also below ``UCSD_Anomaly_Dataset.v1p2``)."""
    path = Path(path)
    candidates = [path]
    for sub in ("UCSDped2", "UCSDped1"):
        candidates += [path / sub, path / "UCSD_Anomaly_Dataset.v1p2" / sub]
    for candidate in candidates:
        if (candidate / "Train").is_dir() and (candidate / "Test").is_dir():
            return candidate
    raise UCSDLayoutError(
        f"no UCSD Ped dataset under {path}: expected Train/ and Test/ folders (directly or in "
        f"UCSDped2/). Download the UCSD Anomaly Detection Dataset from {UCSD_URL} and unpack "
        "it so that data/ucsd_ped2/UCSDped2/Train/Train001/001.tif exists."
    )


def parse_gt_frames(text: str) -> list[np.ndarray]:
    """Frame ranges of each ``gt_frame = [a:b, c:d]`` line, in order (1-based, inclusive)."""
    out = []
    for match in _GT_FRAME.finditer(text):
        frames: list[int] = []
        for part in match.group(1).split(","):
            part = part.strip()
            if not part:
                continue
            if ":" in part:
                lo, hi = (int(v) for v in part.split(":"))
                frames.extend(range(lo, hi + 1))
            else:
                frames.append(int(part))
        out.append(np.asarray(frames, dtype=np.int64))
    return out


@dataclass(frozen=True)
class UCSDVideo:
    """One video: its frame files, and for test videos mask files or frame ranges."""

    name: str
    split: str  # "train" | "test"
    frames: tuple[Path, ...]
    masks: tuple[Path, ...] | None = None
    gt_frames: np.ndarray | None = None  # 1-based anomalous frames (from the .m file)

    def __len__(self) -> int:
        return len(self.frames)


def _gray(path: Path, size: tuple[int, int] | None, resample: int) -> np.ndarray:
    """One image as (H, W) uint8 grayscale, resized to ``size`` = (height, width) if given."""
    gray = Image.fromarray(load_image(path, "L"))
    if size is not None and gray.size != (size[1], size[0]):
        gray = gray.resize((size[1], size[0]), resample)
    return np.asarray(gray, dtype=np.uint8)


def read_gray(paths: tuple[Path, ...], size: tuple[int, int] | None = None) -> np.ndarray:
    """(T, H, W) uint8 grayscale frames, resized to ``size`` = (height, width) if given.

    An image damaged since the dataset was listed is a :class:`VideoDecodeError` naming it.
    """
    return np.stack([_gray(path, size, Image.BILINEAR) for path in paths])


def read_masks(video: UCSDVideo, size: tuple[int, int] | None = None) -> np.ndarray | None:
    """(T, H, W) bool per-pixel ground truth (None when the video has no mask folder)."""
    if video.masks is None:
        return None
    return np.stack([_gray(path, size, Image.NEAREST) > 0 for path in video.masks])


def frame_labels(video: UCSDVideo) -> np.ndarray:
    """0/1 per frame: from the masks when present, else from the .m file's ranges."""
    if video.masks is not None:
        masks = read_masks(video)
        return masks.reshape(len(masks), -1).any(axis=1).astype(np.int64)
    labels = np.zeros(len(video), dtype=np.int64)
    if video.gt_frames is not None:
        valid = video.gt_frames[(video.gt_frames >= 1) & (video.gt_frames <= len(video))]
        labels[valid - 1] = 1
    return labels


def _checked_frames(folder: Path) -> list[Path]:
    """The images of ``folder``, each decoded once; :class:`VideoDecodeError` names the first
    one that is a link out of the folder or cannot be read."""
    files = frame_files(folder)
    for path in files:
        load_image(path, "L", folder=folder)
    return files


class UCSDPed:
    """The train and test videos of a UCSD-layout folder (real UCSD Ped1/2 or synth-ped)."""

    def __init__(self, root: str | Path) -> None:
        self.root = find_root(root)
        self.report = DecodeReport(name=f"UCSD videos in {self.root}")
        ranges = []
        m_files = sorted(self.root.glob("*.m"))
        if m_files:
            ranges = parse_gt_frames(m_files[0].read_text(errors="replace"))
        self.train = self._videos("Train", "train", [])
        self.test = self._videos("Test", "test", ranges)
        if self.report.failures:
            print(self.report.summary())

    def _videos(self, folder: str, split: str, ranges: list[np.ndarray]) -> list[UCSDVideo]:
        base = self.root / folder
        names = sorted(
            p.name
            for p in base.iterdir()
            if p.is_dir() and not p.name.startswith(".") and not p.name.endswith("_gt")
        )
        videos = []
        for index, name in enumerate(names):
            folder_path = base / name
            if folder_path.resolve().parent != base.resolve():  # a symlink out of the root
                self.report.fail(folder_path, "points outside the dataset root")
                continue
            try:
                frames = _checked_frames(folder_path)
            except VideoDecodeError as err:
                self.report.fail(folder_path, err)
                continue
            if not frames:
                self.report.fail(folder_path, "no frames")
                continue
            gt = base / f"{name}_gt"
            masks = None
            if gt.is_dir() and resolve_inside(base, gt) is None:
                self.report.fail(gt, "points outside the dataset root; masks ignored")
            elif gt.is_dir():
                try:
                    masks = tuple(_checked_frames(gt))
                except VideoDecodeError as err:
                    self.report.fail(gt, f"{err}; masks ignored")
            if masks is not None and len(masks) != len(frames):
                self.report.fail(gt, f"{len(masks)} masks for {len(frames)} frames; masks ignored")
                masks = None
            gt_frames = ranges[index] if index < len(ranges) else None
            self.report.ok()
            videos.append(UCSDVideo(name, split, tuple(frames), masks, gt_frames))
        return videos
