"""Write frames as a real H.264 mp4, reproducibly and atomically.

Why real H.264 rather than .npy: every model reads clips through the same decode path as
real data (PyAV), and compression artefacts are part of what a model sees. Why byte-identical
output: DVC hashes the files, so the same frames must give the same bytes; x264 is
deterministic with one thread and fixed options, and no time-dependent metadata is written.
Why atomic: an interrupted run must never leave a half-written clip that looks complete.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CRF = 18
#: x264's fastest preset: on these small, noisy clips "medium" took about as long as drawing
#: them (synth-actions) or twice as long (synth-sports), for decoded frames that differ from
#: the rendered ones by the same codec noise (files ~1.8x larger). ``benchmarks/synth.py``
#: measures both presets and the difference between their decoded frames.
PRESET = "ultrafast"
#: mbtree off: with it, x264 (even single-threaded) gave different bytes for the same short
#: clip from run to run (seen with clips shorter than its 40-frame lookahead).
X264_PARAMS = "mbtree=0"


def rgb_to_yuv420p(frames: np.ndarray) -> np.ndarray:
    """BT.601 limited-range YUV 4:2:0 planes stacked as ``(..., H * 3 / 2, W)`` uint8 arrays.

    One frame ``(H, W, 3)`` or a whole clip ``(T, H, W, 3)`` at once (the same numbers per
    frame: every operation is element-wise or a mean over one 2 x 2 block; a clip at once
    pays numpy's per-call cost once instead of once per frame). Done in numpy so the
    conversion is fixed by this code, not by the libswscale build and its SIMD paths (the bytes
    must not depend on the machine's FFmpeg flags where avoidable).
    """
    *lead, h, w, _ = frames.shape
    rgb = frames.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    sub = rgb.reshape(*lead, h // 2, 2, w // 2, 2, 3).mean(axis=(-4, -2))
    r2, g2, b2 = sub[..., 0], sub[..., 1], sub[..., 2]
    u = 128.0 + (-37.797 * r2 - 74.203 * g2 + 112.0 * b2) / 255.0
    v = 128.0 + (112.0 * r2 - 93.786 * g2 - 18.214 * b2) / 255.0
    planes = [np.rint(p).clip(0, 255).astype(np.uint8) for p in (y, u, v)]
    flat = [p.reshape(*lead, -1) for p in planes]
    return np.concatenate(flat, axis=-1).reshape(*lead, h * 3 // 2, w)


def _yuv_frame(yuv: np.ndarray, w: int, h: int) -> av.VideoFrame:
    """A yuv420p frame whose row padding is filled too (edge pixels repeated).

    Why: the frame buffers' lines are padded for alignment and SIMD code may read past the
    visible width; filling the padding keeps the encoder's input fully defined.
    """
    vf = av.VideoFrame(w, h, "yuv420p")
    sizes = [(h, w), (h // 2, w // 2), (h // 2, w // 2)]
    flat, start = yuv.reshape(-1), 0
    for plane, (ph, pw) in zip(vf.planes, sizes, strict=True):
        data = flat[start : start + ph * pw].reshape(ph, pw)
        start += ph * pw
        pad = plane.line_size - pw
        padded = np.pad(data, ((0, 0), (0, pad)), mode="edge") if pad else data
        rows = plane.buffer_size // plane.line_size
        if rows > ph:
            padded = np.pad(padded, ((0, rows - ph), (0, 0)), mode="edge")
        plane.update(np.ascontiguousarray(padded).tobytes())
    return vf


def write_mp4(frames: np.ndarray, path: str | Path, fps: float, preset: str = PRESET) -> None:
    """Encode ``frames`` (T, H, W, 3) uint8 RGB to ``path`` (libx264 ``preset``, yuv420p,
    crf 18)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            f"frames must be a (T, H, W, 3) uint8 array, got {frames.shape} {frames.dtype}"
        )
    num, h, w, _ = frames.shape
    if num < 1:
        raise ValueError("cannot write a video with no frames")
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs even width and height, got {w}x{h}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4.part", dir=path.parent)
    os.close(fd)
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = w, h
            stream.pix_fmt = "yuv420p"
            stream.codec_context.thread_count = 1
            stream.options = {
                "crf": str(CRF),
                "preset": preset,
                "threads": "1",
                "x264-params": X264_PARAMS,
            }
            stream.codec_context.time_base = 1 / rate
            for i, yuv in enumerate(rgb_to_yuv420p(frames)):
                vf = _yuv_frame(yuv, w, h)
                vf.pts, vf.time_base = i, 1 / rate  # explicit: x264 rate control reads them
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
