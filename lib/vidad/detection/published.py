"""Numbers reported by the interaction-detection study chapter 9 replicates ("published" columns).

The study trained SlowFast R50 8x8 (Feichtenhofer et al., "SlowFast Networks for Video
Recognition", ICCV 2019) with an AVA-style RoI head on six interaction classes of surveillance
footage (the classes of UT-Interaction: Ryoo and Aggarwal, "UT-Interaction Dataset, ICPR contest
on Semantic Description of Human Activities (SDHA)", 2010).

All mAP values are PASCAL-VOC frame AP at IoU >= 0.5, as fractions; the source evaluates each of
its 4 test sequences (5, 10, 15, 20) separately and reports the mean of the four.
"""

from __future__ import annotations

SOURCE = (
    "the source study: SlowFast R50 8x8 + RoI head on a 6-class surveillance interaction set, "
    "20 epochs"
)
CLASSES: tuple[str, ...] = ("handshake", "point", "hug", "push", "kick", "punch")
TRAIN_COUNTS: tuple[int, ...] = (1011, 709, 757, 358, 250, 320)
TEST_COUNTS: tuple[int, ...] = (243, 132, 209, 95, 64, 94)
TEST_SEQUENCES: tuple[int, ...] = (5, 10, 15, 20)
#: mean mAP@0.5 over the 4 test sequences
MEAN_MAP: dict[str, float] = {"bce": 0.565, "focal_bn": 0.798}
#: mAP@0.5 per test sequence (5, 10, 15, 20)
SEQUENCE_MAP: dict[str, tuple[float, ...]] = {
    "bce": (0.822, 0.406, 0.533, 0.499),
    "focal_bn": (0.907, 0.775, 0.789, 0.721),
}
#: mmaction2 on AVA 2.2, SlowFast R50 8x8 (a different, 80-class benchmark; for scale only)
MMACTION_AVA_MAP: dict[str, float] = {"bce": 0.2590, "focal (alpha 3, gamma 1)": 0.2665}
