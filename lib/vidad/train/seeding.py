"""Seeding and RNG snapshots: what makes a resumed run bit-identical to an uninterrupted one.

A checkpoint must be loadable with ``torch.load(weights_only=True)``, so the Python and NumPy
generator states are converted to tensors and primitives here rather than pickled as objects.
"""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device) and ask for deterministic kernels.

    ``warn_only=True``: ops without a deterministic implementation warn instead of failing, so the
    same code runs everywhere while reproducible where the kernels allow it.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def worker_init_fn(worker_id: int) -> None:
    """Seed Python and NumPy in a DataLoader worker from torch's per-worker seed.

    torch already gives each worker ``base_seed + worker_id``; without this, NumPy-based
    augmentations would repeat the same random draws in every worker.
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def make_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` for DataLoader shuffling, independent of the global RNG."""
    return torch.Generator().manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """Every global RNG state as tensors / primitives (``weights_only``-loadable)."""
    version, py_state, gauss = random.getstate()
    _, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python_version": int(version),
        "python_state": torch.tensor(py_state, dtype=torch.int64),
        "python_gauss": gauss,
        "numpy_keys": torch.from_numpy(np_keys.astype(np.int64)),
        "numpy_pos": int(np_pos),
        "numpy_has_gauss": int(np_has_gauss),
        "numpy_gauss": float(np_gauss),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` captured."""
    py_state = tuple(int(v) for v in state["python_state"].tolist())
    random.setstate((state["python_version"], py_state, state["python_gauss"]))
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(
        ("MT19937", keys, state["numpy_pos"], state["numpy_has_gauss"], state["numpy_gauss"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
