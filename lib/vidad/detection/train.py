"""Train and evaluate SlowFast + RoI head detectors under the loss variants of the source study.

The variants differ only in the loss and in the BatchNorm over the logits, the two changes of
the interaction-detection study that chapter 9 replicates (its numbers are in
:mod:`vidad.detection.published`): BCE, BCE + BN, focal BCE, focal BCE + BN (the source's
method) and mmaction2's focal variant (the focal loss of Lin et al., "Focal Loss for Dense
Object Detection", ICCV 2017, applied per class to sigmoid outputs). Every run goes through
the book's training loop with ground-truth person boxes; the epoch is chosen on the validation
mAP (held-out *train* sequences), and test is scored once with that checkpoint
(:func:`evaluate_run`), with ground-truth boxes and with boxes that imitate a person detector.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score
from torch import nn

from vidad.detection.data import KeyframeClips, boxes_by_keyframe, collate_keyframes
from vidad.eval.detection import evaluate
from vidad.losses import make_loss
from vidad.models import create_model
from vidad.models.roi_head import SlowFastDetector  # registers "slowfast_detector"
from vidad.train import TrainConfig, fit, load_checkpoint, make_loader
from vidad.train.checkpoint import content_digest
from vidad.train.classify import run_directory
from vidad.train.loop import to_device


@dataclass(frozen=True)
class LossVariant:
    """One row of the comparison: a loss (with its options) and the logit BatchNorm switch."""

    label: str
    loss: str
    logit_batchnorm: bool = False
    options: dict[str, float] = field(default_factory=dict)


LOSS_VARIANTS: dict[str, LossVariant] = {
    "bce": LossVariant("BCE", "bce"),
    "bce_bn": LossVariant("BCE + BN", "bce", logit_batchnorm=True),
    "focal": LossVariant("focal BCE", "focal_bce", options={"gamma": 2.0}),
    "focal_bn": LossVariant(
        "focal BCE + BN (source)", "focal_bce", logit_batchnorm=True, options={"gamma": 2.0}
    ),
    "mmaction_focal": LossVariant(
        "mmaction2 focal", "mmaction_focal", options={"alpha": 1.0, "gamma": 2.0}
    ),
}


@dataclass(frozen=True)
class DetectionSetup:
    """Model, input and optimisation settings shared by every variant."""

    size: str = "tiny"
    num_frames: int = 16  # fast-pathway frames around the keyframe
    frame_stride: int = 1
    crop_size: int = 96  # frames are resized to crop_size x crop_size
    motion: bool = False
    temporal_pool: str = "avg"
    dropout: float = 0.5
    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1

    def train_config(self, seed: int) -> TrainConfig:
        """AdamW + cosine schedule with warm-up: one recipe for every variant and seed."""
        return TrainConfig.adamw_cosine(
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_epochs=self.warmup_epochs,
            batch_size=self.batch_size,
            seed=seed,
        )


class BatchedDetector(nn.Module):
    """Adapter for the training loop, which calls ``model(inputs)`` with one object."""

    def __init__(self, detector: SlowFastDetector) -> None:
        super().__init__()
        self.detector = detector

    @property
    def channels_last_3d_on_cpu(self) -> bool:
        """The wrapped detector's layout choice (:func:`vidad.train.loop.wants_channels_last_3d`
        reads it from the model ``fit`` is given)."""
        return bool(getattr(self.detector, "channels_last_3d_on_cpu", False))

    def forward(self, inputs: dict[str, Any]) -> torch.Tensor:
        return self.detector(inputs["clip"], inputs["boxes"])


def build_detector(
    setup: DetectionSetup,
    variant: LossVariant,
    num_classes: int,
    seed: int,
    init_state: dict[str, torch.Tensor] | None = None,
) -> SlowFastDetector:
    """A seeded detector; ``init_state`` (e.g. our synth-actions SlowFast) initialises the
    backbone wherever names and shapes match (the classifier never does)."""
    torch.manual_seed(seed)
    model = create_model(
        "slowfast_detector",
        setup.size,
        num_classes,
        backbone_options={"num_frames": setup.num_frames, "crop_size": setup.crop_size},
        temporal_pool=setup.temporal_pool,
        dropout=setup.dropout,
        logit_batchnorm=variant.logit_batchnorm,
    )
    if init_state is not None:
        own = model.state_dict()
        prefix = "blocks."
        matched = {
            k: v
            for k, v in ((prefix + k.split("blocks.", 1)[-1], v) for k, v in init_state.items())
            if k in own and own[k].shape == v.shape
        }
        own.update(matched)
        model.load_state_dict(own)
    return model


def map_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Mean over classes of the box-level AP (ground-truth boxes, classes with a positive).

    NaN when no validation box has a positive label (mAP is undefined there): ``fit`` then
    stops at that epoch and says so, rather than selecting an epoch on a constant.
    """
    probs, y = torch.sigmoid(outputs.float()).numpy(), targets.numpy()
    if y.ndim != 2:
        return {"val_map": float("nan")}
    aps = [
        average_precision_score(y[:, c], probs[:, c]) for c in range(y.shape[1]) if y[:, c].any()
    ]
    return {"val_map": float(np.mean(aps)) if aps else float("nan")}


