"""Synthetic-data rendering cost: the stage's encoder preset before ("medium") and now.

Not a test. Renders a slice of the ``cpu`` profile's synth-actions and synth-sports (same
sizes, frame counts and seeds as stage ``synth``; fewer clips) with ``generate_dataset`` in one
process, once per x264 preset, interleaved over ``--rounds`` rounds, and splits each clip's
time into rendering and encoding. It also decodes both presets' files and reports how far
their frames are from the rendered ones and from each other (codec noise, in 8-bit levels).
One worker: the stage's ``workers`` processes run clips side by side, so per-clip CPU time is
what sets its wall time (the whole-clip YUV conversion is in both rows).

    python benchmarks/synth.py --json benchmarks/results/synth-cpu-2core.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from vidad.synth import generate as gen
from vidad.synth.generate import SynthConfig, actor_seed, clip_seed, render_clip_info
from vidad.synth.writer import PRESET, write_mp4
from vidad.video.decode import read_video

BEFORE = "medium"
DATASETS = {
    "synth-actions": SynthConfig(clips_per_class=2, height=112, width=112, num_frames=32, fps=15.0),
    "synth-sports": SynthConfig(
        clips_scale=0.15, height=112, width=168, num_frames=48, fps=15.0, duration_jitter=0.3
    ),
}


def time_dataset(name: str, config: SynthConfig, preset: str, folder: Path) -> dict[str, float]:
    """Render + encode every planned clip of the slice; seconds per clip for each part."""
    render_s = encode_s = 0.0
    plan = gen._plan(name, config)
    for item in plan:
        start = time.perf_counter()
        frames, _ = render_clip_info(
            name,
            item["class"],
            config,
            clip_seed(name, item["class"], item["index"], config),
            actor_seed(name, item["actor"], config),
        )
        mid = time.perf_counter()
        write_mp4(frames, folder / preset / item["path"], config.fps, preset=preset)
        render_s += mid - start
        encode_s += time.perf_counter() - mid
    n = len(plan)
    return {"clips": n, "render_ms": 1e3 * render_s / n, "encode_ms": 1e3 * encode_s / n}


def codec_noise(name: str, config: SynthConfig, folder: Path) -> dict[str, float]:
    """Mean |difference| in 8-bit levels: each preset's decode vs the render, and vs each other."""
    before, now, rendered = [], [], []
    for item in gen._plan(name, config):
        frames, _ = render_clip_info(
            name,
            item["class"],
            config,
            clip_seed(name, item["class"], item["index"], config),
            actor_seed(name, item["actor"], config),
        )
        rendered.append(frames.astype(np.float32))
        before.append(read_video(folder / BEFORE / item["path"])[0].astype(np.float32))
        now.append(read_video(folder / PRESET / item["path"])[0].astype(np.float32))

    def mad(a, b):
        return float(np.mean([np.abs(x - y).mean() for x, y in zip(a, b, strict=True)]))

    return {
        f"{BEFORE}_vs_rendered": mad(before, rendered),
        f"{PRESET}_vs_rendered": mad(now, rendered),
        f"{PRESET}_vs_{BEFORE}": mad(now, before),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, config in DATASETS.items():
            runs: dict[str, list[dict[str, float]]] = {BEFORE: [], PRESET: []}
            for _ in range(args.rounds):
                for preset in runs:
                    runs[preset].append(time_dataset(name, config, preset, folder))
            row = {
                "dataset": name,
                "height": config.height,
                "width": config.width,
                "num_frames": config.num_frames,
                "clips": runs[PRESET][0]["clips"],
            }
            for preset, found in runs.items():
                row[f"{preset}_render_ms"] = statistics.median(r["render_ms"] for r in found)
                row[f"{preset}_encode_ms"] = statistics.median(r["encode_ms"] for r in found)
                row[f"{preset}_ms_per_clip"] = (
                    row[f"{preset}_render_ms"] + row[f"{preset}_encode_ms"]
                )
            row["speedup"] = row[f"{BEFORE}_ms_per_clip"] / row[f"{PRESET}_ms_per_clip"]
            row["codec_noise_levels"] = codec_noise(name, config, folder)
            rows.append(row)
            print(json.dumps(row, indent=1), flush=True)
    if args.json:
        out = {
            "benchmark": "synth",
            "processor": platform.processor() or platform.machine(),
            "before": BEFORE,
            "now": PRESET,
            "rounds": args.rounds,
            "rows": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
