"""Decode + transform throughput: vidad's PyAV path against pytorchvideo's EncodedVideo.

Not a test. Generates (or takes with ``--dir``) a set of H.264 clips and measures clips/s and
frames/s for

(a) vidad: ``read_clip(path, 16)`` (only the 16 uniformly spaced frames are converted, decoding
    stops after the last) + ``make_clip_transform(train=False, ...)``;
(b) pytorchvideo: ``EncodedVideo.from_path(path).get_clip(0, duration)`` (decodes the whole clip
    to a float tensor) + the same uniform subsample + the same transform.

Both run on the same files; frames/s counts the frames of the source clips processed per second.

    python benchmarks/decode.py [--dir DIR] [--clips 20] [--frames 90] [--size 320x240]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from vidad.video.decode import probe_video, read_clip, uniform_indices
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD, make_clip_transform


def make_clips(folder: Path, n: int, frames: int, width: int, height: int, fps: int = 30) -> list:
    """``n`` H.264 clips of moving noise-textured squares (compressible but not trivial)."""
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n):
        path = folder / f"clip_{k:03d}.mp4"
        texture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        with av.open(str(path), mode="w") as out:
            stream = out.add_stream("libx264", rate=Fraction(fps))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"crf": "23", "preset": "veryfast"}
            for i in range(frames):
                img = np.roll(texture, shift=(2 * i + k, 3 * i), axis=(0, 1)) // 2
                y, x = (5 * i) % (height - 40), (7 * i) % (width - 40)
                img[y : y + 40, x : x + 40] = 255
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        paths.append(path)
    return paths


def bench(name, fn, paths, total_frames, repeats):
    fn(paths[0])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, time.perf_counter() - t0)
    return {
        "name": name,
        "seconds": best,
        "clips_s": len(paths) / best,
        "frames_s": total_frames / best,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help="existing folder of .mp4 clips")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of generated clips")
    parser.add_argument("--num-frames", type=int, default=16, help="frames sampled per clip")
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many passes")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="vidad_bench_")
        width, height = (int(v) for v in args.size.lower().split("x"))
        t0 = time.perf_counter()
        paths = make_clips(Path(tmp.name), args.clips, args.frames, width, height)
        print(
            f"generated {len(paths)} H.264 clips {width}x{height} x {args.frames} frames "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    else:
        paths = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in (".mp4", ".avi"))
        if not paths:
            print(f"no .mp4/.avi clips in {args.dir}")
            return 1
    infos = [probe_video(p) for p in paths]
    total_frames = sum(i.num_frames for i in infos)
    n = args.num_frames
    transform = make_clip_transform(False, n, args.crop, KINETICS_MEAN, KINETICS_STD)

    def ours(path):
        return transform(read_clip(path, n))

    results = [bench("vidad (PyAV read_clip)", ours, paths, total_frames, args.repeats)]

    ptv_error = None
    try:
        from pytorchvideo.data.encoded_video import EncodedVideo

        def theirs(path):
            video = EncodedVideo.from_path(str(path), decode_audio=False)
            clip = video.get_clip(0, video.duration)["video"]  # (C, T, H, W) float 0..255
            video.close()
            idx = torch.from_numpy(uniform_indices(clip.shape[1], n))
            clip = clip.index_select(1, idx)
            return transform(clip.permute(1, 2, 3, 0).to(torch.uint8))

        a, b = ours(paths[0]), theirs(paths[0])
        diff = float((a - b).abs().max()) if a.shape == b.shape else float("nan")
        results.append(
            bench("pytorchvideo EncodedVideo", theirs, paths, total_frames, args.repeats)
        )
    except Exception as e:  # report and keep ours
        ptv_error = f"{type(e).__name__}: {' '.join(str(e).split())}"

    print(
        f"{len(paths)} clips, {total_frames} frames in all, {n} frames sampled per clip, "
        f"eval transform to {args.crop}x{args.crop}, best of {args.repeats}; "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"{'path':<28}{'seconds':>9}{'clips/s':>10}{'frames/s':>11}")
    for r in results:
        print(f"{r['name']:<28}{r['seconds']:>9.2f}{r['clips_s']:>10.1f}{r['frames_s']:>11.0f}")
    if ptv_error is None:
        ratio = results[0]["clips_s"] / results[1]["clips_s"]
        print(f"speed ratio vidad / pytorchvideo: {ratio:.2f}x")
        print(f"max |difference| of the transformed clips (first file): {diff:.4g}")
    else:
        print(f"pytorchvideo path unavailable: {ptv_error}")
    if args.json is not None:
        meta = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        meta.update(
            clips=len(paths),
            frames=total_frames,
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            cpu=platform.processor() or platform.machine(),
            pytorchvideo_error=ptv_error,
        )
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": results}, indent=2) + "\n")
        print(f"wrote {args.json}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
