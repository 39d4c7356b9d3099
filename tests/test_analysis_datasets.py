"""The single-frame vs order probe: it must be at chance on reversed motion and not otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidad.analysis.datasets import (
    grey_thumbnails,
    mean_frame_similarity,
    ordered_features,
    reversed_pair_probe,
    split_table,
)


def moving_blob_clips(n_per_class: int, frames: int = 12, size: int = 12, seed: int = 0):
    """Class 'down' is a bright blob moving down; 'up' is the same motion time-reversed;
    'still' is a blob that does not move. Background level and noise vary per clip."""
    rng = np.random.default_rng(seed)
    clips, classes = [], []
    for cls in ("down", "up", "still"):
        for _ in range(n_per_class):
            clip = np.full((frames, size, size), rng.uniform(0.2, 0.6), dtype=np.float32)
            col = rng.integers(2, size - 3)
            for t in range(frames):
                row = round(t * (size - 3) / (frames - 1)) if cls != "still" else size // 2
                clip[t, row : row + 3, col : col + 3] += 0.4
            if cls == "up":
                clip = clip[::-1]
            clips.append(clip + rng.normal(0, 0.02, clip.shape).astype(np.float32))
            classes.append(cls)
    table = pd.DataFrame({"class": classes})
    table["split"] = np.where(np.arange(len(table)) % 3 == 0, "test", "train")
    return np.stack(clips), table


def test_probe_is_at_chance_on_single_frames_and_not_with_order() -> None:
    thumbs, table = moving_blob_clips(60)
    probe = reversed_pair_probe(thumbs, table, [("down", "up")], seed=0).set_index("view")
    assert probe.loc["single frames", "auroc"] < 0.7
    assert probe.loc["frames in order", "accuracy"] > 0.9
    assert probe.loc["frames in order", "auroc"] > 0.95


def test_mean_frames_of_reversed_classes_are_alike() -> None:
    thumbs, table = moving_blob_clips(40)
    sim = mean_frame_similarity(thumbs, table, [("down", "up")]).iloc[0]
    assert sim["mean-frame corr. within pair"] > 0.9
    assert sim["first(down) vs last(up)"] > sim["first(down) vs first(up)"]


def test_ordered_features_keep_order() -> None:
    thumbs, _ = moving_blob_clips(2)
    forward = ordered_features(thumbs[:1])
    backward = ordered_features(thumbs[:1, ::-1])
    half = forward.shape[1] // 2
    np.testing.assert_allclose(forward[:, :half], backward[:, half:], atol=1e-6)


def test_grey_thumbnails_shape_and_range() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (5, 40, 60, 3), dtype=np.uint8)
    thumbs = grey_thumbnails(frames, 8)
    assert thumbs.shape == (5, 8, 8)
    assert thumbs.min() >= 0.0 and thumbs.max() <= 1.0


def test_split_table_has_totals() -> None:
    table = pd.DataFrame({"class": ["a", "a", "b"], "split": ["train", "test", "train"]})
    counts = split_table(table)
    assert counts.loc["total", "total"] == 3
    assert list(counts.columns) == ["train", "test", "total"]
