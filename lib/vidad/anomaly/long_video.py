"""A long synthetic video mixing normal and anomalous activities, with known segments.

The score CLI is for videos longer than a training clip. To measure how well it *localizes*
anomalies in time, the chapter needs a long video whose anomalous stretches are known: this
module renders a sequence of fresh synth-sports clips (seeds disjoint from the dataset's, so
none of them was seen in training) and writes them back to back as one mp4, with a table of
segments (class, start_frame, end_frame exclusive, anomalous). Consecutive clips are separate
shots, as in an edited or multi-camera recording: each cut changes the scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vidad.data.protocol import ANOMALY_CLASSES
from vidad.synth import SynthConfig, render_clip
from vidad.synth.writer import write_mp4

#: Mixed into every segment's seed so that no segment equals a dataset clip.
LONG_VIDEO_SALT = 0x10C5
SEGMENTS_SUFFIX = ".segments.csv"


def make_long_video(
    path: str | Path, classes: Sequence[str], config: SynthConfig, seed: int = 0
) -> pd.DataFrame:
    """Render one synth-sports clip per entry of ``classes``, in order, into the mp4 ``path``.

    Writes the segment table next to the video (``<path>.segments.csv``) and returns it.
    Deterministic in (classes, config, seed).
    """
    if not classes:
        raise ValueError("need at least one segment class")
    path = Path(path)
    clips, rows, position = [], [], 0
    for i, name in enumerate(classes):
        clip = render_clip(
            "synth-sports", name, config, np.random.SeedSequence([seed, LONG_VIDEO_SALT, i])
        )
        rows.append(
            {
                "segment": i,
                "class": name,
                "start_frame": position,
                "end_frame": position + len(clip),
                "anomalous": name in ANOMALY_CLASSES,
            }
        )
        clips.append(clip)
        position += len(clip)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(np.concatenate(clips), path, config.fps)
    segments = pd.DataFrame(rows)
    segments.to_csv(segments_path(path), index=False, lineterminator="\n")
    return segments


def segments_path(video: str | Path) -> Path:
    video = Path(video)
    return video.with_name(video.name + SEGMENTS_SUFFIX)
