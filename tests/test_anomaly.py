"""The embedding-space anomaly detector: AE architecture, embedding cache, metrics, scorers."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_video
from torch import nn

from vidad.anomaly import baselines, embeddings, metrics, scores
from vidad.anomaly.autoencoder import EmbeddingAutoencoder, ae_widths, reconstruction_loss
from vidad.anomaly.train_ae import (
    AESettings,
    BackboneAutoencoder,
    scaled_unfreeze_count,
    trailing_head_tensors,
    train_v1,
)
from vidad.models import create_model
from vidad.train.recognition import RecognitionSetup, clip_transform
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.manifest import write_manifest


def test_autoencoder_layers_follow_the_spec() -> None:
    ae = EmbeddingAutoencoder(768, ae_widths(768), dropout=0.3)
    enc = [type(m) for m in ae.encoder]
    dec = [type(m) for m in ae.decoder]
    L, R, D = nn.Linear, nn.ReLU, nn.Dropout
    assert enc == [nn.BatchNorm1d, L, R, D, L, R, D, L, R]
    assert dec == [L, R, D, L, R, D, L]  # last Linear without activation
    linear = [(m.in_features, m.out_features) for m in ae.modules() if isinstance(m, L)]
    assert linear == [(768, 512), (512, 256), (256, 128), (128, 256), (256, 512), (512, 768)]
    assert ae.encoder[0].num_features == 768
    assert all(m.p == 0.3 for m in ae.modules() if isinstance(m, D))


def test_published_widths_and_the_scaled_rule() -> None:
    assert ae_widths(512) == (384, 256, 128)
    assert ae_widths(2304) == (512, 256, 128)
    assert ae_widths(64) == (32, 16, 8)
    assert ae_widths(6) == (4, 4, 4)  # floor, and never wider than the input
    for dim in (8, 64, 192, 576):
        assert max(ae_widths(dim)) < dim


def test_two_layer_autoencoder_and_shapes() -> None:
    ae = EmbeddingAutoencoder(64, (32, 16)).eval()
    assert [type(m) for m in ae.decoder] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert ae(torch.randn(5, 64)).shape == (5, 64)


def test_loss_is_mse_with_sum_reduction() -> None:
    a, b = torch.zeros(2, 3), torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    assert reconstruction_loss(a, b).item() == pytest.approx(14.0)


def test_reconstruction_error_is_the_per_clip_loss() -> None:
    torch.manual_seed(0)
    ae = EmbeddingAutoencoder(16, (8, 4)).eval()
    z = np.random.default_rng(0).normal(size=(6, 16)).astype(np.float32)
    err = scores.reconstruction_errors(ae, z)
    with torch.no_grad():
        expected = [
            reconstruction_loss(ae(torch.tensor(z[i : i + 1])), torch.tensor(z[i : i + 1]))
            for i in range(6)
        ]
    np.testing.assert_allclose(err, [float(e) for e in expected], rtol=1e-5)


def test_v1_training_is_deterministic_and_lowers_the_loss(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # low-rank embeddings with a large offset: learnable, so the loss must drop
    z = (rng.normal(size=(40, 2)) @ rng.normal(size=(2, 12)) + 3).astype(np.float32)
    emb = embeddings.EmbeddingSet(
        "toy",
        "k",
        z,
        np.zeros(40, int),
        np.array(["a"] * 40),
        np.array(["train"] * 30 + ["val"] * 10),
        np.array([f"c{i}" for i in range(40)]),
    )
    settings = AESettings(epochs=6, batch_size=8, step_size=10, lr=1e-2, seed=1)
    a = train_v1(emb, settings, tmp_path / "a")
    b = train_v1(emb, settings, tmp_path / "b")
    np.testing.assert_array_equal(a.errors, b.errors)
    assert a.history[-1]["train_loss"] < a.history[0]["train_loss"]
    assert a.best_epoch == min(a.history, key=lambda h: h["val_loss"])["epoch"]


def test_unfreeze_count_scales_to_the_seed_counts_at_paper_size() -> None:
    assert scaled_unfreeze_count("r2plus1d_18", 111) == 12
    assert scaled_unfreeze_count("slowfast_r50", 330) == 30
    assert scaled_unfreeze_count("timesformer", 247) == 22
    assert scaled_unfreeze_count("r2plus1d_18", 5) == 1


def test_head_tensors_are_found_and_the_backbone_stays_frozen_in_eval() -> None:
    model = create_model("r2plus1d_18", size="tiny", num_classes=3, num_frames=4, crop_size=16)
    assert trailing_head_tensors(model) == 2  # fc.weight, fc.bias
    net = BackboneAutoencoder(model, EmbeddingAutoencoder(model.embed_dim, (8, 4)))
    net.train()
    assert not model.training and net.autoencoder.training
    assert not any(p.requires_grad for p in model.parameters())
    z, recon = net(model.input_spec.example(2))
    assert z.shape == recon.shape == (2, model.embed_dim)


# -- embedding cache -------------------------------------------------------------------------


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    rows = []
    for i, split in enumerate(["train", "train", "val", "test", "anomaly"]):
        make_video(root / "videos" / f"c{i}.mp4", num_frames=8 + i)
        rows.append(
            {"path": f"videos/c{i}.mp4", "label": i % 2, "class": "ab"[i % 2], "split": split}
        )
    write_manifest(pd.DataFrame(rows), root)
    return root


def _embed(
    clips: Path, tmp_path: Path, model, motion: bool, counter: list
) -> embeddings.EmbeddingSet:
    setup = RecognitionSetup(
        classes="all", num_frames=4, crop_size=16, cache_size=20, motion=motion,
        mirror=False, size="tiny",
        epochs=1, batch_size=2, lr=1e-3, weight_decay=0.0, warmup_epochs=0, seed=0,
    )  # fmt: skip
    transform = clip_transform(model.input_spec, setup, train=False)
    spec = ClipCacheSpec(4, 20, 20)
    data = CachedClipDataset(clips, embeddings.SPLITS, spec, tmp_path / "cache", transform)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    original = model.forward_features

    def counting(clip):
        counter.append(1)
        return original(clip)

    model.forward_features = counting
    try:
        return embeddings.cached_embeddings(
            "tiny", model, buffer.getvalue(), data, {"motion": motion}, tmp_path / "emb"
        )
    finally:
        del model.forward_features


def test_embedding_cache_is_reused_and_rekeyed(clips: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("r2plus1d_18", size="tiny", num_classes=2, num_frames=4, crop_size=16)
    calls: list = []
    first = _embed(clips, tmp_path, model, True, calls)
    assert calls and first.embeddings.shape == (5, model.embed_dim)
    assert first.embeddings.dtype == np.float32
    assert list(first.splits) == ["train", "train", "val", "test", "anomaly"]
    assert first.split("anomaly").shape == (1, model.embed_dim)
    n = len(calls)
    again = _embed(clips, tmp_path, model, True, calls)
    assert len(calls) == n and again.key == first.key  # loaded, not recomputed
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    other_transform = _embed(clips, tmp_path, model, False, calls)
    assert other_transform.key != first.key and len(calls) > n
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    other_weights = _embed(clips, tmp_path, model, True, calls)
    assert other_weights.key not in (first.key, other_transform.key)
    assert len(list((tmp_path / "emb").glob("*.npz"))) == 3


# -- metrics ---------------------------------------------------------------------------------


def test_auroc_aupr_of_separated_scores_and_ci_contains_the_estimate() -> None:
    normal, anomalous = np.arange(10.0), np.arange(10.0) + 100
    sep = metrics.separation(normal, anomalous, n_resamples=50)
    assert sep["auroc"].value == pytest.approx(1.0)
    assert sep["aupr"].value == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noisy = metrics.separation(rng.normal(size=30), rng.normal(0.8, size=30), 300, seed=3)
    for est in noisy.values():
        assert est.low <= est.value <= est.high and est.low < est.high
    assert metrics.auroc(np.array([1.0, 0.0]), np.array([0, 1])) == 0.0


def test_fast_auroc_and_aupr_equal_sklearn_with_ties() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(2)
    for _ in range(20):
        s = rng.integers(0, 6, size=25).astype(float)  # many ties
        y = rng.random(25) < 0.4
        y[:2] = [True, False]
        assert metrics.auroc(s, y) == pytest.approx(roc_auc_score(y, s))
        assert metrics.aupr(s, y) == pytest.approx(average_precision_score(y, s))


def test_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(1)
    s, y = rng.normal(size=40), np.r_[np.zeros(20, bool), np.ones(20, bool)]
    a = metrics.bootstrap(metrics.auroc, s, y, 100, seed=7)
    assert a == metrics.bootstrap(metrics.auroc, s, y, 100, seed=7)


def test_split_accuracy_follows_the_seed_definition() -> None:
    acc = metrics.split_accuracy({"test": np.array([1, 2, 3, 9]), "anomaly": np.array([5, 9])}, 4)
    assert acc == {"test": 0.75, "anomaly": 1.0}


def test_validation_threshold_ignores_test_and_anomaly() -> None:
    rng = np.random.default_rng(0)
    split = {k: rng.normal(size=20) for k in ("train", "val", "test", "anomaly")}
    before = metrics.table2(split)["validation"]["threshold"]
    assert before == pytest.approx(np.percentile(split["val"], 95))
    moved = {**split, "test": split["test"] + 50, "anomaly": split["anomaly"] - 50}
    assert metrics.table2(moved)["validation"]["threshold"] == before
    assert (
        metrics.table2(moved)["optimistic"]["threshold"]
        != metrics.table2(split)["optimistic"]["threshold"]
    )


def test_optimistic_threshold_separates_when_possible() -> None:
    split = {"test": np.array([1.0, 2.0, 3.0]), "anomaly": np.array([7.0, 8.0])}
    t = metrics.optimistic_threshold(split)
    assert 3.0 < t < 7.0
    assert metrics.split_accuracy(split, t) == {"test": 1.0, "anomaly": 1.0}


# -- baselines and the centroid rule ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(baselines.SCORERS))
def test_baselines_rank_an_obvious_outlier_highest(name: str) -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(60, 5))
    query = np.vstack([rng.normal(size=(10, 5)), np.full((1, 5), 8.0)])
    s = baselines.SCORERS[name](train, query, 0)
    assert s.shape == (11,) and int(np.argmax(s)) == 10
    np.testing.assert_allclose(s, baselines.SCORERS[name](train, query, 0))


def test_registering_a_scorer_adds_it_to_score_all() -> None:
    baselines.register_scorer("test-only")(lambda train, query, seed: query[:, 0])
    try:
        assert "test-only" in baselines.score_all(np.zeros((3, 2)), np.ones((2, 2)))
        with pytest.raises(ValueError):
            baselines.register_scorer("test-only")(lambda t, q, s: q[:, 0])
    finally:
        del baselines.SCORERS["test-only"]


def test_centroid_rule_is_distance_to_the_nearest_centroid() -> None:
    z = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [12.0, 10.0]])
    labels, centroids = scores.class_centroids(z, np.array([0, 0, 1, 1]))
    np.testing.assert_array_equal(labels, [0, 1])
    np.testing.assert_allclose(centroids, [[1, 0], [11, 10]])
    d = scores.centroid_distances(np.array([[1.0, 3.0], [11.0, 10.0], [50.0, 50.0]]), centroids)
    np.testing.assert_allclose(d[:2], [3.0, 0.0])
    assert d[2] == pytest.approx(np.hypot(39, 40))


def test_inference_is_set_up_as_training_is() -> None:
    from vidad.train.loop import autocast_context, prepare_for_device

    cpu = torch.device("cpu")
    model = nn.Conv3d(1, 2, 3)
    assert prepare_for_device(model, cpu) is False  # channels_last_3d acts on CUDA only
    assert model.weight.is_contiguous()
    assert not isinstance(autocast_context(cpu), torch.autocast)  # bf16 on CUDA only...
    with autocast_context(cpu, enabled=True):  # ...unless asked (TrainConfig.amp="bf16")
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
        assert torch.is_autocast_enabled("cpu")
    assert not torch.is_autocast_enabled("cpu")
