"""``python -m vidad fit-detector --normal DIR``: a detector for *your* normal footage.

The book's detectors learned "normal" from synth-sports. To use the method on real videos,
point this command at a folder of videos that show only normal activity. It:

1. decodes every video once, upright and evenly spaced in time (:mod:`vidad.video.footage`),
   resized to the pretrained backbone's cache size; unreadable or too-short files are skipped
   and named;
2. holds out a share of the videos (``--calibration-share``, at least one) for calibration;
3. embeds every ``--window``-frame window (``--stride`` apart) with the pretrained backbone,
   once;
4. trains the embedding autoencoder on the other videos' windows (the epoch with the lowest
   loss on the held-out videos' windows is kept);
5. calibrates the threshold on the held-out videos: the per-frame score (mean over covering
   windows) that ``--false-alarm`` of their frames exceed;
6. writes the detector checkpoint for ``python -m vidad score``.

The backbone is the book's pretrained one (stage ``pretrain``, trained on synthetic actions,
our stand-in for Kinetics): build it first with ``dvc repro pretrain``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

from vidad.config import ConfigError, active_profile, load_params

VIDEO_SUFFIXES: tuple[str, ...] = (
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp",
)  # fmt: skip
DEFAULT_BACKBONE = "r2plus1d_18"
#: Window length in frames: the length of the book's synth-sports clips (about 3 s at 15 fps,
#: 1.6 s at 30 fps); the backbone sees its frame count of them, evenly spaced.
DEFAULT_WINDOW = 48


def list_videos(folder: Path) -> list[Path]:
    """Video files and frame folders directly inside ``folder``, by name."""
    from vidad.video.decode import list_frame_files

    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        is_video = path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES
        if is_video or (path.is_dir() and bool(list_frame_files(path))):
            found.append(path)
    return found


def calibration_split(count: int, share: float) -> np.ndarray:
    """Boolean mask of the videos held out for calibration: every k-th one, k = 1 / share,
    at least one, never all."""
    held = max(1, min(count - 1, math.ceil(count * share)))
    positions = np.linspace(count - 1, 0, held).round().astype(int)  # spread, last one first
    mask = np.zeros(count, bool)
    mask[positions] = True
    return mask


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vidad fit-detector", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--normal", type=Path, required=True, help="folder of normal videos")
    parser.add_argument("--out", type=Path, help="checkpoint to write (default: DIR/detector.pt)")
    parser.add_argument("--backbone", default=DEFAULT_BACKBONE)
    parser.add_argument("--profile", help="profile whose pretrained backbone to use")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="frames per window")
    parser.add_argument("--stride", type=int, help="frames between windows (default: window/4)")
    parser.add_argument("--false-alarm", type=float, default=0.05, help="target share of frames")
    parser.add_argument("--calibration-share", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=16)
    return parser


def fail(message: str) -> int:
    """One ``error:`` line on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    checks = [
        (args.window >= 1, f"--window must be >= 1, got {args.window}"),
        (args.stride is None or args.stride >= 1, f"--stride must be >= 1, got {args.stride}"),
        (0 < args.false_alarm < 1, f"--false-alarm must be in (0, 1), got {args.false_alarm}"),
        (
            0 < args.calibration_share < 1,
            f"--calibration-share must be in (0, 1), got {args.calibration_share}",
        ),
        (args.epochs >= 1, f"--epochs must be >= 1, got {args.epochs}"),
        (args.batch_size >= 2, f"--batch-size must be >= 2, got {args.batch_size}"),
        (args.normal.is_dir(), f"--normal {args.normal}: no such folder"),
    ]
    for good, message in checks:
        if not good:
            return fail(message)
    videos = list_videos(args.normal)
    if len(videos) < 2:
        return fail(
            f"--normal {args.normal} holds {len(videos)} video(s); need at least 2 (one to fit, "
            f"one to calibrate the threshold on), as {', '.join(VIDEO_SUFFIXES)} files or "
            "folders of frames"
        )
    profile = args.profile
    if profile is None:
        try:
            profile = active_profile(load_params(Path("params.yaml")))
        except (ConfigError, OSError):
            profile = "cpu"
    from vidad.train.pretrained import load_pretrained

    try:
        backbone, meta = load_pretrained(profile, args.backbone)
    except (FileNotFoundError, KeyError, ValueError) as err:
        return fail(str(err))
    return fit(args, videos, backbone, {**meta, "backbone": args.backbone}, profile)


