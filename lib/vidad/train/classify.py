"""Train a clip classifier, pick its epoch on validation, score it once on test.

Every architecture chapter asks the same question of a model ("how well does it classify
held-out clips?"), so the protocol lives here once: train on ``train``; after every epoch
measure validation accuracy; keep the checkpoint with the best validation accuracy; report the
test accuracy of *that* checkpoint. The test split is touched exactly once per run.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from vidad.train.checkpoint import load_checkpoint
from vidad.train.config import TrainConfig
from vidad.train.distributed import make_loader
from vidad.train.loop import TrainResult, fit, to_device


def accuracy_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Top-1 accuracy of logits against integer labels (``fit``'s ``metrics_fn``)."""
    return {"val_accuracy": float((outputs.argmax(dim=1) == targets).float().mean())}


@torch.no_grad()
def predict(
    model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device | str = "cpu"
) -> tuple[list[int], list[int]]:
    """(labels, top-1 predictions) for every clip of ``dataset``, in order (eval mode)."""
    model.eval().to(device)
    loader = make_loader(dataset, batch_size=batch_size, shuffle=False, seed=0)
    labels: list[int] = []
    predictions: list[int] = []
    for batch in loader:
        clips = to_device(batch["video"], torch.device(device))
        predictions += model(clips).argmax(dim=1).tolist()
        labels += batch["label"].tolist()
    return labels, predictions


def evaluate_accuracy(
    model: nn.Module, dataset: Dataset, batch_size: int, device: torch.device | str = "cpu"
) -> float:
    """Top-1 accuracy of ``model`` on every clip of ``dataset`` (eval mode, no gradients)."""
    labels, predictions = predict(model, dataset, batch_size, device)
    correct = sum(int(a == b) for a, b in zip(labels, predictions, strict=True))
    return correct / len(labels) if labels else float("nan")


#: Library code whose changes make every old checkpoint meaningless (training and clip input).
CODE_DIRS: tuple[str, ...] = ("train", "video")


def _model_sources(model: nn.Module | None) -> set[Path]:
    """Source files of the vidad modules that define ``model``'s classes (and its submodules').

    Only these, not all of ``vidad.models``, so adding an unrelated model (a new file under
    ``models/``) does not throw away finished runs of the others.
    """
    if model is None:
        return set()
    files = set()
    for module in model.modules():
        for cls in type(module).__mro__:
            source = sys.modules.get(cls.__module__)
            if cls.__module__.startswith("vidad.") and getattr(source, "__file__", None):
                files.add(Path(source.__file__).resolve())
    return files


def code_fingerprint(model: nn.Module | None = None) -> str:
    """Hash of the library sources a run depends on (a changed model must not resume).

    That is :data:`CODE_DIRS` plus the files defining ``model``'s classes (see
    :func:`_model_sources`).
    """
    package = Path(__file__).resolve().parents[1]
    files = {f.resolve() for sub in CODE_DIRS for f in (package / sub).rglob("*.py")}
    files |= _model_sources(model)
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(file.relative_to(package).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def run_directory(
    root: str | Path, name: str, settings: dict[str, Any], model: nn.Module | None = None
) -> Path:
    """``root/name-<hash>``: an interrupted run resumes, a changed one starts anew.

    ``fit`` resumes from ``latest.pt`` when it exists; keying the folder by the settings *and*
    the library code keeps a changed parameter or model from resuming a stale checkpoint.
    ``settings`` must include the identity of the *data* (a content key such as
    :attr:`vidad.video.cache.CachedClipDataset.data_key`, an embedding set's key or
    :func:`vidad.video.fingerprint.dataset_fingerprint`): data regenerated under the same file
    names must not resume a run trained on the old data, while the same data still resumes.
    """
    key = {"settings": settings, "code": code_fingerprint(model)}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode())
    return Path(root) / f"{name}-{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class ClassifierRun:
    """Outcome of one run: per-epoch history, the chosen epoch and its test accuracy."""

    name: str
    history: list[dict[str, float]]
    best_epoch: int
    val_accuracy: float
    test_accuracy: float
    run_dir: str
    test_labels: list[int]
    test_predictions: list[int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_classifier(
    name: str,
    model: nn.Module,
    train: Dataset,
    val: Dataset,
    test: Dataset,
    config: TrainConfig,
    runs_root: str | Path,
    settings: dict[str, Any],
    generators: Mapping[str, torch.Generator] | None = None,
) -> ClassifierRun:
    """Train ``model`` on ``train``, select on ``val`` accuracy, report ``test`` accuracy.

    ``generators``: those of ``train``'s random transforms (e.g. ``{"crop": g}``), saved in
    every checkpoint so that an interrupted run resumes exactly (see :func:`fit`). A NaN
    validation accuracy (an empty validation set, every clip failed to decode) stops the run
    at that epoch with :class:`~vidad.train.loop.NaNMonitorError`; a returned run always has
    its ``best.pt``.
    """
    run_dir = run_directory(runs_root, name, {**settings, "train": config.to_dict()}, model)
    result: TrainResult = fit(
        model,
        make_loader(train, batch_size=config.batch_size, shuffle=True, seed=config.seed),
        make_loader(val, batch_size=config.batch_size, shuffle=False, seed=config.seed),
        nn.functional.cross_entropy,
        config,
        run_dir,
        metrics_fn=accuracy_metrics,
        monitor="val_accuracy",
        mode="max",
        generators=generators,
    )
    device = next(model.parameters()).device
    model.load_state_dict(load_checkpoint(result.best_path, map_location=device)["model"])
    labels, predictions = predict(model, test, config.batch_size, device)
    correct = sum(int(a == b) for a, b in zip(labels, predictions, strict=True))
    return ClassifierRun(
        name,
        result.history,
        int(result.best_epoch or 0),
        # 0.0 is a valid best accuracy (a run that never beat chance on a tiny val set)
        float("nan") if result.best_metric is None else float(result.best_metric),
        correct / len(labels) if labels else float("nan"),
        str(run_dir),
        labels,
        predictions,
    )
