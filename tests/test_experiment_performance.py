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
