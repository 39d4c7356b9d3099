"""vidad.train: the shared loop on tiny models and random tensors (fast, CPU only)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from vidad.train import (
    TrainConfig,
    count_parameter_tensors,
    fit,
    freeze_all_but_last,
    init_distributed,
    load_checkpoint,
    make_generator,
    make_loader,
    save_checkpoint,
    trainable_names,
    unfreeze_last,
)


def regression_data(n: int = 64, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    w = torch.randn(6, 2, generator=torch.Generator().manual_seed(99))  # one task for all
    return TensorDataset(x, x @ w + 0.01 * torch.randn(n, 2, generator=g))


def mlp(seed: int = 0, dropout: float = 0.2) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 2))


def cfg(**kw) -> TrainConfig:
    base = dict(epochs=4, lr=1e-2, optimizer="adam", schedule="step", step_size=2, gamma=0.5)
    base.update(kw)
    return TrainConfig(**base)


def loaders(batch_size: int = 16, seed: int = 0):
    train = make_loader(regression_data(64, 0), batch_size, shuffle=True, seed=seed)
    val = make_loader(regression_data(32, 1), batch_size, shuffle=False, seed=seed)
    return train, val


class Crash(RuntimeError):
    pass


def crashing_loss(after_train_batches: int):
    """MSE that raises on training batch number ``after_train_batches + 1`` (a 'crash')."""
    calls = {"n": 0}

    def loss(out, y):
        if torch.is_grad_enabled():
            calls["n"] += 1
            if calls["n"] > after_train_batches:
                raise Crash("simulated crash")
        return nn.functional.mse_loss(out, y)

    return loss


# --- config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"optimizer": "rmsprop"},
        {"epochs": 0},
        {"schedule": "linear"},
        {"amp": "fp16"},
        {"grad_clip": 0.0},
        {"unfreeze_at_epoch": 2, "unfreeze_last_n": 0},
        {"unfreeze_at_epoch": 9, "unfreeze_last_n": 2},
        {"warmup_epochs": 4},
    ],
)
def test_bad_config_raises(kw):
    with pytest.raises(ValueError, match="invalid TrainConfig"):
        cfg(**kw)


def test_config_roundtrip_and_unknown_keys():
    c = cfg(grad_clip=1.0)
    assert TrainConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        TrainConfig.from_dict({"epochs": 2, "lrr": 0.1})


# --- training -----------------------------------------------------------------------------------


def test_loss_decreases(tmp_path):
    train, val = loaders()
    result = fit(
        mlp(dropout=0.0),
        train,
        val,
        nn.MSELoss(),
        cfg(epochs=6, lr=5e-2, step_size=3, grad_clip=5.0),
        tmp_path,
        live=False,
    )
    losses = [r["train_loss"] for r in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert [r["epoch"] for r in result.history] == list(range(1, 7))
    assert [r["lr"] for r in result.history] == pytest.approx([5e-2] * 3 + [2.5e-2] * 3)


def test_conv3d_and_bf16_cpu(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 8, 8)
    y = torch.randint(0, 2, (8,))
    data = [{"video": x[i : i + 4], "label": y[i : i + 4]} for i in (0, 4)]
    model = nn.Sequential(
        nn.Conv3d(3, 4, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 2)
    )
    result = fit(
        model, data, data, nn.CrossEntropyLoss(), cfg(epochs=2, amp="bf16"), tmp_path, live=False
    )
    assert len(result.history) == 2
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in result.history)


def test_none_batches_are_skipped_and_counted(tmp_path):
    ds = regression_data(32)
    batches = [
        None,
        (ds.tensors[0][:16], ds.tensors[1][:16]),
        None,
        (ds.tensors[0][16:], ds.tensors[1][16:]),
    ]
    result = fit(
        mlp(), batches, [None, batches[1]], nn.MSELoss(), cfg(epochs=3), tmp_path, live=False
    )
    assert result.skipped_batches == 6  # training batches only: 2 per epoch
    assert [r["skipped_batches"] for r in result.history] == [2, 4, 6]


# --- checkpoints --------------------------------------------------------------------------------


def test_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.ones(3), "hist": [{"loss": 0.5}]})
    good = path.read_bytes()
    real_save = torch.save

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"partial checkpoint bytes")  # something reached the temp file, then...
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"epoch": 2, "w": torch.zeros(3)})
    monkeypatch.setattr(torch, "save", real_save)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pt"]  # no temp left over
    state = load_checkpoint(path, keys=("epoch", "w"))
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.ones(3))


def test_fit_checkpoints_load_weights_only(tmp_path):
    train, val = loaders()
    result = fit(mlp(), train, val, nn.MSELoss(), cfg(epochs=2), tmp_path, live=False)
    for path in (result.latest_path, result.best_path):
        state = torch.load(path, weights_only=True)
        assert {"model", "optimizer", "scheduler", "rng", "config", "epoch"} <= set(state)
    assert load_checkpoint(result.latest_path)["epoch"] == 2


@pytest.mark.parametrize("plain_loader", [False, True])
def test_resume_equals_uninterrupted(tmp_path, plain_loader):
    def make_loaders():
        if not plain_loader:
            return loaders()
        train = DataLoader(regression_data(64, 0), 16, shuffle=True, generator=make_generator(3))
        return train, DataLoader(regression_data(32, 1), 16)

    config = cfg(epochs=4, optimizer="adamw", weight_decay=0.01, schedule="cosine", warmup_epochs=1)
    model_a = mlp()
    ref = fit(model_a, *make_loaders(), nn.MSELoss(), config, tmp_path / "a", live=False)

    model_b = mlp()
    with pytest.raises(Crash):  # 4 train batches per epoch: dies inside epoch 3
        fit(model_b, *make_loaders(), crashing_loss(9), config, tmp_path / "b", live=False)
    assert load_checkpoint(tmp_path / "b" / "latest.pt")["epoch"] == 2
    model_b = mlp(seed=123)  # a fresh process: different init, all restored from latest.pt
    res = fit(model_b, *make_loaders(), nn.MSELoss(), config, tmp_path / "b", live=False)

    assert res.start_epoch == 3
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-6, rtol=0), name
    for ra, rb in zip(ref.history, res.history, strict=True):
        assert ra == pytest.approx(rb, abs=1e-6)
    assert (res.best_epoch, res.best_metric) == (ref.best_epoch, ref.best_metric)


def test_finished_run_is_not_retrained(tmp_path):
    train, val = loaders()
    first = fit(mlp(), train, val, nn.MSELoss(), cfg(epochs=2), tmp_path, live=False)
    again = fit(mlp(), train, val, nn.MSELoss(), cfg(epochs=2), tmp_path, live=False)
    assert again.start_epoch == 3 and again.history == first.history


@pytest.mark.parametrize(
    ("mode", "scores"), [("max", [0.1, 0.7, 0.3, 0.5]), ("min", [0.4, 0.2, 0.9, 0.1])]
)
def test_best_checkpoint_tracks_monitor(tmp_path, mode, scores):
    it = iter(scores)
    train, val = loaders()
    result = fit(
        mlp(),
        train,
        val,
        nn.MSELoss(),
        cfg(epochs=4),
        tmp_path,
        metrics_fn=lambda out, y: {"score": next(it)},
        monitor="score",
        mode=mode,
        live=False,
    )
    pick = max if mode == "max" else min
    want = scores.index(pick(scores)) + 1
    assert (result.best_epoch, result.best_metric) == (want, pick(scores))
    best = load_checkpoint(result.best_path)
    assert best["epoch"] == want and best["best_metric"] == pick(scores)
    assert load_checkpoint(result.latest_path)["epoch"] == 4


def test_unknown_monitor_raises(tmp_path):
    train, val = loaders()
    with pytest.raises(ValueError, match="monitor"):
        fit(mlp(), train, val, nn.MSELoss(), cfg(epochs=1), tmp_path, monitor="auc", live=False)


# --- freezing -----------------------------------------------------------------------------------


def test_freeze_and_unfreeze_counts():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    assert count_parameter_tensors(model) == 6
    names = freeze_all_but_last(model, 2)
    assert names == ["2.weight", "2.bias"] == trainable_names(model)
    assert unfreeze_last(model, 4) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    assert len(trainable_names(model)) == 4
    assert freeze_all_but_last(model, 0) == []
    with pytest.raises(ValueError):
        freeze_all_but_last(model, 7)


def backbone_model(seed: int = 0) -> nn.Module:
    """'backbone' (submodule "0", 4 tensors, frozen) + trainable head."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8)), nn.ReLU(), nn.Linear(8, 2)
    )
    model[0].requires_grad_(False)
    return model


