"""Training throughput on the CPU: today's path of ``vidad.train.fit`` against candidate paths.

Not a test. For every model preset a ``cpu`` stage trains, it builds the model exactly as the
stage does (same registry name, size preset, options, clip shape, batch size and optimizer) and
times **full training steps through** :func:`vidad.train.fit` itself: the stage's loader and
per-clip transform (random scale + crop, normalisation, mean-frame subtraction) over random
uint8 clips shaped like the stage's clip cache, forward, backward, the optimizer step. Every
path of a preset runs in the same process, interleaved over ``--rounds`` rounds (the median
round counts), beside a 2048 x 2048 fp32 matmul timed in the same rounds: a shared or throttled
machine then moves every number of a round together, and the ratios stay fair.

Paths (``TrainConfig`` knobs, see :mod:`vidad.train.config`):

- ``baseline``: the path before this benchmark existed (contiguous tensors, torch's default
  multi-tensor AdamW, the clip pipeline run once per clip);
- ``channels_last_3d``: 5-D tensors in the channels-last layout (oneDNN's 3-D convs);
- ``fused``: torch's fused AdamW / Adam step;
- ``data``: the data path of now (uint8 clips reordered before the float conversion, no
  pandas row per item);
- ``new``: what ``fit`` and the stages do now (channels_last_3d for the model families that
  measured faster here, the data path of now).

Tried and dropped: the whole clip pipeline once per batch (normalize, mean-frame subtraction
on a (B, C, T, H, W) batch) was *slower* than clip by clip: a 10 MB batch streams through
memory at every step where a 0.3 MB clip stays in cache.

Reported per preset and path: clips/s, achieved GFLOP/s (training FLOPs per clip from
``torch.utils.flop_counter``: forward + backward), their share of the matmul GFLOP/s, the
share of step time spent waiting for the loader, and the largest relative difference of the
per-epoch training losses from the baseline's (the numerics check). Widths and depths: the
same for a few wider / deeper R(2+1)D and C3D shapes (fp32 GFLOP/s only), for the next issue's
choice of presets.

    python benchmarks/training.py --json benchmarks/results/training-cpu-2core.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from vidad.anomaly.video_recon import _to_inputs as gray_inputs
from vidad.models import create_model
from vidad.models.memae import memae_loss
from vidad.train import TrainConfig, fit, make_loader
from vidad.train.recognition import RecognitionSetup, clip_transform, crop_generator
from vidad.video.transforms import Compose, ToFloatClip

#: name -> the path's settings: TrainConfig knobs, and ``legacy_data``: serve clips as the
#: loader did before (float conversion of a permuted uint8 view, a pandas row per item)
PATHS: dict[str, dict[str, Any]] = {
    "baseline": {"channels_last_3d": False, "fused_optimizer": False, "legacy_data": True},
    "channels_last_3d": {"channels_last_3d": True, "fused_optimizer": False, "legacy_data": True},
    "fused": {"channels_last_3d": False, "fused_optimizer": True, "legacy_data": True},
    "data": {"channels_last_3d": False, "fused_optimizer": False, "legacy_data": False},
    # what the book's stages run now: channels_last_3d where the model family measured faster
    # (``channels_last_3d_on_cpu``), today's data path, torch's default AdamW
    "new": {"channels_last_3d": None, "fused_optimizer": False, "legacy_data": False},
}
NEW = "new"


@dataclass(frozen=True)
class Preset:
    """One model as a ``cpu`` stage trains it."""

    label: str
    model: str
    options: dict[str, Any]
    stages: str  # which stages train it
    kind: str = "classify"  # classify | reconstruct | detect
    num_frames: int = 16  # frames the clip cache holds per clip (the recipe's num_frames)
    crop_size: int = 32
    cache_size: int = 40
    batch_size: int = 32
    num_classes: int = 10
    height: int = 64  # reconstruct: frame size
    width: int = 96
    size: str = "tiny"


def recipe_presets() -> list[Preset]:
    """The presets of the cpu profile: the recipe's 16 x 32 x 32 motion clips, batch 32."""
    tsf = {"num_frames": 8, "patch_size": 8}
    return [
        Preset("C3D tiny, depth 3", "c3d", {"temporal_depth": 3}, "02_c3d"),
        Preset("R3D-18 tiny", "r3d_18", {}, "03_r2plus1d"),
        Preset("R(2+1)D-18 tiny", "r2plus1d_18", {}, "03_r2plus1d, pretrain"),
        Preset("SlowFast tiny", "slowfast_r50", {}, "04_slowfast, pretrain"),
        Preset("Slow-only tiny", "slowfast_r50", {"pathways": "slow"}, "04_slowfast"),
        Preset(
            "TimeSformer tiny, 8 x 32 x 32, patch 8", "timesformer", tsf, "05_timesformer, pretrain"
        ),
        Preset(
            "MemAE 3-D tiny, 16 x 64 x 96 gray",
            "memae3d",
            {},
            "08_memae_video",
            kind="reconstruct",
            batch_size=8,
        ),
        Preset(
            "SlowFast RoI detector tiny, 16 x 64 x 64, 2 boxes per keyframe",
            "slowfast_detector",
            {},
            "09_action_detection",
            kind="detect",
            crop_size=64,
            batch_size=8,
            num_classes=6,
        ),
    ]


