"""Hand-made trained variants for the architecture chapters' tests (no training, no model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vidad.train.classify import ClassifierRun
from vidad.train.recognition import Variant, VariantResult

#: Two reversed pairs: (sit_down, stand_up) and (raise_arms, lower_arms).
CLASSES = ("sit_down", "stand_up", "raise_arms", "lower_arms")


class FakeModel:
    """Stands in for a trained model where a result only reads its attributes."""

    def __init__(self, embed_dim: int = 16, input_spec: Any = None) -> None:
        self.embed_dim = embed_dim
        self.input_spec = input_spec


def fake_result(
    label: str,
    *,
    val: float,
    test: float,
    labels: Sequence[int] = (0, 1, 2, 3),
    predictions: Sequence[int] | None = None,
    model: str = "c3d",
    options: dict[str, Any] | None = None,
    params: int = 1000,
    gmacs: float = 0.5,
    classes: Sequence[str] = CLASSES,
    history: list[dict[str, float]] | None = None,
    fake_model: Any = None,
) -> VariantResult:
    """A variant whose run reports ``val`` / ``test`` accuracy and the given test predictions."""
    predictions = list(labels) if predictions is None else list(predictions)
    run = ClassifierRun(
        label,
        history or [{"epoch": 1, "train_loss": 1.0, "val_accuracy": val}],
        1,
        val,
        test,
        "runs/none",
        list(labels),
        predictions,
    )
    return VariantResult(
        Variant(label, model, dict(options or {})),
        params,
        gmacs,
        run,
        tuple(classes),
        fake_model or FakeModel(),
    )
