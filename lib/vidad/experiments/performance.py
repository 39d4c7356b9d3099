"""Appendix: the committed benchmark measurements (``benchmarks/*.py`` -> ``benchmarks/results``).

Nothing is timed here: ``run`` reads every JSON file a benchmark script wrote, one measurement of
one machine at one time, and turns each into the table and sentences the page shows. A file's
kind is the start of its name: ``decode*`` (our PyAV decoding against pytorchvideo's
``EncodedVideo``), ``backbones*`` (forward clips/s of the four backbones per precision mode) and
``ae_training*`` (the chapter 6 autoencoder trained the seed's way against the embedding cache),
``training*`` (full training steps of every cpu preset through ``fit``: the path before against
today's) and ``synth*`` (rendering + encoding cost of the synthetic clips, per x264 preset).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vidad.config import SectionConfig
from vidad.paths import Paths

#: the 20x speed-up asked of the embedding cache for the frozen-backbone AE training
AE_TARGET = 20.0

NO_DECODE = (
    "No decode measurement is committed yet: run `python benchmarks/decode.py "
    "--json benchmarks/results/decode-<machine>.json`."
)
NO_GPU = (
    "No GPU measurement is committed: the machines that built this page had no GPU. "
    "On one, run `python benchmarks/backbones.py --shapes published --json "
    "benchmarks/results/backbones-<gpu>.json` and re-run `dvc repro`."
)
#: the training-speed targets (issue "Training at the speed of the CPU"): clips/s ratios of
#: today's path to the one before, per model, and the share of the matmul rate to reach
TRAINING_TARGETS: dict[str, float] = {
    "c3d": 3.0,
    "r2plus1d_18": 3.0,
    "slowfast_r50": 3.0,
    "timesformer": 2.0,
}
MATMUL_SHARE_TARGET = 0.30
DATA_WAIT_TARGET = 0.05
SYNTH_TARGET = 2.0

NO_TRAINING = (
    "No training-speed measurement is committed yet: run `python benchmarks/training.py "
    "--json benchmarks/results/training-<machine>.json`."
)
NO_SYNTH = (
    "No synthetic-data measurement is committed yet: run `python benchmarks/synth.py "
    "--json benchmarks/results/synth-<machine>.json`."
)
NO_AE = (
    "No autoencoder-training measurement is committed yet: run `python "
    "benchmarks/ae_training.py --profile cpu --json "
    "benchmarks/results/ae_training-<machine>.json`."
)


@dataclass(frozen=True)
class Config(SectionConfig):
    """``params.yaml`` section ``performance``."""

    SECTION = "performance"

    results_folder: str  # where the benchmark scripts' JSON files are (from the project root)

    def validate(self) -> None:
        if not self.results_folder.strip():
            raise ValueError("results_folder must name a folder")


@dataclass(frozen=True)
class Measurement:
    """One benchmark file shown as a header sentence, a table and (maybe) a verdict."""

    name: str
    header: str
    table: pd.DataFrame
    verdict: str | None = None
    speedups: dict[str, float] = field(default_factory=dict)  # metrics key -> value


@dataclass
class Result:
    """Every committed measurement, grouped by benchmark."""

    results_folder: str
    files: list[str]  # file stems, in the order of the sorted file names
    decode: list[Measurement]
    backbones: list[Measurement]
    ae_training: list[Measurement]
    has_gpu_measurement: bool
    training: list[Measurement] = field(default_factory=list)
    shapes: list[Measurement] = field(default_factory=list)
    synth: list[Measurement] = field(default_factory=list)

    def files_summary(self) -> str:
        names = ", ".join(self.files) or "none"
        return f"{len(self.files)} measurement file(s) in {self.results_folder}: {names}"

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/90_performance.json``: the files and every speed-up ratio."""
        metrics: dict[str, Any] = {"measurement_files": sorted(self.files)}
        for m in [*self.decode, *self.ae_training, *self.training, *self.synth]:
            metrics.update(m.speedups)
        return metrics


# --- one measurement per kind ---------------------------------------------------------------------


def decode_measurement(name: str, m: dict[str, Any]) -> Measurement:
    """Our decoding path against pytorchvideo's: clips/s and the ratio of the two rows."""
    meta = m["meta"]
    table = pd.DataFrame(m["rows"]).rename(columns={"name": "path", "clips_s": "clips/s"})
    header = (
        f"**{name}**: {meta['clips']} clips ({meta['size']}, {meta['frames']} frames in all), "
        f"{meta['num_frames']} frames sampled per clip, crop {meta['crop']}, best of "
        f"{meta['repeats']}; CPU `{meta['cpu']}`, {meta['threads']} torch threads, torch "
        f"{meta['torch']}."
    )
    table = table[["path", "seconds", "clips/s", "frames_s"]]
    if len(table) != 2:
        return Measurement(name, header, table)
    ratio = float(table["clips/s"].iloc[0] / table["clips/s"].iloc[1])
    verdict = f"Our path decodes **{ratio:.2f}x** as many clips per second."
    return Measurement(name, header, table, verdict, {f"{name}_speedup": ratio})


