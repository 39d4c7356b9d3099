"""Train the seed's autoencoder: v1 on frozen embeddings, v2 fine-tuning the backbone's end.

Both go through the book's one training loop (:func:`vidad.train.fit`): Adam, MSE 'sum',
StepLR, best checkpoint chosen on the *validation* loss, resumable run folders keyed by
settings and code. Only train and val clips are ever seen here; test and anomaly clips are
scored afterwards, once, with the selected checkpoint.

v1 trains on the cached embeddings (seconds). v2 puts the autoencoder on top of the backbone's
``forward_features`` and reads clips, so it runs the backbone every epoch; from
``unfreeze_at_epoch`` the last N feature tensors of the backbone train too, at their own
learning rate. Note what the seed's v2 objective allows: the target is the backbone's own
(changing) embedding, so fine-tuning can lower the loss by shrinking or collapsing the
embedding rather than by modelling normal clips better. The chapter measures this.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

from vidad.anomaly.autoencoder import EmbeddingAutoencoder, ae_widths, reconstruction_loss
from vidad.anomaly.embeddings import SPLITS, EmbeddingSet, sports_dataset
from vidad.anomaly.published import UNFREEZE_LAST_N
from vidad.anomaly.scores import reconstruction_errors
from vidad.models.base import VideoModel
from vidad.train import TrainConfig, fit, load_checkpoint, make_generator, make_loader
from vidad.train.classify import run_directory
from vidad.train.loop import autocast_context, to_device
from vidad.train.pretrained import WEIGHTS_NAME, load_pretrained, pretrained_dir
from vidad.train.recognition import RecognitionSetup, clip_transform

_SOURCE_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class AESettings:
    """The autoencoder recipe (the seed study's defaults) and the v2 unfreeze event.

    :meth:`train_config` is the one place these become a :class:`vidad.train.TrainConfig`,
    for v1 and v2 alike; chapter 6 builds its settings from ``params.yaml`` with
    :meth:`vidad.experiments.embedding_anomaly.Config.ae_settings`.
    """

    epochs: int = 30
    batch_size: int = 8
    lr: float = 1e-3
    step_size: int = 10
    gamma: float = 0.1
    dropout: float = 0.3
    seed: int = 0
    unfreeze_at_epoch: int = 20
    unfreeze_lr: float = 5e-4

    def train_config(self, unfreeze_last_n: int = 0) -> TrainConfig:
        """Adam + StepLR; with ``unfreeze_last_n`` the v2 unfreeze event on ``backbone``."""
        v2 = unfreeze_last_n > 0
        return TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            optimizer="adam",
            schedule="step",
            step_size=self.step_size,
            gamma=self.gamma,
            batch_size=self.batch_size,
            seed=self.seed,
            unfreeze_at_epoch=min(self.unfreeze_at_epoch, self.epochs) if v2 else None,
            unfreeze_last_n=unfreeze_last_n,
            unfreeze_lr=self.unfreeze_lr if v2 else None,
            unfreeze_module="backbone" if v2 else "",
        )


@dataclass
class AERun:
    """A trained autoencoder (v1 or v2) and its per-clip errors on every clip."""

    backbone: str
    config: str  # "v1" | "v2"
    history: list[dict[str, float]]
    best_epoch: int
    run_dir: str
    errors: np.ndarray  # (N,) aligned with the EmbeddingSet rows
    autoencoder: EmbeddingAutoencoder = field(repr=False)
    embeddings: np.ndarray | None = field(default=None, repr=False)  # v2: fine-tuned
    unfreeze_last_n: int = 0


def make_autoencoder(in_dim: int, settings: AESettings) -> EmbeddingAutoencoder:
    """The AE for an embedding size, initialised from ``settings.seed`` (reproducible)."""
    torch.manual_seed(settings.seed)
    return EmbeddingAutoencoder(in_dim, ae_widths(in_dim), settings.dropout)


def _ae_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    (z,) = batch
    return z, z


def train_v1(embeddings: EmbeddingSet, settings: AESettings, runs_root: str | Path) -> AERun:
    """Train the AE on frozen train embeddings; keep the epoch with the lowest val loss.

    The training loader drops a last batch of one clip: BatchNorm1d cannot train on it
    (SlowFast's batch size is 2).
    """
    model = make_autoencoder(embeddings.dim, settings)
    config = settings.train_config()
    run_dir = run_directory(
        runs_root,
        f"{embeddings.backbone}-v1",
        {"embeddings": embeddings.key, "ae": asdict(settings), "trainer": _SOURCE_HASH},
        model,
    )
    train = TensorDataset(torch.as_tensor(embeddings.split("train")))
    val = TensorDataset(torch.as_tensor(embeddings.split("val")))
    result = fit(
        model,
        make_loader(train, settings.batch_size, shuffle=True, seed=settings.seed, drop_last=True),
        make_loader(val, settings.batch_size, shuffle=False, seed=settings.seed),
        reconstruction_loss,
        config,
        run_dir,
        live=False,
        device="cpu",
        batch_to_inputs=_ae_batch,
    )
    model.load_state_dict(load_checkpoint(result.best_path, map_location="cpu")["model"])
    return AERun(
        embeddings.backbone,
        "v1",
        result.history,
        int(result.best_epoch or 0),
        str(run_dir),
        reconstruction_errors(model, embeddings.embeddings),
        model,
    )


class BackboneAutoencoder(nn.Module):
    """``forward(clip) -> (embedding, reconstruction)``: the AE on top of the backbone.

    The backbone starts fully frozen and always stays in eval mode: its batch-norm statistics
    are those of pretraining, and fine-tuning (v2) changes only the weights of its last tensors.
    """

    def __init__(self, backbone: VideoModel, autoencoder: EmbeddingAutoencoder) -> None:
        super().__init__()
        self.backbone = backbone
        self.autoencoder = autoencoder
        for param in backbone.parameters():
            param.requires_grad_(False)

    def train(self, mode: bool = True) -> BackboneAutoencoder:
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, clip: Any) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.backbone.forward_features(clip).float()
        return z, self.autoencoder(z)


def _v2_loss(outputs: tuple[torch.Tensor, torch.Tensor], _targets: Any) -> torch.Tensor:
    z, reconstruction = outputs
    return reconstruction_loss(reconstruction, z)


def trailing_head_tensors(model: VideoModel) -> int:
    """How many parameter tensors at the *end* of the model are not used by ``forward_features``
    (the cut-off classifier head), found by one backward pass on an example clip."""
    states = {n: p.requires_grad for n, p in model.named_parameters()}
    was_training = model.training
    model.eval()
    for param in model.parameters():
        param.requires_grad_(True)
        param.grad = None
    with torch.enable_grad():
        model.forward_features(model.input_spec.example(2)).float().sum().backward()
    used = [p.grad is not None for p in model.parameters()]
    for name, param in model.named_parameters():
        param.requires_grad_(states[name])
        param.grad = None
    model.train(was_training)
    count = 0
    for flag in reversed(used):
        if flag:
            break
        count += 1
    return count


def scaled_unfreeze_count(backbone: str, feature_tensors: int) -> int:
    """The seed's "last N of M tensors", scaled to our backbone's M: round(N / M_seed * M).

    At paper size this gives the seed's 12 / 30 / 22 (our paper-size backbones have 111 / 330 /
    247 feature tensors against the seed's 110 / 329 / 246); the tiny presets get the same
    *fraction* of their depth (about 11 %, 9 % and 9 %), i.e. roughly the last block.
    """
    n, total = UNFREEZE_LAST_N[backbone]
    return max(1, round(feature_tensors * n / total))


@torch.inference_mode()
def _score_clips(
    model: BackboneAutoencoder, dataset: Any, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(errors, embeddings) of every clip of ``dataset`` under the fine-tuned model."""
    device = next(model.autoencoder.parameters()).device
    model.eval()
    errors, embeds = [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        with autocast_context(device):
            z, recon = model(to_device(batch["video"], device))
        z, recon = z.float(), recon.float()
        errors.append(((recon - z) ** 2).sum(dim=1).cpu())
        embeds.append(z.cpu())
    return torch.cat(errors).numpy(), torch.cat(embeds).numpy()


def train_v2(
    profile: str,
    backbone: str,
    embeddings: EmbeddingSet,
    settings: AESettings,
    runs_root: str | Path,
    root: str | Path = ".",
) -> AERun:
    """Fine-tune: AE on the backbone, the backbone's last tensors unfrozen at
    ``settings.unfreeze_at_epoch``; train clips augmented as in pretraining, val clips not."""
    model, meta = load_pretrained(profile, backbone, root)
    setup = RecognitionSetup(**meta["setup"])
    spec = model.input_spec
    head = trailing_head_tensors(model)
    n_features = sum(1 for _ in model.parameters()) - head
    n_unfreeze = scaled_unfreeze_count(backbone, n_features)
    net = BackboneAutoencoder(model, make_autoencoder(model.embed_dim, settings))
    # fit counts from the end of ``backbone``, where the unused head tensors sit: skip them
    config = settings.train_config(unfreeze_last_n=n_unfreeze + head)
    weights = (pretrained_dir(profile, backbone, root) / WEIGHTS_NAME).read_bytes()
    run_dir = run_directory(
        runs_root,
        f"{backbone}-v2",
        {
            "embeddings": embeddings.key,
            "weights": hashlib.sha256(weights).hexdigest()[:16],
            "ae": asdict(settings),
            "trainer": _SOURCE_HASH,
        },
        net,
    )
    crop = make_generator(settings.seed)  # saved in every checkpoint: an exact resume
    augment = clip_transform(spec, setup, train=True, generator=crop)
    plain = clip_transform(spec, setup, train=False)
    train_all = sports_dataset(profile, setup, augment, SPLITS, root)
    eval_all = sports_dataset(profile, setup, plain, SPLITS, root)
    if list(eval_all.table["path"]) != list(embeddings.paths):
        raise RuntimeError("clip order differs from the embedding set's; re-extract embeddings")
    train = Subset(train_all, np.flatnonzero(embeddings.mask("train")).tolist())
    val = Subset(eval_all, np.flatnonzero(embeddings.mask("val")).tolist())
    result = fit(
        net,
        make_loader(train, settings.batch_size, shuffle=True, seed=settings.seed, drop_last=True),
        make_loader(val, settings.batch_size, shuffle=False, seed=settings.seed),
        _v2_loss,
        config,
        run_dir,
        live=False,
        generators={"crop": crop},
    )
    device = next(net.parameters()).device
    net.load_state_dict(load_checkpoint(result.best_path, map_location=device)["model"])
    errors, tuned = _score_clips(net, eval_all, max(settings.batch_size, 8))
    return AERun(
        backbone,
        "v2",
        result.history,
        int(result.best_epoch or 0),
        str(run_dir),
        errors,
        net.autoencoder.cpu(),
        tuned,
        n_unfreeze,
    )
