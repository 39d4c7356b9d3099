"""Appendix: the committed benchmark measurements (``benchmarks/*.py`` -> ``benchmarks/results``).

Nothing is timed here: ``run`` reads every JSON file a benchmark script wrote, one measurement of
one machine at one time, and turns each into the table and sentences the page shows. A file's
kind is the start of its name: ``decode*`` (our PyAV decoding against pytorchvideo's
``EncodedVideo``), ``backbones*`` (forward clips/s of the four backbones per precision mode) and
``ae_training*`` (the chapter 6 autoencoder trained the seed's way against the embedding cache).
"""

from __future__ import annotations

import json
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

    def files_summary(self) -> str:
        names = ", ".join(self.files) or "none"
        return f"{len(self.files)} measurement file(s) in {self.results_folder}: {names}"

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/90_performance.json``: the files and every speed-up ratio."""
        metrics: dict[str, Any] = {"measurement_files": sorted(self.files)}
        for m in [*self.decode, *self.ae_training]:
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


def run(config: Config, paths: Paths) -> Result:
    """Read every ``*.json`` of ``results_folder`` (relative to the project root)."""
    folder = paths.root / config.results_folder
    files = sorted(folder.glob("*.json"))
    measurements = {f.stem: json.loads(f.read_text()) for f in files}

    def kind(prefix: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in measurements.items() if k.startswith(prefix)}

    backbones = kind("backbones")
    return Result(
        results_folder=config.results_folder,
        files=list(measurements),
        decode=[decode_measurement(k, v) for k, v in kind("decode").items()],
        backbones=[backbones_measurement(k, v) for k, v in backbones.items()],
        ae_training=[ae_training_measurement(k, v) for k, v in kind("ae_training").items()],
        has_gpu_measurement=any(
            m["meta"].get("device", "").startswith("cuda") for m in backbones.values()
        ),
    )
