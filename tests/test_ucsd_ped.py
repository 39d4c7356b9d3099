"""synth-ped (generator) and the UCSD Ped adapter, on synth-ped and on a real-layout fixture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidad.data.ucsd_ped import (
    UCSDLayoutError,
    UCSDPed,
    find_root,
    frame_labels,
    parse_gt_frames,
    read_gray,
    read_masks,
)
from vidad.synth.ped import ANOMALY_KINDS, PedConfig, generate_synth_ped, render_video

TINY = PedConfig(num_train=2, num_test=2, num_frames=40, height=48, width=72, fps=10.0, seed=2,
                 anomaly_kinds=("running", "cart"))  # fmt: skip


def test_render_is_deterministic_and_train_has_no_anomaly() -> None:
    a, b = render_video("test", 0, TINY), render_video("test", 0, TINY)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.masks, b.masks)
    assert render_video("train", 0, TINY).masks is None
    assert a.frames.shape == (40, 48, 72) and a.frames.dtype == np.uint8


@pytest.mark.parametrize("kind", ANOMALY_KINDS)
def test_every_anomaly_kind_is_visible_and_masked(kind: str) -> None:
    config = PedConfig(num_train=1, num_test=1, num_frames=60, height=48, width=72,
                       anomaly_kinds=(kind,))  # fmt: skip
    video = render_video("test", 0, config)
    per_frame = video.masks.reshape(60, -1).sum(axis=1)
    assert video.kind == kind
    assert (per_frame > 0).sum() >= 3  # the actor is on screen for a stretch
    assert (per_frame == 0).sum() >= 3  # and absent for another
    normal = render_video("train", 0, config)
    assert normal.masks is None


def test_generator_writes_the_ucsd_layout_identically(tmp_path) -> None:
    table = generate_synth_ped(tmp_path / "a", TINY)
    assert list(table["video"]) == ["Train001", "Train002", "Test001", "Test002"]
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert (tmp_path / "a" / "Test" / "Test001_gt" / "001.bmp").is_file()
    generate_synth_ped(tmp_path / "b", TINY)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    data = UCSDPed(tmp_path / "a")
    assert [v.name for v in data.train] == ["Train001", "Train002"]
    test = data.test[0]
    labels = frame_labels(test)
    row = table[table["video"] == "Test001"].iloc[0]
    assert labels.sum() > 0
    assert np.flatnonzero(labels)[0] + 1 == row["start_frame"]
    frames = read_gray(test.frames, (32, 48))
    assert frames.shape == (40, 32, 48)
    masks = read_masks(test)
    np.testing.assert_array_equal(masks.reshape(40, -1).any(axis=1), labels.astype(bool))


def _img(path, value: int, size=(16, 24)) -> None:
    Image.fromarray(np.full(size, value, np.uint8)).save(path)


def test_real_layout_fixture_with_junk_files_m_file_and_broken_videos(tmp_path) -> None:
    root = tmp_path / "UCSD_Anomaly_Dataset.v1p2" / "UCSDped2"
    for split, names in (("Train", ["Train001", "Train002"]), ("Test", ["Test001", "Test002"])):
        for name in names:
            (root / split / name).mkdir(parents=True)
            for t in range(1, 6):
                _img(root / split / name / f"{t:03d}.tif", 10 * t)
            (root / split / name / "Thumbs.db").write_bytes(b"junk")
            (root / split / name / ".DS_Store").write_bytes(b"junk")
    gt = root / "Test" / "Test001_gt"
    gt.mkdir()
    for t in range(1, 6):
        _img(gt / f"{t:03d}.bmp", 255 if t >= 4 else 0)
    (root / "Train" / "Train003").mkdir()  # empty: skipped and reported
    (root / "Train" / "Train004").mkdir()
    (root / "Train" / "Train004" / "001.tif").write_bytes(b"not an image")  # corrupt
    (root / "UCSDped2.m").write_text(
        "TestVideoFile = {};\nTestVideoFile{end+1}.gt_frame = [4:5];\n"
        "TestVideoFile{end+1}.gt_frame = [2:3, 5];\n"
    )
    data = UCSDPed(tmp_path)  # the parent folder is accepted
    assert find_root(tmp_path) == root
    assert [v.name for v in data.train] == ["Train001", "Train002"]
    assert len(data.report.failures) == 2
    assert all(len(v.frames) == 5 for v in data.train + data.test)
    np.testing.assert_array_equal(frame_labels(data.test[0]), [0, 0, 0, 1, 1])  # from masks
    np.testing.assert_array_equal(frame_labels(data.test[1]), [0, 1, 1, 0, 1])  # from the .m
    assert read_masks(data.test[1]) is None
    assert parse_gt_frames("x.gt_frame = [1:3];")[0].tolist() == [1, 2, 3]


def test_missing_dataset_says_what_to_download(tmp_path) -> None:
    with pytest.raises(UCSDLayoutError, match="svcl.ucsd.edu"):
        UCSDPed(tmp_path / "nowhere")


def _ucsd_tree(tmp_path, names=("Train001", "Train002", "Train003"), frames: int = 6):
    root = tmp_path / "UCSDped2"
    for split, videos in (("Train", names), ("Test", ("Test001",))):
        for name in videos:
            (root / split / name).mkdir(parents=True)
            for t in range(1, frames + 1):
                _img(root / split / name / f"{t:03d}.tif", 10 * t)
    return root


def test_corrupt_middle_frame_skips_and_reports_the_video(tmp_path) -> None:
    root = _ucsd_tree(tmp_path)
    (root / "Train" / "Train001" / "003.tif").write_bytes(b"not an image")  # not an image
    good = (root / "Train" / "Train002" / "004.tif").read_bytes()
    (root / "Train" / "Train002" / "004.tif").write_bytes(good[: len(good) // 2])  # truncated
    gt = root / "Test" / "Test001_gt"
    gt.mkdir()
    for t in range(1, 7):
        _img(gt / f"{t:03d}.bmp", 255 if t >= 4 else 0)
    (gt / "002.bmp").write_bytes(b"BM broken")  # a corrupt mask: masks ignored, reported
    data = UCSDPed(tmp_path)
    assert [v.name for v in data.train] == ["Train003"]
    reasons = dict(data.report.failures)
    assert "003.tif" in reasons[str(root / "Train" / "Train001")]
    assert "004.tif" in reasons[str(root / "Train" / "Train002")]
    assert "002.bmp" in reasons[str(gt)]
    assert data.test[0].masks is None
    assert all("\n" not in reason for reason in reasons.values())
    for video in data.train + data.test:  # what is kept reads without an error
        assert read_gray(video.frames, (8, 12)).shape == (6, 8, 12)
        frame_labels(video)


def test_frames_linked_out_of_the_dataset_root_are_refused(tmp_path) -> None:
    root = _ucsd_tree(tmp_path / "data")
    outside = tmp_path / "secret.tif"
    _img(outside, 7)
    frame = root / "Train" / "Train002" / "003.tif"
    frame.unlink()
    frame.symlink_to(outside)
    inside = root / "Train" / "Train003" / "002.tif"  # a link that stays in the folder is fine
    inside.unlink()
    inside.symlink_to(root / "Train" / "Train003" / "001.tif")
    data = UCSDPed(tmp_path / "data")
    assert [v.name for v in data.train] == ["Train001", "Train003"]
    ((path, reason),) = data.report.failures
    assert path == str(root / "Train" / "Train002")
    assert "003.tif" in reason and "outside" in reason