def fit(args: argparse.Namespace, videos: list[Path], backbone, meta: dict, profile: str) -> int:
    import torch

    from vidad.anomaly.detector import (
        build_detector,
        calibrate,
        embed_windows,
        scored_video,
        window_table,
    )
    from vidad.anomaly.embeddings import EmbeddingSet
    from vidad.anomaly.train_ae import AESettings, train_v1
    from vidad.train.recognition import RecognitionSetup
    from vidad.video.cache import resize_clip
    from vidad.video.decode import VideoDecodeError
    from vidad.video.footage import read_footage

    setup = RecognitionSetup(**meta["setup"])
    side, stride = setup.cache_size, args.stride or max(1, args.window // 4)
    decoded, skipped = [], []
    for path in videos:
        try:
            footage = read_footage(path, lambda chunk: resize_clip(chunk, side, side))
        except VideoDecodeError as err:
            skipped.append(f"{path.name} ({err})")
            continue
        if len(footage.frames) < args.window:
            skipped.append(f"{path.name} ({len(footage.frames)} frames < --window {args.window})")
            continue
        decoded.append((path, footage))
    if len(decoded) < 2:
        return fail(
            f"{len(decoded)} usable video(s) in {args.normal}; need at least 2"
            + (f"; skipped: {'; '.join(skipped)}" if skipped else "")
        )
    held_out = calibration_split(len(decoded), args.calibration_share)
    torch.manual_seed(args.seed)
    embedded = [
        embed_windows(backbone, setup, f.frames, args.window, stride, args.batch_size)
        for _, f in decoded
    ]
    z = np.concatenate([e for _, e in embedded]).astype(np.float32)
    splits = np.concatenate(
        [
            np.full(len(s), "val" if h else "train")
            for (s, _), h in zip(embedded, held_out, strict=True)
        ]
    )
    names = np.concatenate(
        [np.full(len(s), str(p)) for (s, _), (p, _) in zip(embedded, decoded, strict=True)]
    )
    key = "fit-" + hashlib.sha256(z.tobytes() + splits.tobytes()).hexdigest()[:16]
    windows = EmbeddingSet(
        backbone=args.backbone, key=key, embeddings=z,
        labels=np.zeros(len(z), np.int64), classes=np.full(len(z), "normal"),
        splits=splits, paths=names,
    )  # fmt: skip
    settings = AESettings(epochs=args.epochs, batch_size=min(8, int((splits == "train").sum())),
                          seed=args.seed)  # fmt: skip
    with tempfile.TemporaryDirectory() as runs:
        run = train_v1(windows, settings, runs)
    detector = build_detector(
        backbone, meta, run.autoencoder, float("nan"), args.window,
        profile=profile, trained_on=f"{int((~held_out).sum())} normal videos in {args.normal}",
    )  # fmt: skip
    calibration = [
        scored_video(detector, window_table(detector, starts, e), len(f.frames), f.fps, f.note())
        for (starts, e), (_, f), h in zip(embedded, decoded, held_out, strict=True)
        if h
    ]
    detector = calibrate(detector, calibration, args.false_alarm)
    out = args.out or args.normal / "detector.pt"
    try:
        detector.save(out)
    except OSError as err:
        return fail(f"cannot write {out}: {err.strerror or err}")
    measured = detector.meta["calibration"]["false_alarm"]
    print(
        f"fitted on {int((~held_out).sum())} videos ({int((splits == 'train').sum())} windows of "
        f"{args.window} frames), calibrated on {int(held_out.sum())} "
        f"({detector.meta['calibration']['frames']} frames): threshold "
        f"{detector.threshold:.4g} flags {measured:.1%} of their frames (target "
        f"{args.false_alarm:.0%}) -> {out}"
        + (f"; skipped {len(skipped)}: {'; '.join(skipped)}" if skipped else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
