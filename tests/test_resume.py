"""Exact resume with the chapters' real data path, an early clear stop when the monitored value
is NaN, and clear errors for damaged checkpoints (issue 17, items 2, 3 and 6).

The resume tests go through the same code as a chapter: synth-actions clips, the clip cache,
the recognition transforms with their random scale + crop, :func:`run_variant` and ``fit``.
An interrupted run is one whose process died right after writing epoch ``k``'s ``latest.pt``.
"""

from __future__ import annotations

import io
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

import vidad.train.loop as loop
from vidad.paths import Paths
from vidad.synth import SynthConfig, generate_dataset
from vidad.train import TrainConfig, fit, load_checkpoint, make_loader
from vidad.train.checkpoint import CheckpointError
from vidad.train.classify import train_classifier
from vidad.train.loop import NaNMonitorError
from vidad.train.recognition import RecognitionSetup, Variant, class_names, run_variant

SETUP = RecognitionSetup(
    classes="reversed_pairs",
    num_frames=4,
    crop_size=16,
    cache_size=24,
    motion=False,
    mirror=True,  # the flips draw from the crop generator: resume must restore both
    size="tiny",
    epochs=3,
    batch_size=4,
    lr=3e-3,
    weight_decay=0.01,
    warmup_epochs=1,
    seed=0,
)
VARIANT = Variant("c3d", "c3d")


class Killed(BaseException):
    """Stands for the process dying (not an Exception: nothing may catch it)."""


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    paths = Paths("smoke", tmp_path_factory.mktemp("project"))
    generate_dataset(
        "synth-actions",
        paths.synth("synth-actions"),
        SynthConfig(clips_per_class=4, height=32, width=32, num_frames=6, fps=6.0, seed=0),
    )
    return paths


def _die_after_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    real = loop.save_checkpoint

    def save(path, state):
        out = real(path, state)
        if Path(path).name == "latest.pt" and state["epoch"] == epoch:
            raise Killed(f"killed after epoch {epoch}")
        return out

    monkeypatch.setattr(loop, "save_checkpoint", save)


def _final_state(result) -> dict[str, torch.Tensor]:
    return load_checkpoint(Path(result.run.run_dir) / "latest.pt")["model"]


@pytest.mark.parametrize("kill_after", [1, 2])
def test_interrupted_chapter_run_resumes_exactly(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, kill_after: int
) -> None:
    classes = class_names(SETUP.classes, paths)
    ref = run_variant(VARIANT, SETUP, paths, "uninterrupted", classes)

    _die_after_epoch(monkeypatch, kill_after)
    with pytest.raises(Killed):
        run_variant(VARIANT, SETUP, paths, f"interrupted{kill_after}", classes)
    monkeypatch.undo()
    torch.manual_seed(1234)  # a new process: the global RNG is wherever it is
    res = run_variant(VARIANT, SETUP, paths, f"interrupted{kill_after}", classes)

    assert [h["epoch"] for h in res.run.history] == [1, 2, 3]
    want, got = _final_state(ref), _final_state(res)
    for name, tensor in want.items():
        assert torch.equal(tensor, got[name]), f"{name} differs after resume"
    assert res.run.history == ref.run.history
    assert res.run.test_predictions == ref.run.test_predictions


