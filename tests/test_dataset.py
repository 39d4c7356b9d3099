"""ClipDataset: manifest reading, containment, skipping broken clips, DataLoader iteration."""

from __future__ import annotations

import logging
import os

import pandas as pd
import pytest
import torch
from conftest import frame_index, make_corrupt, make_frame_folder, make_video
from torch.utils.data import DataLoader

from vidad.video import decode
from vidad.video.dataset import ClipDataset, collate_skip_none
from vidad.video.decode import uniform_indices
from vidad.video.manifest import ManifestError, write_manifest
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD, make_clip_transform


def _manifest(root, rows):
    table = pd.DataFrame(rows, columns=["path", "label", "class", "split"])
    table.to_csv(root / "manifest.csv", index=False)


@pytest.fixture
def dataset_root(tmp_path):
    root = tmp_path / "ds"
    make_video(root / "a" / "0.mp4", num_frames=20)
    make_video(root / "a" / "1.avi", num_frames=15, codec="mpeg4")
    make_frame_folder(root / "b" / "2", num_frames=10)
    make_video(root / "b" / "3.mp4", num_frames=12)
    make_corrupt(root / "b" / "bad.avi")
    rows = [
        ("a/0.mp4", 0, "alpha", "train"),
        ("a/1.avi", 0, "alpha", "train"),
        ("b/2", 1, "beta", "train"),
        ("b/bad.avi", 1, "beta", "train"),
        ("b/3.mp4", 1, "beta", "test"),
    ]
    write_manifest(pd.DataFrame(rows, columns=["path", "label", "class", "split"]), root)
    return root


def test_dataset_skips_corrupt_and_iterates(dataset_root, caplog):
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        ds = ClipDataset(dataset_root, "train", num_frames=4, progress=False)
    assert len(ds) == 3
    assert ds.classes == ["alpha", "beta"]
    assert ds.report.failed_paths == [str((dataset_root / "b" / "bad.avi").resolve())]
    assert ds.report.summary().startswith("decoded 3 clips, skipped 1")
    lines = [r.getMessage() for r in caplog.records if r.name == "vidad.video"]
    assert sum("bad.avi" in m for m in lines) == 2  # the failure line + the summary line

    item = ds[0]
    assert set(item) == {"video", "label", "index", "path"}
    assert item["video"].shape == (4, 48, 64, 3)
    assert [frame_index(f) for f in item["video"]] == uniform_indices(20, 4).tolist()

    tf = make_clip_transform(False, 4, 32, KINETICS_MEAN, KINETICS_STD)
    ds = ClipDataset(dataset_root, ["train", "test"], num_frames=4, transform=tf, progress=False)
    loader = DataLoader(ds, batch_size=2, collate_fn=collate_skip_none)
    batches = list(loader)
    assert sum(len(b["label"]) for b in batches) == 4
    assert batches[0]["video"].shape == (2, 3, 4, 32, 32)
    assert batches[0]["label"].dtype == torch.int64


def test_dataset_without_validation_returns_none_for_broken(dataset_root, caplog):
    ds = ClipDataset(dataset_root, "train", num_frames=4, validate=False)
    assert len(ds) == 4
    assert ds[3] is None
    assert ds.report.num_failed == 1
    loader = DataLoader(ds, batch_size=4, collate_fn=collate_skip_none)
    (batch,) = list(loader)
    assert batch["video"].shape == (3, 4, 48, 64, 3)
    assert batch["index"].tolist() == [0, 1, 2]
    assert collate_skip_none([None, None]) is None


def test_dataset_clip_broken_after_validation(dataset_root):
    ds = ClipDataset(dataset_root, "test", num_frames=4, progress=False)
    (dataset_root / "b" / "3.mp4").write_bytes(b"garbage")
    assert ds[0] is None
    assert ds.report.num_failed == 1


