"""Clip transforms: shapes, value ranges, normalisation, crops, scales, pathways, seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidad.video.transforms import (
    KINETICS_MEAN,
    KINETICS_STD,
    CenterCrop,
    Normalize,
    PackPathway,
    RandomCrop,
    RandomShortSideScale,
    Resize,
    ShortSideScale,
    TimeFirst,
    ToFloatClip,
    UniformTemporalSubsample,
    make_clip_transform,
)


def _uint8_clip(t=16, h=48, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def test_to_float_clip_layout_and_range():
    arr = _uint8_clip()
    arr[0, 0, 0] = (0, 128, 255)
    x = ToFloatClip()(arr)
    assert x.shape == (3, 16, 48, 64) and x.dtype == torch.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert x[:, 0, 0, 0].tolist() == pytest.approx([0.0, 128 / 255, 1.0])
    assert torch.equal(ToFloatClip()(torch.from_numpy(arr)), x)


def test_uniform_temporal_subsample_indices():
    x = torch.arange(10, dtype=torch.float32).view(1, 10, 1, 1).expand(3, 10, 2, 2)
    y = UniformTemporalSubsample(4)(x)
    expected = torch.linspace(0, 9, 4).long()
    assert y.shape == (3, 4, 2, 2)
    assert torch.equal(y[0, :, 0, 0].long(), expected)
    assert UniformTemporalSubsample(16)(x).shape[1] == 16  # repeats when shorter


def test_normalize_math():
    x = torch.rand(3, 4, 8, 8)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    y = Normalize(mean, std)(x)
    for c in range(3):
        torch.testing.assert_close(y[c], (x[c] - mean[c]) / std[c])
    z = Normalize(KINETICS_MEAN, KINETICS_STD)(torch.full((3, 1, 1, 1), 0.45))
    assert torch.allclose(z, torch.zeros_like(z))
    with pytest.raises(ValueError):
        Normalize((0.5,), (0.0,))


def test_crops_and_resizes_shapes():
    x = torch.rand(3, 8, 48, 64)
    assert CenterCrop(32)(x).shape == (3, 8, 32, 32)
    assert CenterCrop((20, 30))(x).shape == (3, 8, 20, 30)
    torch.testing.assert_close(CenterCrop(32)(x), x[..., 8:40, 16:48])
    assert RandomCrop(40)(x).shape == (3, 8, 40, 40)
    assert ShortSideScale(24)(x).shape == (3, 8, 24, 32)
    assert ShortSideScale(24)(x.transpose(-1, -2)).shape == (3, 8, 32, 24)
    assert Resize(112)(x).shape == (3, 8, 112, 112)
    assert Resize((30, 40))(x).shape == (3, 8, 30, 40)
    assert Resize(24, short_side=True)(x).shape == (3, 8, 24, 32)
    with pytest.raises(ValueError):
        RandomCrop(64)(x)


def test_random_crop_is_a_window_of_the_input():
    x = torch.arange(3 * 2 * 10 * 12, dtype=torch.float32).view(3, 2, 10, 12)
    g = torch.Generator().manual_seed(3)
    y = RandomCrop(4, generator=g)(x)
    top = int((y[0, 0, 0, 0] // 12) % 10)
    left = int(y[0, 0, 0, 0] % 12)
    torch.testing.assert_close(y, x[..., top : top + 4, left : left + 4])


def test_random_short_side_scale_in_range():
    x = torch.rand(3, 2, 30, 40)
    g = torch.Generator().manual_seed(0)
    t = RandomShortSideScale(32, 48, generator=g)
    sides = set()
    for _ in range(40):
        y = t(x)
        h, w = y.shape[-2:]
        assert 32 <= h <= 48
        assert w == int(np.floor(40 * h / 30))
        sides.add(h)
    assert len(sides) > 3
    with pytest.raises(ValueError):
        RandomShortSideScale(10, 5)


@pytest.mark.parametrize(("t", "alpha"), [(32, 4), (16, 4), (8, 8), (10, 3), (32, 8)])
def test_pack_pathway_indices(t, alpha):
    x = torch.arange(t, dtype=torch.float32).view(1, t, 1, 1).expand(3, t, 4, 4).contiguous()
    slow, fast = PackPathway(alpha)(x)
    assert torch.equal(fast, x)
    expected = torch.linspace(0, t - 1, t // alpha).long()
    assert slow.shape == (3, t // alpha, 4, 4)
    assert torch.equal(slow[0, :, 0, 0].long(), expected)


def test_time_first():
    x = torch.rand(3, 8, 5, 6)
    y = TimeFirst()(x)
    assert y.shape == (8, 3, 5, 6)
    assert torch.equal(y[2, 1], x[1, 2])
    a, b = TimeFirst()([x, x[:, :2]])
    assert a.shape == (8, 3, 5, 6) and b.shape == (2, 3, 5, 6)


def test_make_clip_transform_eval_and_train_shapes():
    arr = _uint8_clip(t=20)
    ev = make_clip_transform(
        False, num_frames=8, crop_size=32, mean=KINETICS_MEAN, std=KINETICS_STD
    )
    y = ev(arr)
    assert y.shape == (3, 8, 32, 32)
    tr = make_clip_transform(True, 8, 32, KINETICS_MEAN, KINETICS_STD, min_scale=36, max_scale=44)
    assert tr(arr).shape == (3, 8, 32, 32)
    slow, fast = make_clip_transform(False, 32, 32, KINETICS_MEAN, KINETICS_STD, pathway_alpha=4)(
        arr
    )
    assert slow.shape == (3, 8, 32, 32) and fast.shape == (3, 32, 32, 32)
    tf = make_clip_transform(False, 8, 24, KINETICS_MEAN, KINETICS_STD, time_first=True)(arr)
    assert tf.shape == (8, 3, 24, 24)


def test_make_clip_transform_eval_values():
    arr = np.full((4, 16, 16, 3), 255, np.uint8)
    y = make_clip_transform(False, 4, 16, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(arr)
    torch.testing.assert_close(y, torch.ones_like(y))


def test_seeded_determinism():
    arr = _uint8_clip(t=12, h=60, w=80)

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        t = make_clip_transform(True, 8, 32, KINETICS_MEAN, KINETICS_STD, 36, 56, generator=g)
        return [t(arr) for _ in range(3)]

    a, b, c = run(1), run(1), run(2)
    for u, v in zip(a, b, strict=True):
        assert torch.equal(u, v)
    assert any(u.shape != v.shape or not torch.equal(u, v) for u, v in zip(a, c, strict=True))
