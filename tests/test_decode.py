"""Decoding: probing, frame accuracy, stopping early, failures and the decode report."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from conftest import frame_index, make_corrupt, make_frame_folder, make_video

from vidad.video import decode
from vidad.video.decode import (
    DecodeReport,
    VideoDecodeError,
    probe_video,
    read_clip,
    read_frames,
    scan_videos,
    uniform_indices,
)

FORMATS = [("clip.mp4", "libx264"), ("clip.avi", "mpeg4")]


# --- uniform_indices ---------------------------------------------------------------------------


def test_uniform_indices_matches_linspace():
    for total, n in [(100, 8), (31, 16), (16, 16), (5, 8), (1, 4), (90, 32)]:
        idx = uniform_indices(total, n)
        expected = torch.clamp(torch.linspace(0, total - 1, n), 0, total - 1).long().numpy()
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx, expected)
        assert idx[0] == 0 and idx[-1] == total - 1
        assert np.all(np.diff(idx) >= 0)


def test_uniform_indices_repeats_when_short_and_rejects_bad_input():
    idx = uniform_indices(3, 7)
    assert len(idx) == 7 and set(idx.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError):
        uniform_indices(0, 4)
    with pytest.raises(ValueError):
        uniform_indices(4, 0)


# --- probing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "codec"), FORMATS)
def test_probe_video_file(tmp_path, name, codec):
    path = make_video(tmp_path / name, num_frames=25, fps=10, codec=codec)
    info = probe_video(path)
    assert info.num_frames == 25
    assert info.fps == pytest.approx(10.0)
    assert info.duration_s == pytest.approx(2.5, abs=0.15)
    assert (info.width, info.height) == (64, 48)
    assert info.codec == ("h264" if codec == "libx264" else "mpeg4")
    assert probe_video(path, count_frames=True).num_frames == 25


def test_probe_frame_folder(tmp_path):
    folder = make_frame_folder(tmp_path / "frames", num_frames=12, ext=".png")
    info = probe_video(folder, folder_fps=4)
    assert (info.num_frames, info.fps, info.duration_s) == (12, 4.0, 3.0)
    assert (info.width, info.height) == (64, 48)
    assert probe_video(folder).fps == 25.0


# --- frame accuracy ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "codec"), FORMATS)
def test_read_frames_frame_accurate(tmp_path, name, codec):
    path = make_video(tmp_path / name, num_frames=40, fps=10, codec=codec)
    full = read_frames(path)
    assert full.shape == (40, 48, 64, 3) and full.dtype == np.uint8
    assert [frame_index(f) for f in full] == list(range(40))
    for indices in ([0], [39], [3, 17, 29], [5, 5, 2, 39, 0], list(range(0, 40, 7))):
        got = read_frames(path, indices)
        assert got.shape == (len(indices), 48, 64, 3)
        np.testing.assert_array_equal(got, full[indices])
        assert [frame_index(f) for f in got] == indices


def test_read_frames_folder_loads_only_needed_images(tmp_path, monkeypatch):
    folder = make_frame_folder(tmp_path / "frames", num_frames=15, ext=".jpg")
    full = read_frames(folder)
    assert [frame_index(f) for f in full] == list(range(15))
    opened = []
    real_open = decode.Image.open
    monkeypatch.setattr(decode.Image, "open", lambda p, *a, **k: opened.append(p) or real_open(p))
    got = read_frames(folder, [4, 4, 11])
    np.testing.assert_array_equal(got, full[[4, 4, 11]])
    assert sorted(p.name for p in opened) == ["005.jpg", "012.jpg"]


def test_read_frames_duplicates(tmp_path):
    path = make_video(tmp_path / "clip.mp4", num_frames=10)
    got = read_frames(path, [2, 2, 2, 7, 7])
    assert [frame_index(f) for f in got] == [2, 2, 2, 7, 7]
    np.testing.assert_array_equal(got[0], got[2])


def test_read_clip_uniform(tmp_path):
    path = make_video(tmp_path / "clip.avi", num_frames=30, codec="mpeg4")
    clip = read_clip(path, 8)
    assert clip.shape == (8, 48, 64, 3)
    assert [frame_index(f) for f in clip] == uniform_indices(30, 8).tolist()
    short = read_clip(path, 64)  # longer than the clip: repeats
    assert [frame_index(f) for f in short] == uniform_indices(30, 64).tolist()


class _CountingContainer:
    """Wraps a PyAV container and counts the frames its decoder yields."""

    def __init__(self, container, counter):
        self._c, self._counter = container, counter

    def __getattr__(self, name):
        return getattr(self._c, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._c.__exit__(*exc)

    def decode(self, *args, **kwargs):
        for frame in self._c.decode(*args, **kwargs):
            self._counter.append(1)
            yield frame


def test_read_frames_stops_after_last_needed_index(tmp_path, monkeypatch):
    path = make_video(tmp_path / "long.mp4", num_frames=120)
    decoded: list[int] = []
    real_open = decode._open
    monkeypatch.setattr(decode, "_open", lambda p: _CountingContainer(real_open(p), decoded))
    got = read_frames(path, [0])
    assert frame_index(got[0]) == 0
    assert len(decoded) == 1
    decoded.clear()
    got = read_frames(path, [10, 3])
    assert [frame_index(f) for f in got] == [10, 3]
    assert len(decoded) == 11
    decoded.clear()
    read_frames(path)
    assert len(decoded) == 120


# --- failures ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    for fn in (probe_video, read_frames, lambda p: read_clip(p, 4)):
        with pytest.raises(VideoDecodeError, match="no such file"):
            fn(tmp_path / "nope.mp4")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty"):
        probe_video(path)
    with pytest.raises(VideoDecodeError):
        read_frames(path, [0])


@pytest.mark.parametrize("name", ["corrupt.avi", "corrupt.mp4"])
def test_corrupt_file(tmp_path, name):
    path = make_corrupt(tmp_path / name)
    with pytest.raises(VideoDecodeError) as err:
        probe_video(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    with pytest.raises(VideoDecodeError):
        read_frames(path, [0])


def test_empty_frame_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    with pytest.raises(VideoDecodeError, match="no image frames"):
        probe_video(tmp_path / "frames")


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_truncated_mp4_index_at_front(tmp_path):
    path = make_video(tmp_path / "t.mp4", num_frames=60, faststart=True, height=96, width=128)
    _truncate(path, 0.5)
    info = probe_video(path)  # the index at the front still claims all frames
    assert info.num_frames == 60
    assert frame_index(read_frames(path, [0])[0]) == 0
    with pytest.raises(VideoDecodeError, match="truncated|decod"):
        read_frames(path, [59])
    with pytest.raises(VideoDecodeError):
        read_clip(path, 8)


def test_truncated_mp4_index_at_end(tmp_path):
    path = _truncate(make_video(tmp_path / "t.mp4", num_frames=60), 0.6)
    with pytest.raises(VideoDecodeError):
        probe_video(path)


def test_truncated_avi_counts_what_is_there(tmp_path):
    path = make_video(tmp_path / "t.avi", num_frames=60, codec="mpeg4", height=96, width=128)
    _truncate(path, 0.5)
    info = probe_video(path)  # AVI: counted by demuxing, not trusted from the header
    assert 0 < info.num_frames < 60
    with pytest.raises(VideoDecodeError):
        read_frames(path, [59])
    clip = read_clip(path, 4)
    assert clip.shape[0] == 4


def test_indices_beyond_end(tmp_path):
    path = make_video(tmp_path / "c.mp4", num_frames=10)
    with pytest.raises(VideoDecodeError, match="only 10"):
        read_frames(path, [10])
    folder = make_frame_folder(tmp_path / "f", num_frames=3)
    with pytest.raises(VideoDecodeError):
        read_frames(folder, [3])
    with pytest.raises(ValueError):
        read_frames(path, [-1])


# --- report ------------------------------------------------------------------------------------


def test_decode_report_and_scan(tmp_path, caplog):
    good = make_video(tmp_path / "good.mp4", num_frames=10)
    folder = make_frame_folder(tmp_path / "frames", num_frames=5)
    bad = make_corrupt(tmp_path / "bad.avi")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.mp4"
    report = DecodeReport()
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        infos = scan_videos([good, bad, folder, empty, missing], report, progress=False)
    assert [i is not None for i in infos] == [True, False, True, False, False]
    assert infos[0].num_frames == 10 and infos[2].num_frames == 5
    records = [r for r in caplog.records if r.name == "vidad.video"]
    assert len(records) == 3
    assert all("\n" not in r.getMessage() for r in records)
    assert {str(bad), str(empty), str(missing)} == set(report.failed_paths)
    summary = report.summary()
    assert summary.startswith("decoded 2 clips, skipped 3: ")
    assert str(bad) in summary and "\n" not in summary
    assert DecodeReport().summary() == "decoded 0 clips, skipped 0"


# --- faults that used to crash or cut silently -------------------------------------------------


def test_frame_folder_probe_checks_every_frame(tmp_path):
    folder = make_frame_folder(tmp_path / "frames", num_frames=9)
    (folder / "005.png").write_bytes(b"not an image")  # neither the first nor the last
    with pytest.raises(VideoDecodeError, match="005.png") as err:
        probe_video(folder)
    assert "\n" not in str(err.value)
    with pytest.raises(VideoDecodeError, match="005.png"):
        read_frames(folder)
    odd = make_frame_folder(tmp_path / "odd", num_frames=4)
    make_frame_folder(tmp_path / "small", num_frames=3, height=24, width=32)
    (tmp_path / "small" / "002.png").replace(odd / "003.png")
    with pytest.raises(VideoDecodeError, match="size"):
        probe_video(odd)


def test_frame_folder_images_linked_outside_are_refused(tmp_path):
    folder = make_frame_folder(tmp_path / "ds" / "frames", num_frames=6)
    make_frame_folder(tmp_path / "elsewhere", num_frames=6)
    (folder / "003.png").unlink()
    (folder / "003.png").symlink_to(tmp_path / "elsewhere" / "003.png")
    for fn in (probe_video, read_frames, lambda p: read_clip(p, 2), decode.read_video):
        with pytest.raises(VideoDecodeError, match="003.png.*outside"):
            fn(folder)
    (folder / "003.png").unlink()
    (folder / "003.png").symlink_to(folder / "004.png")  # a link inside the folder is fine
    assert len(read_frames(folder)) == 6
    (folder / "003.png").unlink()
    (folder / "003.png").symlink_to(folder / "gone.png")  # dangling: not silently dropped
    with pytest.raises(VideoDecodeError, match="003.png"):
        probe_video(folder)


def _cut_avi(tmp_path, name, frames_kept):
    """A 90-frame 10 fps AVI whose header still says 90 frames, cut after the given frames."""
    path = make_video(tmp_path / name, num_frames=90, fps=10, codec="mpeg4", height=96, width=128)
    data = path.read_bytes()
    offsets = [m for m in range(len(data)) if data.startswith(b"00dc", m)]
    path.write_bytes(data[: offsets[frames_kept]])
    return path


def test_reading_all_frames_reports_a_file_that_ends_early(tmp_path, caplog):
    whole = make_video(tmp_path / "whole.avi", num_frames=30, codec="mpeg4")
    cut = _cut_avi(tmp_path, "cut.avi", 40)
    report = DecodeReport()
    assert len(read_frames(whole, report=report)) == 30
    assert report.warnings == []
    frames = read_frames(cut, report=report)
    assert 30 < len(frames) <= 40
    ((path, reason),) = report.warnings
    assert path == str(cut) and "ends early" in reason and "of 90" in reason
    assert f"decoded {len(frames)} of 90" in reason
    assert "1 warned" in report.summary() and "ends early" in report.summary()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        again, fps = decode.read_video(cut)  # without a report: one warning line
        read_frames(whole)
    assert len(again) == len(frames) and fps == pytest.approx(10.0)
    lines = [r.getMessage() for r in caplog.records if r.name == "vidad.video"]
    assert len(lines) == 1 and "ends early" in lines[0] and str(cut) in lines[0]
    assert probe_video(cut).declared_frames == 90


def test_one_frame_clip_is_repeated_and_reported(tmp_path, caplog):
    still = make_video(tmp_path / "still.mp4", num_frames=1)
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        clip = read_clip(still, 6)
    assert clip.shape == (6, 48, 64, 3) and (clip == clip[0]).all()  # behaviour kept
    lines = [r.getMessage() for r in caplog.records if r.name == "vidad.video"]
    assert len(lines) == 1 and str(still) in lines[0] and "1 frame" in lines[0]
    report = DecodeReport()
    read_clip(still, 6, report=report)
    read_clip(still, 6, report=report)  # reported once per clip, not once per read
    assert len(report.warnings) == 1 and "repeated" in report.warnings[0][1]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="vidad.video"):
        read_clip(still, 1)
        read_clip(make_video(tmp_path / "short.mp4", num_frames=3), 6)
    assert not [r for r in caplog.records if r.name == "vidad.video"]
