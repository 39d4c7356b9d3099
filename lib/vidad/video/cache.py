"""Decode every clip once: a uint8 clip cache on disk, and a dataset that reads from it.

Training for 30 epochs with :class:`~vidad.video.dataset.ClipDataset` decodes every clip 30
times; the seeds did exactly that. The clips a model sees are always the same ``num_frames``
uniformly spaced frames (random crops and scales come *after* decoding), so they can be decoded
once, resized once, and stored as one ``(N, T, H, W, 3)`` uint8 array that later epochs (and
later chapters) memory-map.

The cache is keyed by the *content* it is built from: every row's path, label and split, the
SHA-256 of every listed file's bytes (:mod:`vidad.video.fingerprint`), ``num_frames`` and the
stored size. A dataset regenerated under the same file names (another ``fps``, say) therefore
gets a new cache instead of the old clips. ``meta.json`` records the checksum of every file
of the cache; a cache whose files no longer match (a flipped byte, a truncated array) is
rebuilt, never read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from vidad.progress import progress_bar
from vidad.video.decode import DecodeReport, VideoDecodeError, read_clip
from vidad.video.fingerprint import path_digest, read_record, write_record
from vidad.video.manifest import MANIFEST_NAME, read_manifest, select_split

CACHE_VERSION = 2
ARRAY_NAME = "clips.npy"
INDEX_NAME = "index.csv"
META_NAME = "meta.json"


@dataclass(frozen=True)
class ClipCacheSpec:
    """What is stored: ``num_frames`` uniformly spaced frames resized to ``height x width``."""

    num_frames: int
    height: int
    width: int

    def __post_init__(self) -> None:
        if min(self.num_frames, self.height, self.width) < 1:
            raise ValueError(f"invalid ClipCacheSpec {self}: every value must be >= 1")


def resize_clip(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, height, width, 3) uint8, antialiased bilinear."""
    if frames.shape[1:3] == (height, width):
        return frames
    clip = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    small = F.interpolate(
        clip, size=(height, width), mode="bilinear", antialias=True, align_corners=False
    )
    return small.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def data_key(table: pd.DataFrame) -> str:
    """Hash of the rows (path, label, split) and of the bytes of every file they list.

    The identity of the data a cache, an embedding set or a training run was built from: it
    changes when a file is rewritten under the same name, and not when the dataset moves.
    """
    digest = hashlib.sha256()
    rows = zip(table["path"], table["label"], table["split"], table["abspath"], strict=True)
    for path, label, split, full in rows:
        digest.update(f"{path}\t{label}\t{split}\t{path_digest(full)}\n".encode())
    return digest.hexdigest()[:16]


def cache_key(table: pd.DataFrame, spec: ClipCacheSpec, data: str | None = None) -> str:
    """Hash of :func:`data_key` (or ``data``, when already computed) and the spec."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": CACHE_VERSION, **asdict(spec)}).encode())
    digest.update((data_key(table) if data is None else data).encode())
    return digest.hexdigest()[:16]


def _intact_meta(folder: Path) -> dict[str, Any] | None:
    """The cache's ``meta.json`` when it and the files it lists are intact, else ``None``.

    A damaged cache says so in one line (and is then rebuilt by the caller).
    """
    meta, problem = read_record(folder / META_NAME)
    if meta is None and problem is None and folder.exists():
        problem = f"{META_NAME} is missing"
    if problem is not None:
        print(f"clip cache {folder} is damaged ({problem}): rebuilding it", file=sys.stderr)
    return meta


def build_clip_cache(
    table: pd.DataFrame,
    cache_root: str | Path,
    spec: ClipCacheSpec,
    report: DecodeReport | None = None,
    progress: bool | None = None,
    data: str | None = None,
) -> Path:
    """Decode the clips of ``table`` (a manifest with ``abspath``) once into ``cache_root/<key>``.

    Returns the cache folder. An existing complete cache with the same key is reused without
    decoding anything, once its files match the checksums in its ``meta.json`` (a damaged one
    is rebuilt). Clips that fail to decode are skipped and reported; the folder's
    ``index.csv`` lists the rows that were stored, in array order. The folder is written under
    a temporary name and renamed at the end, so an interrupted build leaves no half cache.
    ``data`` is the table's :func:`data_key` when the caller already has it.
    """
    report = report or DecodeReport(name="clip cache")
    folder = Path(cache_root) / cache_key(table, spec, data)
    meta = _intact_meta(folder)
    if meta is not None:
        for path, reason in meta["skipped"]:  # a reused cache reports what it left out
            report.fail(path, reason)
        report.ok(meta["clips"])
        return folder
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    shape = (len(table), spec.num_frames, spec.height, spec.width, 3)
    array = np.lib.format.open_memmap(tmp / ARRAY_NAME, mode="w+", dtype=np.uint8, shape=shape)
    kept: list[int] = []
    rows = progress_bar(range(len(table)), desc="caching clips", unit="clip", enabled=progress)
    for i in rows:
        path = table["abspath"].iloc[i]
        try:
            frames = read_clip(path, spec.num_frames)
        except VideoDecodeError as err:
            report.fail(path, err)
            continue
        report.ok()
        array[len(kept)] = resize_clip(frames, spec.height, spec.width)
        kept.append(i)
    array.flush()
    del array
    if len(kept) < len(table):  # shrink the array to the clips that decoded
        full = np.load(tmp / ARRAY_NAME, mmap_mode="r")
        np.save(tmp / "kept.npy", full[: len(kept)])
        del full
        (tmp / "kept.npy").replace(tmp / ARRAY_NAME)
    index = table.iloc[kept].drop(columns=["abspath"], errors="ignore")
    index.to_csv(tmp / INDEX_NAME, index=False, lineterminator="\n")
    meta = {
        "version": CACHE_VERSION,
        **asdict(spec),
        "clips": len(kept),
        "skipped": report.failures,
    }
    write_record(tmp / META_NAME, meta, [ARRAY_NAME, INDEX_NAME])
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def select_classes(table: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Rows of ``classes`` only, relabelled ``0..len(classes)-1`` in the order given.

    A chapter that studies a subset (e.g. the time-reversed pairs) needs labels that index its
    own classifier head; the original label is kept in ``source_label``.
    """
    wanted = list(classes)
    unknown = sorted(set(wanted) - set(table["class"]))
    if unknown or len(set(wanted)) != len(wanted):
        raise ValueError(
            f"classes must be distinct names present in the manifest; unknown: {unknown}, "
            f"given: {wanted}"
        )
    subset = table[table["class"].isin(wanted)].copy()
    subset["source_label"] = subset["label"]
    subset["label"] = subset["class"].map({name: i for i, name in enumerate(wanted)})
    return subset.reset_index(drop=True)


