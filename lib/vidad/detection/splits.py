"""An AVA-format interaction set split for detection: train / validation / test keyframes.

Validation is a held-out set of *train sequences* (camera set-ups), so that choosing the epoch
never looks at the test sequences, and validation measures what test measures: unseen set-ups.
The layout is synth-interact's (:mod:`vidad.synth.interact`): ``manifest.csv`` (with a
``sequence`` column), ``label_map.pbtxt``, ``annotations/{train,test}.csv`` (AVA rows, Gu et al.,
"AVA: A Video Dataset of Spatio-temporally Localized Atomic Visual Actions", CVPR 2018) and
``annotations/persons_{train,test}.csv`` (every person box, labelled or not).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vidad.data.ava import Keyframe, keyframes, read_ava_csv, read_label_map
from vidad.detection.data import (
    KeyframeClips,
    boxes_by_keyframe,
    detector_boxes,
    frame_cache,
    person_table,
)
from vidad.detection.train import DetectionSetup
from vidad.video.fingerprint import dataset_fingerprint


@dataclass
class InteractSplits:
    """Ground truth of synth-interact (or any AVA-format set in the same layout)."""

    root: Path
    manifest: pd.DataFrame
    label_names: dict[int, str]
    actions: dict[str, pd.DataFrame]  # split -> AVA rows (with a "sequence" column)
    persons: dict[str, pd.DataFrame]  # split -> every person box at every keyframe
    keyframes: dict[str, list[Keyframe]]  # "train" | "val" | "test"

    @property
    def classes(self) -> list[int]:
        return sorted(self.label_names)


def load_splits(root: str | Path, val_sequences: int = 1) -> InteractSplits:
    """Read the annotations; the last ``val_sequences`` train sequences become validation."""
    root = Path(root)
    if not (root / "manifest.csv").is_file():
        raise FileNotFoundError(
            f"no synth-interact dataset in {root}; run `dvc repro synth_interact`"
        )
    manifest = pd.read_csv(root / "manifest.csv")
    labels = read_label_map(root / "label_map.pbtxt")
    classes = sorted(labels)
    sequence = manifest.set_index("video_id")["sequence"]
    train_seqs = sorted(manifest.loc[manifest["split"] == "train", "sequence"].unique())
    if val_sequences >= len(train_seqs):
        raise ValueError(f"{val_sequences} validation sequences leave no train sequence")
    val_seqs = set(train_seqs[-val_sequences:])
    actions, persons, frames = {}, {}, {}
    for split in ("train", "test"):
        act = read_ava_csv(root / "annotations" / f"{split}.csv")
        act["sequence"] = act["video_id"].map(sequence)
        per = pd.read_csv(root / "annotations" / f"persons_{split}.csv")
        per["sequence"] = per["video_id"].map(sequence)
        kfs = keyframes(person_table(per, act), classes)
        if split == "train":
            held = {v for v in sequence.index if sequence[v] in val_seqs}
            actions["val"] = act[act["video_id"].isin(held)]
            persons["val"] = per[per["video_id"].isin(held)]
            frames["val"] = [k for k in kfs if k.video_id in held]
            act, per = act[~act["video_id"].isin(held)], per[~per["video_id"].isin(held)]
            kfs = [k for k in kfs if k.video_id not in held]
        actions[split], persons[split], frames[split] = act, per, kfs
    return InteractSplits(root, manifest, labels, actions, persons, frames)


def class_counts(data: InteractSplits) -> pd.DataFrame:
    """Annotation rows per class and split (train includes validation, as the source's)."""
    rows = []
    for split in ("train", "val", "test"):
        counts = data.actions[split]["action_id"].value_counts()
        for c in data.classes:
            rows.append(
                {"split": split, "class": data.label_names[c], "annotations": int(counts.get(c, 0))}
            )
    return pd.DataFrame(rows)


def make_datasets(
    data: InteractSplits, setup: DetectionSetup, cache_root: str | Path, alpha: int,
    detector_seed: int = 0, jitter: float = 0.08, miss_rate: float = 0.1,
    spurious_rate: float = 0.1,
) -> tuple[dict[str, KeyframeClips], pd.DataFrame]:  # fmt: skip
    """Keyframe datasets per split (ground-truth boxes), a "test_det" set serving imitation
    detector boxes on the test keyframes, and those detector boxes."""
    frames = frame_cache(data.root, data.manifest, setup.crop_size, cache_root)
    fps = float(data.manifest["fps"].iloc[0])

    def build(items, boxes=None):
        return KeyframeClips(frames, items, fps, setup.num_frames, setup.frame_stride,
                             setup.crop_size, alpha=alpha, motion=setup.motion,
                             boxes_override=boxes)  # fmt: skip

    det = detector_boxes(data.persons["test"], detector_seed, jitter, miss_rate, spurious_rate)
    sets = {split: build(data.keyframes[split]) for split in ("train", "val", "test")}
    sets["test_det"] = build(data.keyframes["test"], boxes_by_keyframe(det))
    return sets, det


def data_key(data: InteractSplits) -> str:
    """A short fingerprint of the annotations and of every video's bytes (run folders must not
    outlive their data, even when it is regenerated under the same file names)."""
    digest = hashlib.sha256(data.manifest.to_csv(index=False).encode())
    digest.update(dataset_fingerprint(data.root).encode())
    for split in ("train", "val", "test"):
        digest.update(data.actions[split].to_csv(index=False).encode())
        digest.update(data.persons[split].to_csv(index=False).encode())
    return digest.hexdigest()[:16]
