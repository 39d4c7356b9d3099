"""Published numbers of the seed system (SPEC section 1), each with its source.

Kept here so that no notebook types a number: the chapter shows these only in columns or
sentences labelled "published". (``vidad.analysis.published`` holds the architecture papers'.)
"""

from __future__ import annotations

SOURCE = "seed study (SPEC section 1): TimeSformer on UCF Sports, Table 2"

#: Table 2 of the seed study (TimeSformer only): the hand-picked threshold and the "accuracy"
#: per split (anomaly: fraction flagged; normal splits: 1 - fraction flagged).
TABLE2: dict[str, dict[str, float]] = {
    "v1": {"threshold": 601.04, "anomaly": 0.90, "train": 1.00, "val": 1.00, "test": 0.87},
    "v2": {"threshold": 315.49, "anomaly": 0.90, "train": 0.96, "val": 0.81, "test": 0.87},
}

#: Rows per split in the seed study (train / val balanced by augmentation).
SPLIT_ROWS: dict[str, int] = {"train": 1396, "val": 70, "test": 38, "anomaly": 40}

#: v2 fine-tuning: (last N parameter tensors unfrozen, parameter tensors of the backbone).
UNFREEZE_LAST_N: dict[str, tuple[int, int]] = {
    "r2plus1d_18": (12, 110),
    "slowfast_r50": (30, 329),
    "timesformer": (22, 246),
}

#: Autoencoder widths per embedding size (input -> ... -> bottleneck) and batch sizes.
AE_WIDTHS: dict[int, tuple[int, ...]] = {
    768: (512, 256, 128),
    512: (384, 256, 128),
    2304: (512, 256, 128),
}
AE_BATCH: dict[str, int] = {"r2plus1d_18": 8, "slowfast_r50": 2, "timesformer": 8}

#: Embedding size of each backbone in the seed (Kinetics-400 weights, head cut off).
EMBED_DIM: dict[str, int] = {"r2plus1d_18": 512, "slowfast_r50": 2304, "timesformer": 768}
