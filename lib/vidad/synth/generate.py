"""Plan, render and write a whole synthetic dataset, plus its manifest.

Why plan first and seed per clip: every clip's random stream comes from
``SeedSequence([seed, dataset_id, class_id, clip_index])`` (its actor's from the actor id), so a
clip's content does not depend on the number of workers, the order of work or on other
classes. The same config therefore always gives the same manifest and byte-identical videos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vidad.config import SectionConfig
from vidad.data.protocol import UCF_SPORTS_CLIP_COUNTS, assign_splits
from vidad.progress import map_with_progress
from vidad.synth.actions import ACTION_CLASSES, REVERSED_OF, action_motion
from vidad.synth.framing import Scene, film, view_label
from vidad.synth.render import figure_props, sample_look
from vidad.synth.skeleton import P, facing, forward_kinematics, sample_body
from vidad.synth.sports import ANOMALY_CLASSES, SPORTS_CLASSES, sports_scene
from vidad.synth.writer import write_mp4
from vidad.video.manifest import write_manifest

DATASETS: dict[str, int] = {"synth-actions": 0, "synth-sports": 1}
CLIPS_PER_ACTOR = 2  # an actor appears in this many clips of a class (split is by actor)


@dataclass(frozen=True)
class SynthConfig(SectionConfig):
    """Size and randomness of a synthetic dataset.

    ``clips_per_class`` applies to synth-actions; synth-sports uses the real UCF Sports counts
    times ``clips_scale`` (at least 3 per class). ``extra_test_clips_per_class`` (synth-actions
    only) adds that many test clips per class, of new actors, after every regular clip: test
    clips cost only inference, and a bigger test split narrows every CI; the regular clips, their
    actors and their splits stay exactly what they are without it. ``duration_jitter`` varies
    synth-sports clip lengths by up to +-that fraction of ``num_frames``, like the real clips of
    varying length.
    Every value is type-checked when built (:class:`vidad.config.SectionConfig`), then its
    range is checked.
    """

    SECTION = "synth"

    clips_per_class: int = 40
    extra_test_clips_per_class: int = 0
    clips_scale: float = 1.0
    height: int = 112
    width: int = 112
    num_frames: int = 32
    fps: float = 25.0
    duration_jitter: float = 0.0
    seed: int = 0
    workers: int = 1

    def validate(self) -> None:
        problems = []
        if self.clips_per_class < 1:
            problems.append(f"clips_per_class must be an int >= 1 (got {self.clips_per_class})")
        if self.extra_test_clips_per_class < 0:
            problems.append(
                "extra_test_clips_per_class must be an int >= 0 "
                f"(got {self.extra_test_clips_per_class})"
            )
        if not self.clips_scale > 0:
            problems.append(f"clips_scale must be > 0 (got {self.clips_scale})")
        for name in ("height", "width"):
            v = getattr(self, name)
            if v < 16 or v % 2:
                problems.append(f"{name} must be an even int >= 16 (got {v})")
        if self.num_frames < 2:
            problems.append(f"num_frames must be an int >= 2 (got {self.num_frames})")
        if not (self.fps > 0 and math.isfinite(self.fps)):
            problems.append(f"fps must be a positive number (got {self.fps})")
        if not 0.0 <= self.duration_jitter < 1.0:
            problems.append(f"duration_jitter must be in [0, 1) (got {self.duration_jitter})")
        if self.seed < 0:
            problems.append(f"seed must be an int >= 0 (got {self.seed})")
        if self.workers < 1:
            problems.append(f"workers must be an int >= 1 (got {self.workers})")
        if problems:
            raise ValueError("invalid SynthConfig: " + "; ".join(problems))


def _classes(name: str) -> tuple[str, ...]:
    if name not in DATASETS:
        raise ValueError(f"unknown synthetic dataset {name!r}; valid: {sorted(DATASETS)}")
    return ACTION_CLASSES if name == "synth-actions" else SPORTS_CLASSES


def clip_seed(
    name: str, class_name: str, index: int, config: SynthConfig
) -> np.random.SeedSequence:
    """The seed of one clip: depends on (seed, dataset, class, index) only."""
    class_id = _classes(name).index(class_name)
    return np.random.SeedSequence([config.seed, DATASETS[name], class_id, index])


def actor_seed(name: str, actor: int, config: SynthConfig) -> np.random.SeedSequence:
    """The seed of one actor's body and clothes (shared by all the actor's clips)."""
    return np.random.SeedSequence([config.seed, DATASETS[name]], spawn_key=(1, actor))


def _num_frames(name: str, config: SynthConfig, rng: np.random.Generator) -> int:
    if name != "synth-sports" or config.duration_jitter == 0:
        return config.num_frames
    scale = 1.0 + config.duration_jitter * rng.uniform(-1.0, 1.0)
    return max(2, round(config.num_frames * scale))


def render_clip_info(
    name: str,
    class_name: str,
    config: SynthConfig,
    seed: int | np.random.SeedSequence,
    actor: int | np.random.SeedSequence | None = None,
) -> tuple[np.ndarray, str]:
    """Render one clip and return ``(frames (T, H, W, 3) uint8, view label)``."""
    classes = _classes(name)
    if class_name not in classes:
        raise ValueError(f"{class_name!r} is not a {name} class; classes: {list(classes)}")
    if class_name in REVERSED_OF and name == "synth-actions":
        frames, view = render_clip_info(name, REVERSED_OF[class_name], config, seed, actor)
        return frames[::-1].copy(), view
    clip_ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    actor_ss = (
        clip_ss
        if actor is None
        else (actor if isinstance(actor, np.random.SeedSequence) else np.random.SeedSequence(actor))
    )
    length_ss, motion_ss, film_ss = clip_ss.spawn(3)
    body_ss, look_ss = actor_ss.spawn(2)
    body, look = (
        sample_body(np.random.default_rng(body_ss)),
        sample_look(np.random.default_rng(look_ss)),
    )
    num = _num_frames(name, config, np.random.default_rng(length_ss))
    sec = np.arange(num) / config.fps
    rng = np.random.default_rng(motion_ss)
    if name == "synth-actions":
        motion = action_motion(class_name, sec, rng)
        joints = forward_kinematics(motion.params, body, motion.grounded)
        scene = Scene(
            joints=joints,
            props=figure_props(joints, facing(motion.params), body, look),
            track=motion.track,
        )
        yaw = motion.params[:, P["yaw"]]
        view = view_label(yaw)
    else:
        scene, view = sports_scene(class_name, sec, rng, body, look)
    frames = film(scene, np.random.default_rng(film_ss), config.height, config.width)
    return frames, view


def render_clip(
    name: str, class_name: str, config: SynthConfig, seed: int | np.random.SeedSequence
) -> np.ndarray:
    """Render one clip of ``class_name`` from dataset ``name`` without writing any file.

    For a time-reversed class this is exactly the partner class's clip, same seed, reversed.
    """
    return render_clip_info(name, class_name, config, seed)[0]


def _plan(name: str, config: SynthConfig) -> list[dict]:
    classes = _classes(name)
    plan, actor_base = [], 0
    for class_id, cls in enumerate(classes):
        if name == "synth-actions":
            n = config.clips_per_class
        else:
            n = max(3, round(UCF_SPORTS_CLIP_COUNTS[cls] * config.clips_scale))
        # tiny classes get one actor per clip, so that train, val and test can all be filled
        per = CLIPS_PER_ACTOR if n >= 3 * CLIPS_PER_ACTOR else 1
        for i in range(n):
            plan.append(
                {
                    "class": cls,
                    "label": class_id,
                    "index": i,
                    "actor": actor_base + i // per,
                    "path": f"videos/{cls}/{cls}_{i:04d}.mp4",
                    "extra_test": False,
                }
            )
        actor_base += math.ceil(n / per)
    if name != "synth-actions" or not config.extra_test_clips_per_class:
        return plan
    # extra test clips: new indices and new actors, numbered after every regular one, so that
    # no regular clip's seed, actor or split changes
    for class_id, cls in enumerate(classes):
        for j in range(config.extra_test_clips_per_class):
            i = config.clips_per_class + j
            plan.append(
                {
                    "class": cls,
                    "label": class_id,
                    "index": i,
                    "actor": actor_base + j // CLIPS_PER_ACTOR,
                    "path": f"videos/{cls}/{cls}_{i:04d}.mp4",
                    "extra_test": True,
                }
            )
        actor_base += math.ceil(config.extra_test_clips_per_class / CLIPS_PER_ACTOR)
    return plan


def _make_clip(job: tuple[str, dict, SynthConfig, str]) -> dict:
    name, item, config, root = job
    frames, view = render_clip_info(
        name,
        item["class"],
        config,
        clip_seed(name, item["class"], item["index"], config),
        actor_seed(name, item["actor"], config),
    )
    write_mp4(frames, Path(root) / item["path"], config.fps)
    num, h, w, _ = frames.shape
    return {
        **item,
        "num_frames": num,
        "fps": config.fps,
        "duration_s": num / config.fps,
        "width": w,
        "height": h,
        "view": view,
    }


def generate_dataset(name: str, root: Path, config: SynthConfig) -> pd.DataFrame:
    """Render every clip of ``name`` under ``root/videos`` and write ``root/manifest.csv``.

    Returns the manifest table (columns: path, label, class, split, actor, num_frames, fps,
    duration_s, width, height, view, and for synth-sports is_anomaly).
    """
    _classes(name)
    root = Path(root)
    plan = _plan(name, config)
    jobs = [(name, item, config, str(root)) for item in plan]
    rows = map_with_progress(_make_clip, jobs, config.workers, name, "clip")
    table = pd.DataFrame(rows).sort_values(["label", "index"], kind="stable")
    table = table.reset_index(drop=True)
    if name == "synth-sports":
        table["split"] = assign_splits(table, config.seed, group_column="actor")
        table["is_anomaly"] = table["class"].isin(ANOMALY_CLASSES).astype(int)
    else:
        regular = ~table["extra_test"]
        table["split"] = "test"  # the extra test clips; the regular ones are split as always
        table.loc[regular, "split"] = assign_splits(
            table[regular],
            config.seed,
            anomaly_classes=(),
            fractions={"train": 0.7, "val": 0.15, "test": 0.15},
            group_column="actor",
        )
    cols = [
        "path",
        "label",
        "class",
        "split",
        "actor",
        "num_frames",
        "fps",
        "duration_s",
        "width",
        "height",
        "view",
    ]
    if name == "synth-sports":
        cols.append("is_anomaly")
    table = table[cols]
    write_manifest(table, root)
    return table
