"""Sliding windows over a video: where each window of a fixed length starts.

Scoring a video longer than a training clip means sliding a window of the clip's length over
it. Both users of this (chapter 6's saved detector, :mod:`vidad.anomaly.detector`, and the video
autoencoders of chapter 8) place windows the same way: every ``stride`` frames from the first
frame, plus one last window that ends on the last frame, so no frame is left unscored.
"""

from __future__ import annotations

import numpy as np


def window_starts(num_frames: int, length: int, stride: int) -> np.ndarray:
    """Start frames of ``length``-frame windows ``stride`` apart covering ``num_frames`` frames.

    The last window ends on the last frame (it is added when the stride does not land there).
    Raises ValueError for a length or stride below 1 and for a video shorter than one window.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length}, {stride}")
    if num_frames < length:
        raise ValueError(
            f"a video of {num_frames} frames is shorter than one {length}-frame window"
        )
    starts = list(range(0, num_frames - length + 1, stride))
    if starts[-1] != num_frames - length:
        starts.append(num_frames - length)
    return np.asarray(starts, dtype=np.int64)
