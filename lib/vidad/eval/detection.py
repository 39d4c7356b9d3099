"""Frame-level average precision for spatio-temporal action detection (AVA / PASCAL VOC style).

Ground truth and detections are tables with one row per (box, action): columns ``video_id,
timestamp, x1, y1, x2, y2, action_id`` (boxes normalized to [0, 1]) and, for detections, a
``score``. A box with several actions is several rows, so every class is evaluated on its own,
exactly as AVA's evaluator does.

Per class, detections are taken in descending score order and each is matched within its own
frame ``(video_id, timestamp)``. A detection is a true positive when it reaches IoU >= threshold
with a ground-truth box no earlier detection has claimed; a second detection on a claimed box is
a false positive. AP is the area under the interpolated precision-recall curve (VOC2010+
"all points", the method of the AVA evaluator): precision is made monotone non-increasing from
the right and summed over the recall steps.

Two matching rules are offered because they differ when same-class boxes overlap: ``"greedy"``
(default) takes the best *unclaimed* box; ``"voc"`` takes the best box overall and counts a
false positive when it is already claimed, as the PASCAL VOC devkit and the TF Object Detection
code behind AVA's evaluator do.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Literal

import numpy as np
import pandas as pd

BOX_COLUMNS: tuple[str, ...] = ("x1", "y1", "x2", "y2")
GT_COLUMNS: tuple[str, ...] = ("video_id", "timestamp", *BOX_COLUMNS, "action_id")
DET_COLUMNS: tuple[str, ...] = (*GT_COLUMNS, "score")
FRAME_KEY: list[str] = ["video_id", "timestamp"]
Matching = Literal["greedy", "voc"]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of (N, 4) and (M, 4) boxes given as x1 y1 x2 y2.

    Degenerate boxes (zero area) have IoU 0 with everything rather than NaN, so a malformed
    detection is simply a miss.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def voc_average_precision(is_tp: np.ndarray, num_gt: int) -> float:
    """VOC2010+ AP from true-positive flags of detections sorted by descending score.

    NaN without ground truth (the class is then left out of the mean); 0 without detections.
    """
    if num_gt == 0:
        return float("nan")
    is_tp = np.asarray(is_tp, dtype=bool)
    if is_tp.size == 0:
        return 0.0
    tp = np.cumsum(is_tp)
    fp = np.cumsum(~is_tp)
    recall = np.concatenate([[0.0], tp / num_gt, [1.0]])
    precision = np.concatenate([[0.0], tp / (tp + fp), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone envelope from the right
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def _check_columns(table: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; required: {list(required)}")


def _match_frame(ious: np.ndarray, threshold: float, matching: Matching) -> np.ndarray:
    """True-positive flags for one frame's detections (rows of ``ious``, in score order)."""
    claimed = np.zeros(ious.shape[1], dtype=bool)
    is_tp = np.zeros(ious.shape[0], dtype=bool)
    if ious.shape[1] == 0:
        return is_tp
    for i, row in enumerate(ious):
        if matching == "greedy":
            row = np.where(claimed, -1.0, row)
        best = int(np.argmax(row))
        if row[best] >= threshold and not claimed[best]:
            claimed[best] = True
            is_tp[i] = True
    return is_tp


def _class_tp(
    gt: pd.DataFrame, det: pd.DataFrame, threshold: float, matching: Matching
) -> np.ndarray:
    """True-positive flags of one class's detections, sorted by descending score.

    Ties in score keep the detections' table order (a stable sort), so results are
    deterministic.
    """
    det = det.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    is_tp = np.zeros(len(det), dtype=bool)
    gt_boxes = {
        key: frame[list(BOX_COLUMNS)].to_numpy(float)
        for key, frame in gt.groupby(FRAME_KEY, sort=False)
    }
    for key, frame in det.groupby(FRAME_KEY, sort=False):
        boxes = gt_boxes.get(key)
        if boxes is None:
            continue
        ious = box_iou(frame[list(BOX_COLUMNS)].to_numpy(float), boxes)
        is_tp[frame.index.to_numpy()] = _match_frame(ious, threshold, matching)
    return is_tp


