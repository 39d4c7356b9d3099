"""Recipe search for the ``cpu`` profile: validation accuracy bought per CPU minute.

Not a test, and not part of the book's hour. Each candidate is a model (registry name, size
preset, options) plus changes to a stage's recipe (``params.yaml``: crop, cache side, frames,
epochs, batch, lr...). It is trained exactly as the stage trains it (:func:`vidad.train.
recognition.run_variant`'s protocol: the same clip cache, augmentation and AdamW + cosine
schedule) on synth-actions' **train** split and scored on **val** after every epoch. The test
split is never read: the search chooses presets, and the book's test numbers must not have
chosen them. Reported per candidate: parameters, GMACs per clip, wall minutes of training,
the best validation accuracy and its epoch, and the whole validation curve (is it still
climbing when the schedule ends?).

Run it alone on the machine (it times training); each call appends its candidates to the JSON,
so a search can be run a few candidates at a time::

    python benchmarks/recipes.py --profile cpu --stage pretrain \
        --candidates r2plus1d_tiny_32 r2plus1d_tiny_48 \
        --json benchmarks/results/recipes-cpu-2core.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from vidad.config import load_params, stage_params
from vidad.models import count_macs, count_params
from vidad.paths import Paths
from vidad.train.classify import train_classifier
from vidad.train.frames import ClipFrames
from vidad.train.pretrained import init_from_frames
from vidad.train.recognition import (
    RecognitionSetup,
    Variant,
    build_model,
    class_names,
    crop_generator,
    splits_for,
)
from vidad.video.manifest import read_manifest

#: name -> (variant, recipe overrides). The recipe is the stage's ``params.yaml`` column.
CANDIDATES: dict[str, tuple[Variant, dict[str, Any]]] = {
    # R(2+1)D-18: today's pretrain preset, then larger crops / widths / more epochs
    "r2plus1d_tiny_32": (Variant("r2plus1d tiny 32", "r2plus1d_18"), {}),
    "r2plus1d_tiny_48": (
        Variant("r2plus1d tiny 48", "r2plus1d_18"),
        {"crop_size": 48, "cache_size": 56},
    ),
    "r2plus1d_tiny_64_f8": (
        Variant("r2plus1d tiny 64 f8", "r2plus1d_18"),
        {"crop_size": 64, "cache_size": 72, "num_frames": 8},
    ),
    "r2plus1d_small_32": (
        Variant("r2plus1d small 32", "r2plus1d_18"),
        {"size": "small"},
    ),
    "r2plus1d_tiny_32_e24": (
        Variant("r2plus1d tiny 32 e24", "r2plus1d_18"),
        {"epochs": 24},
    ),
    "r2plus1d_tiny_32_e16": (
        Variant("r2plus1d tiny 32 e16", "r2plus1d_18"),
        {"epochs": 16},
    ),
    # the recipe's left-right flip with mirror-image labels swapped (vidad.video.cache.RandomMirror)
    "r2plus1d_tiny_32_e24_mirror": (
        Variant("r2plus1d tiny 32 e24, mirror", "r2plus1d_18"),
        {"epochs": 24, "mirror": True},
    ),
    # the pretrain preset (24 epochs, flip) at a higher peak learning rate: seeds 0-2 spread
    # 0.45-0.68 on val at 3e-3 with best epochs 21-23, still climbing
    "r2plus1d_tiny_32_e24_mirror_lr1e2": (
        Variant("r2plus1d tiny 32 e24, mirror, lr 1e-2", "r2plus1d_18"),
        {"epochs": 24, "mirror": True, "lr": 0.01},
    ),
    "r2plus1d_tiny_32_lr1e2": (
        Variant("r2plus1d tiny 32 lr 1e-2", "r2plus1d_18"),
        {"lr": 0.01},
    ),
    # the chapters' recipe (--stage r2plus1d / c3d / slowfast) at lr 3e-3 and 1e-2
    "r3d_tiny_32": (Variant("r3d tiny 32", "r3d_18"), {}),
    "r3d_tiny_32_lr1e2": (Variant("r3d tiny 32 lr 1e-2", "r3d_18"), {"lr": 0.01}),
    "c3d_d1_32": (Variant("c3d depth 1", "c3d", {"temporal_depth": 1}), {}),
    "c3d_d1_32_lr1e2": (Variant("c3d depth 1 lr 1e-2", "c3d", {"temporal_depth": 1}), {"lr": 0.01}),
    "c3d_d3_32": (Variant("c3d depth 3", "c3d", {"temporal_depth": 3}), {}),
    "c3d_d3_32_lr1e2": (Variant("c3d depth 3 lr 1e-2", "c3d", {"temporal_depth": 3}), {"lr": 0.01}),
    # SlowFast: today's preset, then larger crops
    "slowfast_tiny_32": (Variant("slowfast tiny 32", "slowfast_r50"), {}),
    "slowfast_tiny_48": (
        Variant("slowfast tiny 48", "slowfast_r50"),
        {"crop_size": 48, "cache_size": 56},
    ),
    "slowfast_tiny_64": (
        Variant("slowfast tiny 64", "slowfast_r50"),
        {"crop_size": 64, "cache_size": 72},
    ),
    "slowfast_small_32": (
        Variant("slowfast small 32", "slowfast_r50"),
        {"size": "small"},
    ),
    # the stem's max-pool leaves res5 a 1x1 map at 32 px (R(2+1)D's stem has none: 2x2); and
    # beta = 1/8 of the tiny stem's 16 channels leaves the fast pathway 2 stem channels
    "slowfast_tiny_32_nopool": (
        Variant("slowfast tiny 32, no stem pool", "slowfast_r50", {"stem_pool": False}),
        {},
    ),
    "slowfast_tiny_32_nopool_e24": (
        Variant("slowfast tiny 32, no stem pool, 24 epochs", "slowfast_r50", {"stem_pool": False}),
        {"epochs": 24},
    ),
    "slowfast_tiny_32_nopool_e24_mirror": (
        Variant("slowfast tiny 32 no stem pool e24, mirror", "slowfast_r50", {"stem_pool": False}),
        {"epochs": 24, "mirror": True},
    ),
    "slowfast_tiny_32_nopool_e24_mirror_lr1e2": (
        Variant(
            "slowfast tiny 32 no stem pool e24, mirror, lr 1e-2",
            "slowfast_r50",
            {"stem_pool": False},
        ),
        {"epochs": 24, "mirror": True, "lr": 0.01},
    ),
    "slowfast_tiny_32_nopool_beta4": (
        Variant(
            "slowfast tiny 32, no stem pool, beta 1/4",
            "slowfast_r50",
            {"stem_pool": False, "channel_reduction": 4},
        ),
        {},
    ),
    # chapter 4's one-pathway variants, with and without the stem pool (--stage slowfast)
    "slow_only_tiny_32": (
        Variant("slow-only tiny 32", "slowfast_r50", {"pathways": "slow"}),
        {},
    ),
    "fast_only_tiny_32": (
        Variant("fast-only tiny 32", "slowfast_r50", {"pathways": "fast"}),
        {},
    ),
    "slowfast_tiny_32_nopool_lr1e2": (
        Variant("slowfast tiny 32, no stem pool, lr 1e-2", "slowfast_r50", {"stem_pool": False}),
        {"lr": 0.01},
    ),
    "slow_only_tiny_32_nopool_lr1e2": (
        Variant(
            "slow-only tiny 32, no stem pool, lr 1e-2",
            "slowfast_r50",
            {"pathways": "slow", "stem_pool": False},
        ),
        {"lr": 0.01},
    ),
    "slow_only_tiny_32_nopool": (
        Variant(
            "slow-only tiny 32, no stem pool",
            "slowfast_r50",
            {"pathways": "slow", "stem_pool": False},
        ),
        {},
    ),
    "fast_only_tiny_32_nopool": (
        Variant(
            "fast-only tiny 32, no stem pool",
            "slowfast_r50",
            {"pathways": "fast", "stem_pool": False},
        ),
        {},
    ),
    # TimeSformer: from scratch as today, and initialised from a frame-pretrained ViT
    "timesformer_tiny_32": (
        Variant("timesformer tiny 32", "timesformer", {"num_frames": 8, "patch_size": 8}),
        {"lr": 0.0005},
    ),
    # more optimizer steps for the transformer: 4x by a quarter of the batch, 2x by epochs
    "timesformer_tiny_32_b8": (
        Variant("timesformer tiny 32, batch 8", "timesformer", {"num_frames": 8, "patch_size": 8}),
        {"lr": 0.0005, "batch_size": 8},
    ),
    "timesformer_tiny_32_b8_lr1e3": (
        Variant(
            "timesformer tiny 32, batch 8, lr 1e-3",
            "timesformer",
            {"num_frames": 8, "patch_size": 8},
        ),
        {"lr": 0.001, "batch_size": 8},
    ),
    "timesformer_tiny_32_e24": (
        Variant(
            "timesformer tiny 32, 24 epochs", "timesformer", {"num_frames": 8, "patch_size": 8}
        ),
        {"lr": 0.0005, "epochs": 24},
    ),
    "timesformer_conv_32_e10": (
        Variant(
            "timesformer tiny 32, conv stem, 10 epochs",
            "timesformer",
            {"num_frames": 8, "patch_size": 8, "patch_stem": "conv"},
        ),
        {"lr": 0.0005, "epochs": 10},
    ),
    "timesformer96_conv_32_e10": (
        Variant(
            "timesformer tiny (width 96) 32, conv stem, 10 epochs",
            "timesformer",
            {"num_frames": 8, "patch_size": 8, "patch_stem": "conv"},
        ),
        {"lr": 0.0005, "epochs": 10},
    ),
    "timesformer96_32_e10": (
        Variant(
            "timesformer tiny (width 96) 32, 10 epochs",
            "timesformer",
            {"num_frames": 8, "patch_size": 8},
        ),
        {"lr": 0.0005, "epochs": 10},
    ),
    "timesformer_tiny_32_e10": (
        Variant(
            "timesformer tiny 32, 10 epochs", "timesformer", {"num_frames": 8, "patch_size": 8}
        ),
        {"lr": 0.0005, "epochs": 10},
    ),
    # the frame model of vidad.experiments.frame_vit (a one-frame ViT on single frames of the
    # clips, as the TimeSformers' ImageNet stand-in), with the paper's linear patch embedding
    # and with the conv stem; ``frames_per_clip`` makes a candidate train on frames
    "frame_vit_32": (
        Variant(
            "frame ViT 32",
            "timesformer",
            {"attention_type": "space_only", "num_frames": 1, "patch_size": 8},
        ),
        {"classes": "all", "num_frames": 8, "epochs": 4, "lr": 0.001, "frames_per_clip": 2},
    ),
    "frame_vit_conv_32": (
        Variant(
            "frame ViT 32, conv stem",
            "timesformer",
            {
                "attention_type": "space_only",
                "num_frames": 1,
                "patch_size": 8,
                "patch_stem": "conv",
            },
        ),
        {"classes": "all", "num_frames": 8, "epochs": 4, "lr": 0.001, "frames_per_clip": 2},
    ),
    "timesformer_frames_32": (
        Variant(
            "timesformer tiny 32, frame init",
            "timesformer",
            {"num_frames": 8, "patch_size": 8},
            init="frame_model",
        ),
        {"lr": 0.0005},
    ),
    "timesformer_frames_32_e8": (
        Variant(
            "timesformer tiny 32, frame init, 8 epochs",
            "timesformer",
            {"num_frames": 8, "patch_size": 8},
            init="frame_model",
        ),
        {"lr": 0.0005, "epochs": 8},
    ),
    "timesformer_space_frames_32": (
        Variant(
            "timesformer space-only tiny 32, frame init",
            "timesformer",
            {"num_frames": 8, "patch_size": 8, "attention_type": "space_only"},
            init="frame_model",
        ),
        {"lr": 0.0005},
    ),
}


def matmul_gflops(rounds: int = 10) -> float:
    """GFLOP/s of a 2048 x 2048 fp32 matmul: how fast this machine is, to compare minutes."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    for _ in range(3):
        a @ b
    started = time.perf_counter()
    for _ in range(rounds):
        a @ b
    return 2 * 2048**3 * rounds / (time.perf_counter() - started) / 1e9


