"""MemAE's memory module and models (Gong et al., ICCV 2019): the formulas, checked numerically."""

from __future__ import annotations

import math

import pytest
import torch

from vidad.models import create_model
from vidad.models.memae import (
    EPS,
    MemAE2d,
    MemAE2dConfig,
    MemoryModule,
    hard_shrink_relu,
    memae_loss,
    memory_entropy_loss,
)


def test_hard_shrinkage_matches_the_formula():
    w = torch.tensor([0.001, 0.0025, 0.003, 0.5])
    lam = 0.0025
    expected = torch.stack([torch.clamp(x - lam, min=0) * x / (abs(x - lam) + EPS) for x in w])
    assert torch.allclose(hard_shrink_relu(w, lam), expected)
    assert hard_shrink_relu(w, lam)[0] == 0 and hard_shrink_relu(w, lam)[1] == 0
    assert torch.allclose(hard_shrink_relu(w, lam)[3], torch.tensor(0.5), atol=1e-9)


def test_addressing_is_softmax_shrink_renormalize_and_readout_is_w_m():
    torch.manual_seed(0)
    mem = MemoryModule(num_items=5, dim=3, shrink_threshold=0.1)
    z = torch.randn(4, 3)
    z_hat, w = mem(z)
    soft = torch.softmax(z @ mem.memory.t(), dim=1)
    shrunk = torch.clamp(soft - 0.1, min=0) * soft / ((soft - 0.1).abs() + EPS)
    expected = shrunk / shrunk.sum(dim=1, keepdim=True)
    assert torch.allclose(w, expected, atol=1e-6)
    assert torch.allclose(w.sum(dim=1), torch.ones(4), atol=1e-6)
    assert torch.allclose(z_hat, w @ mem.memory, atol=1e-6)
    assert w.shape == (4, 5) and z_hat.shape == (4, 3)


def test_memory_init_and_weights_position_for_feature_maps():
    mem = MemoryModule(num_items=7, dim=4)
    assert mem.memory.shape == (7, 4)
    assert mem.memory.abs().max() <= 1 / 4**0.5
    z = torch.randn(2, 4, 3, 5, 6)  # (B, C, T, H, W)
    z_hat, w = mem(z)
    assert z_hat.shape == z.shape and w.shape == (2, 7, 3, 5, 6)
    # each position is addressed on its own: same as the vector path
    vec_hat, vec_w = mem(z[:, :, 1, 2, 3])
    assert torch.allclose(z_hat[:, :, 1, 2, 3], vec_hat, atol=1e-6)
    assert torch.allclose(w[:, :, 1, 2, 3], vec_w, atol=1e-6)
    with pytest.raises(ValueError, match="features"):
        mem(torch.randn(2, 5))


def test_gradients_reach_memory_and_encoder():
    torch.manual_seed(0)
    model = MemAE2d(MemAE2dConfig(num_items=10))
    x = torch.rand(6, 1, 8, 8)
    x_hat, w = model(x)
    memae_loss(x, x_hat, w).backward()
    assert model.memory.memory.grad is not None and model.memory.memory.grad.abs().sum() > 0
    first_conv = model.encoder[0]
    assert first_conv.weight.grad is not None and first_conv.weight.grad.abs().sum() > 0


def test_sparsity_grows_with_the_shrink_threshold():
    torch.manual_seed(0)
    z = torch.randn(256, 8)
    memory = torch.randn(50, 8)
    zeros = []
    for lam in (0.0, 0.01, 0.02, 0.05):
        mem = MemoryModule(50, 8, shrink_threshold=lam)
        with torch.no_grad():
            mem.memory.copy_(memory)
        _, w = mem(z)
        zeros.append(float((w == 0).float().mean()))
    assert zeros == sorted(zeros) and zeros[-1] > zeros[0]


def test_entropy_and_loss_values():
    w = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    assert abs(float(memory_entropy_loss(w)) - 0.5 * math.log(2.0)) < 1e-6
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.ones(2, 1, 2, 2)
    assert memae_loss(x, x_hat, None) == 4.0  # per-sample sum, batch mean
    assert torch.allclose(
        memae_loss(x, x_hat, w, entropy_weight=2.0), 4.0 + 2 * memory_entropy_loss(w)
    )


def test_plain_twin_has_the_same_network_without_memory():
    a, b = MemAE2d(use_memory=True), MemAE2d(use_memory=False)
    names_a = {n for n, _ in a.named_parameters() if not n.startswith("memory.")}
    assert names_a == {n for n, _ in b.named_parameters()}
    with torch.no_grad():
        x_hat, w = b.eval()(torch.rand(3, 1, 8, 8))
    assert w is None and x_hat.shape == (3, 1, 8, 8)
    assert float(x_hat.min()) >= 0 and float(x_hat.max()) <= 1


@pytest.mark.parametrize("size", ["tiny", "paper"])
def test_video_memae_round_trips_clip_shapes(size):
    model = create_model("memae3d", size).eval()
    x = torch.randn(1, 1, 16, 32, 32)  # paper input is 16 x 256 x 256; shapes scale
    with torch.no_grad():
        x_hat, w = model(x)
    assert x_hat.shape == x.shape
    assert w.shape == (1, model.config.num_items, 2, 2, 2)  # strides 1,2,2 then 2,2,2 three times
    if size == "paper":
        assert [m.out_channels for m in model.encoder if isinstance(m, torch.nn.Conv3d)] == [
            96,
            128,
            256,
            256,
        ]
        assert model.memory.memory.shape == (2000, 256)
    assert create_model("memae3d", size, use_memory=False).memory is None
    with pytest.raises(ValueError, match="unknown size"):
        create_model("memae3d", "huge")
    with pytest.raises(ValueError, match="use_memory"):
        create_model("memae2d_frames", size, use_memory="yes")


def test_frame_twin_has_the_widths_and_memory_of_the_video_model():
    video = create_model("memae3d", "tiny")
    frames = create_model("memae2d_frames", "tiny")
    assert frames.config == video.config
    assert frames.memory.memory.shape == video.memory.memory.shape
    with torch.no_grad():
        x_hat, w = frames.eval()(torch.randn(2, 1, 32, 48))
    assert x_hat.shape == (2, 1, 32, 48) and w.shape == (2, 100, 2, 3)


def test_svdd_center_eps_fix_and_bias_free_net():
    from vidad.models.svdd import SVDDNet, init_center

    net = SVDDNet(rep_dim=6)
    assert all(
        getattr(m, "bias", None) is None
        for m in net.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)
    )

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x

    c = init_center(Fixed(), torch.tensor([[0.05, -0.02, 1.0], [0.05, -0.04, 3.0]]), eps=0.1)
    assert c.tolist() == pytest.approx([0.1, -0.1, 2.0])


def test_deep_sad_loss_on_a_hand_computed_batch():
    from vidad.models.svdd import deep_sad_loss, svdd_distance

    center = torch.zeros(2)
    feats = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    assert svdd_distance(feats, center).tolist() == [1.0, 4.0, 25.0]
    labels = torch.tensor([0, 1, -1])  # unlabelled, labelled normal, labelled anomaly
    expected = (1.0 + 4.0 + 1.0 / (25.0 + 1e-6)) / 3
    assert float(deep_sad_loss(feats, center, labels)) == pytest.approx(expected)
    assert float(deep_sad_loss(feats, center, torch.zeros(3))) == pytest.approx(30 / 3)
