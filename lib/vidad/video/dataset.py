"""A torch Dataset of clips described by a vidad manifest.

:class:`ClipDataset` reads ``root/manifest.csv`` (every path checked to stay inside ``root``
before anything is decoded), keeps the requested splits, optionally probes every clip once and
drops the unreadable ones (one log line each and a summary), and returns for each item
``dict(video=..., label=..., index=..., path=...)``. Each item decodes only the ``num_frames``
frames it needs, uniformly spaced over the whole clip.

A clip that still fails at load time gives ``None`` (recorded in :attr:`ClipDataset.report`);
use :func:`collate_skip_none` as the DataLoader's ``collate_fn`` to drop those items. A clip of
a single frame is kept (its frame fills the clip) and reported as a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from torch.utils.data import Dataset
from torch.utils.data.dataloader import default_collate

from vidad.video.decode import (
    DEFAULT_FOLDER_FPS,
    DecodeReport,
    VideoDecodeError,
    read_clip,
    scan_videos,
    still_clip,
)
from vidad.video.manifest import MANIFEST_NAME, read_manifest, select_split

logger = logging.getLogger("vidad.video")


class ClipDataset(Dataset):
    """Clips of some splits of a manifest, decoded on demand.

    Args:
        root: dataset folder holding the manifest; manifest paths are relative to it.
        splits: split name or names to keep (e.g. ``"train"`` or ``["test", "anomaly"]``).
        num_frames: frames per clip, uniformly spaced over the whole clip.
        transform: applied to the uint8 ``(T, H, W, 3)`` array (e.g.
            :func:`vidad.video.transforms.make_clip_transform`); ``None`` returns the array.
        manifest_name: manifest file name inside ``root``.
        validate: probe every clip once and drop the ones that fail.
        folder_fps: frame rate assumed for frame-folder clips.
        progress: progress bar while validating (``None``: see :mod:`vidad.progress`).

    Attributes:
        table: the kept manifest rows (with ``abspath``), index 0..len-1.
        classes: class names by label (from the whole manifest, so every split agrees).
        report: :class:`DecodeReport` of the clips dropped or failed.
    """

    def __init__(
        self,
        root: str | Path,
        splits: str | Iterable[str],
        num_frames: int,
        transform: Callable[[Any], Any] | None = None,
        manifest_name: str = MANIFEST_NAME,
        validate: bool = True,
        folder_fps: float = DEFAULT_FOLDER_FPS,
        progress: bool | None = None,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"dataset root {root} does not exist (or is not a folder)")
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        self.root = root
        self.splits = [splits] if isinstance(splits, str) else list(splits)
        self.num_frames = int(num_frames)
        self.transform = transform
        self.folder_fps = folder_fps
        self.report = DecodeReport(name=f"{root.name}:{'+'.join(self.splits)}")

        full = read_manifest(root, manifest_name)  # containment checked here, before decoding
        self.classes = _classes_by_label(full)
        table = select_split(full, self.splits)
        if validate and len(table):
            infos = scan_videos(
                table["abspath"], self.report, folder_fps=folder_fps, progress=progress
            )
            keep = [info is not None for info in infos]
            for path, info in zip(table["abspath"], infos, strict=True):
                reason = None if info is None else still_clip(info, self.num_frames)
                if reason:
                    self.report.warn(path, reason)
            table = table[keep].reset_index(drop=True)
            if self.report.num_failed or self.report.warnings:
                logger.warning("%s: %s", self.report.name, self.report.summary())
            else:
                logger.info("%s: %s", self.report.name, self.report.summary())
        self.table: pd.DataFrame = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        row = self.table.iloc[index]
        path = row["abspath"]
        try:
            clip = read_clip(path, self.num_frames, folder_fps=self.folder_fps, report=self.report)
        except VideoDecodeError as e:
            self.report.fail(path, e)
            return None
        video = self.transform(clip) if self.transform is not None else clip
        return {"video": video, "label": int(row["label"]), "index": int(index), "path": str(path)}

    def __repr__(self) -> str:
        return (
            f"ClipDataset(root={str(self.root)!r}, splits={self.splits}, clips={len(self)}, "
            f"num_frames={self.num_frames}, skipped={self.report.num_failed})"
        )


def _classes_by_label(table: pd.DataFrame) -> list[str]:
    pairs = table[["label", "class"]].drop_duplicates()
    names: dict[int, str] = {}
    for label, name in zip(pairs["label"], pairs["class"], strict=True):
        if int(label) in names and names[int(label)] != name:
            raise ValueError(f"label {label} names two classes: {names[int(label)]!r}, {name!r}")
        names[int(label)] = name
    if not names:
        return []
    return [names.get(i, f"<unused label {i}>") for i in range(max(names) + 1)]


def collate_skip_none(batch: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """DataLoader ``collate_fn`` that drops failed (``None``) items; ``None`` if all failed.

    Videos that are lists (SlowFast ``[slow, fast]``) are collated pathway by pathway.
    """
    items = [b for b in batch if b is not None]
    if not items:
        return None
    return default_collate(items)


__all__ = ["ClipDataset", "collate_skip_none"]