@dataclass(frozen=True)
class RandomMirror:
    """Left-right flip of a random half of the clips, swapping the labels of mirror-image classes.

    ``label_map`` sends a label to its mirror image's label (both ways); every other label is
    its own mirror image. A flip is the cheapest way to double a small training set's
    variety, but a flipped *left*-hand wave is a *right*-hand wave, so for a corpus with such
    classes the flip is only label-preserving with the swap. The coin is drawn from
    ``generator`` before the clip's transform draws its crop: one generator (saved in the
    checkpoints as the crop generator) makes the whole augmentation resumable.
    """

    label_map: dict[int, int]
    generator: torch.Generator
    probability: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {self.probability}")
        for label, mirrored in self.label_map.items():
            if self.label_map.get(mirrored) != label:
                raise ValueError(f"label_map must be symmetric: {label} -> {mirrored}, not back")

    def __call__(self, clip: np.ndarray, label: int) -> tuple[np.ndarray, int]:
        """``(T, H, W, C)`` clip and its label, flipped along W (with the swap) or unchanged."""
        if float(torch.rand((), generator=self.generator)) >= self.probability:
            return clip, label
        return np.ascontiguousarray(clip[:, :, ::-1]), self.label_map.get(label, label)


def mirror_label_map(classes: Sequence[str], pairs: Iterable[tuple[str, str]]) -> dict[int, int]:
    """Label -> mirror-image label for the ``pairs`` whose two classes are both in ``classes``.

    Labels are positions in ``classes`` (as :func:`select_classes` numbers them). A pair with
    one class missing is skipped: its present class's mirror image is not in the data, so no
    label can stand for the flipped clip, and the caller must not flip that class. Hence the
    ``ValueError`` naming it.
    """
    index = {name: i for i, name in enumerate(classes)}
    out: dict[int, int] = {}
    for a, b in pairs:
        if a in index and b in index:
            out[index[a]], out[index[b]] = index[b], index[a]
        elif a in index or b in index:
            present = a if a in index else b
            raise ValueError(
                f"class {present!r} has its mirror image {b if present == a else a!r} outside "
                "the class list: a flipped clip would have no label"
            )
    return out


class CachedClipDataset(Dataset):
    """The clips of some manifest splits, read from a clip cache (built on first use).

    Items are ``dict(video=transform(uint8 (T, H, W, 3)), label, index, path)``, the same as
    :class:`~vidad.video.dataset.ClipDataset`, so the two are interchangeable in a DataLoader.
    With a ``mirror`` (training only) the clip may come flipped, with its mirror label.
    """

    def __init__(
        self,
        root: str | Path,
        splits: str | Iterable[str],
        spec: ClipCacheSpec,
        cache_root: str | Path,
        transform: Callable[[Any], Any] | None = None,
        manifest_name: str = MANIFEST_NAME,
        progress: bool | None = None,
        classes: Sequence[str] | None = None,
        mirror: RandomMirror | None = None,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"dataset root {root} does not exist (or is not a folder)")
        table = select_split(read_manifest(root, manifest_name), splits)
        if classes is not None:
            table = select_classes(table, classes)
        self.report = DecodeReport(name=f"{root.name} cache")
        #: the identity of the clips served (rows and file contents): key runs and caches on it
        self.data_key = data_key(table)
        self.folder = build_clip_cache(
            table, cache_root, spec, self.report, progress, data=self.data_key
        )
        self.table = pd.read_csv(self.folder / INDEX_NAME, dtype={"path": str, "class": str})
        self.clips = np.load(self.folder / ARRAY_NAME, mmap_mode="r")
        self.transform = transform
        self.mirror = mirror
        self.spec = spec
        # per-item lookups without a pandas row per clip (it cost as much as the transform)
        self._labels = [int(v) for v in self.table["label"]]
        self._paths = [str(v) for v in self.table["path"]]

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int) -> dict[str, Any]:
        clip = np.array(self.clips[index])  # copy out of the read-only memory map
        label = self._labels[index]
        if self.mirror is not None:
            clip, label = self.mirror(clip, label)
        video = self.transform(clip) if self.transform is not None else clip
        return {
            "video": video,
            "label": label,
            "index": int(index),
            "path": self._paths[index],
        }
