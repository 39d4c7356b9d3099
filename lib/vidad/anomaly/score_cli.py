"""``python -m vidad score VIDEO [--detector CHECKPOINT]``: score a video of your own.

Slides a window over the video, embeds each window with the detector's backbone, scores it
with its autoencoder, gives every frame the score of the windows covering it (the detector's
frame rule, e.g. their mean) and flags the frames above the detector's calibrated threshold.
Writes ``<stem>_scores.csv`` (windows: start_frame, end_frame, start_s, end_s, score),
``<stem>_frames.csv`` (frame, time_s, score, flagged) and ``<stem>_timeline.png`` into ``--out``
(default: beside the video), and prints one line: the flagged share and what the threshold was
calibrated for. Phone videos come out upright and variable-rate ones are sampled by timestamp
(:mod:`vidad.video.footage`). Every
foreseeable failure (unreadable video, absent checkpoint, video shorter than a window, bad
stride) is one line on stderr and exit status 2, before any model runs where possible.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vidad.config import ConfigError, active_profile, load_params, stage_params
from vidad.paths import Paths

DEFAULT_BACKBONE = "r2plus1d_18"


def default_detector(params_file: Path = Path("params.yaml")) -> Path:
    """The detector the book's chapter 6 exported for the active profile's chosen backbone."""
    profile, backbone = "cpu", DEFAULT_BACKBONE
    if params_file.is_file():
        try:
            params = load_params(params_file)
            profile = active_profile(params)
            section = stage_params(params, "embedding_anomaly", profile)
            backbone = str(section.get("detector_backbone", backbone))
        except ConfigError:
            pass
    return Paths(profile).detectors / f"{backbone}.pt"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vidad score", description=__doc__.split("\n")[0]
    )
    parser.add_argument("video", type=Path, help="video file (mp4, avi, ...) or frame folder")
    parser.add_argument("--detector", type=Path, help="detector checkpoint (default: the book's)")
    parser.add_argument("--out", type=Path, help="output folder (default: the video's folder)")
    parser.add_argument("--stride", type=int, help="frames between windows (default: window/4)")
    parser.add_argument("--batch-size", type=int, default=16)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from vidad.anomaly.detector import Detector, DetectorError, score_video
    from vidad.video.decode import VideoDecodeError

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    if args.stride is not None and args.stride < 1:
        return fail(f"--stride must be >= 1, got {args.stride}")
    if args.batch_size < 1:
        return fail(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.video.exists():
        return fail(f"{args.video}: no such video")
    out = args.out or args.video.resolve().parent
    existing = next(p for p in (out, *out.parents) if p.exists())  # the folder or an ancestor
    if not existing.is_dir():
        return fail(
            f"--out {out}: {existing} is a file, not a folder; pass a folder (created if absent)"
        )
    try:
        detector = Detector.load(args.detector or default_detector())
    except DetectorError as err:
        return fail(str(err))
    try:
        scored = score_video(detector, args.video, args.stride, args.batch_size)
    except VideoDecodeError as err:
        return fail(f"cannot read the video: {err}")
    except ValueError as err:
        return fail(str(err))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vidad.anomaly.plots import timeline_figure

    stem = args.video.stem if args.video.is_file() else args.video.name
    csv_path, frames_path = out / f"{stem}_scores.csv", out / f"{stem}_frames.csv"
    png_path = out / f"{stem}_timeline.png"
    try:
        out.mkdir(parents=True, exist_ok=True)
        write = {"index": False, "lineterminator": "\n", "float_format": "%.6g"}
        scored.windows.to_csv(csv_path, **write)
        scored.frames.to_csv(frames_path, **write)
        fig = timeline_figure(
            scored.frames, scored.fps, detector.threshold,
            title=f"{args.video.name}: {detector.meta['backbone']} detector",
        )  # fmt: skip
        fig.savefig(png_path, dpi=120)
        plt.close(fig)
    except OSError as err:
        return fail(f"cannot write the results into --out {out}: {err.strerror or err}")
    flagged = int(scored.frames["flagged"].sum())
    note = f" ({scored.note})" if scored.note else ""
    print(
        f"{args.video.name}{note}: {scored.num_frames} frames in {len(scored.windows)} windows "
        f"of {detector.window_frames} frames; {flagged} frames flagged "
        f"({flagged / scored.num_frames:.1%}) at threshold {detector.threshold:.4g}, "
        f"{detector.calibration_text()} -> {csv_path}, {frames_path}, {png_path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
