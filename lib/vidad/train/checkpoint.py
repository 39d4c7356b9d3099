"""Atomic checkpoint files: a crash mid-write never replaces a good checkpoint with a torn one.

The state is written to a temporary file in the same directory, flushed and fsynced, then moved
over the target with ``os.replace`` (atomic on POSIX and Windows within one filesystem). Loading
uses ``weights_only=True``, so a checkpoint holds only tensors and primitive containers and
loading one can never execute code.

Every checkpoint carries a SHA-256 of its own contents (:data:`DIGEST_KEY`), checked when it is
loaded: a file damaged after it was written (a flipped byte, a partial copy) is refused rather
than silently resumed from. A file that cannot be loaded (missing, empty, truncated, random
bytes, damaged, a foreign torch file) raises :class:`CheckpointError` with one line naming the
file and what is wrong with it, never torch's own advice to load it with ``weights_only=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

LATEST = "latest.pt"
BEST = "best.pt"

#: How a torch zip-format file starts (what ``torch.save`` has written since torch 1.6).
_ZIP_MAGIC = b"PK\x03\x04"

#: The entry of a saved checkpoint that holds the SHA-256 of the rest (removed on loading).
DIGEST_KEY = "_content_sha256"


class CheckpointError(RuntimeError):
    """A file that is not a loadable checkpoint; the message names the file and the reason."""


def content_digest(state: Any) -> str:
    """SHA-256 of a checkpoint's contents: every tensor's dtype, shape and bytes and every other
    value's ``repr``, in order, under its key. Equal for a state and its saved-and-loaded copy.
    """
    digest = hashlib.sha256()

    def walk(obj: Any) -> None:
        if isinstance(obj, torch.Tensor):
            flat = obj.detach().to("cpu").contiguous().reshape(-1)
            digest.update(f"T{obj.dtype}{tuple(obj.shape)}:".encode())
            digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        elif isinstance(obj, dict):
            digest.update(f"D{len(obj)}:".encode())
            for key, value in obj.items():
                digest.update(repr(key).encode() + b"=")
                walk(value)
        elif isinstance(obj, list | tuple):
            digest.update(f"{type(obj).__name__}{len(obj)}:".encode())
            for value in obj:
                walk(value)
        else:
            digest.update(f"{type(obj).__name__}:{obj!r};".encode())

    walk(state)
    return digest.hexdigest()


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write ``state`` and its :func:`content_digest` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({**state, DIGEST_KEY: content_digest(state)}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (best effort: not every OS lets a directory be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the temporary files of writes that a killed process left behind in ``folder``.

    :func:`save_checkpoint` removes its temporary file when it fails, but not when the process
    is killed (SIGKILL, power loss) mid-write. Returns what it removed.
    """
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in sorted(folder.glob(".*.tmp")):  # ".<name>.<random>.tmp", see save_checkpoint
        if path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed


def _read_failure(path: Path, err: BaseException) -> str:
    """Why ``torch.load`` could not read ``path``, in words (never torch's own advice)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(_ZIP_MAGIC))
    except OSError:
        head = b""
    if isinstance(err, pickle.UnpicklingError) and "Unsupported global" in str(err):
        # a complete torch file whose pickle holds more than tensors and plain containers
        return (
            "it holds Python objects other than tensors and plain containers, which vidad never "
            "writes and will not load (it was not written by vidad)"
        )
    if head != _ZIP_MAGIC:
        return "it is not a torch checkpoint (its bytes are not a torch zip archive)"
    return f"it is truncated or damaged (the torch zip archive is unreadable: {type(err).__name__})"


def load_torch_file(path: str | Path, map_location: Any = "cpu", what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` whose every failure is one clear line.

    Missing files raise :class:`FileNotFoundError`, every other failure (a folder, unreadable,
    empty, truncated, random bytes, Python objects beyond tensors) :class:`CheckpointError`;
    both name the file and the reason. ``what`` names the file's role in the messages.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise CheckpointError(f"{what} {str(path)!r} is not a file")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise CheckpointError(f"cannot read {what} {str(path)!r}: {err.strerror}") from err
    if size == 0:
        raise CheckpointError(
            f"{what} {str(path)!r} is empty (0 bytes): the write that made it never finished"
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except OSError as err:
        raise CheckpointError(f"cannot read {what} {str(path)!r}: {err.strerror or err}") from err
    except Exception as err:  # noqa: BLE001 - every unpickling failure means "unreadable"
        reason = _read_failure(path, err)
        raise CheckpointError(f"{what} {str(path)!r} cannot be loaded: {reason}") from None


def load_checkpoint(
    path: str | Path, map_location: Any = "cpu", keys: Iterable[str] = ("model",)
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and primitives only).

    The file must hold a dict with every one of ``keys`` (default: ``"model"``, the weights)
    whose contents match the digest written with them (files without one, from older
    versions, are not checked); anything else raises :class:`CheckpointError` (see
    :func:`load_torch_file`).
    """
    path = Path(path)
    state = load_torch_file(path, map_location)
    if not isinstance(state, dict):
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a checkpoint dict "
            "(it was not written by vidad)"
        )
    expected = state.pop(DIGEST_KEY, None)
    if expected is not None and expected != content_digest(state):
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged: its contents no longer match the SHA-256 "
            "written with them (changed on disk or in a copy after it was saved)"
        )
    missing = [k for k in keys if k not in state]
    if missing:
        have = ", ".join(sorted(map(str, state))[:8]) or "none"
        raise CheckpointError(
            f"checkpoint {str(path)!r} lacks {', '.join(map(repr, missing))} (its keys: {have}): "
            "it was not written by vidad's training loop"
        )
    return state
