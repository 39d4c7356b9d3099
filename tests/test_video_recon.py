"""Video reconstruction scoring, the frame / pixel metrics and error-map localization."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidad.anomaly.localization import (
    box_iou,
    draw_boxes,
    error_boxes,
    localization_rates,
    mask_box,
    pixel_threshold,
)
from vidad.anomaly.video_recon import (
    VideoAESettings,
    error_maps_2d,
    error_maps_3d,
    frame_auroc,
    frame_scores,
    minmax_per_video,
    pixel_auroc,
    sliding_clips,
    train_video_ae,
)
from vidad.models import create_model
from vidad.models import memae as _memae  # noqa: F401  (registers memae3d, memae2d_frames)
from vidad.video.windows import window_starts


def test_clips_cover_every_frame() -> None:
    np.testing.assert_array_equal(window_starts(20, 16, 4), [0, 4])
    np.testing.assert_array_equal(window_starts(21, 16, 4), [0, 4, 5])
    frames = np.arange(21, dtype=np.uint8)[:, None, None] * np.ones((1, 4, 4), np.uint8)
    clips = sliding_clips(frames, 16, 4)
    assert clips.shape == (3, 16, 4, 4)
    assert clips[:, 0, 0, 0].tolist() == [0, 4, 5] and clips[-1, -1, 0, 0] == 20
    with pytest.raises(ValueError, match="shorter"):
        sliding_clips(frames[:10], 16, 4)


def test_micro_macro_and_normalized_auroc_differ_as_documented() -> None:
    # video A: scores high overall, anomaly at the end; video B: scores low, anomaly in middle
    scores = [np.array([5.0, 5.1, 5.2, 6.0]), np.array([1.0, 2.0, 1.1, 1.2])]
    labels = [np.array([0, 0, 0, 1]), np.array([0, 1, 0, 0])]
    assert frame_auroc(scores, labels, "macro") == 1.0
    # pooled: B's anomaly (2.0) ranks below A's three normals (5.x): 9 of 12 pairs right
    assert frame_auroc(scores, labels, "micro") == pytest.approx(9 / 12)
    assert frame_auroc(scores, labels, "micro", normalize=True) == 1.0
    np.testing.assert_allclose(minmax_per_video(np.array([2.0, 4.0, 3.0])), [0, 1, 0.5])
    assert np.isnan(frame_auroc([np.ones(3)], [np.zeros(3)]))


def test_frame_auroc_equals_sklearn_with_ties() -> None:
    """frame_auroc is rank-based (fast enough for a bootstrap); ties count half, as in sklearn."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    labels = [rng.random(30) < 0.3 for _ in range(4)]
    scores = [np.round(rng.random(30) + 0.3 * y, 1) for y in labels]  # many tied scores
    assert frame_auroc(scores, labels, "micro") == pytest.approx(
        roc_auc_score(np.concatenate(labels), np.concatenate(scores)), abs=1e-12
    )
    assert frame_auroc(scores, labels, "macro") == pytest.approx(
        np.mean([roc_auc_score(y, s) for y, s in zip(labels, scores, strict=True)]), abs=1e-12
    )
    assert np.isnan(frame_auroc([np.ones(3)], [np.ones(3)], "macro"))


def test_pixel_auroc_and_frame_scores() -> None:
    maps = [np.zeros((2, 4, 4), np.float32)]
    masks = [np.zeros((2, 4, 4), bool)]
    maps[0][1, :2, :2] = 1.0
    masks[0][1, :2, :2] = True
    assert pixel_auroc(maps, masks) == 1.0
    np.testing.assert_allclose(frame_scores(maps[0]), [0.0, 4 / 16])
    with pytest.raises(ValueError, match="differ"):
        pixel_auroc(maps, [np.zeros((1, 4, 4), bool)])


def test_error_boxes_find_the_blob_and_rates_count_hits() -> None:
    rng = np.random.default_rng(0)
    normal = [rng.random((32, 32)).astype(np.float32) * 0.1 for _ in range(5)]
    threshold = pixel_threshold(normal, 99.9)
    anomalous = rng.random((32, 32)).astype(np.float32) * 0.1
    anomalous[10:18, 20:28] += 2.0
    boxes = error_boxes(anomalous, threshold)
    assert len(boxes) == 1
    mask = np.zeros((32, 32), bool)
    mask[10:18, 20:28] = True
    assert box_iou(boxes[0], mask_box(mask)) > 0.5
    assert error_boxes(normal[0], threshold) == []
    rates = localization_rates([boxes, [], [(0, 0, 2, 2)]], np.stack([mask, mask * 0, mask * 0]))
    assert rates["hit_rate"] == 1.0 and rates["false_alarm_rate"] == 0.5
    drawn = draw_boxes(np.zeros((32, 32), np.uint8), boxes)
    assert drawn.shape == (32, 32, 3) and (drawn[10, 20:28] == [255, 0, 0]).all()


def test_video_autoencoders_train_and_score(tmp_path) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, size=(24, 16, 16), dtype=np.uint8)
    clips = sliding_clips(frames, 8, 4)
    settings = VideoAESettings(clip_len=8, epochs=2, batch_size=2, lr=1e-3)
    model, history, best = train_video_ae(
        lambda: create_model("memae3d", "tiny"), clips[:3], clips[3:], settings, tmp_path, "mem3d"
    )
    assert len(history) == 2 and best in (1, 2)
    maps = error_maps_3d(model, frames, clip_len=8, stride=4)
    assert maps.shape == frames.shape and np.isfinite(maps).all()
    model2d, _, _ = train_video_ae(
        lambda: create_model("memae2d_frames", "tiny", use_memory=False),
        frames[:16],
        frames[16:],
        settings,
        tmp_path,
        "ae2d",
    )
    maps2d = error_maps_2d(model2d, frames)
    assert maps2d.shape == frames.shape
    again, _, _ = train_video_ae(
        lambda: create_model("memae3d", "tiny"),
        clips[:3],
        clips[3:],
        settings,
        tmp_path / "again",
        "mem3d",
    )
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_video_ae_settings_train_config() -> None:
    settings = VideoAESettings(epochs=3, batch_size=5, lr=2e-4, seed=7)
    config = settings.train_config()
    assert (config.optimizer, config.schedule) == ("adam", "none")
    assert (config.epochs, config.batch_size, config.lr, config.seed) == (3, 5, 2e-4, 7)
