"""Forward throughput of the video backbones: fp32 eager, bf16 + channels_last_3d, bf16 + compile.

Not a test. For each model, builds ``create_model(name, size=...)`` with random weights in eval
mode, makes one random input batch on the device (``model.input_spec.example(batch_size)``, a
[slow, fast] list for SlowFast) and times ``model(x)`` under ``torch.inference_mode()`` in up to
three modes:

fp32          eager, float32, contiguous (what the original implementations run);
bf16_cl3d     ``torch.autocast(device, torch.bfloat16)``, model and 5-D inputs in
              ``torch.channels_last_3d`` (TimeSformer is a transformer fed (B, T, C, H, W):
              autocast only, no channels_last);
bf16_compile  as bf16_cl3d, plus ``torch.compile(model)`` (compile time is reported in the note,
              not counted in the throughput; a compile failure is reported in its row).

A CUDA OOM or any other failure is reported in its row and the run goes on. With ``--shapes
published`` (paper size only) the inputs follow the row labels of the reference H100 table
(C3D 16x112^2, R(2+1)D-18 8x112^2, SlowFast 8x8 at 256^2, TimeSformer 8x224^2) instead of the
models' own ``input_spec`` (R(2+1)D-18 16x112^2, SlowFast 224^2). On CUDA, the reference H100
numbers are printed beside ours at the end.

    python benchmarks/backbones.py [--models c3d ...] [--size paper|small|tiny] [--batch-size 32]
        [--modes fp32 bf16_cl3d bf16_compile] [--warmup 3] [--iters 10] [--device auto]
        [--shapes spec|published] [--no-compile] [--cudnn-benchmark] [--json PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import platform
import sys
import time
from pathlib import Path

import torch

from vidad.models import create_model, list_models

DEFAULT_MODELS = ("c3d", "r2plus1d_18", "slowfast_r50", "timesformer")
MODES = ("fp32", "bf16_cl3d", "bf16_compile")

# The reference measurements: one H100, random weights, forward only, batch 32, clips/s.
PUBLISHED_H100 = {
    "c3d": ("C3D 16x112^2", {"fp32": 391, "bf16_cl3d": 2146, "bf16_compile": 2656}),
    "r2plus1d_18": ("R(2+1)D-18 8x112^2", {"fp32": 617, "bf16_cl3d": 2900, "bf16_compile": 2672}),
    "slowfast_r50": (
        "SlowFast R50 8x8 @256",
        {"fp32": 140, "bf16_cl3d": 268, "bf16_compile": 286},
    ),
    "timesformer": (
        "TimeSformer base 8x224^2",
        {"fp32": 100, "bf16_cl3d": 360, "bf16_compile": 622},
    ),
}
# (frames sampled, crop) of those rows; SlowFast's frames are the fast pathway's (slow = 32 / 4).
PUBLISHED_SHAPES = {
    "c3d": (16, 112),
    "r2plus1d_18": (8, 112),
    "slowfast_r50": (32, 256),
    "timesformer": (8, 224),
}


def describe(x) -> str:
    """'3x16x112x112' (per clip, batch dim dropped); 'slow ... + fast ...' for a pathway list."""
    if isinstance(x, (list, tuple)):
        return " + ".join(f"{n} {describe(t)}" for n, t in zip(("slow", "fast"), x, strict=False))
    return "x".join(str(d) for d in x.shape[1:])


def to_format(x, memory_format):
    if isinstance(x, (list, tuple)):
        return [to_format(t, memory_format) for t in x]
    return x.contiguous(memory_format=memory_format) if x.dim() == 5 else x


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def one_line(e: BaseException, limit: int = 160) -> str:
    text = f"{type(e).__name__}: {' '.join(str(e).split())}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_mode(model, clip, mode, device, args, layout) -> dict:
    """Time one (model, mode); returns clips/s, ms/batch and a note. Raises on failure."""
    notes = []
    use_cl3d = mode != "fp32" and layout == "CTHW"
    fmt = torch.channels_last_3d if use_cl3d else torch.contiguous_format
    if mode != "fp32" and not use_cl3d:
        notes.append("no channels_last (TCHW transformer input)")
    model.to(memory_format=fmt)
    x = to_format(clip, fmt)
    fn = model
    if mode == "bf16_compile":
        torch._dynamo.reset()
        fn = torch.compile(model)
    autocast = mode != "fp32"

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            return fn(x)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode():
        sync(device)
        t0 = time.perf_counter()
        out = step()  # first call: compiles in bf16_compile mode
        sync(device)
        first = time.perf_counter() - t0
        if mode == "bf16_compile":
            notes.append(f"compile+1st call {first:.1f} s")
        for _ in range(args.warmup - 1):
            out = step()
        sync(device)
        t0 = time.perf_counter()
        for _ in range(args.iters):
            out = step()
        sync(device)
        elapsed = time.perf_counter() - t0
    if not torch.isfinite(out.float()).all():
        notes.append("non-finite output")
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    batch = (x[0] if isinstance(x, list) else x).shape[0]
    return {
        "clips_s": batch * args.iters / elapsed,
        "ms_batch": 1000 * elapsed / args.iters,
        "peak_mib": peak,
        "note": "; ".join(notes),
    }


def bench_model(name, args, device) -> list[dict]:
    rows = []
    base = {"model": name, "size": args.size, "batch_size": args.batch_size}
    try:
        model = create_model(name, size=args.size).eval().to(device)
        spec = model.input_spec
        if args.shapes == "published":
            frames, crop = PUBLISHED_SHAPES[name]
            spec = dataclasses.replace(spec, num_frames=frames, crop_size=crop)
        torch.manual_seed(0)
        clip = spec.example(args.batch_size)
        clip = [t.to(device) for t in clip] if isinstance(clip, list) else clip.to(device)
    except Exception as e:
        free_memory(device)
        note = f"build failed: {one_line(e)}"
        return [
            dict(base, mode=m, input="", clips_s=None, ms_batch=None, peak_mib=None, note=note)
            for m in args.modes
        ]
    base["input"] = describe(clip)
    for mode in args.modes:
        row = dict(base, mode=mode, clips_s=None, ms_batch=None, peak_mib=None, note="")
        if mode == "bf16_compile" and args.no_compile:
            row["note"] = "skipped (--no-compile)"
        else:
            try:
                row.update(run_mode(model, clip, mode, device, args, spec.layout))
            except torch.cuda.OutOfMemoryError as e:
                row["note"] = f"CUDA OOM: {one_line(e, 100)}"
            except Exception as e:  # compile errors and the like: report, keep going
                row["note"] = ("compile failed: " if mode == "bf16_compile" else "failed: ") + (
                    one_line(e)
                )
            finally:
                if mode == "bf16_compile":
                    torch._dynamo.reset()
                free_memory(device)
        rows.append(row)
        print(format_row(row), flush=True)
    del model, clip
    free_memory(device)
    return rows


HEADER = f"{'model':<14}{'mode':<14}{'clips/s':>10}{'ms/batch':>11}{'peak MiB':>10}  note"


def fmt_num(v, spec: str, width: int) -> str:
    return f"{v:>{width}{spec}}" if v is not None else f"{'-':>{width}}"


def format_row(r: dict) -> str:
    return (
        f"{r['model']:<14}{r['mode']:<14}{fmt_num(r['clips_s'], '.1f', 10)}"
        f"{fmt_num(r['ms_batch'], '.1f', 11)}{fmt_num(r['peak_mib'], '.0f', 10)}  {r['note']}"
    )


def print_published(rows, args, device) -> None:
    if device.type != "cuda":
        print(
            "\nthe reference numbers are for one H100 at paper size, batch 32: "
            "not comparable with this CPU run, not shown."
        )
        return
    print(f"\nreference (H100) beside ours ({torch.cuda.get_device_name(device)})")
    caveats = []
    if args.size != "paper":
        caveats.append(f"size {args.size}, published is paper")
    if args.batch_size != 32:
        caveats.append(f"batch {args.batch_size}, published is 32")
    if args.shapes != "published":
        caveats.append("inputs from input_spec, see 'input (ours)'; --shapes published matches")
    if caveats:
        print("  NOT the same setting: " + "; ".join(caveats))
    print(f"{'model':<14}{'mode':<14}{'ours':>10}{'published':>11}{'ratio':>8}  input (ours)")
    for r in rows:
        if r["model"] not in PUBLISHED_H100:
            continue
        label, published = PUBLISHED_H100[r["model"]]
        pub = published.get(r["mode"])
        ratio = r["clips_s"] / pub if r["clips_s"] and pub else None
        print(
            f"{r['model']:<14}{r['mode']:<14}{fmt_num(r['clips_s'], '.1f', 10)}"
            f"{fmt_num(pub, 'd', 11)}{fmt_num(ratio, '.2f', 8)}  {r['input']} "
            f"(published row: {label})"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=list_models())
    parser.add_argument("--size", default="paper", choices=("paper", "small", "tiny"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls (the first compiles)")
    parser.add_argument("--iters", type=int, default=10, help="timed calls")
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda:N")
    parser.add_argument(
        "--shapes",
        default="spec",
        choices=("spec", "published"),
        help="input shapes: the model's input_spec, or the H100 table's row labels (paper size)",
    )
    parser.add_argument("--no-compile", action="store_true", help="skip the bf16_compile rows")
    parser.add_argument("--cudnn-benchmark", action="store_true", help="cudnn.benchmark = True")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here as JSON")
    args = parser.parse_args(argv)
    if args.shapes == "published" and args.size != "paper":
        parser.error("--shapes published needs --size paper")
    if args.shapes == "published" and set(args.models) - set(PUBLISHED_SHAPES):
        parser.error(f"--shapes published covers only {', '.join(PUBLISHED_SHAPES)}")
    if args.warmup < 1 or args.iters < 1:
        parser.error("--warmup and --iters must be >= 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device {device} ({name or 'cpu'}), torch {torch.__version__}, size {args.size}, "
        f"batch {args.batch_size}, warmup {args.warmup}, iters {args.iters}, "
        f"shapes {args.shapes}, cudnn.benchmark {args.cudnn_benchmark}"
        + ("" if device.type == "cuda" else f", torch threads {torch.get_num_threads()}")
    )
    print(HEADER, flush=True)
    rows = []
    for model_name in args.models:
        model_rows = bench_model(model_name, args, device)
        rows += model_rows
        if model_rows and model_rows[0]["input"]:
            print(f"{'':<14}input per clip: {model_rows[0]['input']}", flush=True)
        else:
            for r in model_rows:
                print(format_row(r), flush=True)

    print("\n" + HEADER)
    for r in rows:
        print(format_row(r))
    print_published(rows, args, device)

    if args.json is not None:
        meta = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        meta.update(device=str(device), device_name=name, torch=torch.__version__)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
