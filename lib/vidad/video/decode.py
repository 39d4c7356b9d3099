"""Frame-accurate video decoding with PyAV, for video files and folders of image frames.

Two kinds of clip sources are read the same way:

* video files any FFmpeg build reads (mp4/H.264, avi/MPEG-4 part 2 as in UCF Sports, ...);
* folders of image frames (UCSD Ped style: ``.tif``/``.png``/``.jpg``/``.bmp`` files, one per
  frame, in name order).

Frames are numbered 0..N-1 in decode (presentation) order. :func:`read_frames` decodes from the
start and stops right after the last frame it needs, so reading the first frames of a long file
costs only those frames; only the frames asked for are converted to RGB arrays. For folders, only
the needed images are opened.

Every failure (missing file, corrupt or truncated container, no video stream, zero frames, an
unreadable or differently sized image anywhere in a frame folder, a frame image that is a link
out of its folder) is a :class:`VideoDecodeError` with a one-line reason, so long runs can
record it in a :class:`DecodeReport` and go on instead of crashing. Clips that are read but are
not what they claim (a file that ends before the frame count its container declares, a
one-frame clip repeated to fill a clip) are kept and reported as warnings.
"""

from __future__ import annotations

import logging
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch
from PIL import Image

from vidad.progress import progress_bar
from vidad.video.manifest import resolve_inside

logger = logging.getLogger("vidad.video")

#: File extensions recognised as image frames inside a frame folder.
FRAME_EXTENSIONS: tuple[str, ...] = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")

#: Frame rate assumed for frame folders unless given.
DEFAULT_FOLDER_FPS = 25.0

# Containers whose stored frame count (mp4 'stts' sample table, mkv/webm headers) is exact.
# AVI headers are often wrong on damaged or hand-cut files, so AVI frames are counted by
# demuxing (cheap: packets are read, not decoded).
_TRUSTED_COUNT_FORMATS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm")

# What Pillow raises for a damaged image, depending on the format and where the damage is.
_IMAGE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    TypeError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)


class VideoDecodeError(RuntimeError):
    """A clip cannot be probed or decoded; the message is a one-line reason."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns about a clip without decoding it."""

    path: str
    num_frames: int
    fps: float
    duration_s: float
    width: int
    height: int
    codec: str
    #: Frame count the container's header declares (``None`` when it declares none; for a
    #: frame folder, the number of images). Larger than ``num_frames`` for a truncated AVI.
    declared_frames: int | None = None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _natural_key(name: str) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def list_frame_files(folder: str | Path) -> list[Path]:
    """Image files of a frame folder, sorted by name (numbers compared as numbers).

    Links are listed too, even broken ones (a broken frame must fail, not shift the frames
    after it); :func:`frame_files` also checks where they lead.
    """
    files = [
        p
        for p in Path(folder).iterdir()
        if (p.is_file() or p.is_symlink())
        and p.suffix.lower() in FRAME_EXTENSIONS
        and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: _natural_key(p.name))


def frame_files(folder: str | Path) -> list[Path]:
    """:func:`list_frame_files`, refusing any image that resolves outside ``folder``.

    The manifest containment rule (:func:`vidad.video.manifest.resolve_inside`) applied to the
    images of a frame folder: a link to another frame of the folder is fine, a link out of it
    is a :class:`VideoDecodeError` naming the image and where it leads.
    """
    folder = Path(folder)
    files = list_frame_files(folder)
    for file in files:
        if resolve_inside(folder, file) is None:
            raise VideoDecodeError(
                f"{folder}: frame {file.name} is a link to {file.resolve()}, outside the "
                "frame folder; refusing to read it (copy the image into the folder instead)"
            )
    return files


def _image_error(file: Path, err: BaseException, folder: Path | None = None) -> VideoDecodeError:
    text = _one_line(err).replace(repr(str(file)), "").replace(str(file), "").strip(" :")
    what = f"{type(err).__name__}: {text}" if text else type(err).__name__
    if folder is None:
        return VideoDecodeError(f"{file}: unreadable image ({what})")
    return VideoDecodeError(f"{folder}: frame {file.name} is an unreadable image ({what})")


def load_image(file: Path, mode: str = "RGB", folder: Path | None = None) -> np.ndarray:
    """One frame image as a uint8 array in ``mode``; any damage is a :class:`VideoDecodeError`
    (naming ``folder`` first, when given, so a report lists it under its clip)."""
    try:
        with Image.open(file) as im:
            return np.asarray(im.convert(mode), dtype=np.uint8)
    except _IMAGE_ERRORS as err:
        raise _image_error(file, err, folder) from err


