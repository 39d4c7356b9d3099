"""Evaluation protocols that are not tied to one chapter (detection AP for now)."""

from vidad.eval.detection import (
    average_precision_per_class,
    box_iou,
    evaluate,
    mean_ap,
    voc_average_precision,
)

__all__ = [
    "average_precision_per_class",
    "box_iou",
    "evaluate",
    "mean_ap",
    "voc_average_precision",
]