def shape_presets() -> list[Preset]:
    """The ``small`` presets (2x the width, 2 blocks per stage) at the same clips: how many more
    useful FLOPs per second a wider, deeper shape gets from the same cores."""
    return [
        Preset("R(2+1)D-18 small", "r2plus1d_18", {}, "-", size="small"),
        Preset("R3D-18 small", "r3d_18", {}, "-", size="small"),
        Preset("C3D small, depth 3", "c3d", {"temporal_depth": 3}, "-", size="small"),
    ]


class LegacyToFloatClip(torch.nn.Module):
    """``ToFloatClip`` as it was: the float conversion of a permuted view (same values)."""

    def forward(self, x: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(x))
        return x.permute(3, 0, 1, 2).to(torch.float32).div_(255.0).contiguous()


class RandomClips(Dataset):
    """Random uint8 ``(T, H, W, 3)`` clips shaped like the stage's cache, served like
    :class:`~vidad.video.cache.CachedClipDataset` serves them now, or (``legacy``) as before:
    the old float conversion and a pandas row looked up per item."""

    def __init__(self, n: int, preset: Preset, transform: Compose, legacy: bool) -> None:
        rng = np.random.default_rng(0)
        shape = (n, preset.num_frames, preset.cache_size, preset.cache_size, 3)
        self.clips = rng.integers(0, 256, shape, dtype=np.uint8)
        self.table = pd.DataFrame(
            {
                "label": rng.integers(0, preset.num_classes, n),
                "path": [f"clip{i}.mp4" for i in range(n)],
            }
        )
        self.labels = [int(v) for v in self.table["label"]]
        if legacy:
            steps = list(transform.transforms)
            assert isinstance(steps[0], ToFloatClip)
            transform = Compose([LegacyToFloatClip(), *steps[1:]])
        self.transform, self.legacy = transform, legacy

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        video = self.transform(np.array(self.clips[i]))
        if self.legacy:
            row = self.table.iloc[i]
            return {"video": video, "label": int(row["label"]), "path": str(row["path"])}
        return {"video": video, "label": self.labels[i], "path": f"clip{i}.mp4"}


class RandomKeyframes(Dataset):
    """Random keyframe clips as chapter 9's loader serves them: ``(T, S, S, 3)`` uint8 frames
    already at the crop size, two person boxes in pixels and multi-hot targets per keyframe."""

    def __init__(self, n: int, preset: Preset, transform: Compose) -> None:
        rng = np.random.default_rng(0)
        size = preset.crop_size
        self.clips = rng.integers(0, 256, (n, preset.num_frames, size, size, 3), dtype=np.uint8)
        corner = rng.uniform(0, size / 2, (n, 2, 2))
        self.boxes = np.concatenate([corner, corner + size / 3], axis=-1).astype(np.float32)
        self.targets = (rng.random((n, 2, preset.num_classes)) < 0.2).astype(np.float32)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {
            "clip": self.transform(np.array(self.clips[i])),
            "boxes": torch.from_numpy(self.boxes[i]),
            "targets": torch.from_numpy(self.targets[i]),
        }


def build(preset: Preset) -> torch.nn.Module:
    torch.manual_seed(0)
    if preset.kind == "detect":
        from vidad.detection.train import BatchedDetector

        detector = create_model(
            preset.model,
            size=preset.size,
            num_classes=preset.num_classes,
            backbone_options={"num_frames": preset.num_frames, "crop_size": preset.crop_size},
        )
        return BatchedDetector(detector)
    options = dict(preset.options)
    if preset.kind == "classify":
        options.setdefault("num_frames", preset.num_frames)
        options.setdefault("crop_size", preset.crop_size)
    return create_model(preset.model, size=preset.size, num_classes=preset.num_classes, **options)


