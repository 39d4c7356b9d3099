"""Command line: ``python -m vidad.synth --dataset synth-actions --out DIR [options]``.

One call writes a whole dataset (videos + manifest.csv), so a DVC stage can be a single line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vidad.synth.generate import DATASETS, SynthConfig, generate_dataset


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, generate the dataset and print a one-line summary."""
    d = SynthConfig()
    ap = argparse.ArgumentParser(prog="python -m vidad.synth", description=__doc__)
    ap.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    ap.add_argument("--out", required=True, type=Path, help="dataset root to write")
    ap.add_argument("--clips-per-class", type=int, default=d.clips_per_class)
    ap.add_argument(
        "--extra-test-clips-per-class",
        type=int,
        default=d.extra_test_clips_per_class,
        help="synth-actions: test clips per class of new actors, beyond the regular split",
    )
    ap.add_argument("--clips-scale", type=float, default=d.clips_scale)
    ap.add_argument("--height", type=int, default=d.height)
    ap.add_argument("--width", type=int, default=d.width)
    ap.add_argument("--frames", type=int, default=d.num_frames)
    ap.add_argument("--fps", type=float, default=d.fps)
    ap.add_argument("--duration-jitter", type=float, default=d.duration_jitter)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--workers", type=int, default=d.workers)
    args = ap.parse_args(argv)
    try:
        config = SynthConfig(
            clips_per_class=args.clips_per_class,
            extra_test_clips_per_class=args.extra_test_clips_per_class,
            clips_scale=args.clips_scale,
            height=args.height, width=args.width, num_frames=args.frames, fps=args.fps,
            duration_jitter=args.duration_jitter, seed=args.seed, workers=args.workers,
        )  # fmt: skip
    except ValueError as err:
        ap.error(str(err))
    start = time.perf_counter()
    table = generate_dataset(args.dataset, args.out, config)
    took = time.perf_counter() - start
    print(
        f"{args.dataset}: {len(table)} clips, {table['class'].nunique()} classes, "
        f"{int(table['num_frames'].sum())} frames -> {args.out} in {took:.1f} s"
    )


if __name__ == "__main__":
    main()
