"""Clip embeddings of a pretrained backbone, computed once per (weights, transform, data).

Every anomaly scorer of the chapter (the seed's autoencoder, the centroid rule, k-NN,
Mahalanobis, ...) reads the same frozen embeddings, so the backbone runs over the clips once
and the result is stored as ``build/<profile>/embeddings/<backbone>-<key>.npz``. The key hashes
the weights file's bytes, the transform settings and the clips' data key (the manifest rows
and the bytes of every clip file, :func:`vidad.video.cache.data_key`): retraining the
backbone, changing the clip pipeline or regenerating the data (even under the same file
names) gives a new file, anything else reuses the stored one. Beside each file a
``<backbone>-<key>.json`` record holds its checksum (:mod:`vidad.video.fingerprint`): a
damaged file is recomputed, never read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from vidad.models.base import VideoModel
from vidad.paths import Paths
from vidad.train.loop import autocast_context, prepare_for_device, to_device
from vidad.train.pretrained import WEIGHTS_NAME, load_pretrained, pretrained_dir
from vidad.train.recognition import RecognitionSetup, clip_transform
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.fingerprint import read_record, write_record

EMBEDDING_VERSION = 2
SPLITS: tuple[str, ...] = ("train", "val", "test", "anomaly")
DATASET = "synth-sports"


@dataclass(frozen=True)
class EmbeddingSet:
    """One embedding per clip with its label, class name, split and path (row-aligned)."""

    backbone: str
    key: str
    embeddings: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int
    classes: np.ndarray  # (N,) str, class name per clip
    splits: np.ndarray  # (N,) str
    paths: np.ndarray  # (N,) str

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def mask(self, name: str) -> np.ndarray:
        if name not in set(self.splits):
            raise KeyError(f"no split {name!r}; have {sorted(set(self.splits))}")
        return self.splits == name

    def split(self, name: str) -> np.ndarray:
        """The embeddings of one split, in manifest order."""
        return self.embeddings[self.mask(name)]

    def save(self, path: Path) -> None:
        """Write atomically (a half-written file must never be mistaken for a cached one),
        then the checksum record :func:`load_intact` verifies."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp,
            backbone=self.backbone,
            key=self.key,
            embeddings=self.embeddings,
            labels=self.labels,
            classes=self.classes,
            splits=self.splits,
            paths=self.paths,
        )
        os.replace(tmp, path)
        write_record(record_path(path), {"key": self.key}, [path])

    @classmethod
    def load(cls, path: Path) -> EmbeddingSet:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                backbone=str(data["backbone"]),
                key=str(data["key"]),
                embeddings=data["embeddings"],
                labels=data["labels"],
                classes=data["classes"],
                splits=data["splits"],
                paths=data["paths"],
            )


def record_path(path: Path) -> Path:
    """The checksum record beside a cached ``.npz``."""
    return path.with_suffix(".json")


def load_intact(path: Path) -> EmbeddingSet | None:
    """The cached set at ``path`` if there is one and it is intact, else ``None``.

    A file that fails its checksum (or cannot be read) says so in one line and is recomputed
    by the caller: damaged embeddings are never returned.
    """
    record, problem = read_record(record_path(path))
    if record is not None:
        try:
            return EmbeddingSet.load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            problem = f"{path.name} is unreadable ({type(err).__name__})"
    elif problem is None and path.exists():
        problem = f"{record_path(path).name} is missing"
    if problem is not None:
        print(f"embedding cache {path} is damaged ({problem}): recomputing it", file=sys.stderr)
    return None


def embedding_key(
    weights: bytes, settings: dict[str, Any], table: pd.DataFrame, data: str = ""
) -> str:
    """Hash of the weights bytes, the transform settings, the rows (path, label, split) and
    ``data``, the clips' content (:attr:`vidad.video.cache.CachedClipDataset.data_key`)."""
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(weights).digest())
    head = {"version": EMBEDDING_VERSION, **settings}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for path, label, split in zip(table["path"], table["label"], table["split"], strict=True):
        digest.update(f"{path}\t{label}\t{split}\n".encode())
    digest.update(data.encode())
    return digest.hexdigest()[:16]