def setup_for(stage: str, profile: str, overrides: dict[str, Any]) -> RecognitionSetup:
    """The stage's recipe column with the candidate's overrides, as the stage would build it.

    ``mirror`` is off unless the candidate turns it on: the candidates measured before the
    recipe had a flip ran without one, and their rows must keep meaning what they measured.
    """
    column = stage_params(load_params(), stage, profile) | {"mirror": False}
    fields = {f.name for f in dataclasses.fields(RecognitionSetup)}
    return RecognitionSetup(**{k: v for k, v in {**column, **overrides}.items() if k in fields})


def run_candidate(
    name: str,
    stage: str,
    profile: str,
    paths: Paths,
    gflops: float,
    seed: int | None = None,
    init_seed: int | None = None,
) -> dict[str, Any]:
    """Train one candidate on train, select on val; val stands in for test (test is unread).

    ``seed`` replaces the stage's seed: one seed's validation accuracy moves by a few points,
    so a choice between close candidates needs several. ``init_seed`` (default: the seed)
    draws the initial weights alone, the seed then fixing only the crops, flips and batch
    order: ``benchmarks/seed_sources.py`` separates the two."""
    variant, overrides = CANDIDATES[name]
    overrides = dict(overrides) | ({} if seed is None else {"seed": seed})
    frames_per_clip = overrides.pop("frames_per_clip", None)
    setup = setup_for(stage, profile, overrides)
    classes = class_names(setup.classes, paths)
    init_seed = setup.seed if init_seed is None else init_seed
    torch.manual_seed(init_seed)
    model = build_model(variant, setup, len(classes))
    if variant.init == "frame_model":
        init_from_frames(model, paths)
    spec = model.input_spec
    crop = crop_generator(setup)
    if frames_per_clip is None:
        train, val, _ = splits_for(spec, setup, paths, classes, crop)
    else:  # single frames cut from the clips the video models see
        clip_spec = dataclasses.replace(spec, num_frames=setup.num_frames)
        train, val, _ = splits_for(clip_spec, setup, paths, classes, crop)
        train, val = ClipFrames(train, frames_per_clip, crop), ClipFrames(val, frames_per_clip)
    _ = len(train), len(val)  # build the clip cache before the clock starts
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as runs:
        run = train_classifier(
            name,
            model,
            train,
            val,
            val,  # never the test split
            setup.train_config(),
            runs,
            settings={"candidate": name},
            generators={"crop": crop},
        )
    minutes = (time.perf_counter() - started) / 60
    first = read_manifest(paths.synth("synth-actions")).iloc[0]
    return {
        "candidate": name,
        "stage": stage,
        "model": variant.model,
        "options": variant.options,
        "init": variant.init,
        "setup": dataclasses.asdict(setup),
        "init_seed": init_seed,
        "frames_per_clip": frames_per_clip,
        "classes": len(classes),
        "rendered": {
            "height": int(first["height"]),
            "width": int(first["width"]),
            "num_frames": int(first["num_frames"]),
            "fps": float(first["fps"]),
        },
        "matmul_gflops": gflops,
        "train_clips": len(train),
        "val_clips": len(val),
        "params": count_params(model),
        "gmacs": count_macs(model, spec.example(1)) / 1e9,
        "train_minutes": minutes,
        "best_epoch": run.best_epoch,
        "best_val_accuracy": run.val_accuracy,
        "val_curve": [h.get("val_accuracy") for h in run.history],
    }


