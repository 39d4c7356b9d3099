"""The pieces fit together: synthetic clips -> clip cache -> transforms -> a model -> `fit`.

Not a result (that is what the chapters are for): a guard that the library's parts speak the
same language (manifest columns, item dicts, tensor layouts, checkpoints).
"""

from __future__ import annotations

from pathlib import Path

import torch

from vidad.models import create_model
from vidad.synth import SynthConfig, generate_dataset
from vidad.train import TrainConfig, fit, load_checkpoint, make_loader
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.transforms import make_clip_transform


def test_train_c3d_on_cached_synth_actions(tmp_path: Path) -> None:
    root = tmp_path / "synth-actions"
    table = generate_dataset(
        "synth-actions",
        root,
        SynthConfig(clips_per_class=4, height=48, width=48, num_frames=8, fps=8.0, seed=0),
    )
    spec = ClipCacheSpec(num_frames=8, height=40, width=40)
    cache = tmp_path / "cache"
    train_tf = make_clip_transform(
        train=True,
        num_frames=8,
        crop_size=32,
        min_scale=32,
        max_scale=40,
        generator=torch.Generator().manual_seed(0),
    )
    eval_tf = make_clip_transform(train=False, num_frames=8, crop_size=32)
    train = CachedClipDataset(root, "train", spec, cache, transform=train_tf, progress=False)
    val = CachedClipDataset(root, ["val", "test"], spec, cache, transform=eval_tf, progress=False)
    assert len(train) + len(val) == len(table)
    assert train[0]["video"].shape == (3, 8, 32, 32)

    num_classes = int(table["label"].max()) + 1
    model = create_model("c3d", size="tiny", num_classes=num_classes, num_frames=8, crop_size=32)
    config = TrainConfig(epochs=2, lr=1e-3, optimizer="adamw", schedule="cosine", batch_size=8)
    result = fit(
        model,
        make_loader(train, batch_size=8, shuffle=True, seed=0),
        make_loader(val, batch_size=8, shuffle=False, seed=0),
        torch.nn.functional.cross_entropy,
        config,
        tmp_path / "run",
        live=False,
    )
    assert len(result.history) == 2
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in result.history)
    state = load_checkpoint(result.latest_path)
    assert set(state["model"]) == set(model.state_dict())
