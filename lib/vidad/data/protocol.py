"""The UCF Sports anomaly protocol of the source study, in one place.

Both the synthetic stand-in (``synth-sports``) and the real-data adapter use these constants and
:func:`assign_splits`, so a result on synthetic data and a result on the real folder are produced
by the same protocol: same classes, same anomaly set, same split fractions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The 10 UCF Sports actions after the source study's merges, in label order.
UCF_SPORTS_CLASSES: tuple[str, ...] = (
    "Diving-Side",
    "Golf-Swing",
    "Kicking",
    "Lifting",
    "Riding-Horse",
    "Run-Side",
    "SkateBoarding-Front",
    "Swing-Bench",
    "Swing-SideAngle",
    "Walk-Front",
)

#: Original folder names that the source study merged into one class.
CLASS_MERGES: dict[str, str] = {
    "Golf-Swing-Back": "Golf-Swing",
    "Golf-Swing-Front": "Golf-Swing",
    "Golf-Swing-Side": "Golf-Swing",
    "Kicking-Front": "Kicking",
    "Kicking-Side": "Kicking",
}

#: Activities the sports ground does not allow: never seen in training.
ANOMALY_CLASSES: tuple[str, ...] = ("Walk-Front", "Lifting", "SkateBoarding-Front")
NORMAL_CLASSES: tuple[str, ...] = tuple(c for c in UCF_SPORTS_CLASSES if c not in ANOMALY_CLASSES)

#: Clips per (merged) class in the real UCF Sports release (150 in all).
UCF_SPORTS_CLIP_COUNTS: dict[str, int] = {
    "Diving-Side": 14,
    "Golf-Swing": 18,
    "Kicking": 20,
    "Lifting": 6,
    "Riding-Horse": 12,
    "Run-Side": 13,
    "SkateBoarding-Front": 12,
    "Swing-Bench": 20,
    "Swing-SideAngle": 13,
    "Walk-Front": 22,
}

#: Rows per split in the source study's manifest after it balanced train and val by
#: augmentation to 200 and 10 clips per normal class (published numbers, not ours).
SOURCE_STUDY_SPLIT_ROWS: dict[str, int] = {"train": 1396, "val": 70, "test": 38, "anomaly": 40}

#: Normal clips are split per class into train / val / test with these fractions.
NORMAL_SPLIT_FRACTIONS: dict[str, float] = {"train": 0.5, "val": 0.1, "test": 0.4}

#: Clips shorter than this are dropped, as in the source study.
MIN_DURATION_S = 1.0


def canonical_class(folder_name: str) -> str:
    """Map an original UCF Sports folder name to its merged class name."""
    return CLASS_MERGES.get(folder_name, folder_name)


def split_counts(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Integer split sizes for ``n`` items, each non-empty split getting at least one item.

    Rounding is by largest remainder so the sizes always add up to ``n``; when ``n`` allows,
    every split with a positive fraction gets at least one clip (a val split of zero clips
    would make threshold selection impossible).
    """
    names = list(fractions)
    raw = np.array([fractions[k] * n for k in names], dtype=float)
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    if n >= len(names):
        for i, k in enumerate(names):
            if fractions[k] > 0 and counts[i] == 0:
                donor = int(np.argmax(counts))
                counts[donor] -= 1
                counts[i] += 1
    return dict(zip(names, counts.tolist(), strict=True))


def assign_splits(
    table: pd.DataFrame,
    seed: int,
    anomaly_classes: tuple[str, ...] = ANOMALY_CLASSES,
    fractions: dict[str, float] = NORMAL_SPLIT_FRACTIONS,
    group_column: str | None = None,
) -> pd.Series:
    """Return a ``split`` column: ``anomaly`` for anomaly classes, else train/val/test per class.

    The split is stratified by class and seeded. With ``group_column`` (e.g. the actor), all
    clips of one group land in the same split, so a test clip never shares its source with a
    training clip (the source study's val clips were augmented copies of 1-2 training sources).
    """
    rng = np.random.default_rng(seed)
    split = pd.Series("", index=table.index, dtype=object)
    for cls in sorted(table["class"].unique()):
        rows = table.index[table["class"] == cls]
        if cls in anomaly_classes:
            split[rows] = "anomaly"
            continue
        if group_column is None:
            units = [[r] for r in rows]
        else:
            groups = table.loc[rows].groupby(group_column, sort=True).groups
            units = [list(groups[g]) for g in sorted(groups)]
        order = rng.permutation(len(units))
        sizes = split_counts(len(units), fractions)
        start = 0
        for name, size in sizes.items():
            for u in order[start : start + size]:
                split[units[u]] = name
            start += size
    return split
