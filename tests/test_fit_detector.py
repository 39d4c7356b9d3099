"""`python -m vidad fit-detector --normal DIR`, then `score`, on small generated videos."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vidad.anomaly.detector import Detector
from vidad.anomaly.fit_cli import calibration_split, list_videos
from vidad.anomaly.fit_cli import main as fit_main
from vidad.models import create_model
from vidad.synth.writer import write_mp4
from vidad.train.pretrained import META_NAME, WEIGHTS_NAME, pretrained_dir
from vidad.train.recognition import RecognitionSetup

LIB = Path(__file__).resolve().parents[1] / "lib"


def _normal_video(path: Path, seed: int, frames: int = 30) -> Path:
    """A bright square drifting over a dark floor: one 'normal activity'."""
    rng = np.random.default_rng(seed)
    video = np.full((frames, 32, 48, 3), 40, np.uint8)
    x0, speed = rng.integers(0, 10), rng.uniform(0.5, 1.0)
    for t in range(frames):
        x = int(x0 + speed * t) % 40
        video[t, 10:18, x : x + 8] = 220
    video += rng.integers(0, 8, video.shape, dtype=np.uint8)
    write_mp4(video, path, 10.0)
    return path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    """A folder with a pretrained backbone where stage ``pretrain`` puts it, and normal videos."""
    setup = RecognitionSetup(
        classes="all", num_frames=8, crop_size=16, cache_size=20, motion=True,
        mirror=False, size="tiny",
        epochs=1, batch_size=2, lr=1e-3, weight_decay=0.0, warmup_epochs=0, seed=0,
    )  # fmt: skip
    torch.manual_seed(0)
    model = create_model("r2plus1d_18", size="tiny", num_classes=3, num_frames=8, crop_size=16)
    folder = pretrained_dir("smoke", "r2plus1d_18", tmp_path)
    folder.mkdir(parents=True)
    torch.save(model.state_dict(), folder / WEIGHTS_NAME)
    meta = {
        "model": "r2plus1d_18", "size": "tiny", "options": {}, "classes": ["a", "b", "c"],
        "setup": dataclasses.asdict(setup),
    }  # fmt: skip
    (folder / META_NAME).write_text(json.dumps(meta))
    normal = tmp_path / "normal"
    normal.mkdir()
    for i in range(4):
        _normal_video(normal / f"walk_{i}.mp4", seed=i)
    (normal / "notes.txt").write_text("not a video")
    (normal / "broken.mp4").write_bytes(b"\x00" * 64)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_fit_then_score_on_a_folder_of_own_videos(workspace: Path, capsys) -> None:
    argv = ["--normal", "normal", "--profile", "smoke", "--window", "12", "--epochs", "2"]
    assert fit_main(argv) == 0
    printed = capsys.readouterr().out
    assert "calibrated on 1" in printed and "target 5%" in printed
    assert "skipped 1: broken.mp4" in printed
    detector = Detector.load(workspace / "normal" / "detector.pt")
    assert detector.window_frames == 12 and detector.frame_rule == "mean"
    assert detector.meta["target_false_alarm"] == 0.05
    assert detector.meta["calibration"]["videos"] == 1
    assert detector.meta["calibration"]["false_alarm"] <= 0.05
    assert np.isfinite(detector.threshold)
    # the user's next command, in a fresh interpreter: its result and nothing else
    video = _normal_video(workspace / "new.mp4", seed=9)
    run = subprocess.run(
        [sys.executable, "-m", "vidad", "score", str(video), "--detector",
         "normal/detector.pt", "--out", "out"],
        env={**os.environ, "PYTHONPATH": str(LIB)}, cwd=workspace, capture_output=True,
        text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and run.stdout.count("\n") == 1
    assert "threshold calibrated to flag 5% of the frames of 1 normal videos" in run.stdout
    assert (workspace / "out" / "new_frames.csv").is_file()


def test_fitting_twice_gives_the_same_detector(workspace: Path, capsys) -> None:
    argv = ["--normal", "normal", "--profile", "smoke", "--window", "12", "--epochs", "2"]
    assert fit_main([*argv, "--out", "a.pt"]) == 0
    assert fit_main([*argv, "--out", "b.pt"]) == 0
    a, b = Detector.load(workspace / "a.pt"), Detector.load(workspace / "b.pt")
    assert a.threshold == b.threshold
    for x, y in zip(
        a.autoencoder.state_dict().values(), b.autoencoder.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--false-alarm", "0"], "--false-alarm must be in (0, 1)"),
        (["--window", "0"], "--window must be >= 1"),
        (["--window", "500"], "0 usable video(s)"),
        (["--backbone", "slowfast_r50"], "no pretrained slowfast_r50"),
    ],
)
def test_what_cannot_work_is_one_error_line(workspace: Path, capsys, extra, message) -> None:
    assert fit_main(["--normal", "normal", "--profile", "smoke", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_one_video_is_not_enough(workspace: Path, capsys) -> None:
    lonely = workspace / "lonely"
    lonely.mkdir()
    _normal_video(lonely / "only.mp4", seed=0)
    assert fit_main(["--normal", str(lonely), "--profile", "smoke"]) == 2
    assert "need at least 2" in capsys.readouterr().err
    assert fit_main(["--normal", str(workspace / "absent"), "--profile", "smoke"]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_listing_and_the_held_out_share(workspace: Path) -> None:
    names = [p.name for p in list_videos(workspace / "normal")]
    assert names == ["broken.mp4", "walk_0.mp4", "walk_1.mp4", "walk_2.mp4", "walk_3.mp4"]
    assert calibration_split(4, 0.25).tolist() == [False, False, False, True]
    assert calibration_split(2, 0.9).sum() == 1  # never all of them
    assert calibration_split(8, 0.25).sum() == 2
