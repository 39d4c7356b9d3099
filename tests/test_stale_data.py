"""Nothing stale: caches and run folders are keyed on the content they were built from.

The issue's scenario, on tiny generated data: build synth-actions, fill the clip cache, the
embedding cache and a finished training run, then regenerate the data with another ``fps``
(same file names) and check that none of the three is reused, while an unchanged dataset still
hits all three. Then the fault injection: every cache file damaged (one byte flipped at several
places, or truncated) is detected and rebuilt, never read.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_video

from vidad.anomaly import embeddings
from vidad.anomaly.video_recon import VideoAESettings, train_video_ae
from vidad.detection import data as detection_data
from vidad.detection.data import frame_cache
from vidad.detection.splits import data_key, load_splits
from vidad.models import create_model
from vidad.paths import Paths
from vidad.synth import SynthConfig, generate_dataset
from vidad.synth.interact import InteractConfig, generate_interact
from vidad.train.recognition import RecognitionSetup, Variant, class_names, run_variant
from vidad.video import cache as cache_mod
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.manifest import read_manifest
from vidad.video.transforms import make_clip_transform

SYNTH = SynthConfig(clips_per_class=4, height=32, width=32, num_frames=6, fps=8.0, seed=0)
SETUP = RecognitionSetup(
    classes="reversed_pairs", num_frames=4, crop_size=16, cache_size=20, motion=False,
    mirror=False,
    size="tiny", epochs=1, batch_size=8, lr=1e-3, weight_decay=0.0, warmup_epochs=0, seed=0,
)  # fmt: skip
VARIANT = Variant("c3d", "c3d", {"temporal_depth": 3})
SPEC = ClipCacheSpec(4, 20, 20)
EVAL = make_clip_transform(False, 4, 16)


def _backbone() -> tuple[torch.nn.Module, bytes]:
    torch.manual_seed(0)
    model = create_model("r2plus1d_18", size="tiny", num_classes=2, num_frames=4, crop_size=16)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return model, buffer.getvalue()


def _embed(data: CachedClipDataset, out: Path, calls: list[int]) -> embeddings.EmbeddingSet:
    model, weights = _backbone()
    original = model.forward_features

    def counting(clip: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return original(clip)

    model.forward_features = counting
    return embeddings.cached_embeddings("tiny", model, weights, data, {"v": 1}, out)


def _fill(paths: Paths) -> dict[str, object]:
    """One chapter's worth of state: a clip cache, an embedding set and a finished run."""
    classes = class_names("reversed_pairs", paths)
    result = run_variant(VARIANT, SETUP, paths, "stale", classes)
    data = CachedClipDataset(
        paths.synth("synth-actions"), "val", SPEC, paths.cache / "synth-actions", EVAL
    )
    calls: list[int] = []
    embedded = _embed(data, paths.embeddings, calls)
    latest = Path(result.run.run_dir) / "latest.pt"
    return {
        "clip_cache": data.folder,
        "embedding_key": embedded.key,
        "embedded": bool(calls),
        "run_dir": result.run.run_dir,
        "latest_mtime": latest.stat().st_mtime_ns,
    }


def test_regenerated_data_is_not_served_from_old_caches_or_runs(tmp_path: Path) -> None:
    paths = Paths("smoke", tmp_path)
    root = paths.synth("synth-actions")
    first_table = generate_dataset("synth-actions", root, SYNTH)
    first = _fill(paths)
    assert first["embedded"]

    same = _fill(paths)  # unchanged data: every cache and the finished run are hits
    assert same["clip_cache"] == first["clip_cache"]
    assert same["embedding_key"] == first["embedding_key"] and not same["embedded"]
    assert same["run_dir"] == first["run_dir"]
    assert same["latest_mtime"] == first["latest_mtime"]  # resumed finished, not retrained

    second_table = generate_dataset("synth-actions", root, dataclasses.replace(SYNTH, fps=12.0))
    assert list(second_table["path"]) == list(first_table["path"])  # same file names
    changed = _fill(paths)
    assert changed["clip_cache"] != first["clip_cache"]
    assert changed["embedding_key"] != first["embedding_key"] and changed["embedded"]
    assert changed["run_dir"] != first["run_dir"]