def read_report(path: Path, benchmark: str, empty: dict[str, Any]) -> dict[str, Any]:
    """The JSON a search appends to (``empty`` when there is none yet), stamped with this
    machine and torch build."""
    report = json.loads(path.read_text()) if path.exists() else empty
    report.update(
        benchmark=benchmark,
        processor=platform.machine(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
    )
    return report


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write the report after every run, so an interrupted search keeps what it measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--stage", default="pretrain", help="params.yaml section of the recipe")
    parser.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES), required=True)
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=[None], help="seeds (default: the stage's)"
    )
    args = parser.parse_args(argv)
    paths = Paths(args.profile, ".")
    gflops = matmul_gflops()
    report = read_report(args.json, "recipes", {"rows": []})
    for name, seed in ((n, s) for n in args.candidates for s in args.seeds):
        row = run_candidate(name, args.stage, args.profile, paths, gflops, seed)
        key = (name, args.stage, row["setup"]["seed"])
        report["rows"] = [
            r for r in report["rows"] if (r["candidate"], r["stage"], r["setup"]["seed"]) != key
        ] + [row]
        write_report(args.json, report)
        print(
            f"{name} [{args.stage}, seed {row['setup']['seed']}]: val "
            f"{row['best_val_accuracy']:.3f} at epoch "
            f"{row['best_epoch']}/{len(row['val_curve'])}, {row['train_minutes']:.1f} min, "
            f"{row['params'] / 1e6:.2f}M params, {row['gmacs']:.3f} GMACs",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