@pytest.mark.parametrize("crash_in_epoch", [2, 4])
def test_unfreeze_event_and_resume(tmp_path, crash_in_epoch):
    config = cfg(
        epochs=4, unfreeze_at_epoch=3, unfreeze_last_n=2, unfreeze_lr=5e-4, unfreeze_module="0"
    )

    def run(model, out, loss=None):
        train, val = loaders()

        def metrics(out_, y):
            return {
                "n_trainable": len(trainable_names(model)),
                "bb_sum": float(model[0][2].weight.sum()),
            }

        return fit(
            model, train, val, loss or nn.MSELoss(), config, out, metrics_fn=metrics, live=False
        )

    model_a = backbone_model()
    initial = model_a[0][2].weight.detach().clone()
    ref = run(model_a, tmp_path / "a")
    assert [r["n_trainable"] for r in ref.history] == [2, 2, 4, 4]
    bb = [r["bb_sum"] for r in ref.history]
    assert bb[0] == bb[1] == pytest.approx(float(initial.sum()))
    assert bb[2] != bb[1] and bb[3] != bb[2]
    assert torch.equal(model_a[0][0].weight, backbone_model()[0][0].weight)  # not in last 2
    assert set(ref.trainable) == {"0.2.weight", "0.2.bias", "2.weight", "2.bias"}

    model_b = backbone_model()
    with pytest.raises(Crash):
        run(model_b, tmp_path / "b", crashing_loss(4 * (crash_in_epoch - 1) + 1))
    model_b = backbone_model()
    res = run(model_b, tmp_path / "b")
    assert res.start_epoch == crash_in_epoch
    assert res.trainable == ref.trainable
    for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6, rtol=0)
    for ra, rb in zip(ref.history, res.history, strict=True):
        assert ra == pytest.approx(rb, abs=1e-6)


