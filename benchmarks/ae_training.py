"""Frozen-backbone AE training: the seed's way (decode + backbone every epoch) vs the cache.

Not a test. Same backbone, clips, autoencoder, batch size and epochs on both sides:

(a) seed: every epoch decodes every train and val clip from its mp4, runs the frozen backbone
    on it, and takes one AE step per batch (val: loss only), as the seed's training loop did;
(b) cache, cold: decode each clip once into the uint8 clip cache, run the backbone once per
    clip into the embedding cache, then train the AE on the stored embeddings for all epochs;
(c) cache, warm: the embeddings already exist (any re-run, any other head): AE epochs only.

It needs the profile's synth-sports data and pretrained backbone (`dvc repro pretrain`). Caches
for (b) go to a temporary folder, so nothing of the pipeline's is reused or touched.

    python benchmarks/ae_training.py --profile cpu --backbone r2plus1d_18 --epochs 30 \
        [--json benchmarks/results/ae_training-<machine>.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from vidad.anomaly.autoencoder import EmbeddingAutoencoder, ae_widths, reconstruction_loss
from vidad.anomaly.embeddings import embed_clips
from vidad.paths import Paths
from vidad.progress import progress_bar
from vidad.train.pretrained import load_pretrained
from vidad.train.recognition import RecognitionSetup, clip_transform
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.dataset import ClipDataset


def make_ae(dim: int, seed: int) -> tuple[EmbeddingAutoencoder, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    ae = EmbeddingAutoencoder(dim, ae_widths(dim))
    return ae, torch.optim.Adam(ae.parameters(), lr=1e-3)


def ae_step(ae: EmbeddingAutoencoder, opt: torch.optim.Optimizer, z: torch.Tensor) -> None:
    if len(z) < 2:  # BatchNorm1d cannot train on one sample
        return
    ae.train()
    loss = reconstruction_loss(ae(z), z)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


@torch.no_grad()
def ae_val(ae: EmbeddingAutoencoder, z: torch.Tensor) -> float:
    ae.eval()
    return float(reconstruction_loss(ae(z), z))


def seed_way(backbone, train, val, epochs: int, batch: int, seed: int) -> float:
    """Decode + backbone + AE step for every batch of every epoch."""
    ae, opt = make_ae(backbone.embed_dim, seed)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in progress_bar(range(epochs), desc="seed way", unit="epoch"):
        for items in DataLoader(train, batch_size=batch, shuffle=True, generator=generator):
            with torch.no_grad():
                z = backbone.forward_features(items["video"]).float()
            ae_step(ae, opt, z)
        for items in DataLoader(val, batch_size=batch):
            with torch.no_grad():
                ae_val(ae, backbone.forward_features(items["video"]).float())
    return time.perf_counter() - start


def ae_epochs(train_z: torch.Tensor, val_z: torch.Tensor, epochs: int, batch: int, seed: int):
    ae, opt = make_ae(train_z.shape[1], seed)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(train_z), generator=generator).split(batch):
            ae_step(ae, opt, train_z[idx])
        for lo in range(0, len(val_z), batch):
            ae_val(ae, val_z[lo : lo + batch])


def cache_way(backbone, root, setup, transform, epochs, batch, seed, tmp: Path):
    """(cold seconds, warm seconds): caches built from scratch, then AE epochs only."""
    spec = ClipCacheSpec(setup.num_frames, setup.cache_size, setup.cache_size)
    start = time.perf_counter()
    embeddings = {}
    for split in ("train", "val"):
        data = CachedClipDataset(root, split, spec, tmp / "clips", transform=transform)
        embeddings[split] = torch.from_numpy(embed_clips(backbone, data, batch, device="cpu"))
    built = time.perf_counter() - start
    start = time.perf_counter()
    ae_epochs(embeddings["train"], embeddings["val"], epochs, batch, seed)
    warm = time.perf_counter() - start
    return built + warm, warm, len(embeddings["train"]), len(embeddings["val"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--backbone", default="r2plus1d_18")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the measurements to this file")
    args = ap.parse_args()

    backbone, meta = load_pretrained(args.profile, args.backbone)
    setup = RecognitionSetup(**meta["setup"])
    transform = clip_transform(backbone.input_spec, setup, train=False)
    root = Paths(args.profile).synth("synth-sports")
    train = ClipDataset(root, "train", setup.num_frames, transform, validate=False)
    val = ClipDataset(root, "val", setup.num_frames, transform, validate=False)

    with tempfile.TemporaryDirectory() as tmp:
        cold, warm, n_train, n_val = cache_way(
            backbone, root, setup, transform, args.epochs, args.batch_size, args.seed, Path(tmp)
        )
    seed_s = seed_way(backbone, train, val, args.epochs, args.batch_size, args.seed)
    result = {
        "benchmark": "ae_training",
        "machine": platform.node(),
        "processor": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "profile": args.profile,
        "backbone": args.backbone,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "train_clips": n_train,
        "val_clips": n_val,
        "seed_way_s": seed_s,
        "cache_cold_s": cold,
        "cache_warm_s": warm,
        "speedup_cold": seed_s / cold,
        "speedup_warm": seed_s / warm,
    }
    print(
        f"{args.backbone} ({args.profile}), {args.epochs} epochs, {n_train} train + {n_val} val "
        f"clips: seed way {seed_s:.1f} s; cache cold {cold:.1f} s ({seed_s / cold:.1f}x); "
        f"cache warm {warm:.2f} s ({seed_s / warm:.0f}x)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
