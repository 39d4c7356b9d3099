"""AVA-format action-detection annotations: CSV reader/writer, label maps, keyframe index.

AVA's CSVs have no header; one row per (person box, action) at a keyframe::

    video_id, middle_frame_timestamp, x1, y1, x2, y2, action_id, person_id

with boxes normalized to [0, 1]. Detection/result files put a ``score`` where ground truth has
``person_id``. A person doing several actions appears in several rows with the same box, so
:func:`keyframes` merges them back into one box with a multi-hot label vector -- the training
target of the RoI head.

Annotations may come from other people, so the reader checks every line (a malformed box would
otherwise surface as a silently wrong AP much later) and :func:`resolve_video_path` never
follows a video id out of the dataset root (same rule as manifests).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from vidad.video.manifest import resolve_clip_path

Kind = Literal["gt", "detections"]
BASE_COLUMNS: tuple[str, ...] = (
    "video_id",
    "timestamp",
    "x1",
    "y1",
    "x2",
    "y2",
    "action_id",
)
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi")


class AvaFormatError(ValueError):
    """An AVA annotation or label-map file is malformed (the message names file and line)."""


def _parse_number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not finite")
    return value


def _parse_row(fields: list[str], kind: Kind) -> tuple:
    """One validated row: (video_id, timestamp, x1, y1, x2, y2, action_id, last or None)."""
    allowed = (8,) if kind == "detections" else (7, 8)
    if len(fields) not in allowed:
        expected = " or ".join(map(str, allowed))
        raise ValueError(f"expected {expected} columns, got {len(fields)}")
    video_id = fields[0].strip()
    if not video_id:
        raise ValueError("empty video_id")
    timestamp = _parse_number(fields[1], "timestamp")
    names = ("x1", "y1", "x2", "y2")
    x1, y1, x2, y2 = (_parse_number(f, n) for f, n in zip(fields[2:6], names, strict=True))
    if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
        raise ValueError(
            f"box ({x1}, {y1}, {x2}, {y2}) must satisfy 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1"
        )
    action = fields[6].strip()
    if not action.isdigit() or int(action) < 1:
        raise ValueError(f"action_id {action!r} is not a positive integer")
    last: float | int | None = None
    if len(fields) == 8 and kind == "detections":
        last = _parse_number(fields[7], "score")
    elif len(fields) == 8:
        person = fields[7].strip()
        if not re.fullmatch(r"-?\d+", person):
            raise ValueError(f"person_id {person!r} is not an integer")
        last = int(person)
    return video_id, timestamp, x1, y1, x2, y2, int(action), last


def read_ava_csv(path: str | Path, kind: Kind = "gt") -> pd.DataFrame:
    """Read and validate an AVA CSV; the first bad line raises :class:`AvaFormatError`.

    Returns columns ``video_id, timestamp, x1, y1, x2, y2, action_id`` plus ``person_id``
    (nullable Int64, <NA> on 7-column rows) for ``kind="gt"`` or ``score`` for
    ``kind="detections"``. Timestamps stay integers when every one is integral (AVA's whole
    seconds), else floats. Blank lines are skipped.
    """
    if kind not in ("gt", "detections"):
        raise ValueError(f"unknown kind {kind!r}; valid: 'gt', 'detections'")
    path = Path(path)
    rows = []
    with open(path, newline="") as f:
        for line_no, fields in enumerate(csv.reader(f), start=1):
            if not fields or all(not x.strip() for x in fields):
                continue
            try:
                rows.append(_parse_row(fields, kind))
            except ValueError as err:
                raise AvaFormatError(f"{path}, line {line_no}: {err}") from None
    last = "score" if kind == "detections" else "person_id"
    table = pd.DataFrame(rows, columns=[*BASE_COLUMNS, last])
    table["video_id"] = table["video_id"].astype(str)
    if len(table) and (table["timestamp"] % 1 == 0).all():
        table["timestamp"] = table["timestamp"].astype(np.int64)
    table["action_id"] = table["action_id"].astype(np.int64)
    table[last] = table[last].astype("Int64" if kind == "gt" else float)
    return table


def _format(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def write_ava_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` as a header-less AVA CSV, atomically (temp file, then ``os.replace``).

    The 8th column is ``score`` if the table has one (a detection file), else ``person_id``
    if present; rows with a missing person id are written with 7 columns. Floats use ``%.6g``
    so the same annotations always give the same bytes (DVC hashes them).
    """
    missing = [c for c in BASE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"cannot write an AVA CSV without column(s) {missing}")
    last = "score" if "score" in table.columns else "person_id"
    columns = [*BASE_COLUMNS, last] if last in table.columns else list(BASE_COLUMNS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            for row in table[columns].itertuples(index=False):
                values = list(row)
                if len(values) == 8 and pd.isna(values[7]):
                    values = values[:7]
                writer.writerow([_format(v) for v in values])
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


_PBTXT_ITEM = re.compile(r"item\s*\{(?P<body>[^{}]*)\}")
_PBTXT_FIELD = re.compile(r'(\w+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')


def _read_pbtxt(path: Path) -> dict[int, str]:
    """AVA's ``item { name: "..." id: N }`` label list (other fields such as label_type ignored)."""
    text = path.read_text()
    labels: dict[int, str] = {}
    end = 0
    for item in [*_PBTXT_ITEM.finditer(text), None]:
        start = len(text) if item is None else item.start()
        stray = text[end:start]
        if stray.strip():
            offset = end + len(stray) - len(stray.lstrip())
            line = text.count("\n", 0, offset) + 1
            raise AvaFormatError(f"{path}, line {line}: text outside an item {{ ... }} block")
        if item is None:
            break
        line = text.count("\n", 0, item.start()) + 1
        fields = {key: quoted or bare for key, quoted, bare in _PBTXT_FIELD.findall(item["body"])}
        if "name" not in fields or not fields.get("id", "").isdigit():
            raise AvaFormatError(f"{path}, line {line}: item needs a name and an integer id")
        labels[int(fields["id"])] = fields["name"]
        end = item.end()
    return labels


def _read_id_name_csv(path: Path) -> dict[int, str]:
    """``id,name`` lines, with an optional ``id,name`` header."""
    labels: dict[int, str] = {}
    with open(path, newline="") as f:
        for line_no, fields in enumerate(csv.reader(f), start=1):
            if not fields:
                continue
            if line_no == 1 and [x.strip().lower() for x in fields] == ["id", "name"]:
                continue
            if len(fields) != 2 or not fields[0].strip().isdigit():
                raise AvaFormatError(f"{path}, line {line_no}: expected 'id,name', got {fields}")
            labels[int(fields[0])] = fields[1].strip()
    return labels


def read_label_map(path: str | Path) -> dict[int, str]:
    """Action id -> name from a ``.pbtxt`` (AVA's format) or an ``id,name`` CSV."""
    path = Path(path)
    labels = _read_pbtxt(path) if path.suffix == ".pbtxt" else _read_id_name_csv(path)
    if not labels:
        raise AvaFormatError(f"{path}: no labels found")
    return dict(sorted(labels.items()))


@dataclass(frozen=True)
class Keyframe:
    """All person boxes of one annotated keyframe with their multi-hot action labels.

    ``labels[k, j]`` is 1 when box k does action ``classes[j]``. A box none of whose actions is
    in ``classes`` keeps an all-zero row: that person is a true negative for every class, and
    dropping them would hide exactly the hard negatives the detector must learn to reject.
    """

    video_id: str
    timestamp: int | float
    boxes: np.ndarray  # (K, 4) float32, normalized x1 y1 x2 y2
    labels: np.ndarray  # (K, num_classes) float32 multi-hot
    person_ids: np.ndarray  # (K,) int64, -1 where the file has none


def keyframes(table: pd.DataFrame, classes: Sequence[int]) -> list[Keyframe]:
    """Group a ground-truth table per (video_id, timestamp), sorted by that key.

    Rows with the same box and person id are one person: their actions are merged into one
    multi-hot row. Boxes keep their first-appearance order within a keyframe.
    """
    index = {int(c): j for j, c in enumerate(classes)}
    if len(index) != len(classes):
        raise ValueError(f"classes contain duplicates: {list(classes)}")
    table = table.copy()
    person = table["person_id"] if "person_id" in table.columns else None
    table["_person"] = -1 if person is None else person.astype("Int64").fillna(-1)
    box_key = ["x1", "y1", "x2", "y2", "_person"]
    frames = []
    for (video_id, timestamp), frame in table.groupby(["video_id", "timestamp"], sort=True):
        people = frame.groupby(box_key, sort=False)
        boxes = np.zeros((people.ngroups, 4), dtype=np.float32)
        labels = np.zeros((people.ngroups, len(index)), dtype=np.float32)
        person_ids = np.zeros(people.ngroups, dtype=np.int64)
        for k, ((x1, y1, x2, y2, pid), rows) in enumerate(people):
            boxes[k] = (x1, y1, x2, y2)
            person_ids[k] = pid
            for action in rows["action_id"]:
                if int(action) in index:
                    labels[k, index[int(action)]] = 1.0
        frames.append(Keyframe(str(video_id), timestamp, boxes, labels, person_ids))
    return frames


def resolve_video_path(
    root: str | Path, video_id: str, extensions: Sequence[str] = VIDEO_EXTENSIONS
) -> Path:
    """The file ``root/<video_id><ext>`` (first extension that exists) or frame folder.

    Every candidate goes through :func:`vidad.video.manifest.resolve_clip_path`, so an id such
    as ``../../etc/passwd`` or an absolute path raises ``ManifestError`` before anything is read,
    and a symlink leading out of the root is refused too.
    """
    tried = []
    for candidate in [f"{video_id}{ext}" for ext in extensions] + [video_id]:
        path = resolve_clip_path(root, candidate)
        if path.exists():
            return path
        tried.append(path.name)
    raise FileNotFoundError(f"no video for id {video_id!r} in {root}; tried {tried}")
