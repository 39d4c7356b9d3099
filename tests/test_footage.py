"""Real footage as users bring it: phone rotation metadata and variable frame rates."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from vidad.video.decode import read_video
from vidad.video.footage import display_grid, quarter_turns, read_footage


def _marked_frame(height: int, width: int, value: int = 0) -> np.ndarray:
    """A displayed frame whose top-left quarter is white: orientation is readable."""
    frame = np.full((height, width, 3), value, np.uint8)
    frame[: height // 2, : width // 2] = 255
    return frame


def _write(path, frames, rotation: int = 0, pts_ms=None, rate: int = 10) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000
        if rotation:
            stream.set_display_rotation(rotation)
        if pts_ms is not None:
            stream.time_base = fractions.Fraction(1, 1000)
        for i, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_a_rotated_phone_video_comes_out_as_displayed(tmp_path, rotation) -> None:
    displayed = np.stack([_marked_frame(48, 32)] * 4)  # portrait, as the phone showed it
    stored = np.stack([np.rot90(f, -quarter_turns(rotation)) for f in displayed])
    path = tmp_path / "phone.mp4"
    _write(path, stored, rotation=rotation)
    footage = read_footage(path)
    assert footage.rotation == quarter_turns(rotation) * 90
    assert footage.frames.shape == displayed.shape
    # the white quarter is back at the top left (codec noise aside)
    assert np.abs(footage.frames.astype(int) - displayed.astype(int)).mean() < 12
    assert "rotated" in footage.note()
    # the datasets' decoder, which knows nothing of rotation, returns the stored pixels
    naive, _ = read_video(path)
    assert naive.shape == stored.shape


def test_a_variable_rate_video_is_sampled_by_timestamp(tmp_path) -> None:
    # seven frames; the fourth stays on screen for 400 ms (three frames were dropped)
    pts = [0, 100, 200, 300, 700, 800, 900]
    frames = np.stack([np.full((16, 32, 3), 30 * i, np.uint8) for i in range(len(pts))])
    path = tmp_path / "vfr.mp4"
    _write(path, frames, pts_ms=pts)
    footage = read_footage(path)
    assert footage.resampled and footage.decoded_frames == 7
    assert footage.fps == pytest.approx(10.0)
    shown = np.round(footage.frames[:, 0, 0, 0].astype(float) / 30).astype(int)
    assert shown.tolist() == [0, 1, 2, 3, 3, 3, 3, 4, 5, 6]
    assert "variable frame rate" in footage.note()


def test_a_constant_rate_unrotated_video_is_read_exactly_as_the_datasets_read_it(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (9, 16, 24, 3), dtype=np.uint8)
    path = tmp_path / "plain.mp4"
    _write(path, frames)
    footage = read_footage(path, lambda block: block[:, ::2, ::2], chunk=4)
    expected, fps = read_video(path, lambda block: block[:, ::2, ::2], chunk=4)
    assert not footage.resampled and footage.rotation == 0 and footage.note() == ""
    assert footage.fps == fps
    np.testing.assert_array_equal(footage.frames, expected)


def test_display_grid_by_hand() -> None:
    assert display_grid(np.arange(10) / 25.0) is None  # constant rate: nothing to do
    assert display_grid(np.array([0.0, 0.04])) is None  # too short to judge
    index, fps = display_grid(np.array([0.0, 0.1, 0.2, 0.5, 0.6]))
    assert fps == pytest.approx(10.0)
    assert index.tolist() == [0, 1, 2, 2, 2, 3, 4]


def test_quarter_turns() -> None:
    assert [quarter_turns(r) for r in (0, 90, -90, 180, -180, 270, 89.6)] == [0, 1, 3, 2, 2, 3, 1]