def test_a_clip_replaced_under_the_same_name_and_manifest_gets_a_new_clip_cache(
    tmp_path: Path,
) -> None:
    root = tmp_path / "data"
    rows = []
    for i in range(3):
        make_video(root / "videos" / f"c{i}.mp4", num_frames=8)
        rows.append({"path": f"videos/c{i}.mp4", "label": 0, "class": "a", "split": "train"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    before = CachedClipDataset(root, "train", SPEC, tmp_path / "cache")
    manifest = (root / "manifest.csv").read_bytes()
    make_video(root / "videos" / "c1.mp4", num_frames=16)  # new content, same name
    assert (root / "manifest.csv").read_bytes() == manifest
    after = CachedClipDataset(root, "train", SPEC, tmp_path / "cache")
    assert after.folder != before.folder
    assert not np.array_equal(after.clips[1], before.clips[1])
    np.testing.assert_array_equal(after.clips[0], before.clips[0])


def test_a_frame_folder_with_a_changed_frame_gets_a_new_clip_cache(tmp_path: Path) -> None:
    from conftest import make_frame_folder
    from PIL import Image

    root = tmp_path / "data"
    make_frame_folder(root / "v0", num_frames=6)
    pd.DataFrame([{"path": "v0", "label": 0, "class": "a", "split": "train"}]).to_csv(
        root / "manifest.csv", index=False
    )
    before = CachedClipDataset(root, "train", SPEC, tmp_path / "cache")
    Image.fromarray(np.full((48, 64, 3), 255, np.uint8)).save(root / "v0" / "001.png")
    after = CachedClipDataset(root, "train", SPEC, tmp_path / "cache")
    assert after.folder != before.folder
    assert not np.array_equal(after.clips[0], before.clips[0])


def test_video_autoencoder_runs_are_keyed_on_every_frame(tmp_path: Path) -> None:
    """The old key summed every 4th frame: a change elsewhere resumed the stale run."""
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 255, size=(5, 8, 16, 16), dtype=np.uint8)
    settings = VideoAESettings(clip_len=8, epochs=1, batch_size=2, lr=1e-3)
    before = train_video_ae(
        lambda: create_model("memae3d", "tiny"), clips[:3], clips[3:], settings, tmp_path, "m"
    )
    changed = clips.copy()
    changed[:, 1] = 255 - changed[:, 1]  # frame 1 of every clip: not in ``[:, ::4]``
    after = train_video_ae(
        lambda: create_model("memae3d", "tiny"), changed[:3], changed[3:], settings, tmp_path, "m"
    )
    assert len(list(tmp_path.iterdir())) == 2, "the changed data resumed the old run"
    del before, after


def _interact(root: Path, seed: int = 1) -> pd.DataFrame:
    config = InteractConfig(scale=0.004, train_sequences=2, test_sequences=2, height=48,
                            width=64, num_frames=24, fps=8.0, seed=seed)  # fmt: skip
    return generate_interact(root, config)


def test_frame_cache_and_detection_data_key_follow_the_video_bytes(tmp_path: Path) -> None:
    root = tmp_path / "interact"
    manifest = _interact(root)
    frames = frame_cache(root, manifest, 32, tmp_path / "cache")
    key = data_key(load_splits(root))
    vid, rel = manifest["video_id"].iloc[0], manifest["path"].iloc[0]
    old = np.array(frames[vid])
    make_video(root / rel, num_frames=len(old), height=48, width=64)  # same name, other frames
    again = frame_cache(root, manifest, 32, tmp_path / "cache")
    assert not np.array_equal(np.asarray(again[vid]), old)
    assert data_key(load_splits(root)) != key


# -- fault injection: damaged cache files are detected and rebuilt ---------------------------


def _damage(path: Path, how: str) -> None:
    """Flip one byte (``first`` / ``middle`` / ``last``) or truncate (``half`` / ``empty``).

    The modification time is put back, as bit rot would leave it: detection must not rely on it.
    """
    stat = path.stat()
    data = bytearray(path.read_bytes())
    if how in ("first", "middle", "last"):
        at = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[how]
        data[at] ^= 0xFF
    else:
        data = data[: len(data) // 2] if how == "half" else bytearray()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


DAMAGES = ("first", "middle", "last", "half", "empty")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_every_damaged_cache_file_is_detected_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    detected = injected = 0

    # the clip cache: clips.npy, index.csv, meta.json
    root = tmp_path / "data"
    generate_dataset("synth-actions", root, dataclasses.replace(SYNTH, clips_per_class=1))
    table = read_manifest(root)
    folder = cache_mod.build_clip_cache(table, tmp_path / "cache", SPEC, progress=False)
    fresh = _snapshot(folder)
    decodes: list[int] = []
    real = cache_mod.read_clip
    monkeypatch.setattr(cache_mod, "read_clip", lambda *a: decodes.append(1) or real(*a))
    for name in sorted(fresh):
        for how in DAMAGES:
            _damage(folder / name, how)
            injected += 1
            decodes.clear()
            data = CachedClipDataset(root, list(table["split"].unique()), SPEC, tmp_path / "cache")
            assert data.folder == folder and decodes, f"{name} {how}: damaged cache was read"
            assert _snapshot(folder) == fresh, f"{name} {how}: rebuilt cache differs"
            detected += "damaged" in capsys.readouterr().err
    assert detected == injected

    # the embedding cache: <backbone>-<key>.npz and its checksum record
    data = CachedClipDataset(root, list(table["split"].unique()), SPEC, tmp_path / "cache", EVAL)
    calls: list[int] = []
    first = _embed(data, tmp_path / "emb", calls)
    files = {p.name: p.read_bytes() for p in (tmp_path / "emb").iterdir()}
    assert len(files) == 2
    for name in sorted(files):
        for how in DAMAGES:
            _damage(tmp_path / "emb" / name, how)
            injected += 1
            calls.clear()
            again = _embed(data, tmp_path / "emb", calls)
            assert calls, f"{name} {how}: damaged embeddings were read"
            np.testing.assert_array_equal(again.embeddings, first.embeddings)
            assert {p.name: p.read_bytes() for p in (tmp_path / "emb").iterdir()} == files
            detected += "damaged" in capsys.readouterr().err
    assert detected == injected

    # the detection frame cache: one .npy per video and done.json
    iroot = tmp_path / "interact"
    manifest = _interact(iroot).iloc[:2]
    frames = frame_cache(iroot, manifest, 32, tmp_path / "frames")
    fresh_frames = {k: np.array(v) for k, v in frames.items()}
    (ffolder,) = (tmp_path / "frames").iterdir()
    before = _snapshot(ffolder)
    real_frames = detection_data.read_frames
    monkeypatch.setattr(
        detection_data, "read_frames", lambda *a: decodes.append(1) or real_frames(*a)
    )
    for name in sorted(before):
        for how in DAMAGES:
            _damage(ffolder / name, how)
            injected += 1
            decodes.clear()
            again = frame_cache(iroot, manifest, 32, tmp_path / "frames")
            assert decodes, f"{name} {how}: damaged frame cache was read"
            assert set(again) == set(fresh_frames)
            for vid, video in fresh_frames.items():
                np.testing.assert_array_equal(np.asarray(again[vid]), video)
            assert _snapshot(ffolder) == before
            detected += "damaged" in capsys.readouterr().err
    assert detected == injected
    with capsys.disabled():
        print(f"fault injection: {injected} damaged cache files, {detected} detected and rebuilt")


def test_file_digests_follow_content_not_names(tmp_path: Path) -> None:
    from vidad.video import fingerprint

    a = tmp_path / "a.bin"
    a.write_bytes(b"one")
    first = fingerprint.path_digest(a)
    a.write_bytes(b"two")
    assert fingerprint.path_digest(a) != first
    assert fingerprint.path_digest(tmp_path / "missing") == "missing"
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "001.png").write_bytes(b"x")
    (frames / "loop").symlink_to(frames)  # a folder link is named, not followed
    folder = fingerprint.path_digest(frames)
    (frames / "001.png").write_bytes(b"y")
    assert fingerprint.path_digest(frames) != folder
    pd.DataFrame([{"path": "a.bin"}]).to_csv(tmp_path / "manifest.csv", index=False)
    dataset = fingerprint.dataset_fingerprint(tmp_path)
    (tmp_path / "unlisted.bin").write_bytes(b"z")
    assert fingerprint.dataset_fingerprint(tmp_path) == dataset
    a.write_bytes(b"three")
    assert fingerprint.dataset_fingerprint(tmp_path) != dataset


def test_a_record_fails_on_any_changed_byte(tmp_path: Path) -> None:
    from vidad.video import fingerprint

    (tmp_path / "x.bin").write_bytes(b"payload")
    path = fingerprint.write_record(tmp_path / "r.json", {"n": 1}, ["x.bin"])
    assert fingerprint.read_record(path) == (json.loads(path.read_text()), None)
    text = path.read_bytes()
    for at in range(len(text)):
        damaged = bytearray(text)
        damaged[at] ^= 0x01  # the smallest change: one bit, often still valid JSON
        path.write_bytes(bytes(damaged))
        record, problem = fingerprint.read_record(path)
        assert record is None and problem, f"a flipped bit at {at} passed"
    assert fingerprint.read_record(tmp_path / "none.json") == (None, None)