@torch.inference_mode()
def embed_clips(
    model: VideoModel, dataset: Dataset, batch_size: int = 16, device: str | None = None
) -> np.ndarray:
    """``model.forward_features`` over every clip of ``dataset`` (eval mode), float32 (N, D).

    Set up as in training (:func:`vidad.train.loop.prepare_for_device`, bf16 autocast on CUDA).
    The 5-D weights get their memory layout back afterwards: the caller's model serializes to
    the same bytes before and after (embedding caches are keyed on those bytes).
    """
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    was_contiguous = [(p, p.is_contiguous()) for p in model.parameters() if p.dim() == 5]
    channels_last = prepare_for_device(model.eval(), dev)
    out = []
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            clip = to_device(batch["video"], dev, channels_last_3d=channels_last)
            with autocast_context(dev):
                out.append(model.forward_features(clip).float().cpu())
    finally:
        for param, contiguous in was_contiguous:
            if contiguous:
                param.data = param.data.contiguous()
    if not out:
        return np.zeros((0, model.embed_dim), np.float32)
    return torch.cat(out).numpy().astype(np.float32)


def cached_embeddings(
    backbone: str,
    model: VideoModel,
    weights: bytes,
    dataset: CachedClipDataset,
    settings: dict[str, Any],
    out_dir: str | Path,
    batch_size: int = 16,
) -> EmbeddingSet:
    """Embeddings of ``dataset`` under ``model``, loaded from ``out_dir`` when already there
    (and intact)."""
    key = embedding_key(weights, settings, dataset.table, dataset.data_key)
    out_dir = Path(out_dir)
    path = out_dir / f"{backbone}-{key}.npz"
    cached = load_intact(path)
    if cached is not None:
        return cached
    table = dataset.table
    result = EmbeddingSet(
        backbone=backbone,
        key=key,
        embeddings=embed_clips(model, dataset, batch_size),
        labels=table["label"].to_numpy(dtype=np.int64),
        classes=table["class"].to_numpy(dtype=str),
        splits=table["split"].to_numpy(dtype=str),
        paths=table["path"].to_numpy(dtype=str),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    result.save(path)
    return result


def clip_cache_spec(setup: RecognitionSetup) -> ClipCacheSpec:
    """The synth-sports clip cache at the backbone's pretraining frame count and size."""
    return ClipCacheSpec(setup.num_frames, setup.cache_size, setup.cache_size)


def sports_dataset(
    profile: str,
    setup: RecognitionSetup,
    transform: Any,
    splits: str | tuple[str, ...] = SPLITS,
    root: str | Path = ".",
    dataset: str = DATASET,
) -> CachedClipDataset:
    """Clips of ``splits`` of synth-sports (or another generated dataset, e.g. its test
    conditions) from the shared uint8 clip cache."""
    paths = Paths(profile, root)
    return CachedClipDataset(
        paths.synth(dataset), splits, clip_cache_spec(setup), paths.cache / dataset, transform
    )


def extract_embeddings(
    profile: str,
    backbone: str,
    root: str | Path = ".",
    dataset: str = DATASET,
    splits: tuple[str, ...] = SPLITS,
    model: VideoModel | None = None,
    label: str | None = None,
) -> EmbeddingSet:
    """Frozen embeddings of every clip of ``splits`` (by default all four splits of
    synth-sports) under a pretrained backbone.

    The clips go through the backbone's own *eval* transform (no augmentation), so each clip
    has exactly one embedding. ``model`` replaces the pretrained weights by another model of
    the same preset and input (the chapter's randomly initialised control), stored under
    ``label``; the cache key then hashes that model's weights.
    """
    pretrained, meta = load_pretrained(profile, backbone, root)
    setup = RecognitionSetup(**meta["setup"])
    spec = pretrained.input_spec
    transform = clip_transform(spec, setup, train=False)
    data = sports_dataset(profile, setup, transform, splits, root, dataset)
    settings = {
        "input_spec": asdict(spec),
        "motion": setup.motion,
        "cache": asdict(clip_cache_spec(setup)),
        "model": meta["model"],
        "size": meta["size"],
        "options": meta["options"],
    }
    if model is None:
        model = pretrained
        weights = (pretrained_dir(profile, backbone, root) / WEIGHTS_NAME).read_bytes()
    else:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        weights = buffer.getvalue()
    if dataset != DATASET:
        settings["dataset"] = dataset
    return cached_embeddings(
        label or backbone, model, weights, data, settings, Paths(profile, root).embeddings
    )
