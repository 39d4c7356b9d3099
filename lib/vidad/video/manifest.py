"""Clip manifests: the one table every dataset in vidad is described by.

A manifest is a CSV with at least the columns ``path, label, class, split``; ``path`` is
relative to the dataset root (the folder holding ``manifest.csv``). Extra columns (actor,
duration, frame count, ...) are kept as they are. Synthetic generators and real-data adapters
both write this format, so every model and chapter reads every dataset the same way.

Why containment matters: manifests may come from other people. A path such as
``../../home/user/.ssh/id_rsa`` or an absolute path must never be followed out of the dataset
root, so :func:`resolve_clip_path` refuses it with one clear error before any decode happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("path", "label", "class", "split")
MANIFEST_NAME = "manifest.csv"


class ManifestError(ValueError):
    """A manifest is malformed or points outside its dataset root."""


def resolve_inside(root: str | Path, path: str | Path) -> Path | None:
    """``path`` fully resolved (symlinks followed) if it stays inside ``root``, else ``None``.

    The one containment rule of vidad: manifest paths and the images of a frame folder are
    both held to it, so a link inside a dataset can never lead a reader out of it.
    """
    resolved = Path(path).resolve()
    return resolved if resolved.is_relative_to(Path(root).resolve()) else None


def resolve_clip_path(root: str | Path, relative: str | Path) -> Path:
    """Return ``root / relative`` resolved, refusing anything that escapes ``root``.

    Absolute paths, ``..`` traversal and symlinks pointing outside the root are all rejected:
    the check is done on fully resolved paths, so a symlink inside the root that leads out of
    it is caught too.
    """
    root_resolved = Path(root).resolve()
    rel = Path(relative)
    if rel.is_absolute():
        raise ManifestError(
            f"manifest path {str(relative)!r} is absolute; paths must be relative "
            f"to the dataset root {root_resolved}"
        )
    candidate = resolve_inside(root_resolved, root_resolved / rel)
    if candidate is None:
        raise ManifestError(
            f"manifest path {str(relative)!r} escapes the dataset root {root_resolved}"
        )
    return candidate


def read_manifest(root: str | Path, name: str = MANIFEST_NAME) -> pd.DataFrame:
    """Read ``root/name`` and validate its columns and every path's containment.

    Returns the table with an added ``abspath`` column (resolved, contained paths). Missing
    files are *not* an error here: decoding reports and skips them, so one absent clip does not
    stop a long run.
    """
    root = Path(root)
    file = root / name
    if not file.is_file():
        raise ManifestError(f"no manifest at {file}")
    try:
        table = pd.read_csv(file, dtype={"path": str, "class": str, "split": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ManifestError(f"manifest {file} is not a readable CSV: {_one_line(err)}") from err
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ManifestError(
            f"manifest {file} lacks required column(s) {missing}; "
            f"required: {list(REQUIRED_COLUMNS)}"
        )
    _check_cells(table, file)
    table["label"] = table["label"].astype(int)
    abspaths = []
    for row, p in enumerate(table["path"], start=1):
        try:
            abspaths.append(str(resolve_clip_path(root, p)))
        except ManifestError as err:
            raise ManifestError(f"manifest {file} row {row}: {err}") from err
    table["abspath"] = abspaths
    return table


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _check_cells(table: pd.DataFrame, file: Path) -> None:
    """One error naming the manifest, the row (1 = first data row) and the column of the
    first empty required cell or non-integer label."""
    for row, values in enumerate(table[list(REQUIRED_COLUMNS)].itertuples(index=False), start=1):
        for column, value in zip(REQUIRED_COLUMNS, values, strict=True):
            if pd.isna(value) or not str(value).strip():
                raise ManifestError(
                    f"manifest {file} row {row} (line {row + 1}): empty {column!r} cell; "
                    f"every row needs {', '.join(REQUIRED_COLUMNS)}"
                )
        label = values[1]
        if isinstance(label, str):
            ok = label.strip().lstrip("+-").isdigit()
        else:
            ok = float(label).is_integer()
        if not ok:
            raise ManifestError(
                f"manifest {file} row {row} (line {row + 1}): label {label!r} is not an "
                "integer; labels are class indices 0, 1, ..."
            )


def write_manifest(table: pd.DataFrame, root: str | Path, name: str = MANIFEST_NAME) -> Path:
    """Write ``table`` as ``root/name`` with the required columns first, deterministically.

    Rows keep their given order; floats are written with a fixed format so the same dataset
    always gives a byte-identical manifest (DVC hashes it).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ManifestError(f"cannot write a manifest without column(s) {missing}")
    for p in table["path"]:
        resolve_clip_path(root, p)
    extra = [c for c in table.columns if c not in REQUIRED_COLUMNS and c != "abspath"]
    out = Path(root) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    table[list(REQUIRED_COLUMNS) + extra].to_csv(
        out, index=False, float_format="%.6g", lineterminator="\n"
    )
    return out


def select_split(table: pd.DataFrame, splits: str | Iterable[str]) -> pd.DataFrame:
    """Rows of the given split(s), with a clear error if a split name is unknown."""
    wanted = [splits] if isinstance(splits, str) else list(splits)
    known = set(table["split"].unique())
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ManifestError(f"unknown split(s) {unknown}; this manifest has {sorted(known)}")
    return table[table["split"].isin(wanted)].reset_index(drop=True)
