"""Content fingerprints and checksummed records: nothing stale, nothing damaged is ever read.

Two questions every cache and every resumable run folder must answer:

* **Was it built from this data?** Keys hash what was read, not what it is called: regenerating
  synth-actions with another ``fps`` rewrites the same file names with other frames, so a key
  of names and labels would serve the old clips and resume the old models.
  :func:`path_digest` is the SHA-256 of a file's bytes (of a frame folder's files, for frame
  folders), :func:`dataset_fingerprint` that of a manifest and every file it lists. Hashing is
  cheap next to decoding (about 2 GB/s against tens of MB/s), and a digest is remembered for
  the process by the file's ``stat`` (device, inode, size, mtime, ctime), so the second look at
  an unchanged file costs one ``stat``. A file changed within the last few seconds is hashed
  again every time (the "racy" case: its next change could leave the same mtime).
* **Is it intact?** A cache writes a *record* (:func:`write_record`): JSON holding the SHA-256
  of every file it stored and a hash of itself. :func:`read_record` returns it only when every
  byte of the record and of the files it lists is as written; a flipped byte or a truncated
  file anywhere makes the cache rebuild instead of being read.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from vidad.video.manifest import MANIFEST_NAME, ManifestError, resolve_clip_path

#: What :func:`path_digest` gives for a path that is not there (decoding reports it).
MISSING = "missing"
#: The record's own checksum field (see :func:`write_record`).
RECORD_CHECKSUM = "record_sha256"
#: Files changed this recently (ns) are not remembered: their next change may keep the mtime.
SETTLE_NS = 3_000_000_000
_CHUNK = 1 << 20

_digests: dict[tuple[Any, ...], str] = {}


def clear_digest_memo() -> None:
    """Forget remembered digests (a new process starts with none)."""
    _digests.clear()


def _stat_key(path: Path, st: os.stat_result) -> tuple[Any, ...]:
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes, remembered for the process while its ``stat`` holds."""
    path = Path(path)
    st = path.stat()
    key = _stat_key(path, st)
    known = _digests.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > SETTLE_NS:
        _digests[key] = value
    return value


def _tree_digest(folder: Path) -> str:
    """Digest of a folder: every entry's name and content, in name order (recursively).

    A symlink to a file is read only when it stays inside the folder; one leading out, or to a
    folder (which could loop), is hashed by its target's name, never read (frame folders must
    not pull in files from elsewhere).
    """
    inside = folder.resolve()
    digest = hashlib.sha256()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        target = Path(entry.path)
        if entry.is_symlink() and (target.is_dir() or not target.resolve().is_relative_to(inside)):
            part = f"link:{os.readlink(entry.path)}"
        else:
            part = path_digest(target)
        digest.update(f"{entry.name}\t{part}\n".encode())
    return digest.hexdigest()


def path_digest(path: str | Path) -> str:
    """SHA-256 of a file, or of a frame folder's entries; :data:`MISSING` when absent.

    An unreadable path gives ``unreadable:<errno>`` rather than an error: the key only has to
    change when the data does, and decoding reports the problem with the clip's name.
    """
    path = Path(path)
    try:
        if path.is_dir():
            return "dir:" + _tree_digest(path)
        return file_digest(path)
    except FileNotFoundError:
        return MISSING
    except OSError as err:
        return f"unreadable:{err.errno}"


def rows_digest(paths: Iterable[str], abspaths: Iterable[str | Path]) -> str:
    """One hash of (relative path, content digest) pairs, in order: a table's data identity."""
    digest = hashlib.sha256()
    for rel, full in zip(paths, abspaths, strict=True):
        digest.update(f"{rel}\t{path_digest(full)}\n".encode())
    return digest.hexdigest()


def dataset_fingerprint(root: str | Path, manifest_name: str = MANIFEST_NAME) -> str:
    """Hash of ``root/manifest_name``'s bytes and of every file its ``path`` column lists.

    For run folders and caches that read a whole dataset: regenerating it with other settings
    changes the key even where file names stay the same. Paths that escape the root are not
    read (they count as unreadable; the dataset's own reader refuses them).
    """
    root = Path(root)
    manifest = root / manifest_name
    digest = hashlib.sha256(file_digest(manifest).encode())
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    for rel in table["path"] if "path" in table.columns else []:
        try:
            part = path_digest(resolve_clip_path(root, rel)) if rel else "empty"
        except ManifestError:
            part = "refused"
        digest.update(f"{rel}\t{part}\n".encode())
    return digest.hexdigest()[:16]


# -- checksummed records ---------------------------------------------------------------------


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _self_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != RECORD_CHECKSUM}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def write_record(path: str | Path, record: dict[str, Any], files: Iterable[str | Path]) -> Path:
    """Write ``record`` as JSON with ``sha256`` of ``files`` (by name, next to ``path``).

    The record carries its own checksum, and is written under a temporary name and renamed,
    so a half-written or altered record never passes :func:`read_record`.
    """
    path = Path(path)
    sums = {Path(f).name: file_digest(path.parent / Path(f).name) for f in files}
    body = {**record, "sha256": sums}
    body[RECORD_CHECKSUM] = _self_hash(body)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_canonical(body))
    os.replace(tmp, path)
    return path


def read_record(path: str | Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` when the record and every file it lists are intact.

    ``(None, None)`` when there is no record (nothing was cached), ``(None, reason)`` when the
    record or one of its files is damaged, missing or altered: the cache must be rebuilt.
    """
    path = Path(path)
    if not path.is_file():
        return None, None
    try:
        text = path.read_text()
        record = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"{path.name} is unreadable ({type(err).__name__})"
    if (
        not isinstance(record, dict)
        or text != _canonical(record)
        or record.get(RECORD_CHECKSUM) != _self_hash(record)
        or not isinstance(record.get("sha256"), dict)
    ):
        return None, f"{path.name} does not match its own checksum"
    for name, expected in record["sha256"].items():
        if Path(name).name != name:
            return None, f"{path.name} lists a file outside its folder ({name!r})"
        actual = path_digest(path.parent / name)
        if actual != expected:
            problem = "is missing" if actual == MISSING else "does not match its checksum"
            return None, f"{name} {problem}"
    return record, None