def backbones_measurement(name: str, m: dict[str, Any]) -> Measurement:
    """Clips/s per model (rows) and mode (columns), with each mode's ratio to fp32."""
    meta = m["meta"]
    header = (
        f"**{name}**: device `{meta['device']}` ({meta['device_name']}), torch "
        f"{meta['torch']}, size {meta['size']}, batch {meta['batch_size']}, shapes "
        f"{meta['shapes']}."
    )
    wide = pd.DataFrame(m["rows"]).pivot_table(index="model", columns="mode", values="clips_s")
    if "fp32" in wide:
        for mode in [c for c in wide.columns if c != "fp32"]:
            wide[f"{mode} / fp32"] = wide[mode] / wide["fp32"]
    return Measurement(name, header, wide)


def ae_training_measurement(name: str, m: dict[str, Any]) -> Measurement:
    """Wall time of the seed's way against the cache (cold and warm), against the target."""
    header = (
        f"**{name}**: {m['backbone']} ({m['profile']} preset), {m['epochs']} epochs, batch "
        f"{m['batch_size']}, {m['train_clips']} train + {m['val_clips']} val clips; machine "
        f"`{m['machine']}` ({m['processor']}), {m['threads']} torch threads, "
        f"torch {m['torch']}."
    )
    table = pd.DataFrame(
        {
            "way": ["seed: decode + backbone every epoch", "cache, cold", "cache, warm"],
            "seconds": [m["seed_way_s"], m["cache_cold_s"], m["cache_warm_s"]],
            "speed-up vs seed": [1.0, m["speedup_cold"], m["speedup_warm"]],
        }
    )
    cold, warm = m["speedup_cold"], m["speedup_warm"]
    verdict = (
        f"Against the {AE_TARGET:.0f}x target: cold {cold:.1f}x "
        f"({'met' if cold >= AE_TARGET else 'not met'}), warm "
        f"{warm:.0f}x ({'met' if warm >= AE_TARGET else 'not met'})."
    )
    speedups = {f"{name}_speedup_cold": cold, f"{name}_speedup_warm": warm}
    return Measurement(name, header, table, verdict, speedups)


def _round_ratios(paths: dict[str, Any], new: str = "new") -> list[float]:
    """Today's clips/s over the baseline's, round by round (both ran in the same round)."""
    return [
        a / b
        for a, b in zip(
            paths[new]["clips_per_s_rounds"], paths["baseline"]["clips_per_s_rounds"], strict=True
        )
    ]


def training_measurement(name: str, m: dict[str, Any]) -> tuple[Measurement, Measurement]:
    """Per preset: clips/s before and now, the speed-up (median of the rounds and their range),
    GFLOP/s, share of the same run's matmul rate, data wait; and the width sweep."""
    header = (
        f"**{name}**: full training steps through `fit` (batch as the stage trains, AdamW, "
        f"random uint8 clips through the stage's transform), every path of a preset in one "
        f"process, median of {m['rounds']} interleaved rounds of {m['batches_per_epoch']} "
        f"batches; 2048 x 2048 fp32 matmul in the same rounds: {m['matmul_gflops']:.0f} "
        f"GFLOP/s; CPU `{m['processor']}`, {m['threads']} torch threads, torch {m['torch']}."
    )
    rows, speedups = [], {}
    for row in m["presets_all_paths"]:
        base, new = row["paths"]["baseline"], row["paths"]["new"]
        ratios = _round_ratios(row["paths"])
        rows.append(
            {
                "preset": row["preset"],
                "stages": row["stages"],
                "GFLOP / clip (train)": row["train_gflop_per_clip"],
                "clips/s before": base["clips_per_s"],
                "clips/s now": new["clips_per_s"],
                "speed-up": new["clips_per_s"] / base["clips_per_s"],
                "speed-up, rounds": f"{min(ratios):.2f}-{max(ratios):.2f}",
                "channels_last_3d alone": row["paths"]["channels_last_3d"]["clips_per_s"]
                / base["clips_per_s"],
                "fused AdamW alone": row["paths"]["fused"]["clips_per_s"] / base["clips_per_s"],
                "GFLOP/s now": new["gflops"],
                "share of matmul": new["matmul_share"],
                "data wait before": base["data_wait_share"],
                "data wait now": new["data_wait_share"],
                "max rel. loss diff": new["max_rel_loss_diff"],
            }
        )
        slug = re.sub(r"[^a-z0-9]+", "_", row["preset"].lower()).strip("_")
        speedups[f"{name}_{slug}_speedup"] = new["clips_per_s"] / base["clips_per_s"]
    table = pd.DataFrame(rows)
    verdict = training_verdict(m)
    shapes = pd.DataFrame(
        [
            {
                "shape": r["preset"],
                "GFLOP / clip (train)": r["train_gflop_per_clip"],
                "clips/s": r["paths"]["baseline"]["clips_per_s"],
                "GFLOP/s": r["paths"]["baseline"]["gflops"],
                "share of matmul": r["paths"]["baseline"]["matmul_share"],
            }
            for r in m.get("shapes", [])
        ]
    )
    shape_header = (
        f"**{name}**, wider and deeper shapes than the `tiny` presets, same clips and batch "
        "(the path before, contiguous tensors): the useful FLOPs per second a shape gets."
    )
    return (
        Measurement(name, header, table, verdict, speedups),
        Measurement(name, shape_header, shapes),
    )


