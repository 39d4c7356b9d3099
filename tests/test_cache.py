"""The clip cache: decode once, reuse, skip and report bad clips, never leave a half cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_corrupt, make_video

from vidad.video import cache as cache_mod
from vidad.video.cache import (
    CachedClipDataset,
    ClipCacheSpec,
    RandomMirror,
    build_clip_cache,
    mirror_label_map,
    resize_clip,
)
from vidad.video.decode import DecodeReport, read_clip
from vidad.video.manifest import read_manifest, write_manifest


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    rows = []
    for i in range(4):
        make_video(root / "videos" / f"clip{i}.mp4", num_frames=10 + i)
        rows.append(
            {
                "path": f"videos/clip{i}.mp4",
                "label": i % 2,
                "class": "ab"[i % 2],
                "split": "train" if i < 3 else "test",
            }
        )
    make_corrupt(root / "videos" / "broken.mp4")
    rows.append({"path": "videos/broken.mp4", "label": 0, "class": "a", "split": "train"})
    write_manifest(pd.DataFrame(rows), root)
    return root


def test_cached_clips_equal_a_direct_decode(dataset: Path, tmp_path: Path) -> None:
    spec = ClipCacheSpec(num_frames=4, height=48, width=64)  # the fixtures' own size
    ds = CachedClipDataset(dataset, "train", spec, tmp_path / "cache")
    assert len(ds) == 3  # the corrupt clip is skipped ...
    assert ds.report.failed_paths == [str(dataset / "videos" / "broken.mp4")]  # ... and reported
    for i in range(len(ds)):
        item = ds[i]
        direct = read_clip(dataset / item["path"], 4)
        np.testing.assert_array_equal(item["video"], direct)
        assert item["label"] == i % 2


def test_a_built_cache_is_reused_without_decoding(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ClipCacheSpec(num_frames=4, height=24, width=32)
    table = read_manifest(dataset)
    first = build_clip_cache(table, tmp_path / "cache", spec)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache should not decode again")

    monkeypatch.setattr(cache_mod, "read_clip", no_decoding)
    report = DecodeReport()
    assert build_clip_cache(table, tmp_path / "cache", spec, report) == first
    assert report.num_failed == 1 and report.num_ok == 4  # what was skipped is still reported
    assert cache_mod.cache_key(table, spec) != cache_mod.cache_key(
        table, ClipCacheSpec(num_frames=5, height=24, width=32)
    )
    assert cache_mod.cache_key(table, spec) != cache_mod.cache_key(table.iloc[:-1], spec)


def test_an_interrupted_build_leaves_no_cache(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ClipCacheSpec(num_frames=4, height=24, width=32)
    table = read_manifest(dataset)
    calls = {"n": 0}
    real = cache_mod.read_clip

    def crash_on_third(path: object, n: int) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(path, n)

    monkeypatch.setattr(cache_mod, "read_clip", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        build_clip_cache(table, tmp_path / "cache", spec)
    key = cache_mod.cache_key(table, spec)
    assert not (tmp_path / "cache" / key).exists()
    monkeypatch.setattr(cache_mod, "read_clip", real)
    folder = build_clip_cache(table, tmp_path / "cache", spec)  # the next run starts afresh
    assert np.load(folder / "clips.npy").shape == (4, 4, 24, 32, 3)


def test_resize_clip_shape_dtype_and_identity() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (3, 40, 60, 3), dtype=np.uint8)
    small = resize_clip(frames, 20, 30)
    assert small.shape == (3, 20, 30, 3) and small.dtype == np.uint8
    assert resize_clip(frames, 40, 60) is frames
    flat = np.full((2, 40, 60, 3), 77, dtype=np.uint8)
    assert (resize_clip(flat, 10, 15) == 77).all()


def test_bad_spec_is_rejected() -> None:
    with pytest.raises(ValueError):
        ClipCacheSpec(num_frames=0, height=8, width=8)


def test_a_damaged_cache_is_rebuilt_not_read(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ClipCacheSpec(num_frames=4, height=24, width=32)
    table = read_manifest(dataset)
    folder = build_clip_cache(table, tmp_path / "cache", spec)
    fresh = np.load(folder / "clips.npy")
    raw = bytearray((folder / "clips.npy").read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one pixel of one clip
    (folder / "clips.npy").write_bytes(bytes(raw))
    capsys.readouterr()
    ds = CachedClipDataset(dataset, ["train", "test"], spec, tmp_path / "cache")
    assert ds.folder == folder
    assert "clip cache" in capsys.readouterr().err  # one line says it was damaged
    np.testing.assert_array_equal(ds.clips, fresh)


def test_cache_key_follows_content_not_location(dataset: Path, tmp_path: Path) -> None:
    spec = ClipCacheSpec(num_frames=4, height=24, width=32)
    key = cache_mod.cache_key(read_manifest(dataset), spec)
    moved = shutil.copytree(dataset, tmp_path / "elsewhere")
    clip = moved / "videos" / "clip0.mp4"
    clip.write_bytes(clip.read_bytes())  # rewritten, same bytes: a new mtime only
    assert cache_mod.cache_key(read_manifest(moved), spec) == key
    clip.write_bytes(clip.read_bytes() + b"\0")
    assert cache_mod.cache_key(read_manifest(moved), spec) != key


def test_mirror_label_map_swaps_only_pairs_present_and_refuses_half_pairs() -> None:
    pairs = [("wave_left_hand", "wave_right_hand"), ("turn_left", "turn_right")]
    classes = ["turn_right", "clap", "turn_left", "sit_down"]
    assert mirror_label_map(classes, pairs) == {0: 2, 2: 0}  # the waves are absent: no entry
    with pytest.raises(ValueError, match="'wave_left_hand' has its mirror image"):
        mirror_label_map(["wave_left_hand", "clap"], pairs)


def test_random_mirror_flips_width_and_swaps_mirror_labels() -> None:
    clip = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    always = RandomMirror({0: 1, 1: 0}, torch.Generator().manual_seed(0), probability=1.0)
    flipped, label = always(clip, 0)
    np.testing.assert_array_equal(flipped, clip[:, :, ::-1])
    assert label == 1
    assert always(clip, 5)[1] == 5  # its own mirror image
    never = RandomMirror({0: 1, 1: 0}, torch.Generator().manual_seed(0), probability=0.0)
    same, label = never(clip, 0)
    np.testing.assert_array_equal(same, clip)
    assert label == 0
    with pytest.raises(ValueError, match="symmetric"):
        RandomMirror({0: 1}, torch.Generator())


def test_mirrored_dataset_flips_about_half_reproducibly(dataset: Path, tmp_path: Path) -> None:
    spec = ClipCacheSpec(num_frames=4, height=48, width=64)
    plain = CachedClipDataset(dataset, "train", spec, tmp_path / "cache")

    def draws(seed: int) -> list[tuple[bool, int]]:
        mirror = RandomMirror({0: 1, 1: 0}, torch.Generator().manual_seed(seed))
        ds = CachedClipDataset(dataset, "train", spec, tmp_path / "cache", mirror=mirror)
        out = []
        for _ in range(20):
            for i in range(len(ds)):
                item, raw = ds[i], plain[i]["video"]
                flipped = not np.array_equal(item["video"], raw)
                if flipped:
                    np.testing.assert_array_equal(item["video"], raw[:, :, ::-1])
                assert item["label"] == (1 - plain[i]["label"] if flipped else plain[i]["label"])
                out.append((flipped, item["label"]))
        return out

    first = draws(0)
    assert draws(0) == first  # the generator alone decides
    assert 0.3 < np.mean([f for f, _ in first]) < 0.7
