"""One training loop for every chapter: config, seeding, checkpoints, freezing, DDP, ``fit``."""

from vidad.train.checkpoint import BEST, LATEST, load_checkpoint, save_checkpoint
from vidad.train.config import TrainConfig
from vidad.train.distributed import DistInfo, dist_info, init_distributed, make_loader
from vidad.train.freeze import (
    count_parameter_tensors,
    freeze_all_but_last,
    set_trainable,
    trainable_names,
    unfreeze_last,
)
from vidad.train.loop import TrainResult, default_batch_to_inputs, fit, to_device
from vidad.train.seeding import (
    get_rng_state,
    make_generator,
    seed_everything,
    set_rng_state,
    worker_init_fn,
)

__all__ = [
    "BEST",
    "LATEST",
    "DistInfo",
    "TrainConfig",
    "TrainResult",
    "count_parameter_tensors",
    "default_batch_to_inputs",
    "dist_info",
    "fit",
    "freeze_all_but_last",
    "get_rng_state",
    "init_distributed",
    "load_checkpoint",
    "make_generator",
    "make_loader",
    "save_checkpoint",
    "seed_everything",
    "set_rng_state",
    "set_trainable",
    "to_device",
    "trainable_names",
    "unfreeze_last",
    "worker_init_fn",
]
