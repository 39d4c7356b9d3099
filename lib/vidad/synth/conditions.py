"""synth-sports test conditions that separate *behaviour* from *scenery* (chapter 6).

In synth-sports, as in UCF Sports, every class has its own venue: the anomaly classes
(Walk-Front, Lifting, SkateBoarding-Front) are filmed by static cameras in plain venues of
their own (a grey floor with curb stripes, a wooden platform, yellow dashes), the normal ones
over water, grass, a red track or a paddock fence, often by a tracking camera. A detector can
flag the anomalies by their venue alone. The conditions here take that cue away:

* ``behaviour_only``: each anomaly action performed in a *normal* class's venue (a lifter on
  the running track, a skateboarder on the golf course, a walker in the paddock). The actor
  keeps the action's own equipment (barbell, board); the floor, sky and scenery are the venue
  class's, and so is the camera's tracking. Flagging these needs the behaviour.
* ``new_venue``: normal actions in venues no training clip has (a beach, a car park). These
  must *not* be flagged: a detector that flags them finds scenery novel, not behaviour.

The venues used are those of the normal classes whose fixed scene is scenery only (track,
golf course, pitch, paddock), not apparatus: a diving board or a high bar without its sport
would itself be odd. A scene is composed from two stagings of :mod:`vidad.synth.sports`: the
action's (body motion, moving props, framing) and the venue's (fixed scenery, palette,
camera tracking), each from its own random stream. The venue staging's own actor is dropped.

Seeds follow :mod:`vidad.synth.generate`: ``SeedSequence([seed, CONDITIONS_ID, condition,
class, index])`` per clip and new actors, so no clip or actor equals a synth-sports one and a
clip's content depends on nothing else. ``python -m vidad.synth.conditions --profile cpu``
renders ``build/<profile>/synth/synth-sports-conditions`` (stage ``synth_conditions``): its
manifest's ``split`` is the condition, ``venue`` names the venue.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from vidad.config import SectionConfig
from vidad.data.protocol import ANOMALY_CLASSES, UCF_SPORTS_CLASSES
from vidad.progress import map_with_progress
from vidad.synth import sports
from vidad.synth.framing import Scene, film
from vidad.synth.generate import SynthConfig, _num_frames
from vidad.synth.render import Color, Look, Prop, sample_look
from vidad.synth.skeleton import Body, sample_body
from vidad.synth.writer import write_mp4
from vidad.video.manifest import write_manifest

DATASET = "synth-sports-conditions"
#: The dataset id in every seed (synth-actions is 0, synth-sports 1).
CONDITIONS_ID = 2
CONDITIONS: tuple[str, ...] = ("behaviour_only", "new_venue")
#: Normal classes whose fixed scene is scenery, not apparatus: their venues are lent out.
VENUE_CLASSES: tuple[str, ...] = ("Run-Side", "Golf-Swing", "Kicking", "Riding-Horse")
NORMAL_CLASSES: tuple[str, ...] = tuple(c for c in UCF_SPORTS_CLASSES if c not in ANOMALY_CLASSES)

_SKY: Color = (150.0, 190.0, 230.0)


def _beach(rng: np.random.Generator) -> tuple[list[Prop], dict[str, Color]]:
    """Sand, a band of sea behind, a few parasols."""
    sand = (215.0 + rng.uniform(-15, 15), 195.0 + rng.uniform(-15, 10), 145.0)
    sea = (40.0, 120.0 + rng.uniform(-20, 20), 170.0 + rng.uniform(-20, 20))
    static = [sports._poly(sports._ground_rect(-40, 40, 9.0, 60.0, 0.001), sea)]
    for x in rng.uniform(-8, 8, 3):
        z = rng.uniform(4, 8)
        cloth = tuple(float(v) for v in rng.uniform(60, 240, 3))
        static.append(sports._cap(np.array([x, 0, z]), np.array([x, 1.8, z]), 0.03, (240.0,) * 3))
        static.append(
            sports._cap(np.array([x - 0.7, 1.8, z]), np.array([x + 0.7, 1.8, z]), 0.18, cloth)
        )
    return static, {"floor": sand, "sky": (170.0, 205.0, 235.0)}


def _car_park(rng: np.random.Generator) -> tuple[list[Prop], dict[str, Color]]:
    """Dark asphalt with white bay lines and a wall at the back."""
    asphalt = sports._gray(rng, 45, 75)
    white = (235.0, 235.0, 235.0)
    static = [
        sports._poly(sports._ground_rect(x - 0.05, x + 0.05, 2.0, 7.0, 0.001), white)
        for x in np.arange(-12.0, 12.5, 2.5)
    ]
    wall = sports._gray(rng, 140, 190)
    static.append(sports._poly(sports._rect(-40, 40, 0, 3.0, 12.0), wall))
    return static, {"floor": asphalt, "sky": _SKY}


#: Venues no synth-sports clip has.
NEW_VENUES: dict[str, Callable[[np.random.Generator], tuple[list[Prop], dict[str, Color]]]] = {
    "beach": _beach,
    "car park": _car_park,
}


def staged_scene(
    action: str,
    venue: str,
    sec: np.ndarray,
    action_rng: np.random.Generator,
    venue_rng: np.random.Generator,
    body: Body,
    look: Look,
) -> tuple[Scene, str]:
    """``action`` (a synth-sports class) performed in ``venue`` (a venue class or a new venue).

    Returns the composed scene and the action's view label.
    """
    scene, view = sports.sports_scene(action, sec, action_rng, body, look)
    if venue in NEW_VENUES:
        static, palette = NEW_VENUES[venue](venue_rng)
        return dataclasses.replace(scene, static=static, palette=palette), view
    if venue not in VENUE_CLASSES:
        raise ValueError(f"unknown venue {venue!r}; venues: {[*VENUE_CLASSES, *NEW_VENUES]}")
    stage, _ = sports.sports_scene(venue, sec, venue_rng, body, look)
    return (
        dataclasses.replace(scene, static=stage.static, palette=stage.palette, track=stage.track),
        view,
    )


def condition_pairs(condition: str) -> list[tuple[str, str]]:
    """The (action, venue) pairs a condition renders, in a fixed order."""
    if condition == "behaviour_only":
        return [(a, v) for a in ANOMALY_CLASSES for v in VENUE_CLASSES]
    if condition == "new_venue":
        return [(a, v) for a in VENUE_CLASSES for v in NEW_VENUES]
    raise ValueError(f"unknown condition {condition!r}; conditions: {list(CONDITIONS)}")


@dataclasses.dataclass(frozen=True)
class ConditionsConfig(SectionConfig):
    """``params.yaml``'s ``synth_conditions`` column: clips per (action, venue) pair and seed.

    Size, length and frame rate are synth-sports' own (``synth.<profile>.sports``), so these
    clips are cached and embedded exactly as the test split is.
    """

    SECTION = "synth_conditions"

    clips_per_pair: int
    seed: int = 0
    workers: int = 1

    def validate(self) -> None:
        problems = []
        if self.clips_per_pair < 1:
            problems.append(f"clips_per_pair must be >= 1, got {self.clips_per_pair}")
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers}")
        if problems:
            raise ValueError("; ".join(problems))


def clip_seeds(
    condition: str, action: str, index: int, actor: int, seed: int
) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """(clip, actor) seeds of one condition clip."""
    clip = np.random.SeedSequence(
        [seed, CONDITIONS_ID, CONDITIONS.index(condition), UCF_SPORTS_CLASSES.index(action), index]
    )
    return clip, np.random.SeedSequence([seed, CONDITIONS_ID], spawn_key=(1, actor))


def render_staged_clip(
    action: str,
    venue: str,
    sports_config: SynthConfig,
    clip_ss: np.random.SeedSequence,
    actor_ss: np.random.SeedSequence,
    venue_ss: np.random.SeedSequence | None = None,
) -> tuple[np.ndarray, str]:
    """Render one clip of ``action`` in ``venue``: ``(frames (T, H, W, 3) uint8, view)``.

    ``venue_ss`` fixes the venue's own randomness (its colours, the flag's place): several
    takes sharing it are shot in the same place. By default it comes from ``clip_ss``.
    """
    length_ss, motion_ss, film_ss, own_venue_ss = clip_ss.spawn(4)
    body_ss, look_ss = actor_ss.spawn(2)
    body = sample_body(np.random.default_rng(body_ss))
    look = sample_look(np.random.default_rng(look_ss))
    num = _num_frames("synth-sports", sports_config, np.random.default_rng(length_ss))
    sec = np.arange(num) / sports_config.fps
    scene, view = staged_scene(
        action,
        venue,
        sec,
        np.random.default_rng(motion_ss),
        np.random.default_rng(venue_ss if venue_ss is not None else own_venue_ss),
        body,
        look,
    )
    frames = film(scene, np.random.default_rng(film_ss), sports_config.height, sports_config.width)
    return frames, view


def plan(config: ConditionsConfig) -> list[dict]:
    """Every clip of every condition: class, venue, index, actor (two clips per actor)."""
    rows, actor = [], 0
    for condition in CONDITIONS:
        for action, venue in condition_pairs(condition):
            for i in range(config.clips_per_pair):
                index = len([r for r in rows if r["class"] == action and r["split"] == condition])
                slug = venue.replace(" ", "-")
                rows.append(
                    {
                        "split": condition,
                        "class": action,
                        "label": UCF_SPORTS_CLASSES.index(action),
                        "venue": venue,
                        "index": index,
                        "actor": actor + i // 2,
                        "path": f"videos/{condition}/{action}_in_{slug}_{i:03d}.mp4",
                        "is_anomaly": int(action in ANOMALY_CLASSES),
                    }
                )
            actor += math.ceil(config.clips_per_pair / 2)
    return rows


def _make(job: tuple[dict, SynthConfig, int, str]) -> dict:
    item, sports_config, seed, root = job
    clip_ss, actor_ss = clip_seeds(item["split"], item["class"], item["index"], item["actor"], seed)
    frames, view = render_staged_clip(
        item["class"], item["venue"], sports_config, clip_ss, actor_ss
    )
    write_mp4(frames, Path(root) / item["path"], sports_config.fps)
    num, h, w, _ = frames.shape
    return {
        **item,
        "num_frames": num,
        "fps": sports_config.fps,
        "duration_s": num / sports_config.fps,
        "width": w,
        "height": h,
        "view": view,
    }


COLUMNS = (
    "path", "label", "class", "split", "venue", "actor", "num_frames", "fps", "duration_s",
    "width", "height", "view", "is_anomaly",
)  # fmt: skip


def generate_conditions(
    root: Path, config: ConditionsConfig, sports_config: SynthConfig
) -> pd.DataFrame:
    """Render every condition clip under ``root/videos`` and write ``root/manifest.csv``."""
    jobs = [(item, sports_config, config.seed, str(root)) for item in plan(config)]
    rows = map_with_progress(_make, jobs, config.workers, DATASET, "clip")
    table = pd.DataFrame(rows)[list(COLUMNS)]
    write_manifest(table, Path(root))
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m vidad.synth.conditions --profile cpu``: the DVC stage ``synth_conditions``.

    Reads ``synth_conditions.<profile>`` and synth-sports' settings (``synth.<profile>``), all
    validated before rendering, and writes the dataset folder from scratch.
    """
    import argparse
    import sys

    from vidad.config import ConfigError, load_params, stage_params
    from vidad.paths import Paths
    from vidad.synth.profile import synth_configs
    from vidad.synth.stage import regenerate

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        values = stage_params(load_params(args.params), ConditionsConfig.SECTION, args.profile)
        config = ConditionsConfig.from_params(
            values, f"params.yaml {ConditionsConfig.SECTION}.{args.profile}"
        )
        sports_config = synth_configs(args.profile, args.params)["synth-sports"]
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    regenerate(
        DATASET,
        Paths(args.profile).synth(DATASET),
        lambda root: generate_conditions(root, config, sports_config),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
