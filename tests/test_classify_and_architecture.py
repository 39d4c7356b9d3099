"""The classification protocol (select on val, score test once) and the architecture tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from vidad.models import create_model
from vidad.models.summary import complexity_table, layer_table
from vidad.train import TrainConfig
from vidad.train.classify import (
    accuracy_metrics,
    evaluate_accuracy,
    run_directory,
    train_classifier,
)


class Blobs(Dataset):
    """Two classes of tiny clips: bright in the first or in the second half of time."""

    def __init__(self, n: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.labels = torch.arange(n) % 2
        self.clips = torch.rand(n, 3, 4, 8, 8, generator=gen) * 0.3
        for i, label in enumerate(self.labels.tolist()):
            self.clips[i, :, 2 * label : 2 * label + 2] += 0.7

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | int]:
        return {"video": self.clips[i], "label": int(self.labels[i])}


class TinyNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 8 * 8, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def test_train_classifier_selects_on_val_and_scores_test(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = TrainConfig(epochs=3, lr=0.05, optimizer="sgd", schedule="none", batch_size=8)
    run = train_classifier(
        "toy",
        TinyNet(),
        Blobs(32, 0),
        Blobs(16, 1),
        Blobs(16, 2),
        config,
        tmp_path,
        settings={"x": 1},
    )
    assert len(run.history) == 3
    best = max(h["val_accuracy"] for h in run.history)
    assert run.val_accuracy == pytest.approx(best)
    assert run.test_accuracy == 1.0  # the toy task is separable
    assert Path(run.run_dir).parent == tmp_path


def test_run_directory_changes_with_settings(tmp_path: Path) -> None:
    a = run_directory(tmp_path, "r", {"depth": 3})
    assert a == run_directory(tmp_path, "r", {"depth": 3})
    assert a != run_directory(tmp_path, "r", {"depth": 5})


def test_accuracy_helpers() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert accuracy_metrics(logits, torch.tensor([0, 1, 1]))["val_accuracy"] == pytest.approx(2 / 3)
    assert evaluate_accuracy(TinyNet(), Blobs(4, 0), batch_size=2) in (0.0, 0.25, 0.5, 0.75, 1.0)


def test_layer_table_follows_the_real_forward_pass() -> None:
    model = create_model("c3d", size="tiny", num_classes=5, num_frames=8, crop_size=32)
    table = layer_table(model, model.input_spec.example(1))
    assert list(table["layer"][:4]) == ["conv1", "conv1_bn", "pool1", "conv2"]
    assert table.iloc[0]["output (C, T, H, W)"] == (8, 8, 32, 32)
    assert table.iloc[2]["output (C, T, H, W)"] == (8, 8, 16, 16)  # pool1 keeps time
    assert table.iloc[-1]["output (C, T, H, W)"] == (5,)
    assert table["parameters"].sum() == sum(p.numel() for p in model.parameters())


def test_complexity_table_relative_difference() -> None:
    table = complexity_table([{"quantity": "p", "ours": 101.0, "published": 100.0}])
    assert table.loc[0, "difference"] == pytest.approx(0.01)


def test_a_zero_best_accuracy_is_reported_as_zero(tmp_path: Path) -> None:
    """A run whose best validation accuracy is exactly 0 must say 0, not NaN."""
    import torch
    from torch.utils.data import Dataset

    from vidad.train import TrainConfig
    from vidad.train.classify import train_classifier

    class Always(Dataset):
        def __init__(self, label: int) -> None:
            self.label = label

        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int) -> dict:
            return {"video": torch.zeros(3), "label": self.label}

    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([10.0, -10.0]))  # always predicts class 0
    config = TrainConfig(epochs=1, lr=1e-9, batch_size=2, amp="off")
    run = train_classifier(
        "zero", model, Always(0), Always(1), Always(1), config, tmp_path, settings={}
    )
    assert run.val_accuracy == 0.0 and run.test_accuracy == 0.0