def average_precision_per_class(
    gt: pd.DataFrame,
    det: pd.DataFrame,
    classes: Iterable[int],
    iou_threshold: float = 0.5,
    matching: Matching = "greedy",
) -> dict[int, float]:
    """AP of every class in ``classes``: NaN without ground truth, 0 without detections."""
    _check_columns(gt, GT_COLUMNS, "ground truth")
    _check_columns(det, DET_COLUMNS, "detections")
    if matching not in ("greedy", "voc"):
        raise ValueError(f"unknown matching {matching!r}; valid: 'greedy', 'voc'")
    result: dict[int, float] = {}
    for c in classes:
        gt_c = gt[gt["action_id"] == c]
        det_c = det[det["action_id"] == c]
        is_tp = _class_tp(gt_c, det_c, iou_threshold, matching) if len(gt_c) else np.array([])
        result[int(c)] = voc_average_precision(is_tp, len(gt_c))
    return result


def mean_ap(ap: dict[int, float]) -> float:
    """Mean over classes with ground truth (NaN entries are skipped); NaN if there are none."""
    values = np.array(list(ap.values()), dtype=float)
    if values.size == 0 or np.isnan(values).all():
        return float("nan")
    return float(np.nanmean(values))


def _rows(
    group: Hashable, gt: pd.DataFrame, det: pd.DataFrame, ap: dict[int, float]
) -> list[dict[str, object]]:
    rows = [
        {
            "group": group,
            "metric": "AP",
            "action_id": c,
            "value": value,
            "num_gt": int((gt["action_id"] == c).sum()),
            "num_det": int((det["action_id"] == c).sum()),
        }
        for c, value in ap.items()
    ]
    rows.append(
        {
            "group": group,
            "metric": "mAP",
            "action_id": pd.NA,
            "value": mean_ap(ap),
            "num_gt": len(gt),
            "num_det": len(det),
        }
    )
    return rows


def _detection_groups(gt: pd.DataFrame, det: pd.DataFrame, group_by: str) -> pd.Series:
    """Each detection's group: its own column if present, else its video's group in ``gt``."""
    if group_by in det.columns:
        return det[group_by]
    per_video = gt.groupby("video_id")[group_by].nunique()
    ambiguous = per_video[per_video > 1].index.tolist()
    if ambiguous:
        raise ValueError(
            f"detections lack column {group_by!r} and videos {ambiguous} span several groups "
            "in the ground truth; add the column to the detections"
        )
    mapping = gt.drop_duplicates("video_id").set_index("video_id")[group_by]
    return det["video_id"].map(mapping)


def evaluate(
    gt: pd.DataFrame,
    det: pd.DataFrame,
    classes: Iterable[int],
    iou_threshold: float = 0.5,
    group_by: str | None = None,
    matching: Matching = "greedy",
) -> pd.DataFrame:
    """Tidy table of per-class AP and mAP: columns group, metric, action_id, value, num_gt, num_det.

    Group ``"all"`` pools every frame before computing AP (AVA's convention). With
    ``group_by`` (a column such as ``"sequence"``; detections without it inherit their video's
    group) every group is evaluated on its own too, and group ``"mean"`` averages the per-group
    APs and mAPs -- the source study's "mean mAP over the test sequences", which is not the
    pooled number. Detections of videos outside every group are dropped from the groups.
    """
    classes = [int(c) for c in classes]
    ap = average_precision_per_class(gt, det, classes, iou_threshold, matching)
    rows = _rows("all", gt, det, ap)
    if group_by is None:
        return _tidy(pd.DataFrame(rows))
    _check_columns(gt, [group_by], "ground truth")
    det_groups = _detection_groups(gt, det, group_by)
    per_group = []
    for group, gt_g in gt.groupby(group_by, sort=True):
        det_g = det[det_groups == group]
        ap = average_precision_per_class(gt_g, det_g, classes, iou_threshold, matching)
        per_group.extend(_rows(group, gt_g, det_g, ap))
    table = pd.DataFrame(rows + per_group)
    groups = pd.DataFrame(per_group)
    mean = (
        groups.groupby(["metric", "action_id"], dropna=False, sort=False)
        .agg(value=("value", "mean"), num_gt=("num_gt", "sum"), num_det=("num_det", "sum"))
        .reset_index()
        .assign(group="mean")
    )
    return _tidy(pd.concat([table, mean[table.columns]], ignore_index=True))


def _tidy(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype({"action_id": "Int64", "value": float})
