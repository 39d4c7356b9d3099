"""The one-class digits protocol: disjoint splits, labelled anomalies never tested, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidad.anomaly import one_class_digits as ocd

FAST = ocd.DigitsSetup(epochs=2, svdd_epochs=2, num_items=10)


def test_digits_are_real_8x8_images_in_unit_range():
    images, labels = ocd.load_digit_images()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    assert images.min() == 0 and images.max() == 1
    assert sorted(set(labels.tolist())) == list(range(10))


def test_split_is_disjoint_and_keeps_the_labelled_pool_out_of_test():
    _, labels = ocd.load_digit_images()
    split = ocd.one_class_split(labels, normal=3, seed=0)
    parts = [split.train, split.val, split.test_normal, split.test_anomaly, split.labelled_pool]
    everything = np.concatenate(parts)
    assert len(everything) == len(set(everything.tolist())) == len(labels)
    assert (labels[np.r_[split.train, split.val, split.test_normal]] == 3).all()
    assert (labels[np.r_[split.test_anomaly, split.labelled_pool]] != 3).all()
    assert not set(split.labelled_pool.tolist()) & set(split.test.tolist())
    assert split.test_labels.sum() == len(split.test_anomaly)
    other = ocd.one_class_split(labels, normal=3, seed=1)
    assert not np.array_equal(split.train, other.train)


def test_one_class_table_is_deterministic_and_sane():
    a = ocd.one_class_table([0], [0], ocd.METHODS, FAST)
    b = ocd.one_class_table([0], [0], ocd.METHODS, FAST)
    assert a.equals(b)
    assert set(a["method"]) == set(ocd.METHODS)
    # digit 0 against the rest is easy: k-NN on pixels must be far above chance
    assert a.set_index("method").loc["k-NN distance", "auroc"] > 0.9
    summary = ocd.summary_table(a)
    assert "mean" in summary["mean"].index


def test_deep_sad_uses_only_pool_anomalies_and_rejects_too_many():
    curve = ocd.deep_sad_curve([0, 2], [1], seed=0, setup=FAST)
    assert list(curve["labelled anomalies"]) == [0, 2]
    with pytest.raises(ValueError, match="pool has"):
        ocd.deep_sad_curve([10_000], [1], seed=0, setup=FAST)


def test_addressing_weights_need_a_memory():
    images, _ = ocd.load_digit_images()
    torch.manual_seed(0)
    plain = ocd.train_autoencoder(images[:16], 0, FAST, use_memory=False)
    with pytest.raises(ValueError, match="no memory"):
        ocd.addressing_weights(plain, images[:4])
    memae = ocd.train_autoencoder(images[:16], 0, FAST, use_memory=True)
    w = ocd.addressing_weights(memae, images[:4])
    assert w.shape == (4, FAST.num_items) and np.allclose(w.sum(axis=1), 1, atol=1e-5)