def setup_for(preset: Preset) -> RecognitionSetup:
    return RecognitionSetup(
        classes="reversed_pairs",
        num_frames=preset.num_frames,
        crop_size=preset.crop_size,
        cache_size=preset.cache_size,
        motion=True,
        mirror=True,
        size="tiny",
        epochs=2,
        batch_size=preset.batch_size,
        lr=3e-3,
        weight_decay=0.05,
        warmup_epochs=0,
        seed=0,
    )


def loader_and_loss(preset: Preset, model: torch.nn.Module, n: int, legacy: bool = False):
    """(train loader, loss_fn, batch_to_inputs, crop generators) as the stage builds them."""
    if preset.kind == "reconstruct":
        rng = np.random.default_rng(0)
        clips = rng.integers(0, 256, (n, 16, preset.height, preset.width), dtype=np.uint8)
        loader = make_loader(
            TensorDataset(torch.from_numpy(clips)),
            preset.batch_size,
            shuffle=True,
            seed=0,
            drop_last=True,
        )

        def loss(outputs, target):
            x_hat, weights = outputs
            return memae_loss(target, x_hat, weights, 0.0002)

        return loader, loss, gray_inputs, {}
    if preset.kind == "detect":
        from vidad.detection.data import collate_keyframes
        from vidad.losses import bce
        from vidad.video.transforms import Normalize

        spec = model.detector.input_spec
        transform = Compose([ToFloatClip(), Normalize(spec.mean, spec.std)])
        data = RandomKeyframes(n, preset, transform)
        loader = make_loader(
            data, preset.batch_size, shuffle=True, seed=0, drop_last=True,
            collate_fn=collate_keyframes,
        )  # fmt: skip
        from vidad.train.loop import default_batch_to_inputs

        return loader, bce, default_batch_to_inputs, {}
    setup = setup_for(preset)
    crop = crop_generator(setup)
    transform = clip_transform(model.input_spec, setup, True, crop)
    loader = make_loader(
        RandomClips(n, preset, transform, legacy), preset.batch_size, shuffle=True, seed=0
    )
    from vidad.train.loop import default_batch_to_inputs

    return loader, torch.nn.functional.cross_entropy, default_batch_to_inputs, {"crop": crop}


def train_config(preset: Preset, path: dict[str, Any], epochs: int) -> TrainConfig:
    path = {k: v for k, v in path.items() if k != "legacy_data"}
    if preset.kind == "reconstruct":
        return TrainConfig(
            epochs=epochs,
            lr=1e-3,
            optimizer="adam",
            schedule="none",
            batch_size=preset.batch_size,
            seed=0,
            **path,
        )
    if preset.kind == "detect":
        from vidad.detection.train import DetectionSetup

        setup = DetectionSetup(
            epochs=epochs, batch_size=preset.batch_size, lr=3e-3, warmup_epochs=0
        )  # chapter 9's cpu recipe
        return TrainConfig(**{**setup.train_config(seed=0).to_dict(), **path})
    recipe = setup_for(preset).train_config().to_dict()
    return TrainConfig(**{**recipe, "epochs": epochs, **path})


def run_path(preset: Preset, path: dict[str, Any], batches: int, epochs: int) -> dict[str, Any]:
    """Train ``epochs`` epochs of ``batches`` batches through ``fit``; time the last epoch."""
    model = build(preset)
    n = batches * preset.batch_size
    loader, loss, to_inputs, gens = loader_and_loss(preset, model, n, path["legacy_data"])
    with tempfile.TemporaryDirectory() as folder:
        result = fit(
            model,
            loader,
            None,
            loss,
            train_config(preset, path, epochs),
            folder,
            monitor="train_loss",
            live=False,
            batch_to_inputs=to_inputs,
            generators=gens,
        )
    seconds, waited = result.epoch_seconds[-1], result.data_seconds[-1]
    return {
        "clips_per_s": batches * preset.batch_size / seconds,
        "data_wait_share": waited / seconds,
        "losses": [r["train_loss"] for r in result.history],
    }