def test_interrupted_v2_autoencoder_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chapter 6's v2 (backbone fine-tuned on randomly cropped clips) resumes exactly too."""
    import json
    from dataclasses import asdict

    from vidad.anomaly.embeddings import extract_embeddings
    from vidad.anomaly.train_ae import AESettings, train_v2
    from vidad.models import create_model
    from vidad.train.pretrained import META_NAME, WEIGHTS_NAME, pretrained_dir

    paths = Paths("smoke", tmp_path)
    generate_dataset(
        "synth-sports",
        paths.synth("synth-sports"),
        SynthConfig(clips_scale=0.05, height=32, width=32, num_frames=6, fps=6.0, seed=0),
    )
    backbone = "r2plus1d_18"
    torch.manual_seed(0)
    model = create_model(backbone, size="tiny", num_classes=4, num_frames=4, crop_size=16)
    folder = pretrained_dir("smoke", backbone, tmp_path)
    folder.mkdir(parents=True)
    torch.save(model.state_dict(), folder / WEIGHTS_NAME)
    meta = {"model": backbone, "size": "tiny", "options": {}, "setup": asdict(SETUP)}
    meta["classes"] = ["a", "b", "c", "d"]
    (folder / META_NAME).write_text(json.dumps(meta))
    emb = extract_embeddings("smoke", backbone, tmp_path)
    settings = AESettings(epochs=3, batch_size=4, step_size=2, unfreeze_at_epoch=2, seed=0)

    ref = train_v2("smoke", backbone, emb, settings, tmp_path / "a", tmp_path)
    _die_after_epoch(monkeypatch, 1)
    with pytest.raises(Killed):
        train_v2("smoke", backbone, emb, settings, tmp_path / "b", tmp_path)
    monkeypatch.undo()
    torch.manual_seed(1234)
    res = train_v2("smoke", backbone, emb, settings, tmp_path / "b", tmp_path)

    want = load_checkpoint(Path(ref.run_dir) / "latest.pt")["model"]
    got = load_checkpoint(Path(res.run_dir) / "latest.pt")["model"]
    for name, tensor in want.items():
        assert torch.equal(tensor, got[name]), f"{name} differs after resume"
    assert res.history == ref.history
    np.testing.assert_array_equal(res.errors, ref.errors)


# --- item 3: a NaN monitored value stops the run at once, with the reason -----------------------


def _tiny_loaders(n_val: int = 16):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 6, generator=g), torch.randn(32, 2, generator=g)
    train = make_loader(TensorDataset(x, y), 8, shuffle=True, seed=0)
    val = make_loader(TensorDataset(x[:n_val], y[:n_val]), 8, shuffle=False, seed=0)
    return train, val


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))


CONFIG = TrainConfig(epochs=4, lr=1e-2, optimizer="adam", schedule="none", batch_size=8)


def _nan_loss(out, y):
    return nn.functional.mse_loss(out, y) * float("nan")


@pytest.mark.parametrize(
    ("case", "monitor", "cause"),
    [
        ("empty val", "val_loss", "no validation batch was evaluated"),
        ("diverged", "val_loss", "training diverged"),
        ("diverged", "train_loss", "training diverged"),
        ("nan metric", "score", "metrics_fn returned NaN"),
    ],
)
def test_nan_monitor_fails_at_the_first_epoch(
    tmp_path: Path, case: str, monitor: str, cause: str
) -> None:
    train, val = _tiny_loaders(0 if case == "empty val" else 16)
    metric = float("nan") if case == "nan metric" else 0.5
    with pytest.raises(NaNMonitorError) as info:
        fit(
            _mlp(),
            train,
            val,
            _nan_loss if case == "diverged" else nn.MSELoss(),
            CONFIG,
            tmp_path,
            metrics_fn=lambda out, y: {"score": metric},
            monitor=monitor,
            live=False,
        )
    message = str(info.value)
    assert "\n" not in message
    assert f"{monitor} is NaN at epoch 1" in message and cause in message
    assert str(tmp_path) in message
    assert not (tmp_path / "best.pt").exists() and not (tmp_path / "latest.pt").exists()


def test_nan_after_a_best_epoch_still_stops_there(tmp_path: Path) -> None:
    scores = iter([0.3, 0.5, float("nan"), 0.9])
    train, val = _tiny_loaders()
    with pytest.raises(NaNMonitorError, match="score is NaN at epoch 3"):
        fit(
            _mlp(), train, val, nn.MSELoss(), CONFIG, tmp_path,
            metrics_fn=lambda out, y: {"score": next(scores)}, monitor="score", mode="max",
            live=False,
        )  # fmt: skip
    assert load_checkpoint(tmp_path / "latest.pt")["epoch"] == 2  # epoch 3 never saved
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == 2


