"""Multi-label losses: equivalences, a naive reference, and finiteness at extreme logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vidad.losses import LOSSES, bce, focal_bce, make_loss, mmaction_focal_bce


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(7, 6, generator=g, dtype=torch.float64) * 3
    targets = (torch.rand(7, 6, generator=g) < 0.3).double()
    return logits, targets


def _naive_focal(x: torch.Tensor, y: torch.Tensor, w: float, gamma: float) -> torch.Tensor:
    p = torch.sigmoid(x)
    return -w * y * (1 - p) ** gamma * torch.log(p) - (1 - y) * p**gamma * torch.log(1 - p)


def test_bce_matches_torch() -> None:
    x, y = _data()
    assert torch.allclose(bce(x, y), F.binary_cross_entropy_with_logits(x, y))
    assert bce(x, y, reduction="none").shape == x.shape
    assert torch.allclose(bce(x, y, reduction="sum"), bce(x, y, reduction="none").sum())


def test_focal_with_gamma_zero_is_bce() -> None:
    x, y = _data(1)
    assert torch.allclose(focal_bce(x, y, gamma=0.0), bce(x, y))
    assert torch.allclose(focal_bce(x, y, gamma=0.0, reduction="none"), bce(x, y, reduction="none"))


@pytest.mark.parametrize(("w", "gamma"), [(1.0, 2.0), (3.0, 1.0), (0.5, 0.5)])
def test_focal_matches_naive_formula(w: float, gamma: float) -> None:
    x, y = _data(2)
    expected = _naive_focal(x, y, w, gamma)
    got = focal_bce(x, y, pos_weight=w, gamma=gamma, reduction="none")
    assert torch.allclose(got, expected, atol=1e-10)
    assert torch.allclose(focal_bce(x, y, pos_weight=w, gamma=gamma), expected.mean())
    assert torch.allclose(focal_bce(x, y, w, gamma, reduction="sum"), expected.sum())


def test_focal_down_weights_easy_examples() -> None:
    # a confident correct positive and negative lose far more than a borderline one
    x = torch.tensor([4.0, -4.0, 0.0])
    y = torch.tensor([1.0, 0.0, 1.0])
    ratio = focal_bce(x, y, reduction="none") / bce(x, y, reduction="none")
    assert ratio[0] < 1e-3 and ratio[1] < 1e-3
    assert ratio[2] == pytest.approx(0.25)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_finite_loss_and_gradient_at_extreme_logits(name: str) -> None:
    logits = torch.tensor([[100.0, -100.0, 100.0, -100.0, 0.0]], requires_grad=True)
    targets = torch.tensor([[1.0, 0.0, 0.0, 1.0, 1.0]])  # right, right, wrong, wrong, borderline
    loss = make_loss(name)(logits, targets)
    (grad,) = torch.autograd.grad(loss, logits)
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    # confidently wrong logits are penalised (about |x| each) and pushed the right way
    assert loss.item() > 30
    assert grad[0, 2] > 0 and grad[0, 3] < 0


def test_mmaction_focal_with_gamma_zero_is_scaled_bce() -> None:
    x, y = _data(3)
    assert torch.allclose(mmaction_focal_bce(x, y, alpha=1.0, gamma=0.0), bce(x, y))
    assert torch.allclose(mmaction_focal_bce(x, y, alpha=3.0, gamma=0.0), 3 * bce(x, y))


def test_mmaction_focal_equals_focal_bce_for_hard_targets() -> None:
    # for 0/1 targets pt is p or 1 - p, so the two spellings coincide at unit weights
    x, y = _data(4)
    assert torch.allclose(mmaction_focal_bce(x, y, gamma=2.0), focal_bce(x, y, gamma=2.0))


def test_make_loss_binds_arguments_and_rejects_unknowns() -> None:
    x, y = _data(5)
    assert torch.allclose(make_loss("focal_bce", gamma=1.0)(x, y), focal_bce(x, y, gamma=1.0))
    with pytest.raises(ValueError, match="valid losses: bce, focal_bce, mmaction_focal"):
        make_loss("focal")
    with pytest.raises(ValueError, match="unknown argument"):
        make_loss("bce", gamma=2.0)
    with pytest.raises(ValueError, match="unknown reduction"):
        focal_bce(x, y, reduction="avg")  # type: ignore[arg-type]
