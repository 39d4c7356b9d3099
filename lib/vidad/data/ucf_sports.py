"""UCF Sports (real data) -> a vidad manifest with the source study's anomaly protocol.

The release unpacks to ``ucf_sports_actions/ucf action/<Folder>/<NNN>/`` where each clip folder
holds one ``.avi`` (MPEG-4 part 2) and/or the clip's frames as ``.jpg`` files (some folders have
only the frames, some keep them in a ``jpeg`` subfolder). A flatter ``<Folder>/<NNN>/`` layout
is accepted too: the adapter looks for the folder that contains the class folders.

The adapter finds one clip per clip folder (the ``.avi``, else the frame folder), maps folder
names to the merged classes of :mod:`vidad.data.protocol` (Golf-Swing-*, Kicking-*), probes every
clip, drops corrupt clips and clips shorter than ``MIN_DURATION_S`` (one log line each and a
summary), optionally converts ``.avi`` to ``.mp4`` (as the source study did), assigns splits with
:func:`vidad.data.protocol.assign_splits` and writes ``manifest.csv``.

A truncated source (its header declares more frames than the file holds) is measured by what is
actually there: the frames counted in place, or decoded by the conversion. The minimum length is
applied to that, and a clip kept although it ends early is reported as a warning.

Command line::

    python -m vidad.data.ucf_sports --src data/ucf_sports --out data/ucf_sports [--mp4]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import pandas as pd

from vidad.data import protocol
from vidad.progress import progress_bar
from vidad.video.decode import (
    FRAME_EXTENSIONS,
    DecodeReport,
    VideoDecodeError,
    VideoInfo,
    ends_early,
    list_frame_files,
    probe_video,
)
from vidad.video.manifest import write_manifest

logger = logging.getLogger("vidad.data")

#: Action folder names of the UCF Sports release (before merges).
UCF_SPORTS_FOLDERS: tuple[str, ...] = (
    "Diving-Side",
    "Golf-Swing-Back",
    "Golf-Swing-Front",
    "Golf-Swing-Side",
    "Kicking-Front",
    "Kicking-Side",
    "Lifting",
    "Riding-Horse",
    "Run-Side",
    "SkateBoarding-Front",
    "Swing-Bench",
    "Swing-SideAngle",
    "Walk-Front",
)

UCF_SPORTS_URL = "https://www.crcv.ucf.edu/data/UCF_Sports_Action.php"
DEFAULT_DIR = "data/ucf_sports"
#: Frame rate of the UCF Sports frame folders (the .avi files are 10 fps).
FRAME_FOLDER_FPS = 10.0

MANIFEST_COLUMNS = (
    "path",
    "label",
    "class",
    "split",
    "source_folder",
    "num_frames",
    "fps",
    "duration_s",
    "width",
    "height",
    "is_anomaly",
)


class DatasetNotFoundError(FileNotFoundError):
    """The real dataset is not where the adapter looked; the message says how to fix that."""

    def __init__(self, src: str | Path, what: str = "") -> None:
        self.src = Path(src)
        what = what or f"no UCF Sports action folders under {self.src}"
        message = (
            f"UCF Sports not found ({what}). "
            f"Put the release in {DEFAULT_DIR}/ under the project root, laid out as "
            f"{DEFAULT_DIR}/ucf_sports_actions/ucf action/<Action>/<NNN>/<clip>.avi "
            f"(or {DEFAULT_DIR}/<Action>/<NNN>/...), with <Action> one of "
            f"{', '.join(UCF_SPORTS_FOLDERS)}. "
            f"Get it from the UCF CRCV UCF Sports page: {UCF_SPORTS_URL}. "
            "Without it the default pipeline runs on the synthetic stand-in synth-sports."
        )
        super().__init__(message)


def find_class_root(src: str | Path, max_depth: int = 4) -> Path:
    """The folder under ``src`` that contains the UCF Sports action folders.

    Tries ``src/ucf_sports_actions/ucf action`` and ``src`` first, then searches down to
    ``max_depth`` levels; raises :class:`DatasetNotFoundError` if none is found.
    """
    src = Path(src)
    if not src.is_dir():
        raise DatasetNotFoundError(src, what=f"the folder {src} does not exist")
    known = set(UCF_SPORTS_FOLDERS)

    def n_classes(folder: Path) -> int:
        try:
            return sum(1 for p in folder.iterdir() if p.is_dir() and p.name in known)
        except OSError:
            return 0

    for cand in (src / "ucf_sports_actions" / "ucf action", src):
        if cand.is_dir() and n_classes(cand):
            return cand
    best, best_n = None, 0
    base_depth = len(src.parts)
    for dirpath, dirnames, _ in os.walk(src):
        here = Path(dirpath)
        if len(here.parts) - base_depth >= max_depth:
            dirnames[:] = []
        dirnames.sort()
        n = sum(1 for d in dirnames if d in known)
        if n > best_n:
            best, best_n = here, n
    if best is None:
        raise DatasetNotFoundError(src)
    return best


def _frame_folder(clip_dir: Path) -> Path | None:
    for cand in (clip_dir, clip_dir / "jpeg", clip_dir / "jpg"):
        if cand.is_dir() and list_frame_files(cand):
            return cand
    return None


def find_clips(class_root: Path) -> list[tuple[str, Path]]:
    """``(action folder, clip path)`` pairs: one ``.avi`` per clip folder, else its frames."""
    clips: list[tuple[str, Path]] = []
    for folder in UCF_SPORTS_FOLDERS:
        action_dir = class_root / folder
        if not action_dir.is_dir():
            continue
        for clip_dir in sorted(p for p in action_dir.iterdir() if p.is_dir()):
            avis = sorted(
                p for p in clip_dir.iterdir() if p.is_file() and p.suffix.lower() == ".avi"
            )
            if avis:
                if len(avis) > 1:
                    logger.info(
                        "%s holds %d .avi files; using %s", clip_dir, len(avis), avis[0].name
                    )
                clips.append((folder, avis[0]))
                continue
            frames = _frame_folder(clip_dir)
            if frames is not None:
                clips.append((folder, frames))
            else:
                logger.warning(
                    "skipping %s: no .avi and no frames (%s)", clip_dir, ", ".join(FRAME_EXTENSIONS)
                )
    return clips


def convert_to_mp4(
    src: str | Path, dst: str | Path, crf: int = 18, report: DecodeReport | None = None
) -> Path:
    """Re-encode a clip (video file or frame folder) as H.264 mp4 with PyAV, frame for frame.

    Written to a temporary name and renamed at the end, so a failed conversion leaves no
    half-written ``dst``. A source that ends before its declared frame count is converted as
    far as it decodes and reported (a warning in ``report``, else a log line).
    """
    from vidad.video.decode import read_frames

    info = probe_video(src, folder_fps=FRAME_FOLDER_FPS)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    frames = read_frames(src, report=report)
    h, w = frames.shape[1] - frames.shape[1] % 2, frames.shape[2] - frames.shape[2] % 2
    rate = Fraction(info.fps).limit_denominator(1001)
    try:
        with av.open(str(tmp), mode="w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"crf": str(crf), "preset": "medium"}
            for frame in frames:
                vf = av.VideoFrame.from_ndarray(frame[:h, :w], format="rgb24")
                for packet in stream.encode(vf):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def build_ucf_sports_manifest(
    src: str | Path,
    out_root: str | Path,
    seed: int = 0,
    convert_to_mp4: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Build ``out_root/manifest.csv`` for the UCF Sports release found under ``src``.

    With ``convert_to_mp4`` every kept clip is re-encoded to ``out_root/<Action>/<NNN>.mp4``;
    otherwise clips are referenced in place, so ``out_root`` must contain them (normally
    ``out_root == src``). Returns the manifest table (without ``abspath``).
    """

    src, out_root = Path(src), Path(out_root)
    class_root = find_class_root(src)
    clips = find_clips(class_root)
    if not clips:
        raise DatasetNotFoundError(src, what=f"no clips in the action folders of {class_root}")
    out_resolved = out_root.resolve()
    if not convert_to_mp4 and not class_root.resolve().is_relative_to(out_resolved):
        raise ValueError(
            f"clips are referenced in place, so out_root ({out_root}) must contain {class_root}; "
            "use the same folder for --src and --out, or convert_to_mp4=True"
        )

    report = DecodeReport(name="ucf_sports")
    rows = []
    for folder, clip in progress_bar(
        clips, desc="probing UCF Sports", unit="clip", enabled=progress
    ):
        try:
            info = probe_video(clip, folder_fps=FRAME_FOLDER_FPS)
        except VideoDecodeError as e:
            report.fail(clip, e)
            continue
        info, early = _what_is_there(info)
        if _too_short(report, clip, info, early):
            continue
        if convert_to_mp4:
            dst = out_root / folder / f"{clip_id(clip, class_root)}.mp4"
            decoded = DecodeReport(name="conversion", log=False)
            try:
                convert_to_mp4_file(clip, dst, report=decoded)
                info = probe_video(dst)
            except (VideoDecodeError, av.FFmpegError, OSError) as e:
                report.fail(clip, f"conversion to mp4 failed: {e}")
                continue
            if decoded.warnings:  # what decoding found replaces what probing counted
                early = "; ".join(reason for _, reason in decoded.warnings)
            if _too_short(report, clip, info, early):  # re-checked on what was decoded
                dst.unlink(missing_ok=True)
                continue
            path = dst.resolve().relative_to(out_resolved)
        else:
            path = clip.resolve().relative_to(out_resolved)
        if early:
            report.warn(clip, f"{early}; kept {info.num_frames} frames ({info.duration_s:.2f} s)")
        report.ok()
        cls = protocol.canonical_class(folder)
        rows.append(
            {
                "path": path.as_posix(),
                "label": protocol.UCF_SPORTS_CLASSES.index(cls),
                "class": cls,
                "split": "",
                "source_folder": folder,
                "num_frames": info.num_frames,
                "fps": info.fps,
                "duration_s": info.duration_s,
                "width": info.width,
                "height": info.height,
                "is_anomaly": cls in protocol.ANOMALY_CLASSES,
            }
        )
    noteworthy = report.num_failed or report.warnings
    (logger.warning if noteworthy else logger.info)("ucf_sports: %s", report.summary())
    if not rows:
        raise DatasetNotFoundError(src, what=f"no readable clips ({report.summary()})")
    table = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    table["split"] = protocol.assign_splits(table, seed)
    table.attrs["report"] = report
    write_manifest(table, out_root)
    return table