# --- dvclive ------------------------------------------------------------------------------------


def test_dvclive_writes_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, val = loaders()
    out = tmp_path / "run"
    fit(mlp(), train, val, nn.MSELoss(), cfg(epochs=2), out, live=True)
    live_dir = out / "dvclive"
    assert (live_dir / "metrics.json").is_file()
    assert (live_dir / "params.yaml").is_file()
    for name in ("train_loss", "val_loss", "lr"):
        rows = (live_dir / "plots" / "metrics" / f"{name}.tsv").read_text().splitlines()
        assert rows[0] == f"step\t{name}" and len(rows) == 3
    assert not list(tmp_path.rglob("dvc.yaml"))


# --- DDP ----------------------------------------------------------------------------------------


def _ddp_worker(rank: int, world_size: int, port: int, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    info = init_distributed()
    assert info.world_size == world_size and info.rank == rank
    try:
        model = mlp(seed=0)
        train = make_loader(regression_data(32, 0), 8, shuffle=True, seed=0)
        val = make_loader(regression_data(16, 1), 8, shuffle=False, seed=0)
        result = fit(model, train, val, nn.MSELoss(), cfg(epochs=2), Path(out) / "run", live=False)
        torch.save(
            {"state": model.state_dict(), "history": result.history}, Path(out) / f"rank{rank}.pt"
        )
    finally:
        torch.distributed.destroy_process_group()


def test_ddp_two_processes_gloo(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for a, b in zip(r0["state"].values(), r1["state"].values(), strict=True):
        assert torch.equal(a, b)
    assert r0["history"] == r1["history"]  # losses are all-reduced
    assert load_checkpoint(tmp_path / "run" / "latest.pt")["epoch"] == 2
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["best.pt", "latest.pt"]


def test_dvclive_resume_appends_without_duplicates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    with pytest.raises(Crash):
        fit(mlp(), *loaders(), crashing_loss(9), cfg(epochs=4), out, live=True)
    fit(mlp(), *loaders(), nn.MSELoss(), cfg(epochs=4), out, live=True)
    rows = (out / "dvclive" / "plots" / "metrics" / "train_loss.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows] == ["step", "0", "1", "2", "3"]


# --- generators that shape a batch --------------------------------------------------------------


def test_checkpoints_hold_every_named_generator(tmp_path):
    crop = make_generator(5)
    torch.rand(3, generator=crop)
    result = fit(
        mlp(), *loaders(), nn.MSELoss(), cfg(epochs=1), tmp_path, live=False,
        generators={"crop": crop},
    )  # fmt: skip
    gens = load_checkpoint(result.latest_path)["generators"]
    assert set(gens) == {"loader.train", "loader.val", "crop"}
    assert torch.equal(gens["crop"], crop.get_state())
    with pytest.raises(TypeError, match=r"generators\['crop'\] is a int"):
        fit(mlp(), *loaders(), nn.MSELoss(), cfg(epochs=1), tmp_path / "x", live=False,
            generators={"crop": 3})  # fmt: skip
    with pytest.raises(ValueError, match="taken by a loader"):
        fit(mlp(), *loaders(), nn.MSELoss(), cfg(epochs=1), tmp_path / "y", live=False,
            generators={"loader.train": crop})  # fmt: skip


def test_resume_without_a_generator_state_warns(tmp_path):
    """A latest.pt of an older vidad (no "generators", loaders under "loader_generators")."""
    with pytest.raises(Crash):
        fit(mlp(), *loaders(), crashing_loss(5), cfg(epochs=4), tmp_path, live=False)
    state = load_checkpoint(tmp_path / "latest.pt")
    gens = state.pop("generators")
    state["loader_generators"] = {"train": gens["loader.train"], "val": gens["loader.val"]}
    save_checkpoint(tmp_path / "latest.pt", state)
    with pytest.warns(UserWarning, match="no state for generator.*crop.*not repeat"):
        result = fit(
            mlp(), *loaders(), nn.MSELoss(), cfg(epochs=4), tmp_path, live=False,
            generators={"crop": make_generator(0)},
        )  # fmt: skip
    assert result.start_epoch == 2


def test_resume_without_passing_a_saved_generator_warns(tmp_path):
    with pytest.raises(Crash):
        fit(mlp(), *loaders(), crashing_loss(5), cfg(epochs=4), tmp_path, live=False,
            generators={"crop": make_generator(0)})  # fmt: skip
    with pytest.warns(UserWarning, match="generator.*crop.*does not pass"):
        fit(mlp(), *loaders(), nn.MSELoss(), cfg(epochs=4), tmp_path, live=False)
