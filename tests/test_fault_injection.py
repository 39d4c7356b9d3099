"""Fault injection: a training run SIGKILLed at random points and resumed ends where an
uninterrupted one does, bit for bit (issue 17).

The run is a chapter's in miniature, in a process of its own: synth-actions clips from the clip
cache, the training transform's random scale + crop (its generator handed to ``fit``), the
classifier protocol (:func:`vidad.train.classify.train_classifier`, dvclive on), a checkpoint
every epoch. The parent kills it ``N_KILLS`` times with SIGKILL after seeded random delays
(while it starts, loads ``latest.pt``, trains, evaluates or writes a checkpoint), restarts it
each time, lets the last start finish, and compares with an uninterrupted run in a fresh
process: final weights, best weights, history and test predictions must be equal.

This file is also the worker: ``python tests/test_fault_injection.py DATA CACHE RUNS OUT``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

N_KILLS = 5
EPOCHS = 8
SEED = 17
CLASSES = ("sit_down", "stand_up", "raise_arms", "lower_arms")
NUM_FRAMES, CROP, CACHE_SIZE = 8, 24, 32
READY, EPOCH = "imported", "epoch starts"


def _datasets(data: Path, cache: Path):
    import torch

    from vidad.video.cache import CachedClipDataset, ClipCacheSpec
    from vidad.video.transforms import make_clip_transform

    spec = ClipCacheSpec(NUM_FRAMES, CACHE_SIZE, CACHE_SIZE)
    crop = torch.Generator().manual_seed(SEED)
    augment = make_clip_transform(
        True, NUM_FRAMES, CROP, min_scale=CROP, max_scale=CACHE_SIZE, generator=crop
    )
    calls = [0]

    def train_tf(clip):
        if calls[0] % len(train) == 0:  # tells the parent where this process is
            print(EPOCH, flush=True)
        calls[0] += 1
        return augment(clip)

    eval_tf = make_clip_transform(False, NUM_FRAMES, CROP)

    def split(name: str, transform):
        return CachedClipDataset(
            data, name, spec, cache, transform=transform, progress=False, classes=CLASSES
        )

    train = split("train", train_tf)
    return train, split("val", eval_tf), split("test", eval_tf), crop


def worker(data: Path, cache: Path, runs: Path, out: Path) -> None:
    """One training process (resumes from ``latest.pt`` when there is one)."""
    import torch
    from torch import nn

    from vidad.train import TrainConfig
    from vidad.train.classify import train_classifier

    torch.set_num_threads(1)
    train, val, test, crop = _datasets(data, cache)
    torch.manual_seed(SEED)
    model = nn.Sequential(
        nn.Conv3d(3, 32, 3, padding=1),
        nn.BatchNorm3d(32),
        nn.ReLU(),
        nn.Dropout3d(0.2),
        nn.Conv3d(32, 32, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(32, len(CLASSES)),
    )
    config = TrainConfig.adamw_cosine(
        epochs=EPOCHS, lr=3e-3, weight_decay=0.01, warmup_epochs=1, batch_size=2, seed=SEED
    )
    print(READY, flush=True)
    run = train_classifier(
        "killed", model, train, val, test, config, runs, {"x": 1}, generators={"crop": crop}
    )
    out.write_text(json.dumps(run.as_dict(), sort_keys=True))


def _start(data: Path, cache: Path, runs: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cmd = [sys.executable, __file__, str(data), str(cache), str(runs), str(out)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    _wait_for(proc, READY)  # its imports and data are ready
    return proc


def _wait_for(proc: subprocess.Popen[str], line: str) -> None:
    got = proc.stdout.readline()
    assert got.strip() == line, f"the worker did not say {line!r} (got {got!r}, rc {proc.poll()})"


def _finish(proc: subprocess.Popen[str]) -> None:
    assert proc.wait(timeout=120) == 0, "the worker failed"


def _latest_epoch(run_dir: Path) -> int:
    from vidad.train import load_checkpoint

    path = run_dir / "latest.pt"
    return int(load_checkpoint(path, keys=("epoch",))["epoch"]) if path.is_file() else 0


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    import torch

    from vidad.synth import SynthConfig, generate_dataset
    from vidad.train import load_checkpoint

    data, cache = tmp_path / "synth-actions", tmp_path / "cache"
    generate_dataset(
        "synth-actions",
        data,
        SynthConfig(clips_per_class=12, height=32, width=32, num_frames=8, fps=6.0, seed=0),
    )
    _datasets(data, cache)  # build the clip cache once, outside the killed processes

    # the uninterrupted reference, in its own process; its pace sets the kills' delays
    proc = _start(data, cache, tmp_path / "ref", tmp_path / "ref.json")
    t0 = time.monotonic()
    starts = []
    for _ in range(EPOCHS):
        _wait_for(proc, EPOCH)
        starts.append(time.monotonic())
    _finish(proc)
    startup, epoch_time = starts[0] - t0, (starts[-1] - starts[0]) / (EPOCHS - 1)
    ref = json.loads((tmp_path / "ref.json").read_text())

    rng = random.Random(SEED)
    runs, out = tmp_path / "runs", tmp_path / "killed.json"
    kills: list[tuple[str, int]] = []  # (phase, latest.pt epoch after the kill)
    torn_writes = restarts = 0
    while len(kills) < N_KILLS:
        proc = _start(data, cache, runs, out)
        if rng.random() < 0.3:  # while it builds the model, opens dvclive, reads latest.pt
            phase = "starting"
            time.sleep(rng.uniform(0.0, 1.0) * startup)
        else:  # in its first or second epoch: training, evaluating, writing the checkpoint
            phase = "training"
            lines = [proc.stdout.readline() for _ in range(rng.randint(1, 2))]
            if all(line.strip() == EPOCH for line in lines):
                time.sleep(rng.uniform(0.0, 1.0) * epoch_time)
            else:  # it had nothing left to train
                proc.wait(timeout=120)
        if proc.poll() is not None:  # it finished before its kill: start the series afresh
            _finish(proc)
            shutil.rmtree(runs)
            out.unlink()
            kills, torn_writes, restarts = [], 0, restarts + 1
            assert restarts < 3, "the run keeps finishing before it is killed"
            continue
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        run_dirs = list(runs.glob("killed-*"))
        kills.append((phase, _latest_epoch(run_dirs[0]) if run_dirs else 0))
        torn_writes += sum(1 for d in run_dirs for _ in d.glob(".*.tmp"))
    _finish(_start(data, cache, runs, out))  # the last start runs to the end
    got = json.loads(out.read_text())

    (run_dir,) = runs.glob("killed-*")
    print(
        f"\nfault injection: {len(kills)} SIGKILLs survived (phase, latest.pt epoch of {EPOCHS} "
        f"after each: {kills}), {torn_writes} torn checkpoint writes left behind and cleaned up, "
        f"{restarts} series restarted"
    )
    assert not list(run_dir.glob(".*.tmp"))  # leftovers of killed writes were cleaned up
    assert got["history"] == ref["history"]
    assert got["best_epoch"] == ref["best_epoch"]
    assert got["test_predictions"] == ref["test_predictions"]
    ref_dir = Path(ref["run_dir"])
    for name in ("latest.pt", "best.pt"):
        want = load_checkpoint(ref_dir / name)["model"]
        have = load_checkpoint(run_dir / name)["model"]
        for key, tensor in want.items():
            assert torch.equal(tensor, have[key]), f"{name}: {key} differs"


if __name__ == "__main__":
    worker(*(Path(arg) for arg in sys.argv[1:5]))
