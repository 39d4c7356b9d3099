"""The performance appendix: its setting, and the tables / ratios / verdicts of each benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidad.config import ConfigError
from vidad.experiments import performance
from vidad.paths import Paths

REPO = Path(__file__).resolve().parents[1]

DECODE = {
    "meta": {
        "clips": 4,
        "frames": 80,
        "size": "64x48",
        "num_frames": 8,
        "crop": 32,
        "repeats": 2,
        "cpu": "x86_64",
        "threads": 2,
        "torch": "2.0",
    },
    "rows": [
        {"name": "ours", "seconds": 1.0, "clips_s": 30.0, "frames_s": 600.0},
        {"name": "theirs", "seconds": 3.0, "clips_s": 12.0, "frames_s": 200.0},
    ],
}
AE = {
    "backbone": "r2plus1d_18",
    "profile": "cpu",
    "epochs": 30,
    "batch_size": 8,
    "train_clips": 10,
    "val_clips": 2,
    "machine": "vm",
    "processor": "x86_64",
    "threads": 2,
    "torch": "2.0",
    "seed_way_s": 100.0,
    "cache_cold_s": 10.0,
    "cache_warm_s": 1.0,
    "speedup_cold": 10.0,
    "speedup_warm": 100.0,
}


def backbones(device: str) -> dict:
    return {
        "meta": {
            "device": device,
            "device_name": "x",
            "torch": "2.0",
            "size": "paper",
            "batch_size": 32,
            "shapes": "published",
        },
        "rows": [
            {"model": "c3d", "mode": "fp32", "clips_s": 100.0},
            {"model": "c3d", "mode": "bf16", "clips_s": 400.0},
            {"model": "r2plus1d_18", "mode": "fp32", "clips_s": 50.0},
            {"model": "r2plus1d_18", "mode": "bf16", "clips_s": 100.0},
        ],
    }


def write(folder: Path, files: dict[str, dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, content in files.items():
        (folder / f"{stem}.json").write_text(json.dumps(content))
    return folder


def run(tmp_path: Path, files: dict[str, dict]) -> performance.Result:
    write(tmp_path / "bench", files)
    config = performance.Config.from_params({"results_folder": "bench"})
    return performance.run(config, Paths("smoke", tmp_path))


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = performance.Config.load(profile, params_file=REPO / "params.yaml")
    assert config.results_folder == "benchmarks/results"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"results_folder": 3}, r"results_folder: expected str"),
        ({"results_folder": " "}, "results_folder must name a folder"),
        ({"results_folder": "x", "folder": "y"}, r"unknown keys \['folder'\]"),
        ({}, r"lacks keys \['results_folder'\]"),
    ],
)
def test_a_bad_value_is_one_config_error(values, message):
    with pytest.raises(ConfigError, match=message):
        performance.Config.load("smoke", values)


def test_every_kind_of_measurement_and_the_metrics_schema(tmp_path):
    result = run(
        tmp_path,
        {"decode-a": DECODE, "backbones-cpu": backbones("cpu"), "ae_training-a": AE},
    )
    assert result.files == ["ae_training-a", "backbones-cpu", "decode-a"]
    assert result.files_summary() == (
        "3 measurement file(s) in bench: ae_training-a, backbones-cpu, decode-a"
    )
    assert result.metrics() == {
        "measurement_files": ["ae_training-a", "backbones-cpu", "decode-a"],
        "decode-a_speedup": 2.5,
        "ae_training-a_speedup_cold": 10.0,
        "ae_training-a_speedup_warm": 100.0,
    }
    (decode,) = result.decode
    assert list(decode.table.columns) == ["path", "seconds", "clips/s", "frames_s"]
    assert decode.verdict == "Our path decodes **2.50x** as many clips per second."
    assert decode.header.startswith("**decode-a**: 4 clips (64x48, 80 frames in all)")
    (bb,) = result.backbones
    assert bb.table.loc["c3d", "bf16 / fp32"] == 4.0
    assert bb.table.loc["r2plus1d_18", "bf16 / fp32"] == 2.0
    assert not result.has_gpu_measurement
    (ae,) = result.ae_training
    assert ae.table["speed-up vs seed"].tolist() == [1.0, 10.0, 100.0]
    assert ae.verdict == "Against the 20x target: cold 10.0x (not met), warm 100x (met)."


def test_a_decode_file_without_exactly_two_rows_has_no_ratio(tmp_path):
    three = {**DECODE, "rows": DECODE["rows"] + DECODE["rows"][:1]}
    result = run(tmp_path, {"decode-x": three, "backbones-gpu": backbones("cuda:0")})
    assert result.decode[0].verdict is None
    assert result.metrics() == {"measurement_files": ["backbones-gpu", "decode-x"]}
    assert result.has_gpu_measurement


def test_an_empty_folder_shows_nothing(tmp_path):
    result = run(tmp_path, {})
    assert (result.decode, result.backbones, result.ae_training) == ([], [], [])
    assert result.metrics() == {"measurement_files": []}
    assert result.files_summary() == "0 measurement file(s) in bench: none"


def test_the_committed_measurements_read(tmp_path):
    config = performance.Config.load("cpu", params_file=REPO / "params.yaml")
    result = performance.run(config, Paths("cpu", REPO))
    stems = sorted(p.stem for p in (REPO / "benchmarks/results").glob("*.json"))
    assert result.metrics()["measurement_files"] == stems


def _path(clips: list[float], share: float, wait: float) -> dict:
    return {
        "clips_per_s": sorted(clips)[len(clips) // 2],
        "clips_per_s_rounds": clips,
        "gflops": 1.0,
        "matmul_share": share,
        "data_wait_share": wait,
        "max_rel_loss_diff": 1e-4,
        "repeat_identical": True,
    }


def _training_row(model: str, label: str, base: list[float], new: list[float], **kw) -> dict:
    paths = {
        "baseline": _path(base, 0.1, 0.08),
        "channels_last_3d": _path(base, 0.1, 0.08),
        "fused": _path(base, 0.1, 0.08),
        "data": _path(base, 0.1, 0.04),
        "new": _path(new, kw.get("share", 0.2), kw.get("wait", 0.03)),
    }
    return {
        "model": model,
        "preset": label,
        "options": kw.get("options", {}),
        "stages": "x",
        "batch_size": 32,
        "train_gflop_per_clip": 0.1,
        "round_matmul_gflops": 100.0,
        "paths": paths,
    }


TRAINING = {
    "processor": "x86_64",
    "threads": 2,
    "torch": "2.0",
    "rounds": 3,
    "batches_per_epoch": 6,
    "matmul_gflops": 100.0,
    "presets_all_paths": [
        _training_row("c3d", "C3D tiny", [100, 100, 100], [300, 330, 360], share=0.35),
        _training_row("timesformer", "TSF tiny", [50, 50, 50], [60, 50, 70], wait=0.06),
        _training_row(
            "slowfast_r50", "Slow-only", [10, 10, 10], [40, 40, 40], options={"pathways": "slow"}
        ),
    ],
    "shapes": [],
}
SYNTH = {
    "processor": "x86_64",
    "before": "medium",
    "now": "ultrafast",
    "rounds": 2,
    "rows": [
        {
            "dataset": "synth-actions",
            "clips": 50,
            "height": 112,
            "width": 112,
            "num_frames": 32,
            "medium_render_ms": 60.0,
            "medium_encode_ms": 50.0,
            "ultrafast_render_ms": 60.0,
            "ultrafast_encode_ms": 20.0,
            "speedup": 110 / 80,
            "codec_noise_levels": {
                "medium_vs_rendered": 3.2,
                "ultrafast_vs_rendered": 3.1,
                "ultrafast_vs_medium": 1.0,
            },
        },
    ],
}


def test_training_and_synth_measurements_state_each_target(tmp_path):
    result = run(tmp_path, {"training-a": TRAINING, "synth-a": SYNTH})
    (training,) = result.training
    assert training.table["speed-up"].tolist() == [3.3, 1.2, 4.0]
    assert training.table["speed-up, rounds"].tolist() == ["3.00-3.60", "1.00-1.40", "4.00-4.00"]
    assert training.verdict == (
        "Against the targets: C3D tiny: 3.30x against 3x (met); TSF tiny: 1.20x against 2x "
        "(not met); highest share of the matmul rate: 35% (C3D tiny) against 30% (met); data "
        "wait 3.0%-6.0% of step time against <5% (not met for TSF tiny)."
    )  # Slow-only is a variant (options), not SlowFast's own preset: no target line
    assert result.metrics()["training-a_c3d_tiny_speedup"] == pytest.approx(3.3)
    (synth,) = result.synth
    assert synth.table["speed-up"].tolist() == [pytest.approx(1.375)]
    assert synth.verdict == (
        "Per clip: synth-actions 1.38x, against the 2x target (not met); differences in mean "
        "8-bit levels per pixel."
    )
    assert result.metrics()["synth-a_synth-actions_speedup"] == pytest.approx(1.375)