def test_dataset_pack_pathway_collates(dataset_root):
    tf = make_clip_transform(False, 8, 16, KINETICS_MEAN, KINETICS_STD, pathway_alpha=4)
    ds = ClipDataset(dataset_root, "train", num_frames=8, transform=tf, progress=False)
    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=collate_skip_none)))
    slow, fast = batch["video"]
    assert slow.shape == (3, 3, 2, 16, 16) and fast.shape == (3, 3, 8, 16, 16)


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        ClipDataset(tmp_path / "nowhere", "train", num_frames=4)


def test_unknown_split(dataset_root):
    with pytest.raises(ManifestError, match="unknown split"):
        ClipDataset(dataset_root, "val", num_frames=4)


@pytest.fixture
def no_decode(monkeypatch):
    """Fail the test if anything is probed or decoded."""

    def boom(*args, **kwargs):
        raise AssertionError("decoded before the manifest was checked")

    for name in ("probe_video", "read_frames", "_open"):
        monkeypatch.setattr(decode, name, boom)


def test_manifest_parent_escape(tmp_path, no_decode):
    root = tmp_path / "ds"
    root.mkdir()
    make_video(tmp_path / "outside.mp4", num_frames=5)
    _manifest(root, [("../outside.mp4", 0, "a", "train")])
    with pytest.raises(ManifestError, match="escapes"):
        ClipDataset(root, "train", num_frames=4)


def test_manifest_absolute_path(tmp_path, no_decode):
    root = tmp_path / "ds"
    root.mkdir()
    target = make_video(tmp_path / "outside.mp4", num_frames=5)
    _manifest(root, [(str(target), 0, "a", "train")])
    with pytest.raises(ManifestError, match="absolute"):
        ClipDataset(root, "train", num_frames=4)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_manifest_symlink_escape(tmp_path, no_decode):
    root = tmp_path / "ds"
    root.mkdir()
    target = make_video(tmp_path / "outside.mp4", num_frames=5)
    (root / "link.mp4").symlink_to(target)
    _manifest(root, [("link.mp4", 0, "a", "train")])
    with pytest.raises(ManifestError, match="escapes"):
        ClipDataset(root, "train", num_frames=4)


def test_manifest_empty_cells_name_the_manifest_and_row(tmp_path, no_decode):
    root = tmp_path / "ds"
    root.mkdir()
    (root / "manifest.csv").write_text(
        "path,label,class,split\na.mp4,0,x,train\n,0,x,train\nc.mp4,0,x,train\n"
    )
    with pytest.raises(ManifestError) as err:
        ClipDataset(root, "train", num_frames=4)
    message = str(err.value)
    assert str(root / "manifest.csv") in message and "row 2" in message and "path" in message
    assert "\n" not in message
    for body, column in [
        ("a.mp4,,x,train\n", "label"),
        ("a.mp4,zero,x,train\n", "label"),
        ("a.mp4,0,,train\n", "class"),
        ("a.mp4,0,x,\n", "split"),
        ("   ,0,x,train\n", "path"),
    ]:
        (root / "manifest.csv").write_text("path,label,class,split\n" + body)
        with pytest.raises(ManifestError, match=f"row 1.*{column}"):
            ClipDataset(root, "train", num_frames=4)


def test_dataset_reports_a_one_frame_clip(tmp_path, caplog):
    root = tmp_path / "ds"
    make_video(root / "still.mp4", num_frames=1)
    make_video(root / "moving.mp4", num_frames=10)
    rows = [("still.mp4", 0, "a", "train"), ("moving.mp4", 0, "a", "train")]
    write_manifest(pd.DataFrame(rows, columns=["path", "label", "class", "split"]), root)
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        ds = ClipDataset(root, "train", num_frames=4, progress=False)
        items = [ds[0], ds[0], ds[1]]
    assert len(ds) == 2 and ds.report.num_failed == 0  # kept, as before
    assert (items[0]["video"] == items[0]["video"][0]).all()
    ((path, reason),) = ds.report.warnings
    assert path.endswith("still.mp4") and "1 frame" in reason
    assert "1 warned" in ds.report.summary()
    lines = [r.getMessage() for r in caplog.records if "still.mp4" in r.getMessage()]
    assert len(lines) == 2  # the warning line and the summary line
