"""Shared fixtures: tiny videos whose frames encode their own index.

Each frame carries its index ``i`` as 8 black/white blocks (bit ``b`` of ``i`` in column ``b``
of the top half) over a gray bottom half of level ``(10 * i) % 256``. Blocks of 0/255 survive
lossy compression, so :func:`frame_index` recovers ``i`` from any decoded frame and tests can
assert frame accuracy after H.264 / MPEG-4 encoding.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

NUM_BITS = 8


def make_frame(i: int, height: int = 48, width: int = 64) -> np.ndarray:
    """uint8 (H, W, 3) RGB frame whose content encodes ``i`` (0 <= i < 256)."""
    frame = np.empty((height, width, 3), np.uint8)
    frame[height // 2 :] = (10 * i) % 256
    col = width // NUM_BITS
    for b in range(NUM_BITS):
        frame[: height // 2, b * col : (b + 1) * col] = 255 if (i >> b) & 1 else 0
    return frame


def frame_index(frame: np.ndarray) -> int:
    """Recover the index written by :func:`make_frame` from a (possibly lossy) frame."""
    height, width = frame.shape[:2]
    col = width // NUM_BITS
    top = frame[: height // 2].astype(float).mean(axis=2)
    value = 0
    for b in range(NUM_BITS):
        block = top[2 : height // 2 - 2, b * col + 2 : (b + 1) * col - 2]
        if block.mean() > 127:
            value |= 1 << b
    return value


def make_video(
    path: str | Path,
    num_frames: int = 20,
    fps: int = 10,
    codec: str = "libx264",
    height: int = 48,
    width: int = 64,
    faststart: bool = False,
) -> Path:
    """Write ``num_frames`` index-encoding frames to ``path`` with PyAV and return the path.

    ``codec``: ``libx264`` (mp4/H.264) or ``mpeg4`` (avi, MPEG-4 part 2 as in UCF Sports).
    ``faststart`` moves the mp4 index to the front (a truncated copy still opens).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":
            stream.bit_rate = 2_000_000
        else:
            stream.options = {"crf": "18", "preset": "ultrafast"}
        for i in range(num_frames):
            vf = av.VideoFrame.from_ndarray(make_frame(i, height, width), format="rgb24")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_frame_folder(
    folder: str | Path, num_frames: int = 12, ext: str = ".png", height: int = 48, width: int = 64
) -> Path:
    """A folder of image frames named ``001<ext>, 002<ext>, ...`` (UCSD Ped style)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(num_frames):
        Image.fromarray(make_frame(i, height, width)).save(folder / f"{i + 1:03d}{ext}")
    return folder


def make_corrupt(path: str | Path, size: int = 4096, seed: int = 0) -> Path:
    """A file of random bytes (not a video)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


@pytest.fixture
def video_factory(tmp_path):
    """``video_factory(name, **make_video_kwargs)`` -> path of a new clip in tmp_path."""

    def factory(name: str, **kwargs) -> Path:
        return make_video(tmp_path / name, **kwargs)

    return factory