@dataclass
class DetectionRun:
    """A trained variant: history, chosen epoch, and the model in eval mode."""

    key: str
    variant: LossVariant
    seed: int
    history: list[dict[str, float]]
    best_epoch: int
    model: SlowFastDetector = field(repr=False)
    run_dir: str = ""


def run_settings(
    variant: LossVariant,
    setup: DetectionSetup,
    seed: int,
    data_key: str,
    init_state: dict[str, torch.Tensor] | None,
) -> dict[str, Any]:
    """What keys a detector's run folder. The initial backbone weights enter by their content
    digest: a re-trained ``pretrain`` backbone must start new runs, never resume the
    detectors fine-tuned from the old one (a flag "pretrained or not" would)."""
    return {
        "variant": asdict(variant),
        "setup": asdict(setup),
        "seed": seed,
        "data": data_key,
        "init": None if init_state is None else content_digest(init_state),
    }


def train_variant(
    key: str,
    variant: LossVariant,
    setup: DetectionSetup,
    train: KeyframeClips,
    val: KeyframeClips,
    seed: int,
    runs_root: str | Path,
    data_key: str,
    init_state: dict[str, torch.Tensor] | None = None,
) -> DetectionRun:
    """Train one variant with one seed; keeps the epoch with the best validation mAP."""
    num_classes = train.items[0].labels.shape[1]
    model = build_detector(setup, variant, num_classes, seed, init_state)
    net = BatchedDetector(model)
    run_dir = run_directory(
        runs_root, f"{key}-seed{seed}", run_settings(variant, setup, seed, data_key, init_state),
        model,
    )  # fmt: skip
    config = setup.train_config(seed)
    loss = make_loss(variant.loss, **variant.options)
    result = fit(
        net,
        make_loader(train, setup.batch_size, shuffle=True, seed=seed, drop_last=True,
                    collate_fn=collate_keyframes),
        make_loader(val, setup.batch_size, shuffle=False, seed=seed,
                    collate_fn=collate_keyframes),
        loss,
        config,
        run_dir,
        metrics_fn=map_metrics,
        monitor="val_map",
        mode="max",
        live=False,
    )  # fmt: skip
    state = load_checkpoint(result.best_path, map_location="cpu")["model"]
    net.load_state_dict(state)
    return DetectionRun(
        key, variant, seed, result.history, int(result.best_epoch or 0), model.cpu().eval(),
        str(run_dir),
    )  # fmt: skip


@torch.inference_mode()
def predict_boxes(
    model: SlowFastDetector, data: KeyframeClips, batch_size: int = 16
) -> list[np.ndarray]:
    """Per-keyframe (K, C) action probabilities for the boxes the dataset serves."""
    model.eval()
    device = next(model.parameters()).device
    out: list[np.ndarray] = []
    for lo in range(0, len(data), batch_size):
        items = [data[i] for i in range(lo, min(lo + batch_size, len(data)))]
        inputs, _ = collate_keyframes(items)
        counts = [len(it["boxes"]) for it in items]
        if sum(counts) == 0:
            out.extend(np.zeros((0, model.config.num_classes), np.float32) for _ in items)
            continue
        logits = model(to_device(inputs["clip"], device), inputs["boxes"].to(device))
        probs = torch.sigmoid(logits.float()).cpu().numpy()
        out.extend(np.split(probs, np.cumsum(counts)[:-1]))
    return out


def detections_table(
    data: KeyframeClips,
    probs: list[np.ndarray],
    classes: list[int],
    boxes: dict[tuple[str, float], np.ndarray] | None = None,
) -> pd.DataFrame:
    """AVA-style detection rows (one per box and class, score = the action probability)."""
    rows = []
    for item, p in zip(data.items, probs, strict=True):
        kf_boxes = item.boxes if boxes is None else boxes.get(
            (item.video_id, round(item.timestamp, 3)), item.boxes[:0]
        )  # fmt: skip
        for box, scores in zip(kf_boxes, p, strict=True):
            for c, score in zip(classes, scores, strict=True):
                rows.append((item.video_id, item.timestamp, *map(float, box), c, float(score)))
    columns = ["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "score"]
    return pd.DataFrame(rows, columns=columns)


def evaluate_run(
    run: DetectionRun,
    gt: pd.DataFrame,
    classes: list[int],
    sets: dict[str, KeyframeClips],
    detector: pd.DataFrame,
) -> pd.DataFrame:
    """Tidy AP / mAP table of one run on test (:func:`vidad.eval.detection.evaluate`, grouped
    by ``sequence``), with ground-truth boxes (``sets["test"]``) and with the ``detector``
    boxes (``sets["test_det"]``); columns ``boxes``, ``variant`` and ``seed`` are added."""
    out = []
    for boxes, name in (("gt", "test"), ("detector", "test_det")):
        probs = predict_boxes(run.model, sets[name])
        override = boxes_by_keyframe(detector) if boxes == "detector" else None
        table = detections_table(sets[name], probs, classes, override)
        result = evaluate(gt, table, classes, group_by="sequence")
        out.append(result.assign(boxes=boxes, variant=run.key, seed=run.seed))
    return pd.concat(out, ignore_index=True)