class _Clips(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {"video": torch.full((3,), float(i % 2)), "label": i % 2}


def test_classifier_with_no_decodable_val_clip_fails_at_epoch_1(tmp_path: Path) -> None:
    """Was: three epochs of training, then FileNotFoundError for best.pt."""
    with pytest.raises(NaNMonitorError, match="val_accuracy is NaN at epoch 1.*no validation"):
        train_classifier(
            "nan", nn.Linear(3, 2), _Clips(8), _Clips(0), _Clips(4), CONFIG, tmp_path, {}
        )


def test_video_autoencoder_with_no_val_clip_fails_at_epoch_1(tmp_path: Path) -> None:
    from vidad.anomaly.video_recon import VideoAESettings, train_video_ae

    train = np.random.default_rng(0).integers(0, 255, (8, 4, 8, 8), dtype=np.uint8)
    settings = VideoAESettings(clip_len=4, epochs=2, batch_size=4)

    def build() -> nn.Module:
        class AE(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv = nn.Conv3d(1, 1, 3, padding=1)

            def forward(self, x):
                return self.conv(x), None

        return AE()

    with pytest.raises(NaNMonitorError, match="val_loss is NaN at epoch 1.*no validation"):
        train_video_ae(build, train, train[:0], settings, tmp_path, "ae")


def test_detection_map_without_a_positive_is_nan() -> None:
    from vidad.detection.train import map_metrics

    assert math.isnan(map_metrics(torch.empty(0), torch.empty(0))["val_map"])
    logits = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
    assert math.isnan(map_metrics(logits, torch.zeros(2, 2))["val_map"])  # no positive: undefined
    assert map_metrics(logits, torch.tensor([[1.0, 0.0], [0.0, 0.0]]))["val_map"] == 1.0


def test_a_finished_run_without_best_pt_says_so(tmp_path: Path) -> None:
    fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path, live=False)
    (tmp_path / "best.pt").unlink()
    with pytest.raises(CheckpointError, match="has no best.pt .*delete the folder"):
        fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path, live=False)


# --- item 6: damaged or foreign checkpoint files: one line naming the file and the reason -------


def _good_state() -> dict:
    return {"model": {"w": torch.ones(3)}, "epoch": 1}


class _Foreign:
    pass


