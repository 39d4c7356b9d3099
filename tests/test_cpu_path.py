"""The faster CPU training path gives the same numbers as the path it replaced.

The reordered uint8 -> float conversion must give the same values; channels_last_3d and the
fused optimizer must give the same loss curve within fp32 tolerance, and each path must repeat
itself exactly on a re-run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_video
from torch.utils.data import TensorDataset

from vidad.models import create_model
from vidad.synth.writer import rgb_to_yuv420p
from vidad.train import TrainConfig, fit, make_loader
from vidad.train.loop import prepare_for_device, wants_channels_last_3d
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.manifest import write_manifest
from vidad.video.transforms import ToFloatClip


def _clips(n: int = 5, t: int = 8, side: int = 20) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, t, side, side, 3), dtype=np.uint8)


def test_to_float_gives_the_values_of_the_old_conversion() -> None:
    clip = _clips(n=1)[0]
    old = torch.from_numpy(clip).permute(3, 0, 1, 2).to(torch.float32).div_(255.0).contiguous()
    new = ToFloatClip()(clip)
    assert new.is_contiguous() and new.shape == (3, 8, 20, 20)
    assert torch.equal(new, old)


def test_cached_items_keep_their_labels_and_paths(tmp_path: Path) -> None:
    root = tmp_path / "data"
    rows = []
    for i in range(3):
        make_video(root / "videos" / f"c{i}.mp4", num_frames=8, height=32, width=32)
        rows.append(
            {"path": f"videos/c{i}.mp4", "label": 2 - i, "class": "abc"[2 - i], "split": "train"}
        )
    write_manifest(pd.DataFrame(rows), root)
    ds = CachedClipDataset(root, "train", ClipCacheSpec(4, 16, 16), tmp_path / "cache")
    items = [ds[i] for i in range(len(ds))]
    assert [(it["label"], it["path"]) for it in items] == [
        (int(r["label"]), str(r["path"])) for _, r in ds.table.iterrows()
    ]


def _train(tmp_path: Path, name: str, **path) -> list[float]:
    torch.manual_seed(0)
    model = create_model("r3d_18", size="tiny", num_classes=3, num_frames=4, crop_size=16)
    data = TensorDataset(torch.randn(24, 3, 4, 16, 16), torch.arange(24) % 3)
    config = TrainConfig(epochs=3, lr=1e-3, optimizer="adamw", batch_size=8, seed=0, **path)
    result = fit(
        model,
        make_loader(data, 8, shuffle=True, seed=0),
        None,
        torch.nn.functional.cross_entropy,
        config,
        tmp_path / name,
        monitor="train_loss",
        live=False,
    )
    assert len(result.epoch_seconds) == len(result.data_seconds) == 3
    assert all(0 <= d <= s for d, s in zip(result.data_seconds, result.epoch_seconds, strict=True))
    return [r["train_loss"] for r in result.history]


def test_channels_last_and_fused_paths_keep_the_loss_curve(tmp_path: Path) -> None:
    base = _train(tmp_path, "base", channels_last_3d=False, fused_optimizer=False)
    assert base != pytest.approx([base[0]] * 3)  # it trains: the curve is not flat
    for name, path in {
        "cl": {"channels_last_3d": True},
        "fused": {"fused_optimizer": True, "channels_last_3d": False},
        "both": {"channels_last_3d": True, "fused_optimizer": True},
    }.items():
        curve = _train(tmp_path, name, **path)
        assert curve == pytest.approx(base, rel=1e-4), name
        assert _train(tmp_path, name + "-again", **path) == curve  # deterministic re-run


def test_channels_last_on_cpu_follows_the_model_family() -> None:
    cpu = torch.device("cpu")
    c3d = create_model("c3d", size="tiny", num_classes=2, num_frames=4, crop_size=16)
    tsf = create_model(
        "timesformer", size="tiny", num_classes=2, num_frames=4, crop_size=16, patch_size=8
    )
    assert wants_channels_last_3d(c3d, cpu) and not wants_channels_last_3d(tsf, cpu)
    assert prepare_for_device(c3d, cpu) is True
    conv = next(p for p in c3d.parameters() if p.dim() == 5)
    assert conv.is_contiguous(memory_format=torch.channels_last_3d)
    assert prepare_for_device(tsf, cpu) is False
    assert prepare_for_device(c3d, cpu, channels_last_3d=False) is False


def test_whole_clip_yuv_equals_frame_by_frame() -> None:
    clip = _clips(n=3, side=16)[0]
    whole = rgb_to_yuv420p(clip)
    assert whole.shape == (8, 24, 16) and whole.dtype == np.uint8
    for t in range(len(clip)):
        assert np.array_equal(whole[t], rgb_to_yuv420p(clip[t]))


def test_the_roi_detector_and_its_loop_adapter_opt_in_on_cpu() -> None:
    from vidad.detection.train import BatchedDetector

    cpu = torch.device("cpu")
    detector = create_model(
        "slowfast_detector",
        size="tiny",
        num_classes=3,
        backbone_options={"num_frames": 8, "crop_size": 32},
    )
    classifier = create_model(
        "slowfast_r50", size="tiny", num_classes=3, num_frames=8, crop_size=32
    )
    assert wants_channels_last_3d(detector, cpu)
    assert wants_channels_last_3d(BatchedDetector(detector), cpu)
    assert not wants_channels_last_3d(classifier, cpu)  # two pathways at 32x32: measured no gain
    assert not wants_channels_last_3d(BatchedDetector(detector), torch.device("meta"))
