"""Hand-made trained variants for the architecture chapters' tests (no training, no model)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from vidad.experiments.recognition import VariantRuns
from vidad.train.classify import ClassifierRun
from vidad.train.recognition import Variant, VariantResult

#: Two reversed pairs: (sit_down, stand_up) and (raise_arms, lower_arms).
CLASSES = ("sit_down", "stand_up", "raise_arms", "lower_arms")

#: 40 test clips, ten of each class of :data:`CLASSES`: enough for a paired CI to resolve a
#: large difference and to leave a null one unresolved.
LABELS_40 = (0, 1, 2, 3) * 10


class FakeModel:
    """Stands in for a trained model where a result only reads its attributes."""

    def __init__(self, embed_dim: int = 16, input_spec: Any = None) -> None:
        self.embed_dim = embed_dim
        self.input_spec = input_spec


def fake_run(
    label: str,
    *,
    val: float,
    test: float | None = None,
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
    """One run (one seed) of a variant that reports ``val`` / ``test`` accuracy and the given
    test predictions (``test`` defaults to the accuracy of those predictions)."""
    predictions = list(labels) if predictions is None else list(predictions)
    if test is None:
        test = sum(int(a == b) for a, b in zip(labels, predictions, strict=True)) / len(labels)
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


def fake_result(label: str, *, seed: int = 0, **kwargs: Any) -> VariantRuns:
    """:func:`fake_run` as a variant trained with one seed (what the chapters' results hold)."""
    return VariantRuns((seed,), (fake_run(label, **kwargs),))


def right_on(
    right: Iterable[int],
    labels: Sequence[int] = LABELS_40,
    miss: Literal["twin", "other_pair"] = "twin",
) -> list[int]:
    """Predictions that are right on the clip indices ``right`` and wrong elsewhere: the
    time-reversed twin of the class (``twin``: right pair, wrong direction) or a class of the
    other pair (``other_pair``: outside the pair, so not counted in direction accuracy)."""
    hits = set(right)
    wrong = {"twin": lambda y: y ^ 1, "other_pair": lambda y: (y + 2) % 4}[miss]
    return [y if i in hits else wrong(y) for i, y in enumerate(labels)]


def scored(
    label: str,
    right: Iterable[int],
    *,
    val: float = 0.5,
    labels: Sequence[int] = LABELS_40,
    miss: Literal["twin", "other_pair"] = "twin",
    **kwargs: Any,
) -> VariantRuns:
    """A variant (one seed) right on the test clips ``right`` (see :func:`right_on`); its test
    accuracy is what those predictions score."""
    return seeded(label, [right], val=val, labels=labels, miss=miss, **kwargs)


def seeded(
    label: str,
    rights: Sequence[Iterable[int]],
    *,
    val: float = 0.5,
    labels: Sequence[int] = LABELS_40,
    miss: Literal["twin", "other_pair"] = "twin",
    **kwargs: Any,
) -> VariantRuns:
    """A variant trained with ``len(rights)`` seeds (0, 1, ...), seed ``s`` right on the test
    clips ``rights[s]``."""
    runs = tuple(
        fake_run(label, val=val, labels=labels, predictions=right_on(r, labels, miss), **kwargs)
        for r in rights
    )
    return VariantRuns(tuple(range(len(runs))), runs)
