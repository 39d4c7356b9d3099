"""Measurements behind the Datasets chapter: what is in a manifest, decoded once into thumbnails.

Whether time matters on ``synth-actions`` is measured by :mod:`vidad.train.order_probe` on
the thumbnails :func:`load_thumbnails` decodes (every clip exactly once).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from vidad.progress import progress_bar
from vidad.video.decode import DecodeReport, VideoDecodeError, read_clip


def split_table(table: pd.DataFrame) -> pd.DataFrame:
    """Clips per class (rows) and split (columns), with totals: the table under the bar chart."""
    counts = pd.crosstab(table["class"], table["split"], margins=True, margins_name="total")
    ordered = [c for c in ("train", "val", "test", "anomaly", "total") if c in counts.columns]
    return counts[ordered]


def duration_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Duration statistics (seconds) per split."""
    return table.groupby("split")["duration_s"].describe()[["count", "mean", "min", "max"]]


def colour_thumbnails(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, 3, size, size) float32 in [0, 1], area-averaged.

    Colour, not grey: a shirt and a background of different hues can have the same grey level,
    and then the figure disappears.
    """
    clip = torch.from_numpy(frames).float().permute(0, 3, 1, 2) / 255.0
    return F.adaptive_avg_pool2d(clip, (size, size)).numpy().astype(np.float32)


def load_thumbnails(
    table: pd.DataFrame,
    num_frames: int,
    size: int,
    report: DecodeReport | None = None,
    progress: bool | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Decode every clip once (``num_frames`` uniformly spaced frames) into colour thumbnails.

    Returns ``(thumbs, kept)`` where ``thumbs`` is (N, T, 3, size, size) and ``kept`` the rows
    that decoded; failures are reported and skipped, never fatal.
    """
    report = report or DecodeReport()
    thumbs, kept = [], []
    rows = progress_bar(
        table.iterrows(), total=len(table), desc="decoding clips", leave=False, enabled=progress
    )
    for idx, row in rows:
        try:
            frames = read_clip(row["abspath"], num_frames)
        except VideoDecodeError as err:
            report.fail(row["abspath"], str(err))
            continue
        report.ok()
        thumbs.append(colour_thumbnails(frames, size))
        kept.append(idx)
    if not thumbs:
        raise VideoDecodeError(f"no clip could be decoded ({report.summary()})")
    return np.stack(thumbs), table.loc[kept].reset_index(drop=True)
