"""Wrong inputs to the command lines: one ``error:`` line on stderr and exit status 2, and
nothing else (no traceback, no import-time warning), from the real ``python -m`` processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vidad.config import ConfigError, load_params
from vidad.synth.ped import PedConfig

REPO = Path(__file__).resolve().parents[1]


def _python_m(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "lib")}
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=cwd, env=env, capture_output=True, text=True
    )


def _params(tmp_path: Path, edit) -> Path:
    params = load_params(REPO / "params.yaml")
    edit(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _assert_one_error_line(run: subprocess.CompletedProcess, expected: str) -> None:
    assert run.returncode == 2, run.stderr
    assert run.stderr == f"error: {expected}\n"
    assert run.stdout == ""


def test_run_chapter_reports_a_mistyped_value_alone_with_status_2(tmp_path: Path) -> None:
    path = _params(tmp_path, lambda p: p["c3d"]["smoke"].update(motion="false"))
    run = _python_m(
        "vidad.book.run_chapter", str(REPO / "notebooks/02_c3d.py"), "--section", "c3d",
        "--profile", "smoke", "--params", str(path), "--output-dir", str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    _assert_one_error_line(run, "params.yaml c3d.smoke.motion: expected bool, got 'false' (str)")


def test_pretrain_reports_a_malformed_params_file_alone_with_status_2(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text("profile: smoke\npretrain:\n  smoke: {epochs: 1\n")
    run = _python_m("vidad.experiments.pretrain", "--profile", "smoke", cwd=tmp_path)
    _assert_one_error_line(
        run,
        "params.yaml is not valid YAML at line 3, column 10: while parsing a flow mapping; "
        "expected ',' or '}', but got '<stream end>' (line 4, column 1)",
    )


@pytest.mark.parametrize(
    ("module", "edit", "expected"),
    [
        (
            ["vidad.synth.ped"],
            lambda p: p["synth_ped"]["smoke"].update(height="48"),
            "params.yaml synth_ped.smoke.height: expected int, got '48' (str)",
        ),
        (
            ["vidad.synth.interact"],
            lambda p: p["synth_interact"]["smoke"].update(seed=0.5),
            "params.yaml synth_interact.smoke.seed: expected int, got 0.5 (float)",
        ),
        (
            ["vidad.pipeline", "synth"],
            lambda p: p["synth"]["smoke"]["sports"].update(duration_jitter="0.3"),
            "params.yaml synth.smoke.sports.duration_jitter: expected float, got '0.3' (str)",
        ),
    ],
    ids=["synth_ped", "synth_interact", "synth"],
)
def test_synth_stages_report_a_mistyped_value_alone_with_status_2(
    tmp_path: Path, module, edit, expected
) -> None:
    path = _params(tmp_path, edit)
    run = _python_m(*module, "--profile", "smoke", "--params", str(path), cwd=tmp_path)
    _assert_one_error_line(run, expected)
    assert not (tmp_path / "build").exists()  # nothing was rendered (nor deleted)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("num_frames", "32", "num_frames: expected int, got '32' (str)"),
        ("seed", 0.5, "seed: expected int, got 0.5 (float)"),
        ("anomaly_kinds", "running", "anomaly_kinds: expected tuple[str], got 'running' (str)"),
        ("fps", [10.0], "fps: expected float, got [10.0] (list)"),
        ("workers", False, "workers: expected int, got False (bool)"),
        ("seed", -1, ": invalid PedConfig: seed must be >= 0 (got -1)"),
    ],
)
def test_ped_config_checks_every_type(key, value, expected) -> None:
    values = load_params(REPO / "params.yaml")["synth_ped"]["smoke"]
    good = PedConfig.from_params(values, "params.yaml synth_ped.smoke")
    assert good.anomaly_kinds == ("running", "cart")  # YAML's list, held as a tuple
    hash(good)
    with pytest.raises(ConfigError) as err:
        PedConfig.from_params({**values, key: value}, "params.yaml synth_ped.smoke")
    sep = "" if expected.startswith(":") else "."  # a type is named by key, a range by config
    assert str(err.value) == f"params.yaml synth_ped.smoke{sep}{expected}"


def test_a_scalar_synth_section_is_one_error_line(tmp_path: Path, capsys) -> None:
    from vidad.synth.ped import main

    path = _params(tmp_path, lambda p: p.update(synth_ped={"smoke": 5, "cpu": 5, "gpu": 5}))
    assert main(["--profile", "smoke", "--params", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "error: params.yaml synth_ped.smoke must be a mapping of key -> value, got 5\n"
