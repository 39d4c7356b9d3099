"""Frame-level detection AP on hand-computed cases (VOC2010+ all-points interpolation)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torchvision.ops import box_iou as tv_box_iou

from vidad.eval import average_precision_per_class, box_iou, evaluate, mean_ap
from vidad.eval.detection import voc_average_precision

FULL = (0.0, 0.0, 1.0, 1.0)
LEFT = (0.0, 0.0, 0.5, 1.0)
RIGHT = (0.5, 0.0, 1.0, 1.0)


def _gt(*rows: tuple) -> pd.DataFrame:
    """Rows (video_id, timestamp, box, action_id)."""
    return pd.DataFrame(
        [(v, t, *box, a) for v, t, box, a in rows],
        columns=["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id"],
    )


def _det(*rows: tuple) -> pd.DataFrame:
    """Rows (video_id, timestamp, box, action_id, score)."""
    return pd.DataFrame(
        [(v, t, *box, a, s) for v, t, box, a, s in rows],
        columns=["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "score"],
    )


def test_box_iou_matches_torchvision() -> None:
    rng = np.random.default_rng(0)
    corners = rng.random((2, 9, 2, 2))
    boxes = np.concatenate([corners.min(axis=2), corners.max(axis=2)], axis=-1)
    a, b = boxes[0], boxes[1][:5]
    expected = tv_box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert np.allclose(box_iou(a, b), expected)
    assert box_iou(np.array([FULL]), np.array([LEFT]))[0, 0] == pytest.approx(0.5)
    assert box_iou(np.array([LEFT]), np.array([RIGHT]))[0, 0] == 0.0
    assert box_iou(np.array([[0.2, 0.2, 0.2, 0.5]]), np.array([FULL]))[0, 0] == 0.0
    assert box_iou(np.zeros((0, 4)), np.array([FULL])).shape == (0, 1)


def test_perfect_detections_give_ap_one() -> None:
    gt = _gt(("v", 1, LEFT, 1), ("v", 1, RIGHT, 1), ("v", 2, FULL, 2), ("w", 1, LEFT, 2))
    det = gt.assign(score=[0.9, 0.8, 0.7, 0.6])
    ap = average_precision_per_class(gt, det, [1, 2])
    assert ap == {1: 1.0, 2: 1.0}
    assert mean_ap(ap) == 1.0


def test_wrong_class_or_wrong_box_gives_ap_zero() -> None:
    gt = _gt(("v", 1, LEFT, 1))
    wrong_class = _det(("v", 1, LEFT, 2, 0.9))
    wrong_box = _det(("v", 1, RIGHT, 1, 0.9))
    ap = average_precision_per_class(gt, wrong_class, [1, 2])
    assert ap[1] == 0.0 and math.isnan(ap[2])  # class 2 has no ground truth
    assert average_precision_per_class(gt, wrong_box, [1]) == {1: 0.0}


def test_duplicate_detection_is_a_false_positive() -> None:
    gt = _gt(("v", 1, LEFT, 1))
    # TP at 0.9 then the duplicate at 0.8: recall reaches 1 at precision 1 -> AP 1
    dup_second = _det(("v", 1, LEFT, 1, 0.9), ("v", 1, LEFT, 1, 0.8))
    assert average_precision_per_class(gt, dup_second, [1]) == {1: 1.0}
    # a false positive ranked first: recall 1 is only reached at precision 1/2 -> AP 0.5
    fp_first = _det(("v", 1, RIGHT, 1, 0.9), ("v", 1, LEFT, 1, 0.8))
    assert average_precision_per_class(gt, fp_first, [1]) == {1: 0.5}


@pytest.mark.parametrize(("x2", "hit"), [(0.245, False), (0.255, True), (0.25, True)])
def test_iou_threshold_boundary(x2: float, hit: bool) -> None:
    gt = _gt(("v", 1, LEFT, 1))  # area 0.5; a box [0, 0, x2, 1] inside it has IoU 2 * x2
    det = _det(("v", 1, (0.0, 0.0, x2, 1.0), 1, 0.9))
    assert average_precision_per_class(gt, det, [1])[1] == (1.0 if hit else 0.0)


def test_two_classes_with_known_map() -> None:
    gt = _gt(("v", 1, LEFT, 1), ("v", 2, LEFT, 1), ("v", 1, RIGHT, 2))
    det = _det(
        ("v", 1, LEFT, 1, 0.9),  # TP
        ("v", 1, RIGHT, 1, 0.8),  # FP
        ("v", 2, LEFT, 1, 0.7),  # TP: recall 1/2 @ 1, then 1 @ 2/3 -> AP 1/2 + 1/2 * 2/3
        ("v", 1, LEFT, 2, 0.6),  # FP
        ("v", 1, RIGHT, 2, 0.5),  # TP: recall 1 @ 1/2 -> AP 1/2
    )
    ap = average_precision_per_class(gt, det, [1, 2, 3])
    assert ap[1] == pytest.approx(5 / 6)
    assert ap[2] == pytest.approx(0.5)
    assert math.isnan(ap[3])
    assert mean_ap(ap) == pytest.approx((5 / 6 + 0.5) / 2)


def test_matching_is_restricted_to_the_same_frame() -> None:
    gt = _gt(("v", 1, LEFT, 1))
    other_time = _det(("v", 2, LEFT, 1, 0.9))
    other_video = _det(("w", 1, LEFT, 1, 0.9))
    assert average_precision_per_class(gt, other_time, [1]) == {1: 0.0}
    assert average_precision_per_class(gt, other_video, [1]) == {1: 0.0}


def test_greedy_and_voc_matching_differ_on_overlapping_boxes() -> None:
    # the second detection overlaps the claimed box best but the free one by IoU 0.947 too
    gt = _gt(("v", 1, FULL, 1), ("v", 1, (0.0, 0.0, 0.9, 1.0), 1))
    det = _det(("v", 1, FULL, 1, 0.9), ("v", 1, (0.0, 0.0, 0.95, 1.0), 1, 0.8))
    assert average_precision_per_class(gt, det, [1], matching="greedy") == {1: 1.0}
    assert average_precision_per_class(gt, det, [1], matching="voc") == {1: 0.5}


def test_edge_cases() -> None:
    gt = _gt(("v", 1, LEFT, 1))
    no_det = _det()
    assert average_precision_per_class(gt, no_det, [1]) == {1: 0.0}
    assert math.isnan(voc_average_precision(np.array([True]), 0))
    assert math.isnan(mean_ap({1: float("nan")}))
    with pytest.raises(ValueError, match="lacks column"):
        average_precision_per_class(gt, no_det.drop(columns="score"), [1])


def test_evaluate_pools_and_groups_by_sequence() -> None:
    gt = _gt(("a", 1, LEFT, 1), ("b", 1, LEFT, 1), ("b", 1, RIGHT, 2))
    gt["sequence"] = [5, 10, 10]
    det = _det(
        ("a", 1, LEFT, 1, 0.9),  # TP in sequence 5
        ("b", 1, RIGHT, 1, 0.95),  # FP in sequence 10, ranked above everything
        ("b", 1, LEFT, 1, 0.5),  # TP in sequence 10
        ("b", 1, RIGHT, 2, 0.4),  # TP in sequence 10
    )  # no "sequence" column: inherited from the video
    table = evaluate(gt, det, [1, 2], group_by="sequence")
    value = table.set_index(["group", "metric", "action_id"])["value"]
    assert list(table.columns) == ["group", "metric", "action_id", "value", "num_gt", "num_det"]
    # pooled class 1: FP, TP, TP over 2 GT: precision 1/2 at recall 1/2 is lifted to the 2/3
    # reached at recall 1 by the interpolation -> AP 2/3
    assert value[("all", "AP", 1)] == pytest.approx(2 / 3)
    assert value[("all", "mAP", pd.NA)] == pytest.approx((2 / 3 + 1) / 2)
    assert value[(5, "AP", 1)] == 1.0 and math.isnan(value[(5, "AP", 2)])
    assert value[(5, "mAP", pd.NA)] == 1.0
    assert value[(10, "AP", 1)] == 0.5 and value[(10, "mAP", pd.NA)] == 0.75
    assert value[("mean", "mAP", pd.NA)] == pytest.approx(0.875)
    assert value[("mean", "AP", 2)] == 1.0  # NaN of sequence 5 skipped
    counts = table.set_index(["group", "metric", "action_id"])["num_gt"]
    assert counts[(10, "AP", 1)] == 1 and counts[("all", "mAP", pd.NA)] == 3
    assert set(evaluate(gt, det, [1, 2])["group"]) == {"all"}
