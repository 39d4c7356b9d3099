"""The library is one stack of layers (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_import_layers_are_kept() -> None:
    proc = subprocess.run(
        [str(BIN / "lint-imports")], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and "0 broken" in proc.stdout


def test_score_help_does_not_load_plotting_libraries() -> None:
    code = (
        "import runpy, sys\n"
        "sys.argv = ['vidad', 'score', '--help']\n"
        "try:\n    runpy.run_module('vidad', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "loaded = [m for m in ('matplotlib', 'seaborn') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "usage: python -m vidad score" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"
