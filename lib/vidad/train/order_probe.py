"""Does a dataset need time? Two small CNNs that differ only in seeing frame order.

``synth-actions`` is built with time-reversed class pairs (sit down / stand up, ...), so a
model that looks at frames one at a time *should not* tell a pair apart, while a model that
sees the same frames in order should. The two probes here make that measurable:

* ``single frames``: a 2-D CNN applied to every frame on its own; a clip's prediction is the
  mean of its frames' probabilities (order is thrown away);
* ``frames in order``: the same CNN whose first layer takes the clip's frames as channels
  ("early fusion"), so it can see which pose comes first.

Both see the same colour thumbnails, each clip minus its own mean frame (order-free, removes the
static background), train on the train split only, and are scored on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from vidad.progress import progress_bar

VIEWS: tuple[str, ...] = ("single frames", "frames in order")


class FrameCNN(nn.Module):
    """Three conv blocks, global average pooling (translation-invariant), a linear classifier."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 16) -> None:
        super().__init__()

        def block(cin: int, cout: int, pool: bool) -> list[nn.Module]:
            layers: list[nn.Module] = [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.features = nn.Sequential(
            *block(in_channels, width, True),
            *block(width, 2 * width, True),
            *block(2 * width, 4 * width, False),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(4 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def standardize_clips(thumbs: np.ndarray) -> torch.Tensor:
    """(N, T, C, S, S) -> float tensor, each clip minus its mean frame, divided by its std.

    Both statistics are invariant to the order of frames, so they give the single-frame probe
    no hint of time.
    """
    x = torch.from_numpy(np.ascontiguousarray(thumbs, dtype=np.float32))
    x = x - x.mean(dim=1, keepdim=True)
    return x / (x.flatten(1).std(dim=1).view(-1, 1, 1, 1, 1) + 1e-6)


@dataclass(frozen=True)
class ProbeConfig:
    """Training budget of one probe (the same for both views)."""

    epochs: int = 30
    width: int = 16
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    frames_per_step: int = 4
    max_shift: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.width < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(f"invalid ProbeConfig {self}")


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift every clip of (B, T, C, S, S) by its own random offset (same for all its frames).

    The figure's place in the frame says nothing about the action; shifting it teaches the
    probes so, which matters with only a few dozen training clips per class.
    """
    if max_shift == 0:
        return x
    size = x.shape[-1]
    padded = torch.nn.functional.pad(x.flatten(1, 2), [max_shift] * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_shift + 1, (len(x), 2), generator=generator)
    out = torch.stack(
        [
            padded[i, :, dy : dy + size, dx : dx + size]
            for i, (dy, dx) in enumerate(offsets.tolist())
        ]
    )
    return out.view_as(x)


def _logits(model: FrameCNN, x: torch.Tensor, view: str) -> torch.Tensor:
    """Clip logits; for single frames, log of the mean of per-frame probabilities."""
    if view == "frames in order":
        return model(x.flatten(1, 2))
    b, t = x.shape[:2]
    probs = model(x.flatten(0, 1)).softmax(dim=1).view(b, t, -1).mean(dim=1)
    return probs.clamp_min(1e-8).log()


def probe_device() -> torch.device:
    """The GPU when there is one (the ``gpu`` profile), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_probe(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    view: str,
    config: ProbeConfig,
    progress: bool | None = None,
) -> FrameCNN:
    """Fit one probe on (clips, labels) with AdamW and a one-cycle schedule, seeded."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {VIEWS}")
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    in_channels = x.shape[1] * x.shape[2] if view == "frames in order" else x.shape[2]
    device = probe_device()
    model = FrameCNN(in_channels, num_classes, config.width).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    steps_per_epoch = -(-len(x) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
    )
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    epochs = progress_bar(
        range(config.epochs), desc=f"probe: {view}", leave=False, enabled=progress
    )
    for _ in epochs:
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            xb = random_shift(x[idx], config.max_shift, generator).to(device)
            yb = y[idx].to(device)
            if view == "single frames":
                # a few random frames per clip and step: order-free, and T times cheaper
                pick = torch.randint(
                    0, xb.shape[1], (len(xb), config.frames_per_step), generator=generator
                ).to(device)
                frames = xb[torch.arange(len(xb), device=device).unsqueeze(1), pick]
                loss = loss_fn(
                    model(frames.flatten(0, 1)), yb.repeat_interleave(config.frames_per_step)
                )
            else:
                loss = loss_fn(model(xb.flatten(1, 2)), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return model.eval()


@torch.no_grad()
def predict_proba(model: FrameCNN, x: torch.Tensor, view: str, batch_size: int = 64) -> np.ndarray:
    """Class probabilities per clip, (N, num_classes)."""
    device = next(model.parameters()).device
    out = [
        _logits(model, x[i : i + batch_size].to(device), view).softmax(dim=1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out).numpy()


def pair_scores(
    proba: np.ndarray, labels: np.ndarray, classes: Sequence[str], pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """Per reversed pair: can the model tell the two apart? (test clips of the pair only)

    The score of a clip is p(b) / (p(a) + p(b)); accuracy thresholds it at 0.5.
    """
    index = {c: i for i, c in enumerate(classes)}
    rows = []
    for a, b in pairs:
        ia, ib = index[a], index[b]
        mask = np.isin(labels, [ia, ib])
        score = proba[mask, ib] / (proba[mask, ia] + proba[mask, ib] + 1e-12)
        truth = (labels[mask] == ib).astype(int)
        rows.append(
            {
                "pair": f"{a} / {b}",
                "clips": int(mask.sum()),
                "accuracy": float(((score > 0.5) == truth).mean()),
                "auroc": float(roc_auc_score(truth, score)),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class OrderProbeResult:
    """Everything the chapter shows: overall accuracy, pairwise scores, test probabilities."""

    overall: pd.DataFrame
    pairs: pd.DataFrame
    proba: dict[str, np.ndarray]
    test_labels: np.ndarray
    classes: list[str]


def run_order_probe(
    thumbs: np.ndarray,
    table: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    config: ProbeConfig,
    train_split: str = "train",
    test_split: str = "test",
    progress: bool | None = None,
) -> OrderProbeResult:
    """Train both probes on ``train_split`` over all classes; score them on ``test_split``."""
    classes = sorted(table["class"].unique())
    labels = table["class"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    # writable copies: torch refuses to index with pandas' read-only arrays
    train = np.array(table["split"] == train_split, dtype=bool)
    test = np.array(table["split"] == test_split, dtype=bool)
    if not train.any() or not test.any():
        raise ValueError(f"need clips in both {train_split!r} and {test_split!r}")
    x = standardize_clips(thumbs)
    y = torch.tensor(labels, dtype=torch.long)
    overall, pair_tables, probas = [], [], {}
    for view in VIEWS:
        model = train_probe(
            x[torch.from_numpy(train)],
            y[torch.from_numpy(train)],
            len(classes),
            view,
            config,
            progress,
        )
        proba = predict_proba(model, x[torch.from_numpy(test)], view)
        probas[view] = proba
        overall.append(
            {
                "view": view,
                "test accuracy (all classes)": float((proba.argmax(1) == labels[test]).mean()),
                "chance": 1.0 / len(classes),
            }
        )
        scores = pair_scores(proba, labels[test], classes, pairs)
        scores.insert(0, "view", view)
        pair_tables.append(scores)
    return OrderProbeResult(
        pd.DataFrame(overall),
        pd.concat(pair_tables, ignore_index=True),
        probas,
        labels[test],
        classes,
    )
