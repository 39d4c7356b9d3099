"""Data-parallel training under ``torchrun``, a no-op in a plain single process.

``torchrun`` sets ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` (and the rendezvous address); with
those absent everything here degrades to one process, so the chapters' code does not branch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from vidad.train.seeding import make_generator, worker_init_fn


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, GPU ``local_rank``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Only the main process writes checkpoints and logs, so files are written once."""
        return self.rank == 0


def init_distributed(backend: str | None = None) -> DistInfo:
    """Join the process group described by torchrun's environment (no-op when it is absent).

    Backend: ``nccl`` on CUDA, else ``gloo``. On CUDA the process is pinned to ``LOCAL_RANK``.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return dist_info()
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if world_size > 1 and not (dist.is_available() and dist.is_initialized()):
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank)


def dist_info() -> DistInfo:
    """The current process's place in an initialised process group (rank 0 of 1 without one)."""
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        return DistInfo(dist.get_rank(), dist.get_world_size(), local)
    return DistInfo()


def all_reduce_sum(values: list[float], device: torch.device | str = "cpu") -> list[float]:
    """Sum ``values`` over all processes (identity without a process group)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def barrier() -> None:
    """Wait for every process (no-op without a process group)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    seed: int,
    num_workers: int = 0,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    drop_last: bool = False,
    **kwargs: Any,
) -> DataLoader:
    """A DataLoader whose order depends only on ``(seed, epoch)``, in one process or many.

    It always uses a :class:`DistributedSampler` (one replica without a process group), which
    shuffles with ``seed + epoch``: :func:`vidad.train.fit` calls ``sampler.set_epoch(epoch)``,
    so a resumed run sees exactly the batches an uninterrupted one would, and each rank gets a
    disjoint shard under torchrun (the sampler pads the last shard by repeating samples).
    """
    info = dist_info()
    sampler = DistributedSampler(
        dataset,
        num_replicas=info.world_size,
        rank=info.rank,
        shuffle=shuffle,
        seed=seed,
        drop_last=drop_last,
    )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        drop_last=drop_last,
        worker_init_fn=worker_init_fn,
        generator=make_generator(seed),
        **kwargs,
    )
