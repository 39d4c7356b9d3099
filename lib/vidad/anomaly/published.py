"""Published numbers of the seed system, each with its source.

The seed study this book starts from embeds UCF Sports clips (Rodriguez, Ahmed and Shah,
*Action MACH: A Spatio-temporal Maximum Average Correlation Height Filter for Action
Recognition*, CVPR 2008) with Kinetics-400 backbones (R(2+1)D-18: Tran et al., *A Closer Look
at Spatiotemporal Convolutions for Action Recognition*, CVPR 2018; SlowFast R50: Feichtenhofer
et al., *SlowFast Networks for Video Recognition*, ICCV 2019; TimeSformer: Bertasius, Wang and
Torresani, *Is Space-Time Attention All You Need for Video Understanding?*, ICML 2021) and
trains an autoencoder on the embeddings of the allowed sports.

Kept here so that no notebook types a number: the chapter shows these only in columns or
sentences labelled "published". (``vidad.models.published`` holds the architecture papers'.)
"""

from __future__ import annotations

SOURCE = "seed study: TimeSformer embeddings of UCF Sports, Table 2"

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
