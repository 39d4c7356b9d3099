"""``TrainConfig``: every knob of the shared training loop, validated before any compute.

One frozen dataclass so a chapter's ``params.yaml`` column maps onto it 1:1, it can be stored in
a checkpoint as a plain dict (``torch.load(weights_only=True)`` accepts it) and a typo fails in
``__post_init__`` with one message listing every problem, not halfway through epoch 12.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd")
SCHEDULES: tuple[str, ...] = ("step", "cosine", "none")
AMP_MODES: tuple[str, ...] = ("auto", "bf16", "off")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of :func:`vidad.train.fit`.

    Epochs are counted from 1. ``unfreeze_at_epoch = k`` makes epochs ``k..epochs`` train the
    last ``unfreeze_last_n`` parameter tensors of ``unfreeze_module`` (a submodule name of the
    model, ``""`` = the whole model) at ``unfreeze_lr`` (default: ``lr``), unscheduled: the
    fine-tuned layers get one fixed rate while the rest keeps following ``schedule``.
    ``amp="auto"`` means bf16 autocast on CUDA only; ``channels_last_3d=None`` (auto) gives 5-D
    tensors that layout where it is the faster one (CUDA; on CPU the model families that
    measured faster, see :func:`vidad.train.loop.wants_channels_last_3d`), ``True`` always,
    ``False`` never. ``fused_optimizer`` asks for torch's fused (single-kernel) Adam / AdamW step
    instead of the default multi-tensor one. ``log_every`` (batches) sets how often the progress
    bar shows the running loss.
    """

    epochs: int = 30
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    momentum: float = 0.9
    schedule: str = "step"
    step_size: int = 10
    gamma: float = 0.1
    warmup_epochs: int = 0
    batch_size: int = 8
    seed: int = 0
    grad_clip: float | None = None
    amp: str = "auto"
    channels_last_3d: bool | None = None
    fused_optimizer: bool = False
    unfreeze_at_epoch: int | None = None
    unfreeze_last_n: int = 0
    unfreeze_lr: float | None = None
    unfreeze_module: str = ""
    log_every: int = 10

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        if not self.lr > 0:
            problems.append(f"lr must be > 0, got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.momentum < 1:
            problems.append(f"momentum must be in [0, 1), got {self.momentum}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {list(SCHEDULES)}, got {self.schedule!r}")
        if self.step_size < 1:
            problems.append(f"step_size must be >= 1, got {self.step_size}")
        if not 0 < self.gamma <= 1:
            problems.append(f"gamma must be in (0, 1], got {self.gamma}")
        if not 0 <= self.warmup_epochs < self.epochs:
            problems.append(f"warmup_epochs must be in [0, epochs), got {self.warmup_epochs}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1, got {self.batch_size}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(f"grad_clip must be > 0 or None, got {self.grad_clip}")
        if self.amp not in AMP_MODES:
            problems.append(f"amp must be one of {list(AMP_MODES)}, got {self.amp!r}")
        if self.unfreeze_at_epoch is not None:
            if not 1 <= self.unfreeze_at_epoch <= self.epochs:
                problems.append(
                    f"unfreeze_at_epoch must be in [1, epochs={self.epochs}] or None, "
                    f"got {self.unfreeze_at_epoch}"
                )
            if self.unfreeze_last_n < 1:
                problems.append(
                    f"unfreeze_last_n must be >= 1 when unfreeze_at_epoch is set, "
                    f"got {self.unfreeze_last_n}"
                )
        if self.unfreeze_last_n < 0:
            problems.append(f"unfreeze_last_n must be >= 0, got {self.unfreeze_last_n}")
        if self.unfreeze_lr is not None and not self.unfreeze_lr > 0:
            problems.append(f"unfreeze_lr must be > 0 or None, got {self.unfreeze_lr}")
        if self.log_every < 1:
            problems.append(f"log_every must be >= 1, got {self.log_every}")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def adamw_cosine(
        cls,
        *,
        epochs: int,
        lr: float,
        weight_decay: float,
        warmup_epochs: int,
        batch_size: int,
        seed: int,
    ) -> TrainConfig:
        """AdamW with linear warm-up then cosine decay: the recipe every classifier of the book
        (the architecture chapters, pretraining, the RoI detector) trains with."""
        return cls(
            epochs=epochs,
            lr=lr,
            optimizer="adamw",
            weight_decay=weight_decay,
            schedule="cosine",
            warmup_epochs=warmup_epochs,
            batch_size=batch_size,
            seed=seed,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of primitives: safe inside a ``weights_only`` checkpoint and dvclive."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a params column, rejecting unknown keys (typos) in one error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig keys {unknown}; known: {sorted(known)}")
        return cls(**values)
