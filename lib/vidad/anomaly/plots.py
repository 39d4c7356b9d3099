"""The chapter's figures: error distributions per split (the seed's Fig. 7/8), ROC curves,
training curves. Inputs are long tables so every figure is one seaborn call per panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.metrics import roc_curve

from vidad.plotting import SPLIT_ORDER


def error_boxplots(errors: pd.DataFrame, backbones: Sequence[str]) -> plt.Figure:
    """Box plots of reconstruction error per split; rows v1 / v2, one column per backbone.

    ``errors``: columns backbone, config, split, error. Each panel has its own (log) y scale:
    errors of different embedding sizes are not comparable across panels.
    """
    configs = [c for c in ("v1", "v2") if c in set(errors["config"])]
    fig, axes = plt.subplots(
        len(configs),
        len(backbones),
        figsize=(3.6 * len(backbones), 3.0 * len(configs)),
        squeeze=False,
    )
    for i, config in enumerate(configs):
        for j, backbone in enumerate(backbones):
            ax = axes[i, j]
            part = errors[(errors["config"] == config) & (errors["backbone"] == backbone)]
            sns.boxplot(
                data=part,
                x="split",
                y="error",
                order=list(SPLIT_ORDER),
                ax=ax,
                hue="split",
                hue_order=list(SPLIT_ORDER),
                legend=False,
            )
            if (part["error"] > 0).all():
                ax.set_yscale("log")
            ax.set_title(f"{backbone}, {config}", fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel("reconstruction error" if j == 0 else "")
    fig.tight_layout()
    return fig


def roc_figure(
    curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
) -> plt.Figure:
    """ROC curves: ``curves[panel][method] = (normal scores, anomaly scores)``."""
    fig, axes = plt.subplots(1, len(curves), figsize=(3.8 * len(curves), 3.6), squeeze=False)
    for ax, (panel, methods) in zip(axes[0], curves.items(), strict=True):
        for method, (normal, anomalous) in methods.items():
            y = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
            fpr, tpr, _ = roc_curve(y, np.r_[normal, anomalous])
            ax.plot(fpr, tpr, label=method, drawstyle="steps-post")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("false-alarm rate (test normals)")
        ax.set_ylabel("anomalies flagged")
        ax.legend(fontsize="x-small", loc="lower right")
    fig.tight_layout()
    return fig


def loss_curves(history: pd.DataFrame, unfreeze_epoch: int | None = None) -> plt.Figure:
    """Train / val loss per epoch; ``history``: backbone, config, epoch, split, loss."""
    grid = sns.relplot(
        data=history,
        x="epoch",
        y="loss",
        hue="config",
        style="split",
        col="backbone",
        kind="line",
        marker="o",
        height=2.8,
        aspect=1.2,
        facet_kws={"sharey": False},
    )
    grid.set_axis_labels("epoch", "loss (MSE sum per batch)")
    for ax in grid.axes.ravel():
        ax.set_yscale("log")
        if unfreeze_epoch is not None:
            ax.axvline(unfreeze_epoch, color="grey", linestyle="--", linewidth=1)
    return grid.figure


def timeline_figure(
    frames: pd.DataFrame,
    fps: float,
    threshold: float,
    segments: pd.DataFrame | None = None,
    title: str = "",
) -> plt.Figure:
    """Per-frame scores along the video, the detector's threshold, the flagged stretches, and
    (when known) the true anomalous segments shaded in red.

    ``frames``: frame, score, flagged (:func:`vidad.anomaly.detector.frame_table`). Time is in
    seconds when ``fps`` is known, else in frames.
    """
    unit = fps if fps else 1.0
    fig, ax = plt.subplots(figsize=(10, 3.2))
    if segments is not None:
        shaded = False
        for row in segments.itertuples(index=False):
            if bool(row.anomalous):
                ax.axvspan(
                    row.start_frame / unit, row.end_frame / unit, color="tab:red", alpha=0.15,
                    label=None if shaded else "true anomaly",
                )  # fmt: skip
                shaded = True
    time = frames["frame"] / unit
    score = frames["score"]
    ax.plot(time, score, "-", color="tab:blue", linewidth=1.2, label="frame score")
    flagged = frames["flagged"].astype(bool)
    ax.scatter(
        time[flagged], score[flagged], s=6, color="tab:red", zorder=3, label="flagged frames"
    )
    ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label="threshold")
    ax.set_xlim(0, len(frames) / unit)
    ax.set_xlabel("time (s)" if fps else "frame")
    ax.set_ylabel("reconstruction error")
    ax.set_title(title or "anomaly score over time")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    return fig


def interval_figure(
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    xlabel: str,
    chance: float | None = 0.5,
) -> plt.Figure:
    """One row per estimate: the point and its interval, first row on top, on [0, 1].

    A dashed line marks ``chance`` (AUROC's 0.5 by default; ``None`` for no line).
    """
    values, lows, highs = (np.asarray(v, float) for v in (values, lows, highs))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(values) + 1))
    ypos = np.arange(len(values))
    ax.errorbar(values, ypos, xerr=[values - lows, highs - values], fmt="o", capsize=3)
    if chance is not None:
        ax.axvline(chance, color="black", linestyle="--", linewidth=1, label="chance")
        ax.legend(fontsize="small")
    ax.set_yticks(ypos, list(labels), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    return fig
