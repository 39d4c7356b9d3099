"""Dataset statistics, thumbnails, and the single-frame vs frame-order probe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_corrupt, make_video

from vidad.data.summary import colour_thumbnails, load_thumbnails, split_table
from vidad.train.order_probe import (
    ProbeConfig,
    pair_scores,
    random_shift,
    run_order_probe,
    standardize_clips,
)
from vidad.video.decode import DecodeReport


def moving_blob_clips(n_per_class: int, frames: int = 8, size: int = 12, seed: int = 0):
    """'down': a bright blob moving down; 'up': the same clips time-reversed; 'still': a blob
    that does not move. Background level, colour, column and noise vary per clip."""
    rng = np.random.default_rng(seed)
    clips, classes = [], []
    for cls in ("down", "up", "still"):
        for _ in range(n_per_class):
            clip = np.empty((frames, 3, size, size), dtype=np.float32)
            clip[:] = rng.uniform(0.1, 0.5, (1, 3, 1, 1))
            col = rng.integers(0, size - 3)
            for t in range(frames):
                row = round(t * (size - 3) / (frames - 1)) if cls != "still" else size // 2
                clip[t, :, row : row + 3, col : col + 3] += 0.5
            if cls == "up":
                clip = clip[::-1]
            clips.append(clip + rng.normal(0, 0.02, clip.shape).astype(np.float32))
            classes.append(cls)
    table = pd.DataFrame({"class": classes})
    table["split"] = np.where(np.arange(len(table)) % 4 == 0, "test", "train")
    return np.stack(clips), table


def test_only_the_probe_that_sees_order_separates_reversed_motion() -> None:
    thumbs, table = moving_blob_clips(48)
    config = ProbeConfig(epochs=12, width=8, batch_size=16, max_shift=1, seed=0)
    result = run_order_probe(thumbs, table, [("down", "up")], config, progress=False)
    pairs = result.pairs.set_index("view")
    assert pairs.loc["single frames", "auroc"] < 0.75
    assert pairs.loc["frames in order", "accuracy"] >= 0.9
    assert pairs.loc["frames in order", "auroc"] > 0.95
    again = run_order_probe(thumbs, table, [("down", "up")], config, progress=False)
    pd.testing.assert_frame_equal(result.pairs, again.pairs)  # seeded: same numbers


def test_standardize_is_blind_to_frame_order() -> None:
    thumbs, _ = moving_blob_clips(2)
    forward = standardize_clips(thumbs)
    backward = standardize_clips(thumbs[:, ::-1].copy())
    torch.testing.assert_close(forward.flip(1), backward)


def test_random_shift_moves_whole_clips_and_keeps_shape() -> None:
    x = torch.arange(2 * 3 * 1 * 6 * 6, dtype=torch.float32).view(2, 3, 1, 6, 6)
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(random_shift(x, 0, gen), x)
    shifted = random_shift(x, 2, gen)
    assert shifted.shape == x.shape
    # every frame of a clip moved by the same offset: frame differences are preserved in the
    # interior, where no replicate padding was used
    diff = (shifted[:, 1] - shifted[:, 0])[..., 2:-2, 2:-2]
    assert torch.allclose(diff, torch.full_like(diff, 36.0))


def test_pair_scores_compare_the_two_classes_only() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.1, 0.7]])
    labels = np.array([0, 1, 2])
    scores = pair_scores(proba, labels, ["a", "b", "c"], [("a", "b")]).iloc[0]
    assert scores["clips"] == 2
    assert scores["accuracy"] == 1.0  # clip 1: p(b)=0.3 > p(a)=0.1, though c wins overall
    assert scores["auroc"] == 1.0


def test_probe_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ProbeConfig(epochs=0)


def test_colour_thumbnails_shape_and_range() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (5, 40, 60, 3), dtype=np.uint8)
    thumbs = colour_thumbnails(frames, 8)
    assert thumbs.shape == (5, 3, 8, 8)
    assert thumbs.min() >= 0.0 and thumbs.max() <= 1.0


def test_load_thumbnails_skips_and_reports_a_corrupt_clip(tmp_path) -> None:
    good = make_video(tmp_path / "good.mp4", num_frames=12)
    bad = make_corrupt(tmp_path / "bad.mp4")
    table = pd.DataFrame({"abspath": [str(good), str(bad)], "class": ["a", "b"]})
    report = DecodeReport()
    thumbs, kept = load_thumbnails(table, 4, 8, report)
    assert thumbs.shape == (1, 4, 3, 8, 8)
    assert list(kept["class"]) == ["a"]
    assert report.num_failed == 1 and report.failed_paths == [str(bad)]


def test_split_table_has_totals() -> None:
    table = pd.DataFrame({"class": ["a", "a", "b"], "split": ["train", "test", "train"]})
    counts = split_table(table)
    assert counts.loc["total", "total"] == 3
    assert list(counts.columns) == ["train", "test", "total"]