def train_flops_per_clip(preset: Preset) -> float:
    model = build(preset)
    loader, loss, to_inputs, _ = loader_and_loss(preset, model, preset.batch_size)
    inputs, targets = to_inputs(next(iter(loader)))
    with FlopCounterMode(display=False) as counter:
        loss(model(inputs), targets).backward()
    return counter.get_total_flops() / preset.batch_size


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def bench_preset(
    preset: Preset, paths: dict[str, dict[str, Any]], rounds: int, batches: int
) -> dict[str, Any]:
    flops = train_flops_per_clip(preset)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    matmul: list[float] = []
    for _ in range(rounds):
        matmul.append(matmul_gflops())
        for name, path in paths.items():
            runs[name].append(run_path(preset, path, batches, epochs=2))
    mm = statistics.median(matmul)
    base_losses = runs[next(iter(paths))][0]["losses"]
    row: dict[str, Any] = {
        "model": preset.model,
        "preset": preset.label,
        "options": {k: str(v) for k, v in preset.options.items()},
        "stages": preset.stages,
        "batch_size": preset.batch_size,
        "train_gflop_per_clip": flops / 1e9,
        "round_matmul_gflops": mm,
        "paths": {},
    }
    for name, found in runs.items():
        clips = statistics.median(r["clips_per_s"] for r in found)
        losses = found[0]["losses"]
        row["paths"][name] = {
            "clips_per_s": clips,
            "clips_per_s_rounds": [r["clips_per_s"] for r in found],
            "gflops": clips * flops / 1e9,
            "matmul_share": clips * flops / 1e9 / mm,
            "data_wait_share": statistics.median(r["data_wait_share"] for r in found),
            "max_rel_loss_diff": max(
                abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses, base_losses, strict=True)
            ),
            "repeat_identical": all(r["losses"] == losses for r in found),
        }
    return row


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per preset: today's path (``new``) against the baseline, the issue's fields."""
    out = []
    for row in rows:
        base, new = row["paths"]["baseline"], row["paths"][NEW]
        out.append(
            {
                "model": row["model"],
                "preset": row["preset"],
                "stages": row["stages"],
                "baseline_clips_per_s": base["clips_per_s"],
                "clips_per_s": new["clips_per_s"],
                "speedup": new["clips_per_s"] / base["clips_per_s"],
                "baseline_gflops": base["gflops"],
                "gflops": new["gflops"],
                "baseline_matmul_share": base["matmul_share"],
                "matmul_share": new["matmul_share"],
                "baseline_data_wait_share": base["data_wait_share"],
                "data_wait_share": new["data_wait_share"],
                "max_rel_loss_diff": new["max_rel_loss_diff"],
                "repeat_identical": new["repeat_identical"],
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=6, help="batches per timed epoch")
    parser.add_argument("--only", nargs="*", help="model names to run (default: all)")
    parser.add_argument("--no-shapes", action="store_true", help="skip the width / depth sweep")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--summarize", type=Path, help="only rewrite the 'presets' summary of this JSON file"
    )
    args = parser.parse_args(argv)
    if args.summarize:
        found = json.loads(args.summarize.read_text())
        found["presets"] = summarize(found["presets_all_paths"])
        args.summarize.write_text(json.dumps(found, indent=1))
        return 0
    presets = [p for p in recipe_presets() if not args.only or p.model in args.only]
    rows = []
    for preset in presets:
        row = bench_preset(preset, PATHS, args.rounds, args.batches)
        rows.append(row)
        print(
            f"{preset.label}: {row['train_gflop_per_clip']:.3f} GFLOP/clip, "
            f"matmul {row['round_matmul_gflops']:.0f} GFLOP/s",
            flush=True,
        )
        for name, p in row["paths"].items():
            print(
                f"  {name:24s} {p['clips_per_s']:7.1f} clips/s {p['gflops']:6.1f} GFLOP/s "
                f"({p['matmul_share']:.0%} of matmul) data wait {p['data_wait_share']:.1%} "
                f"loss diff {p['max_rel_loss_diff']:.1e}",
                flush=True,
            )
    shapes = []
    if not args.no_shapes:
        for preset in shape_presets():
            row = bench_preset(preset, {"baseline": PATHS["baseline"]}, args.rounds, args.batches)
            shapes.append(row)
            p = row["paths"]["baseline"]
            print(f"{preset.label}: {p['gflops']:.1f} GFLOP/s ({p['matmul_share']:.0%})")
    if args.json:
        out = {
            "benchmark": "training",
            "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "rounds": args.rounds,
            "batches_per_epoch": args.batches,
            "matmul_gflops": statistics.median(r["round_matmul_gflops"] for r in rows),
            "presets": summarize(rows),
            "presets_all_paths": rows,
            "shapes": shapes,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
