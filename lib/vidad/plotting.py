"""Figures shared by the chapters (seaborn / matplotlib), so every page looks the same."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

SPLIT_ORDER: tuple[str, ...] = ("train", "val", "test", "anomaly")


def use_book_style() -> None:
    """One seaborn theme for every chapter."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")


def class_split_counts(table: pd.DataFrame, title: str, ax: plt.Axes | None = None) -> plt.Figure:
    """Horizontal bars of clips per class, one colour per split (the source study's Fig. 1)."""
    counts = table.groupby(["class", "split"]).size().rename("clips").reset_index()
    order = [s for s in SPLIT_ORDER if s in set(counts["split"])]
    order += sorted(set(counts["split"]) - set(order))
    if ax is None:
        height = 0.28 * table["class"].nunique() + 1.2
        fig, ax = plt.subplots(figsize=(7, height))
    else:
        fig = ax.figure
    sns.barplot(data=counts, y="class", x="clips", hue="split", hue_order=order, ax=ax, orient="h")
    ax.set_title(title)
    ax.set_ylabel("")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1.0), title="split")
    return fig


def duration_histogram(table: pd.DataFrame, title: str, ax: plt.Axes | None = None) -> plt.Figure:
    """Distribution of clip durations (seconds) per split."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3))
    else:
        fig = ax.figure
    order = [s for s in SPLIT_ORDER if s in set(table["split"])]
    sns.histplot(
        data=table, x="duration_s", hue="split", hue_order=order, multiple="stack", ax=ax, bins=20
    )
    ax.set_xlabel("clip duration (s)")
    ax.set_title(title)
    return fig


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    ncols: int,
    scale: float = 1.6,
    cmap: str | None = None,
) -> plt.Figure:
    """A grid of images with a title each (sample frames per class, class averages...)."""
    nrows = int(np.ceil(len(images) / ncols))
    first = images[0]
    aspect = first.shape[1] / first.shape[0]
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * scale * aspect, nrows * scale * 1.15), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles, strict=False):
        ax.imshow(image, cmap=cmap)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def filmstrip(frames: np.ndarray, times_s: Sequence[float], title: str) -> plt.Figure:
    """Frames of one clip left to right with their timestamps: motion at a glance."""
    fig = image_grid(list(frames), [f"t = {t:.2f} s" for t in times_s], ncols=len(frames))
    fig.suptitle(title, y=1.12)
    return fig


def probe_bars(probe: pd.DataFrame) -> plt.Figure:
    """Test accuracy and AUROC per reversed pair for the single-frame and the ordered probe."""
    long = probe.melt(
        id_vars=["pair", "view"],
        value_vars=["accuracy", "auroc"],
        var_name="metric",
        value_name="value",
    )
    grid = sns.catplot(
        data=long,
        x="value",
        y="pair",
        hue="view",
        col="metric",
        kind="bar",
        height=0.5 * probe["pair"].nunique() + 1.6,
        aspect=1.3,
        orient="h",
    )
    for ax in grid.axes.ravel():
        ax.axvline(0.5, color="black", linestyle="--", linewidth=1)
        ax.set_xlim(0, 1)
    grid.set_axis_labels("test split", "")
    return grid.figure


def draw_boxes(
    frame: np.ndarray,
    boxes: Sequence[tuple[int, int, int, int]],
    color: tuple[int, int, int] = (255, 0, 0),
    width: int = 1,
) -> np.ndarray:
    """RGB copy of a grayscale (H, W) or RGB (H, W, 3) uint8 frame with box outlines."""
    rgb = np.repeat(frame[..., None], 3, axis=2) if frame.ndim == 2 else frame.copy()
    h, w = rgb.shape[:2]
    for x1, y1, x2, y2 in boxes:
        x1, y1 = max(0, x1), max(0, y1)
        x2, y2 = min(w, x2), min(h, y2)
        if x2 <= x1 or y2 <= y1:
            continue
        rgb[y1 : y1 + width, x1:x2] = color
        rgb[max(y2 - width, y1) : y2, x1:x2] = color
        rgb[y1:y2, x1 : x1 + width] = color
        rgb[y1:y2, max(x2 - width, x1) : x2] = color
    return rgb
