"""Measurements behind the Datasets chapter: what is in a manifest, and whether time matters.

The key question for ``synth-actions`` is whether temporal order is *necessary*: for each
time-reversed pair (sit down / stand up, ...) a classifier that sees single frames should be
at chance, and one that sees the same frames *in order* should not. :func:`reversed_pair_probe`
measures exactly that with two linear probes trained on the train split and scored on the test
split, using the same thumbnails for both, so the only difference is access to order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from vidad.video.decode import DecodeReport, VideoDecodeError, read_clip


def split_table(table: pd.DataFrame) -> pd.DataFrame:
    """Clips per class (rows) and split (columns), with totals: the table under the bar chart."""
    counts = pd.crosstab(table["class"], table["split"], margins=True, margins_name="total")
    ordered = [c for c in ("train", "val", "test", "anomaly", "total") if c in counts.columns]
    return counts[ordered]


def duration_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Duration statistics (seconds) per split."""
    return table.groupby("split")["duration_s"].describe()[["count", "mean", "min", "max"]]


def grey_thumbnails(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, size, size) float32 grey in [0, 1], area-averaged.

    Small grey thumbnails keep the probe about shape and motion, not colour: colours are drawn
    independently of the class, so they could only add noise.
    """
    clip = torch.from_numpy(frames).float().mean(dim=-1, keepdim=True) / 255.0  # T,H,W,1
    clip = clip.permute(0, 3, 1, 2)
    small = F.adaptive_avg_pool2d(clip, (size, size))
    return small[:, 0].numpy().astype(np.float32)


def load_thumbnails(
    table: pd.DataFrame, num_frames: int, size: int, report: DecodeReport | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Decode every clip once (``num_frames`` uniformly spaced frames) into grey thumbnails.

    Returns ``(thumbs, kept)`` where ``thumbs`` is (N, T, size, size) and ``kept`` the rows that
    decoded; failures are reported and skipped, never fatal.
    """
    report = report or DecodeReport()
    thumbs, kept = [], []
    for idx, row in tqdm(table.iterrows(), total=len(table), desc="decoding clips", leave=False):
        try:
            frames = read_clip(row["abspath"], num_frames)
        except VideoDecodeError as err:
            report.fail(row["abspath"], str(err))
            continue
        report.ok()
        thumbs.append(grey_thumbnails(frames, size))
        kept.append(idx)
    if not thumbs:
        raise VideoDecodeError(f"no clip could be decoded ({report.summary()})")
    return np.stack(thumbs), table.loc[kept].reset_index(drop=True)


def class_average(
    thumbs: np.ndarray, table: pd.DataFrame, cls: str, which: str = "mean"
) -> np.ndarray:
    """Average over the clips of ``cls`` of their time-averaged / first / last thumbnail."""
    clips = thumbs[(table["class"] == cls).to_numpy()]
    pick = {"mean": clips.mean(axis=1), "first": clips[:, 0], "last": clips[:, -1]}
    return pick[which].mean(axis=0)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images (flattened)."""
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def mean_frame_similarity(
    thumbs: np.ndarray, table: pd.DataFrame, pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """For each reversed pair: correlation of the class-average mean frames, and for contrast
    the same correlation between the first class and every class outside the pair."""
    classes = sorted(table["class"].unique())
    means = {c: class_average(thumbs, table, c) for c in classes}
    rows = []
    for a, b in pairs:
        others = [correlation(means[a], means[c]) for c in classes if c not in (a, b)]
        rows.append(
            {
                "pair": f"{a} / {b}",
                "mean-frame corr. within pair": correlation(means[a], means[b]),
                "mean-frame corr. to other classes (median)": float(np.median(others)),
                f"first({a}) vs last({b})": correlation(
                    class_average(thumbs, table, a, "first"),
                    class_average(thumbs, table, b, "last"),
                ),
                f"first({a}) vs first({b})": correlation(
                    class_average(thumbs, table, a, "first"),
                    class_average(thumbs, table, b, "first"),
                ),
            }
        )
    return pd.DataFrame(rows)


def _deviation(thumbs: np.ndarray) -> np.ndarray:
    """|frame - clip mean| per frame: removes the static background and the clothing polarity."""
    return np.abs(thumbs - thumbs.mean(axis=1, keepdims=True))


def single_frame_features(thumbs: np.ndarray) -> np.ndarray:
    """(N, T, S, S) -> (N, T, S*S): each frame on its own, order thrown away."""
    dev = _deviation(thumbs)
    return dev.reshape(dev.shape[0], dev.shape[1], -1)


def ordered_features(thumbs: np.ndarray) -> np.ndarray:
    """(N, T, S, S) -> (N, 2*S*S): the first and the last third of the clip, in that order."""
    dev = _deviation(thumbs)
    third = max(1, dev.shape[1] // 3)
    early = dev[:, :third].mean(axis=1).reshape(len(dev), -1)
    late = dev[:, -third:].mean(axis=1).reshape(len(dev), -1)
    return np.concatenate([early, late], axis=1)


@dataclass(frozen=True)
class ProbeResult:
    """Test-split accuracy and AUROC of one linear probe on one reversed pair."""

    pair: str
    view: str
    accuracy: float
    auroc: float
    train_clips: int
    test_clips: int


def _probe(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int
) -> tuple[float, float]:
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, random_state=seed)
    )
    model.fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    return accuracy_score(y_test, scores > 0.5), roc_auc_score(y_test, scores)


def reversed_pair_probe(
    thumbs: np.ndarray,
    table: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    seed: int = 0,
    train_split: str = "train",
    test_split: str = "test",
) -> pd.DataFrame:
    """Train on ``train_split``, score on ``test_split``: single frames vs frames in order.

    The single-frame probe is trained on every frame of every training clip (labelled with its
    clip's class) and a test clip's score is the mean of its frames' probabilities; the ordered
    probe sees one vector per clip (first third, last third). Both use the same thumbnails.
    """
    results: list[ProbeResult] = []
    for a, b in pairs:
        mask = table["class"].isin([a, b]).to_numpy()
        sub, sub_thumbs = table[mask].reset_index(drop=True), thumbs[mask]
        y = (sub["class"] == b).to_numpy().astype(int)
        tr = (sub["split"] == train_split).to_numpy()
        te = (sub["split"] == test_split).to_numpy()
        if len(set(y[tr])) < 2 or len(set(y[te])) < 2:
            raise ValueError(f"pair {a}/{b} needs both classes in {train_split} and {test_split}")
        frames = single_frame_features(sub_thumbs)
        t = frames.shape[1]
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=2000, random_state=seed)
        )
        model.fit(frames[tr].reshape(-1, frames.shape[2]), np.repeat(y[tr], t))
        frame_scores = model.predict_proba(frames[te].reshape(-1, frames.shape[2]))[:, 1]
        clip_scores = frame_scores.reshape(-1, t).mean(axis=1)
        results.append(
            ProbeResult(
                f"{a} / {b}",
                "single frames",
                float(accuracy_score(y[te], clip_scores > 0.5)),
                float(roc_auc_score(y[te], clip_scores)),
                int(tr.sum()),
                int(te.sum()),
            )
        )
        ordered = ordered_features(sub_thumbs)
        acc, auc = _probe(ordered[tr], y[tr], ordered[te], y[te], seed)
        results.append(
            ProbeResult(
                f"{a} / {b}",
                "frames in order",
                float(acc),
                float(auc),
                int(tr.sum()),
                int(te.sum()),
            )
        )
    return pd.DataFrame([r.__dict__ for r in results])