def _what_is_there(info: VideoInfo) -> tuple[VideoInfo, str | None]:
    """``info`` measured by the frames the file holds, and why it ends early (or ``None``).

    Probing counts an AVI's frames by demuxing, but its duration comes from the header; for a
    truncated file the header's duration is the length it had, so the duration is recomputed
    from the frames that are there.
    """
    early = ends_early(info.num_frames, info.declared_frames, verb="found")
    if early is None or not info.fps > 0:
        return info, early
    duration = min(info.duration_s, info.num_frames / info.fps)
    return dataclasses.replace(info, duration_s=duration), early


def _too_short(report: DecodeReport, clip: Path, info: VideoInfo, early: str | None) -> bool:
    """Apply the minimum length; a clip under it is reported (with why, if it ends early)."""
    if info.duration_s >= protocol.MIN_DURATION_S:
        return False
    reason = (
        f"too short ({info.num_frames} frames, {info.duration_s:.2f} s < "
        f"{protocol.MIN_DURATION_S} s)"
    )
    report.fail(clip, f"{reason}; {early}" if early else reason)
    return True


def clip_id(clip: Path, class_root: Path) -> str:
    """The clip folder name (``NNN``) of a clip path under ``<Action>/<NNN>/``."""
    rel = clip.relative_to(class_root).parts
    return rel[1] if len(rel) > 1 else clip.stem


# Module-level alias: the keyword ``convert_to_mp4`` of build_ucf_sports_manifest shadows it.
convert_to_mp4_file = convert_to_mp4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vidad.data.ucf_sports",
        description="Write manifest.csv for the real UCF Sports release (anomaly protocol).",
    )
    parser.add_argument("--src", type=Path, default=Path(DEFAULT_DIR))
    parser.add_argument("--out", type=Path, default=None, help="manifest folder (default: --src)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mp4", action="store_true", help="convert clips to H.264 mp4 in --out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        table = build_ucf_sports_manifest(
            args.src, args.out or args.src, seed=args.seed, convert_to_mp4=args.mp4
        )
    except DatasetNotFoundError as e:
        print(f"error: {e}")
        return 2
    counts = table.groupby(["split", "class"]).size()
    print(counts.to_string())
    print(f"wrote {(args.out or args.src) / 'manifest.csv'} ({len(table)} clips)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