def _open(path: Path) -> av.container.InputContainer:
    try:  # damaged metadata is not worth failing over: undecodable bytes are replaced
        return av.open(str(path), mode="r", metadata_errors="replace")
    except av.FFmpegError as e:
        raise VideoDecodeError(f"{path}: unreadable container ({_one_line(e)})") from e
    except OSError as e:
        raise VideoDecodeError(f"{path}: cannot open ({_one_line(e)})") from e
    except ValueError as e:  # e.g. a UnicodeDecodeError from damaged metadata
        raise VideoDecodeError(f"{path}: unreadable container ({_one_line(e)})") from e


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        raise VideoDecodeError(f"{path}: no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoDecodeError(f"{path}: no decoder for the video stream (damaged codec id?)")
    return stream


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise VideoDecodeError(f"{path}: no such file or folder")


def _image_size(file: Path, folder: Path) -> tuple[int, int]:
    try:
        with Image.open(file) as im:  # reads the header only
            return im.size
    except _IMAGE_ERRORS as err:
        raise _image_error(file, err, folder) from err


def _probe_folder(path: Path, fps: float, check_frames: bool = True) -> VideoInfo:
    files = frame_files(path)
    if not files:
        raise VideoDecodeError(
            f"{path}: folder holds no image frames ({', '.join(FRAME_EXTENSIONS)})"
        )
    # Every image's header is read (not decoded): a frame in the middle that is not an image,
    # or has another size, is found here rather than in the middle of a run.
    width, height = _image_size(files[0], path)
    for file in files[1:] if check_frames else ():
        size = _image_size(file, path)
        if size != (width, height):
            raise VideoDecodeError(
                f"{path}: frame {file.name} is {size[0]}x{size[1]}, the first frame "
                f"{files[0].name} is {width}x{height}; all frames must have one size"
            )
    n = len(files)
    return VideoInfo(
        path=str(path),
        num_frames=n,
        fps=float(fps),
        duration_s=n / float(fps),
        width=int(width),
        height=int(height),
        codec="images" + files[0].suffix.lower(),
        declared_frames=n,
    )


def _count_packets(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    n = 0
    for packet in container.demux(stream):
        if packet.size > 0:  # the final flush packet is empty
            n += 1
    return n


def probe_video(
    path: str | Path,
    folder_fps: float = DEFAULT_FOLDER_FPS,
    count_frames: bool = False,
    check_frames: bool = True,
) -> VideoInfo:
    """Frame count, rate, duration, size and codec of a video file or a frame folder.

    The frame count comes from the container when it is trustworthy (mp4/mov/mkv sample
    tables); otherwise (AVI, missing metadata, or ``count_frames=True``) packets are counted by
    demuxing, which reads the file but decodes nothing. A frame folder has one frame per image
    and ``folder_fps`` frames per second; ``check_frames`` reads every image's header (the
    validation pass of a dataset), off where the frames read next are checked as they decode.

    Raises :class:`VideoDecodeError` for a missing path, an unreadable/corrupt container, no
    video stream, zero frames or zero duration.
    """
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        return _probe_folder(path, folder_fps, check_frames)
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: empty file (0 bytes)")
    with _open(path) as container:
        stream = _video_stream(container, path)
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        fmt_names = set(container.format.name.split(","))
        num_frames = int(stream.frames or 0)
        trusted = bool(fmt_names & set(_TRUSTED_COUNT_FORMATS)) and num_frames > 0
        if count_frames or not trusted:
            try:
                num_frames = _count_packets(container, stream)
            except av.FFmpegError as e:
                raise VideoDecodeError(f"{path}: corrupt stream ({_one_line(e)})") from e
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = num_frames / fps if fps > 0 else 0.0
        if fps <= 0 and duration > 0:
            fps = num_frames / duration
        info = VideoInfo(
            path=str(path),
            num_frames=num_frames,
            fps=fps,
            duration_s=duration,
            width=int(ctx.width or 0),
            height=int(ctx.height or 0),
            codec=ctx.name or "unknown",
            declared_frames=int(stream.frames) if stream.frames else None,
        )
    if info.num_frames <= 0:
        raise VideoDecodeError(f"{path}: zero frames")
    if not info.duration_s > 0:
        raise VideoDecodeError(f"{path}: zero duration")
    if info.width <= 0 or info.height <= 0:
        raise VideoDecodeError(f"{path}: unknown frame size")
    return info


def uniform_indices(num_total: int, num_samples: int) -> np.ndarray:
    """``num_samples`` evenly spaced frame indices over a clip of ``num_total`` frames.

    Same rule as pytorchvideo's ``UniformTemporalSubsample``:
    ``torch.linspace(0, T - 1, n)`` clamped and truncated to integers (``.long()``). When the
    clip is shorter than ``num_samples`` indices repeat.
    """
    if num_total <= 0:
        raise ValueError(f"num_total must be positive, got {num_total}")
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    idx = torch.linspace(0, num_total - 1, num_samples)
    idx = torch.clamp(idx, 0, num_total - 1).long()
    return idx.numpy().astype(np.int64)


def _read_folder(path: Path, indices: np.ndarray | None) -> np.ndarray:
    files = frame_files(path)
    if not files:
        raise VideoDecodeError(f"{path}: folder holds no image frames")
    wanted = np.arange(len(files)) if indices is None else indices
    if wanted.size and (wanted.max() >= len(files)):
        raise VideoDecodeError(
            f"{path}: frame {int(wanted.max())} requested but the folder has {len(files)}"
        )
    cache: dict[int, np.ndarray] = {}
    for i in np.unique(wanted):
        cache[int(i)] = load_image(files[int(i)], folder=path)
    shapes = {a.shape for a in cache.values()}
    if len(shapes) > 1:
        raise VideoDecodeError(f"{path}: frames differ in size {sorted(shapes)}")
    return np.stack([cache[int(i)] for i in wanted]) if cache else np.zeros((0, 0, 0, 3), np.uint8)


def _declared_frames(stream: av.VideoStream) -> int | None:
    return int(stream.frames) if stream.frames else None


#: Frames a file may come up short of its declared count before it is reported as ending early
#: (a last packet cut mid-write, or a header rounded by its writer).
ENDS_EARLY_TOLERANCE = 1


def ends_early(decoded: int, declared: int | None, verb: str = "decoded") -> str | None:
    """Why a fully read file looks truncated (``None`` if it does not): fewer frames
    ``decoded`` (or counted: ``verb="found"``) than its container declares, by more than
    :data:`ENDS_EARLY_TOLERANCE`."""
    if declared is None or declared - decoded <= ENDS_EARLY_TOLERANCE:
        return None
    return (
        f"ends early: {verb} {decoded} of {declared} frames its container declares "
        "(truncated or damaged file?)"
    )


def _warn(report: DecodeReport | None, path: Path, reason: str) -> None:
    if report is not None:
        report.warn(path, reason)
    else:
        logger.warning("%s: %s", path, reason)


def _rgb(frame: av.VideoFrame, path: Path, n: int, shape: list[tuple[int, ...]]) -> np.ndarray:
    """Frame ``n`` as RGB; a frame whose size differs from the first one's is an error."""
    try:
        array = frame.to_ndarray(format="rgb24")
    except (ValueError, av.FFmpegError) as e:
        raise VideoDecodeError(f"{path}: frame {n} cannot be converted ({_one_line(e)})") from e
    if not shape:
        shape.append(array.shape)
    elif array.shape != shape[0]:
        raise VideoDecodeError(
            f"{path}: frame {n} is {array.shape[1]}x{array.shape[0]}, frame 0 is "
            f"{shape[0][1]}x{shape[0][0]} (a damaged stream?)"
        )
    return array


def _read_file(
    path: Path, indices: np.ndarray | None, report: DecodeReport | None = None
) -> np.ndarray:
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: empty file (0 bytes)")
    needed = None if indices is None else set(int(i) for i in indices)
    last = None if indices is None else (int(indices.max()) if indices.size else -1)
    got: dict[int, np.ndarray] = {}
    all_frames: list[np.ndarray] = []
    shape: list[tuple[int, ...]] = []
    n = 0
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        declared = _declared_frames(stream)
        try:
            if last is None or last >= 0:
                for frame in container.decode(stream):
                    if needed is None:
                        all_frames.append(_rgb(frame, path, n, shape))
                    elif n in needed:
                        got[n] = _rgb(frame, path, n, shape)
                    n += 1
                    if last is not None and n > last:
                        break
        except av.FFmpegError as e:
            raise VideoDecodeError(
                f"{path}: decoding failed after {n} frame(s) ({_one_line(e)})"
            ) from e
    if indices is None:
        if not all_frames:
            raise VideoDecodeError(f"{path}: zero frames decoded")
        reason = ends_early(len(all_frames), declared)
        if reason:
            _warn(report, path, reason)
        return np.stack(all_frames)
    if last is not None and last >= n:
        raise VideoDecodeError(
            f"{path}: frame {last} requested but only {n} could be decoded (truncated file?)"
        )
    if not got:
        return np.zeros((0, 0, 0, 3), np.uint8)
    return np.stack([got[int(i)] for i in indices])


def read_frames(
    path: str | Path,
    indices: Sequence[int] | np.ndarray | None = None,
    report: DecodeReport | None = None,
) -> np.ndarray:
    """Decode frames ``indices`` (all frames if ``None``) as uint8 RGB ``(T, H, W, 3)``.

    Frame-accurate: frame ``i`` is the i-th frame in presentation order, counted from the
    start of the stream. A video file is decoded sequentially and decoding stops right after
    the last requested index; only the requested frames are converted to RGB. Repeated
    indices give repeated frames, in the order asked. For a frame folder only the requested
    images are loaded.

    Reading all frames of a file that ends before the frame count its container declares (a
    truncated AVI or mp4) returns what was decoded and reports it (see :func:`ends_early`): a
    warning in ``report``, or one warning line on the ``vidad.video`` logger without one.

    Raises :class:`VideoDecodeError` if the path is missing or unreadable, or if a requested
    index cannot be produced (e.g. a truncated file).
    """
    path = Path(path)
    _check_exists(path)
    idx = None
    if indices is not None:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and idx.min() < 0:
            raise ValueError(f"frame indices must be >= 0, got {int(idx.min())}")
    if path.is_dir():
        return _read_folder(path, idx)
    return _read_file(path, idx, report)


def still_clip(info: VideoInfo, num_frames: int) -> str | None:
    """Why a clip of ``num_frames`` uniformly sampled frames is a still (``None`` if not)."""
    if info.num_frames != 1 or num_frames <= 1:
        return None
    return (
        f"only 1 frame; it is repeated to fill each {num_frames}-frame clip "
        "(a still clip, no motion)"
    )


def read_clip(
    path: str | Path,
    num_frames: int,
    folder_fps: float = DEFAULT_FOLDER_FPS,
    report: DecodeReport | None = None,
) -> np.ndarray:
    """``num_frames`` frames uniformly spaced over the whole clip, uint8 ``(T, H, W, 3)``.

    A one-frame clip gives its frame ``num_frames`` times, as uniform sampling does, and is
    reported (a warning in ``report``, once per clip, or a warning line without one).
    """
    # Only the count is needed here: the frames read next are checked as they decode, so the
    # folder's every header is not re-read for each clip (the dataset's validation did that).
    info = probe_video(path, folder_fps=folder_fps, check_frames=False)
    reason = still_clip(info, num_frames)
    if reason:
        _warn(report, Path(path), reason)
    return read_frames(path, uniform_indices(info.num_frames, num_frames))


def read_video(
    path: str | Path,
    process: Callable[[np.ndarray], np.ndarray] | None = None,
    chunk: int = 64,
    report: DecodeReport | None = None,
) -> tuple[np.ndarray, float]:
    """Every frame of a video file or frame folder, uint8 RGB, and its frame rate.

    ``process`` (a resize, say) is applied to each run of ``chunk`` consecutive frames as soon
    as they are decoded, so a long high-resolution video never sits in memory at full size;
    it must map ``(n, H, W, 3)`` to ``(n, h, w, 3)``. The rate is the stream's average (or
    guessed) rate, 0.0 when the file does not say and for a frame folder. A file that ends
    before its declared frame count is reported as :func:`read_frames` does.

    Raises :class:`VideoDecodeError` if the path is missing, unreadable or yields no frame.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    path = Path(path)
    _check_exists(path)
    if path.is_dir():
        frames = _read_folder(path, None)
        return (process(frames) if process is not None and len(frames) else frames), 0.0
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: empty file (0 bytes)")
    out: list[np.ndarray] = []
    buffer: list[np.ndarray] = []
    shape: list[tuple[int, ...]] = []

    def flush() -> None:
        block = np.stack(buffer)
        out.append(process(block) if process is not None else block)
        buffer.clear()

    decoded = 0
    with _open(path) as container:
        stream = _video_stream(container, path)
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        declared = _declared_frames(stream)
        try:
            for frame in container.decode(stream):
                buffer.append(_rgb(frame, path, decoded, shape))
                decoded += 1
                if len(buffer) == chunk:
                    flush()
        except av.FFmpegError as e:
            raise VideoDecodeError(
                f"{path}: decoding failed after {decoded} frame(s) ({_one_line(e)})"
            ) from e
    if buffer:
        flush()
    if not out:
        raise VideoDecodeError(f"{path}: zero frames decoded")
    reason = ends_early(decoded, declared)
    if reason:
        _warn(report, path, reason)
    return np.concatenate(out), fps


class DecodeReport:
    """Collects clips that failed to probe or decode, so long runs skip them and go on.

    ``fail`` logs exactly one warning line per file on the ``vidad.video`` logger and keeps
    it; ``warn`` does the same for a clip that is kept but is not what it claims (it ends
    early, it is a single frame), once per clip and reason; ``ok`` counts a clip that
    decoded; ``summary`` gives one line for the end of a run. ``log=False`` records without
    logging (for a caller that folds the entries into its own report).
    """

    def __init__(self, name: str = "decode", log: bool = True) -> None:
        self.name = name
        self.log = log
        self.num_ok = 0
        self.failures: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def ok(self, count: int = 1) -> None:
        """Count ``count`` clips that probed/decoded fine."""
        self.num_ok += count

    @staticmethod
    def _reason(path: str | Path, reason: object) -> str:
        reason = _one_line(reason)
        prefix = f"{path}: "
        if reason.startswith(prefix):  # VideoDecodeError messages already name the path
            reason = reason[len(prefix) :]
        return reason

    def fail(self, path: str | Path, reason: object) -> None:
        """Record that ``path`` was skipped because of ``reason`` (logged as one line)."""
        reason = self._reason(path, reason)
        self.failures.append((str(path), reason))
        if self.log:
            logger.warning("skipping %s: %s", path, reason)

    def warn(self, path: str | Path, reason: object) -> None:
        """Record that ``path`` is kept despite ``reason`` (one line, once per path and reason)."""
        entry = (str(path), self._reason(path, reason))
        if entry in self.warnings:
            return
        self.warnings.append(entry)
        if self.log:
            logger.warning("%s: %s", *entry)

    @property
    def num_failed(self) -> int:
        return len(self.failures)

    @property
    def failed_paths(self) -> list[str]:
        return [p for p, _ in self.failures]

    def summary(self) -> str:
        """One line: ``decoded N clips, skipped K: path (reason); ...[; W warned: ...]``."""
        text = f"decoded {self.num_ok} clips, skipped {self.num_failed}"
        if self.failures:
            text += ": " + "; ".join(f"{p} ({r})" for p, r in self.failures)
        if self.warnings:
            text += f"; {len(self.warnings)} warned: "
            text += "; ".join(f"{p} ({r})" for p, r in self.warnings)
        return text

    def __repr__(self) -> str:
        return f"DecodeReport({self.summary()!r})"


def scan_videos(
    paths: Iterable[str | Path],
    report: DecodeReport,
    folder_fps: float = DEFAULT_FOLDER_FPS,
    progress: bool | None = None,
    desc: str = "probing clips",
) -> list[VideoInfo | None]:
    """Probe every path; failures go to ``report`` and give ``None`` in the result.

    ``progress=None`` shows a bar unless ``TQDM_DISABLE`` is set (see :mod:`vidad.progress`).
    """
    paths = list(paths)
    out: list[VideoInfo | None] = []
    for p in progress_bar(paths, desc=desc, unit="clip", enabled=progress):
        try:
            out.append(probe_video(p, folder_fps=folder_fps))
            report.ok()
        except VideoDecodeError as e:
            report.fail(p, e)
            out.append(None)
    return out


__all__ = [
    "DEFAULT_FOLDER_FPS",
    "ENDS_EARLY_TOLERANCE",
    "FRAME_EXTENSIONS",
    "DecodeReport",
    "VideoDecodeError",
    "VideoInfo",
    "ends_early",
    "frame_files",
    "list_frame_files",
    "load_image",
    "probe_video",
    "read_clip",
    "read_frames",
    "read_video",
    "scan_videos",
    "still_clip",
    "uniform_indices",
]