def training_verdict(m: dict[str, Any]) -> str:
    """Each target against the measured numbers, met or not, in one paragraph."""
    parts = []
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in m["presets_all_paths"]:
        if not row["options"]:  # the model's own preset, not a variant (Slow-only, ...)
            by_model.setdefault(row["model"], []).append(row)
    for model, target in TRAINING_TARGETS.items():
        for row in by_model.get(model, []):
            ratio = row["paths"]["new"]["clips_per_s"] / row["paths"]["baseline"]["clips_per_s"]
            parts.append(
                f"{row['preset']}: {ratio:.2f}x against {target:.0f}x "
                f"({'met' if ratio >= target else 'not met'})"
            )
    best = max(m["presets_all_paths"], key=lambda r: r["paths"]["new"]["matmul_share"])
    share = best["paths"]["new"]["matmul_share"]
    parts.append(
        f"highest share of the matmul rate: {share:.0%} ({best['preset']}) against "
        f"{MATMUL_SHARE_TARGET:.0%} ({'met' if share >= MATMUL_SHARE_TARGET else 'not met'})"
    )
    waits = [r["paths"]["new"]["data_wait_share"] for r in m["presets_all_paths"]]
    over = [
        r["preset"]
        for r in m["presets_all_paths"]
        if r["paths"]["new"]["data_wait_share"] >= DATA_WAIT_TARGET
    ]
    parts.append(
        f"data wait {min(waits):.1%}-{max(waits):.1%} of step time against "
        f"<{DATA_WAIT_TARGET:.0%} ("
        + ("met" if not over else f"not met for {', '.join(over)}")
        + ")"
    )
    return "Against the targets: " + "; ".join(parts) + "."


def synth_measurement(name: str, m: dict[str, Any]) -> Measurement:
    """Per dataset: ms per clip (render + encode) per x264 preset, the ratio, codec noise."""
    before, now = m["before"], m["now"]
    header = (
        f"**{name}**: a slice of the cpu profile's datasets rendered and encoded in one "
        f"process (one worker; the stage runs its workers side by side), x264 preset "
        f"`{before}` (before) against `{now}` (now), median of {m['rounds']} rounds; CPU "
        f"`{m['processor']}`."
    )
    rows, speedups = [], {}
    for r in m["rows"]:
        noise = r["codec_noise_levels"]
        rows.append(
            {
                "dataset": r["dataset"],
                "clips": r["clips"],
                "size": f"{r['num_frames']} x {r['height']} x {r['width']}",
                "render ms / clip": r[f"{now}_render_ms"],
                f"encode ms, {before}": r[f"{before}_encode_ms"],
                f"encode ms, {now}": r[f"{now}_encode_ms"],
                "speed-up": r["speedup"],
                f"|decoded - rendered|, {before}": noise[f"{before}_vs_rendered"],
                f"|decoded - rendered|, {now}": noise[f"{now}_vs_rendered"],
                f"|{now} - {before}|": noise[f"{now}_vs_{before}"],
            }
        )
        speedups[f"{name}_{r['dataset']}_speedup"] = r["speedup"]
    ratios = ", ".join(f"{r['dataset']} {r['speedup']:.2f}x" for r in m["rows"])
    met = all(r["speedup"] >= SYNTH_TARGET for r in m["rows"])
    verdict = (
        f"Per clip: {ratios}, against the {SYNTH_TARGET:.0f}x target "
        f"({'met' if met else 'not met'}); differences in mean 8-bit levels per pixel."
    )
    return Measurement(name, header, pd.DataFrame(rows), verdict, speedups)


def run(config: Config, paths: Paths) -> Result:
    """Read every ``*.json`` of ``results_folder`` (relative to the project root)."""
    folder = paths.root / config.results_folder
    files = sorted(folder.glob("*.json"))
    measurements = {f.stem: json.loads(f.read_text()) for f in files}

    def kind(prefix: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in measurements.items() if k.startswith(prefix)}

    backbones = kind("backbones")
    trainings = [training_measurement(k, v) for k, v in kind("training").items()]
    return Result(
        results_folder=config.results_folder,
        files=list(measurements),
        decode=[decode_measurement(k, v) for k, v in kind("decode").items()],
        backbones=[backbones_measurement(k, v) for k, v in backbones.items()],
        ae_training=[ae_training_measurement(k, v) for k, v in kind("ae_training").items()],
        training=[training[0] for training in trainings],
        shapes=[training[1] for training in trainings],
        synth=[synth_measurement(k, v) for k, v in kind("synth").items()],
        has_gpu_measurement=any(
            m["meta"].get("device", "").startswith("cuda") for m in backbones.values()
        ),
    )
