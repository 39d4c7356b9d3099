"""Long synthetic videos mixing normal and anomalous activities, with known segments.

The score CLI is for videos longer than a training clip. To measure how well it *localizes*
anomalies in time, and what share of normal footage its threshold flags, the chapter needs long
videos whose anomalous stretches are known. A video here is a sequence of **segments**; a
segment is one actor doing one activity in one place, filmed as several consecutive **takes**
(fresh synth-sports clips: new seeds, so none was seen in training) until it lasts at least
``min_frames`` (the chapter asks for three detector windows, so that most windows lie inside
one segment). Every take starts with a cut; so a video has normal-to-normal cuts (between
takes, and between two normal segments) as well as normal-to-anomaly ones, as an edited
recording does. A detector must not flag a cut as such.

Kinds of video (:func:`video_plan`):

* ``normal``: normal segments only, each in its class's own venue. Used to *calibrate* a
  detector's threshold (validation videos) and to measure its false alarms.
* ``confounded``: anomalies in their own venues (the original protocol: venue and behaviour
  both change at an anomalous segment).
* ``behaviour_only``: anomalies performed in normal classes' venues
  (:mod:`vidad.synth.conditions`): only the behaviour changes.

The segment table has one row per take: segment, take, class, venue, start_frame, end_frame
(exclusive), anomalous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vidad.data.protocol import ANOMALY_CLASSES
from vidad.synth import SynthConfig
from vidad.synth.conditions import NORMAL_CLASSES, VENUE_CLASSES, render_staged_clip
from vidad.synth.generate import render_clip_info
from vidad.synth.writer import write_mp4

#: Mixed into every segment's seed so that no segment equals a dataset clip.
LONG_VIDEO_SALT = 0x10C5
SEGMENTS_SUFFIX = ".segments.csv"
KINDS: tuple[str, ...] = ("normal", "confounded", "behaviour_only")
#: Most takes a segment may need (a guard against a ``min_frames`` far above the clip length).
MAX_TAKES = 12


@dataclass(frozen=True)
class Segment:
    """One activity: a synth-sports class, in its own venue (``venue`` None) or another's."""

    action: str
    venue: str | None = None

    @property
    def anomalous(self) -> bool:
        return self.action in ANOMALY_CLASSES


def video_plan(kind: str, num_segments: int, seed: int) -> list[Segment]:
    """The segments of one long video of ``kind`` (see the module docstring).

    Normal classes are drawn without two equal neighbours; in the two anomaly kinds every third
    segment (the 2nd, 5th, ...) is an anomaly, cycling through the anomaly classes, and a
    behaviour-only anomaly borrows the venue of a random scenery class.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; kinds: {list(KINDS)}")
    if num_segments < 1:
        raise ValueError(f"num_segments must be >= 1, got {num_segments}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, LONG_VIDEO_SALT, KINDS.index(kind)]))
    plan, previous, anomalies = [], None, 0
    for i in range(num_segments):
        if kind != "normal" and i % 3 == 1:
            action = ANOMALY_CLASSES[(anomalies + seed) % len(ANOMALY_CLASSES)]
            anomalies += 1
            venue = str(rng.choice(VENUE_CLASSES)) if kind == "behaviour_only" else None
            plan.append(Segment(action, venue))
            previous = None
            continue
        choices = [c for c in NORMAL_CLASSES if c != previous]
        previous = str(rng.choice(choices))
        plan.append(Segment(previous))
    return plan


def _takes(
    segment: Segment, index: int, config: SynthConfig, seed: int, min_frames: int
) -> list[np.ndarray]:
    """The takes of one segment: same actor (and venue), new motion and camera each take."""
    base = np.random.SeedSequence([seed, LONG_VIDEO_SALT, index])
    actor_ss, venue_ss = base.spawn(2)
    takes, length = [], 0
    while not takes or (length < min_frames and len(takes) < MAX_TAKES):
        clip_ss = np.random.SeedSequence([seed, LONG_VIDEO_SALT, index, len(takes)])
        if segment.venue is None:
            frames, _ = render_clip_info("synth-sports", segment.action, config, clip_ss, actor_ss)
        else:
            frames, _ = render_staged_clip(
                segment.action, segment.venue, config, clip_ss, actor_ss, venue_ss
            )
        takes.append(frames)
        length += len(frames)
    return takes


def make_long_video(
    path: str | Path,
    segments: Sequence[Segment | str],
    config: SynthConfig,
    seed: int = 0,
    min_frames: int = 0,
) -> pd.DataFrame:
    """Render ``segments`` (a class name is a segment in its own venue), in order, into the mp4
    ``path``; each segment lasts at least ``min_frames`` frames.

    Writes the segment table next to the video (``<path>.segments.csv``) and returns it.
    Deterministic in (segments, config, seed, min_frames).
    """
    if not segments:
        raise ValueError("need at least one segment")
    path = Path(path)
    clips, rows, position = [], [], 0
    for i, item in enumerate(segments):
        segment = Segment(item) if isinstance(item, str) else item
        for take, frames in enumerate(_takes(segment, i, config, seed, min_frames)):
            rows.append(
                {
                    "segment": i,
                    "take": take,
                    "class": segment.action,
                    "venue": segment.venue or segment.action,
                    "start_frame": position,
                    "end_frame": position + len(frames),
                    "anomalous": segment.anomalous,
                }
            )
            clips.append(frames)
            position += len(frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(np.concatenate(clips), path, config.fps)
    table = pd.DataFrame(rows)
    table.to_csv(segments_path(path), index=False, lineterminator="\n")
    return table


def segments_path(video: str | Path) -> Path:
    video = Path(video)
    return video.with_name(video.name + SEGMENTS_SUFFIX)
