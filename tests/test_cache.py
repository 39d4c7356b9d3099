"""The clip cache: decode once, reuse, skip and report bad clips, never leave a half cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_corrupt, make_video

from vidad.video import cache as cache_mod
from vidad.video.cache import CachedClipDataset, ClipCacheSpec, build_clip_cache, resize_clip
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
