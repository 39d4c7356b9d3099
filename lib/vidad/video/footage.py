"""Decode a user's own video as it is *displayed*: upright, and evenly spaced in time.

The datasets' decoder (:mod:`vidad.video.decode`) numbers frames in decode order, which is right
for the book's files: constant frame rate and no display rotation. Footage people bring from a
phone breaks both assumptions:

* **Rotation.** A phone filming upright stores landscape pixels plus a display matrix ("turn
  this 90 degrees to show it"). Decoded naively, every frame is sideways, and a detector trained
  on upright clips scores a sideways video as one long anomaly. Here each frame is turned by the
  stream's display rotation (FFmpeg's convention, which PyAV's ``VideoFrame.rotation`` reports:
  degrees counter-clockwise), as players do.
* **Variable frame rate.** Phones drop or hold frames when light is low or the CPU is busy, so
  frame *i* is not at time ``i / fps``. A window of N frames then spans a varying amount of time
  and motion looks faster where frames were dropped. Where the timestamps say the two differ,
  the video is resampled onto an even time grid at its nominal rate (the median frame interval):
  each grid instant shows the frame on screen at that instant, as a player would.

A constant-rate, unrotated file comes out exactly as :func:`vidad.video.decode.read_video` gives
it (a test checks), so the book's synthetic videos are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vidad.video.decode import (
    DecodeReport,
    VideoDecodeError,
    _check_exists,
    _declared_frames,
    _one_line,
    _open,
    _rgb,
    _video_stream,
    _warn,
    ends_early,
    read_video,
)

#: A frame interval this far (as a fraction of the nominal interval) from the nominal one means
#: a dropped or held frame: the file is variable-rate and is resampled by timestamp.
VFR_TOLERANCE = 0.5


@dataclass(frozen=True)
class Footage:
    """Frames as displayed (T, H, W, 3) uint8, their rate, and what was done to get them."""

    frames: np.ndarray
    fps: float
    rotation: int  # degrees counter-clockwise applied to every frame (0, 90, 180 or 270)
    resampled: bool  # True when timestamps differed from frame numbers (variable frame rate)
    decoded_frames: int  # frames in the file, before any resampling

    def note(self) -> str:
        """What was done to the video, for a result line ("" when nothing was)."""
        parts = []
        if self.rotation:
            parts.append(f"rotated {self.rotation} degrees as its metadata asks")
        if self.resampled:
            parts.append(
                f"variable frame rate: {self.decoded_frames} frames resampled by timestamp "
                f"to {len(self.frames)} at {self.fps:g} fps"
            )
        return "; ".join(parts)


def quarter_turns(rotation: float) -> int:
    """A display rotation in degrees (any sign) as counter-clockwise quarter turns 0..3.

    Rotations that are not a multiple of 90 degrees do not occur in camera files; they are
    rounded to the nearest quarter turn.
    """
    return int(round(float(rotation) / 90.0)) % 4


def display_grid(times: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Frame indices that show the video on an even time grid, and the grid's rate.

    ``times`` are the frames' presentation times in seconds (increasing). ``None`` when every
    interval is within :data:`VFR_TOLERANCE` of the nominal one (the median), i.e. frame numbers
    already are timestamps. Otherwise grid instant ``k`` (at ``times[0] + k / fps``) shows the
    last frame whose time is at or before it.
    """
    if len(times) < 3:
        return None
    intervals = np.diff(times)
    nominal = float(np.median(intervals))
    if nominal <= 0:
        return None
    if np.all(np.abs(intervals - nominal) <= VFR_TOLERANCE * nominal):
        return None
    fps = 1.0 / nominal
    count = int(np.floor((times[-1] - times[0]) * fps + 1e-6)) + 1
    grid = times[0] + np.arange(count) / fps
    index = np.searchsorted(times, grid + 1e-6 * nominal, side="right") - 1
    return np.clip(index, 0, len(times) - 1), fps


def read_footage(
    path: str | Path,
    process: Callable[[np.ndarray], np.ndarray] | None = None,
    chunk: int = 64,
    report: DecodeReport | None = None,
) -> Footage:
    """Every frame of a video file (or frame folder) as displayed; see the module docstring.

    ``process`` (a resize) runs on each run of ``chunk`` upright frames as they decode, as in
    :func:`vidad.video.decode.read_video`. Raises :class:`VideoDecodeError` for a missing,
    unreadable or empty video.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        frames, fps = read_video(path, process, chunk, report)
        return Footage(frames, fps, 0, False, len(frames))
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: empty file (0 bytes)")
    out: list[np.ndarray] = []
    buffer: list[np.ndarray] = []
    times: list[float] = []
    shape: list[tuple[int, ...]] = []
    turns = 0

    def flush() -> None:
        block = np.stack(buffer)
        out.append(process(block) if process is not None else block)
        buffer.clear()

    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        declared = _declared_frames(stream)
        try:
            for n, frame in enumerate(container.decode(stream)):
                if n == 0:
                    turns = quarter_turns(getattr(frame, "rotation", 0) or 0)
                array = _rgb(frame, path, n, shape)
                buffer.append(np.ascontiguousarray(np.rot90(array, turns)) if turns else array)
                times.append(float(frame.time) if frame.time is not None else np.nan)
                if len(buffer) == chunk:
                    flush()
        except av.FFmpegError as e:
            raise VideoDecodeError(
                f"{path}: decoding failed after {len(times)} frame(s) ({_one_line(e)})"
            ) from e
    if buffer:
        flush()
    if not out:
        raise VideoDecodeError(f"{path}: zero frames decoded")
    reason = ends_early(len(times), declared)
    if reason:
        _warn(report, path, reason)
    frames = np.concatenate(out)
    fps = float(rate or 0.0)
    stamps = np.asarray(times)
    grid = None
    if np.all(np.isfinite(stamps)) and np.all(np.diff(stamps) > 0):
        grid = display_grid(stamps)
    if grid is None:
        return Footage(frames, fps, turns * 90, False, len(frames))
    index, grid_fps = grid
    return Footage(frames[index], grid_fps, turns * 90, True, len(frames))


__all__ = ["VFR_TOLERANCE", "Footage", "display_grid", "quarter_turns", "read_footage"]
