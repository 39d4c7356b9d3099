"""From per-pixel error maps to boxes drawn over the frame: where is the anomaly?

An error map is noisy (every edge reconstructs a little wrong), so it is smoothed first, then
thresholded at a level chosen on *normal validation frames* (a high percentile of their
smoothed errors: on normal footage almost nothing should exceed it). Connected regions above
the threshold that are big enough become boxes. A box "hits" an anomaly when it overlaps the
ground-truth mask's bounding box with IoU >= ``iou`` (a loose criterion: reconstruction error
outlines the moving object, not the object's full extent).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from vidad.plotting import draw_boxes as draw_boxes  # re-exported: boxes drawn in red

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, x2/y2 exclusive


def smooth(error_map: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Gaussian-smoothed copy of a (H, W) or (T, H, W) error map (per frame)."""
    sig = (0, sigma, sigma) if error_map.ndim == 3 else sigma
    return ndimage.gaussian_filter(error_map.astype(np.float32), sig)


def pixel_threshold(normal_maps: Sequence[np.ndarray], percentile: float = 99.9) -> float:
    """The ``percentile``-th percentile of smoothed per-pixel errors of normal frames."""
    values = np.concatenate([smooth(m).reshape(-1) for m in normal_maps])
    return float(np.percentile(values, percentile))


def error_boxes(
    error_map: np.ndarray, threshold: float, min_area: int = 12, sigma: float = 1.5
) -> list[Box]:
    """Boxes around regions of the smoothed map above ``threshold``, largest first.

    A region is *detected* where the smoothed error exceeds ``threshold``; its box spans the
    pixels of that region at or above half the region's peak (full width at half maximum).
    Smoothing widens a strong blob far beyond the object when the threshold is low compared
    with the peak; the half-maximum extent keeps the box on the object.
    """
    smoothed = smooth(error_map, sigma)
    labels, _ = ndimage.label(smoothed > threshold)
    boxes = []
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        if region is None:
            continue
        inside = labels[region] == index
        if int(inside.sum()) < min_area:
            continue
        values = np.where(inside, smoothed[region], -np.inf)
        ys, xs = np.nonzero(values >= max(threshold, 0.5 * values.max()))
        y0, x0 = region[0].start, region[1].start
        box = (
            x0 + int(xs.min()),
            y0 + int(ys.min()),
            x0 + int(xs.max()) + 1,
            y0 + int(ys.max()) + 1,
        )
        boxes.append((int(inside.sum()), box))
    return [box for _, box in sorted(boxes, key=lambda item: -item[0])]


def mask_box(mask: np.ndarray) -> Box | None:
    """Bounding box of a boolean mask (None when empty)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def box_iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def localization_rates(
    boxes_per_frame: Sequence[list[Box]], masks: np.ndarray, iou: float = 0.1
) -> dict[str, float]:
    """On anomalous frames, the share with a box hitting the mask's bounding box; on normal
    frames, the share with any box at all (false alarms)."""
    hits, anomalous, alarms, normal = 0, 0, 0, 0
    for boxes, mask in zip(boxes_per_frame, masks, strict=True):
        target = mask_box(mask)
        if target is None:
            normal += 1
            alarms += bool(boxes)
        else:
            anomalous += 1
            hits += any(box_iou(box, target) >= iou for box in boxes)
    return {
        "hit_rate": hits / anomalous if anomalous else float("nan"),
        "false_alarm_rate": alarms / normal if normal else float("nan"),
        "anomalous_frames": anomalous,
        "normal_frames": normal,
    }