DAMAGE = {
    "empty": (lambda good: b"", "is empty"),
    "truncated": (lambda good: good[: len(good) // 2], "truncated or damaged"),
    "truncated head": (lambda good: good[:10], "truncated or damaged"),
    "random bytes": (lambda good: random.Random(0).randbytes(600), "not a torch checkpoint"),
    "text": (lambda good: b"hello\n", "not a torch checkpoint"),
}
FOREIGN = {
    "tensor": (torch.ones(3), "holds a Tensor, not a checkpoint dict"),
    "list": ([1, 2], "holds a list"),
    "dict without keys": ({"weights": torch.ones(2)}, "lacks 'model'"),
    "python object": ({"x": _Foreign()}, "Python objects other than tensors"),
}


def _write(path: Path, kind: str) -> Path:
    if kind in DAMAGE:
        buffer = io.BytesIO()
        torch.save(_good_state(), buffer)
        path.write_bytes(DAMAGE[kind][0](buffer.getvalue()))
    else:
        torch.save(FOREIGN[kind][0], path)
    return path


def _one_clear_line(message: str, path: Path) -> None:
    assert "\n" not in message and "weights_only" not in message, message
    assert str(path) in message


@pytest.mark.parametrize("kind", [*DAMAGE, *FOREIGN])
def test_load_checkpoint_names_the_file_and_the_fault(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path / "weird checkpoint.pt", kind)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    reason = (DAMAGE | FOREIGN)[kind][1]
    assert reason in str(info.value)
    _one_clear_line(str(info.value), path)


def test_load_checkpoint_missing_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        load_checkpoint(tmp_path / "nope.pt")
    _one_clear_line(str(info.value), tmp_path / "nope.pt")
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(CheckpointError, match="is not a file"):
        load_checkpoint(tmp_path / "dir.pt")


class _Crash(RuntimeError):
    pass


def _crash_in_epoch_3(out, y):
    """MSE that dies on the first training batch of epoch 3 (4 training batches an epoch)."""
    if torch.is_grad_enabled():
        _crash_in_epoch_3.calls += 1
        if _crash_in_epoch_3.calls > 2 * 4:
            raise _Crash
    return nn.functional.mse_loss(out, y)


def _interrupted_run(out: Path) -> None:
    """4 epochs of 4 train + 2 val batches, crashed in epoch 3: latest.pt and best.pt exist."""
    _crash_in_epoch_3.calls = 0
    with pytest.raises(_Crash):
        fit(_mlp(), *_tiny_loaders(), _crash_in_epoch_3, CONFIG, out, live=False)
    assert load_checkpoint(out / "latest.pt")["epoch"] == 2


@pytest.mark.parametrize(
    "kind", ["empty", "truncated", "random bytes", "tensor", "dict without keys"]
)
def test_resume_from_a_damaged_latest_says_how_to_go_on(tmp_path: Path, kind: str) -> None:
    ref = _mlp()
    fit(ref, *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path / "ref", live=False)
    out = tmp_path / "run"
    _interrupted_run(out)
    best_epoch = load_checkpoint(out / "best.pt")["epoch"]
    latest = _write(out / "latest.pt", kind)

    with pytest.raises(CheckpointError) as info:
        fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, out, live=False)
    message = str(info.value)
    _one_clear_line(message, latest)
    assert message.startswith("cannot resume")
    assert f"delete the run folder {str(out)!r}" in message
    assert f"copy best.pt over latest.pt there to resume exactly from epoch {best_epoch}" in message

    # the advice works: resuming from best.pt ends exactly where an uninterrupted run does
    shutil.copyfile(out / "best.pt", latest)
    model = _mlp()
    result = fit(model, *_tiny_loaders(), nn.MSELoss(), CONFIG, out, live=False)
    assert result.start_epoch == best_epoch + 1
    for a, b in zip(ref.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_resume_from_a_damaged_latest_without_best(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _interrupted_run(out)
    (out / "best.pt").unlink()
    _write(out / "latest.pt", "truncated")
    with pytest.raises(CheckpointError, match="delete the run folder") as info:
        fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, out, live=False)
    assert "best.pt" not in str(info.value)


def test_resume_into_a_different_model_says_so(tmp_path: Path) -> None:
    _interrupted_run(tmp_path)
    other = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(CheckpointError, match="does not match this run") as info:
        fit(other, *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path, live=False)
    _one_clear_line(str(info.value), tmp_path / "latest.pt")


def test_temp_files_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    _interrupted_run(tmp_path)
    (tmp_path / ".latest.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path, live=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "latest.pt"]


def test_damaged_checkpoints_never_load_silently(tmp_path: Path) -> None:
    """Fuzz: truncations and flipped bits of a real latest.pt are refused in one clear line
    (the content digest catches flips inside tensor data, which torch itself loads)."""
    from vidad.train.checkpoint import content_digest

    fit(_mlp(), *_tiny_loaders(), nn.MSELoss(), CONFIG, tmp_path / "run", live=False)
    good = (tmp_path / "run" / "latest.pt").read_bytes()
    want = content_digest(load_checkpoint(tmp_path / "run" / "latest.pt"))
    rng = random.Random(0)
    path = tmp_path / "fuzzed.pt"
    outcomes = {"refused": 0, "intact": 0}
    for i in range(120):
        data = bytearray(good)
        if i % 2:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        try:
            state = load_checkpoint(path, keys=loop.RESUME_KEYS)
        except CheckpointError as err:
            _one_clear_line(str(err), path)
            outcomes["refused"] += 1
        else:  # a flip outside the contents (zip bookkeeping): what loads must be intact
            assert content_digest(state) == want
            outcomes["intact"] += 1
    print(f"\nfuzzed latest.pt: {outcomes}")
    assert outcomes["refused"] >= 100, outcomes


def test_a_flipped_weight_byte_is_refused(tmp_path: Path) -> None:
    state = {"model": {"w": torch.arange(1000, dtype=torch.float32)}, "epoch": 3}
    path = tmp_path / "ckpt.pt"
    from vidad.train.checkpoint import save_checkpoint

    save_checkpoint(path, state)
    data = bytearray(path.read_bytes())
    offset = bytes(data).index(torch.arange(1000, dtype=torch.float32).numpy().tobytes()[:64])
    data[offset + 2000] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="is damaged: its contents no longer match"):
        load_checkpoint(path)
