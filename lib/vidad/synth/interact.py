"""``synth-interact``: pairs of people interacting in front of a fixed surveillance camera.

The stand-in for the source study's 6-class surveillance interaction set
(:data:`vidad.detection.published.SOURCE`): handshake,
point, hug, push, kick and punch, with the source's label imbalance. Each video shows one pair
(an *agent* and a *receiver*) performing one interaction, plus 0-2 bystanders walking through
the background, filmed by a fixed, elevated camera. Videos are grouped into **sequences**: a
sequence is one camera set-up (height, distance, scene colours and clutter), so all videos of a
sequence share a background, and the test sequences are set-ups never seen in training (the
source evaluates per test sequence).

Annotations follow the AVA convention: one row per (video, keyframe timestamp, person box,
action), boxes normalized to [0, 1], a keyframe every ``keyframe_every`` seconds. Both people
of the pair carry the interaction's label while it is under way; a receiver sometimes also
points at the agent at the same time (``overlap_prob``), so some boxes have two labels. Person
boxes come from the renderer's own 3-D joints, so they are exact; ``persons_<split>.csv`` lists
every person box at every keyframe, labelled or not (bystanders, people before or after the
interaction), for training with negatives and for imitating a person detector.

Layout::

    <root>/videos/<video_id>.mp4
    <root>/annotations/{train,test}.csv           AVA action rows (no header)
    <root>/annotations/persons_{train,test}.csv   every person box at every keyframe
    <root>/label_map.pbtxt                        AVA label map (ids 1..6)
    <root>/manifest.csv                           one row per video
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vidad.config import SectionConfig
from vidad.progress import map_with_progress
from vidad.synth.actions import Ctx, _gait, _travel
from vidad.synth.render import Shot, figure_props, make_background, render_shot, sample_look
from vidad.synth.skeleton import (
    Body,
    Camera,
    J,
    P,
    facing,
    forward_kinematics,
    neutral_params,
    sample_body,
)
from vidad.synth.writer import write_mp4

INTERACTIONS: tuple[str, ...] = ("handshake", "point", "hug", "push", "kick", "punch")
#: AVA-style action ids (1-based, in the order above).
ACTION_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(INTERACTIONS)}
#: Annotation counts of the source study's train and test sets, per class above.
SOURCE_COUNTS: dict[str, tuple[int, ...]] = {
    "train": (1011, 709, 757, 358, 250, 320),
    "test": (243, 132, 209, 95, 64, 94),
}
_SALT = 0x1A7E  # separates this dataset's seeds from the other generators'


@dataclass(frozen=True)
class InteractConfig(SectionConfig):
    """Size and randomness of synth-interact (type- and range-checked on construction)."""

    SECTION = "synth_interact"

    scale: float = 0.05  # interaction instances per class = source count x scale (>= 2)
    train_sequences: int = 8
    test_sequences: int = 4
    height: int = 96
    width: int = 128
    num_frames: int = 48
    fps: float = 15.0
    keyframe_every: float = 1.0  # seconds between keyframes
    max_bystanders: int = 2
    overlap_prob: float = 0.15
    seed: int = 0
    workers: int = 1

    def validate(self) -> None:
        problems = []
        if not self.scale > 0:
            problems.append(f"scale must be > 0 (got {self.scale})")
        if self.train_sequences < 1 or self.test_sequences < 1:
            problems.append("train_sequences and test_sequences must be >= 1")
        for name in ("height", "width"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 32 or v % 2:
                problems.append(f"{name} must be an even int >= 32 (got {v})")
        if self.num_frames < 8 or not self.fps > 0:
            problems.append("num_frames must be >= 8 and fps > 0")
        if not 0 < self.keyframe_every < math.inf:
            problems.append(f"keyframe_every must be a positive number (got {self.keyframe_every})")
        elif self.fps > 0 and self.num_frames / self.fps < 2 * self.keyframe_every:
            problems.append("videos must last at least two keyframe intervals")
        if self.seed < 0:
            problems.append(f"seed must be >= 0 (got {self.seed})")
        if not 0 <= self.overlap_prob <= 1 or self.max_bystanders < 0 or self.workers < 1:
            problems.append("overlap_prob in [0, 1], max_bystanders >= 0, workers >= 1")
        if problems:
            raise ValueError("invalid InteractConfig: " + "; ".join(problems))


def instance_counts(config: InteractConfig) -> dict[str, dict[str, int]]:
    """Interactions to render per split and class: the source's counts times ``scale``."""
    return {
        split: {
            c: max(2, round(n * config.scale)) for c, n in zip(INTERACTIONS, counts, strict=True)
        }
        for split, counts in SOURCE_COUNTS.items()
    }


# ---------------------------------------------------------------------------------------------
# motion


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _envelope(sec: np.ndarray, t0: float, t1: float, ramp: float = 0.35) -> np.ndarray:
    """0 before ``t0``, rising to 1, held, falling back to 0 at ``t1``."""
    return _smoothstep((sec - t0) / ramp) * _smoothstep((t1 - sec) / ramp)


def _pulse(sec: np.ndarray, t: float, width: float = 0.3) -> np.ndarray:
    """A fast out-and-back movement centred on ``t`` (a punch or kick)."""
    return np.exp(-(((sec - t) / (width / 2.5)) ** 2))


def _deg(p: np.ndarray, name: str, value: float | np.ndarray, add: bool = False) -> None:
    rad = np.deg2rad(value)
    p[:, P[name]] = p[:, P[name]] + rad if add else rad


def _place(p: np.ndarray, pos: np.ndarray, direction: np.ndarray) -> None:
    """Stand at ground point ``pos`` (x, z) facing unit ``direction`` (x, z)."""
    p[:, P["root_x"]] += pos[0]
    p[:, P["root_z"]] += pos[1]
    p[:, P["yaw"]] = math.atan2(direction[0], direction[1])


def _shift(p: np.ndarray, amount: np.ndarray, direction: np.ndarray) -> None:
    """Move along ``direction`` by ``amount`` (T,) metres."""
    p[:, P["root_x"]] += amount * direction[0]
    p[:, P["root_z"]] += amount * direction[1]


def _idle(p: np.ndarray, sec: np.ndarray, rng: np.random.Generator) -> None:
    """Small weight shifts and arm sway, so that standing still is not frozen."""
    ph = 2 * np.pi * (rng.uniform(0.2, 0.4) * sec + rng.uniform())
    _deg(p, "lean", 2 * np.sin(ph), add=True)
    _deg(p, "twist", 4 * np.sin(0.7 * ph), add=True)
    _deg(p, "l_arm_e", 3 * np.sin(ph + 1), add=True)
    _deg(p, "r_arm_e", 3 * np.sin(ph + 2), add=True)


@dataclass
class Pair:
    """Pose tracks of the agent and the receiver, the interaction window and extra labels."""

    agent: np.ndarray
    receiver: np.ndarray
    window: tuple[float, float]
    receiver_points: bool


def stage_pair(kind: str, sec: np.ndarray, rng: np.random.Generator, overlap_prob: float) -> Pair:
    """Pose tracks (T, N_PARAMS) of a pair performing ``kind``, centred at a random spot."""
    if kind not in ACTION_IDS:
        raise ValueError(f"unknown interaction {kind!r}; choose from {INTERACTIONS}")
    num, dur = len(sec), float(sec[-1] + (sec[1] - sec[0] if len(sec) > 1 else 0))
    a, b = neutral_params(num), neutral_params(num)
    t0 = rng.uniform(0.15, 0.35) * dur
    t1 = rng.uniform(0.65, 0.85) * dur
    angle = np.deg2rad(rng.uniform(-35, 35) + rng.choice([0.0, 180.0]))
    axis = np.array([math.cos(angle), math.sin(angle)])  # agent -> receiver, ground (x, z)
    centre = np.array([rng.uniform(-0.8, 0.8), rng.uniform(0.5, 2.5)])
    gap = {"handshake": 0.85, "point": 2.0, "hug": 1.0, "push": 0.75, "kick": 1.0, "punch": 0.75}
    half = 0.5 * gap[kind] * rng.uniform(0.9, 1.15)
    _place(a, centre - half * axis, axis)
    _place(b, centre + half * axis, -axis)
    _idle(a, sec, rng)
    _idle(b, sec, rng)
    env = _envelope(sec, t0, t1)
    hit = 0.5 * (t0 + t1) + rng.uniform(-0.1, 0.1) * dur  # moment of contact
    if kind == "handshake":
        shake = np.sin(2 * np.pi * rng.uniform(2.0, 3.0) * sec)
        for p in (a, b):
            _deg(p, "r_arm_e", 8 + 50 * env + 6 * env * shake)
            _deg(p, "r_arm_a", 20 - 30 * env)
            _deg(p, "r_elbow", 12 + 30 * env)
    elif kind == "point":
        _deg(a, "r_arm_e", 8 + 82 * env)
        _deg(a, "r_arm_a", 20 - 20 * env)
        _deg(a, "r_elbow", 12 * (1 - env))
    elif kind == "hug":
        for p, direction in ((a, axis), (b, -axis)):
            _shift(p, 0.3 * env, direction)  # step in
            _deg(p, "l_arm_e", 8 + 72 * env)
            _deg(p, "r_arm_e", 8 + 72 * env)
            _deg(p, "l_arm_a", 20 + 15 * env)
            _deg(p, "r_arm_a", 20 + 15 * env)
            _deg(p, "l_elbow", 12 + 75 * env)
            _deg(p, "r_elbow", 12 + 75 * env)
            _deg(p, "lean", 10 * env, add=True)
    elif kind == "push":
        thrust = _pulse(sec, hit, 0.5)
        for side in ("l_", "r_"):
            _deg(a, side + "arm_e", 25 + 60 * thrust * env.max())
            _deg(a, side + "arm_a", 10)
            _deg(a, side + "elbow", 100 * (1 - thrust))
        _deg(a, "lean", 12 * thrust, add=True)
        recoil = _smoothstep((sec - hit) / 0.4)
        _shift(b, -0.5 * recoil, -axis)  # pushed backwards, away from the agent
        _deg(b, "lean", -15 * _pulse(sec, hit + 0.2, 0.6), add=True)
        _deg(b, "l_arm_a", 20 + 40 * _pulse(sec, hit + 0.2, 0.6))
        _deg(b, "r_arm_a", 20 + 40 * _pulse(sec, hit + 0.2, 0.6))
    elif kind == "kick":
        k = _pulse(sec, hit, 0.6)
        _deg(a, "r_leg_e", 80 * k)
        _deg(a, "r_knee", 5 + 60 * _pulse(sec, hit - 0.2, 0.4))
        _deg(a, "lean", -12 * k, add=True)
        for side in ("l_", "r_"):
            _deg(a, side + "arm_a", 40 + 20 * k)
            _deg(a, side + "arm_e", 25 + 20 * k)
        _deg(b, "lean", 25 * _pulse(sec, hit + 0.25, 0.7), add=True)  # doubles over
        _shift(b, -0.3 * _smoothstep((sec - hit) / 0.4), -axis)
    elif kind == "punch":
        for i, when in enumerate((hit - 0.25, hit + 0.25)):
            side = "r_" if i == 0 else "l_"
            ext = _pulse(sec, when, 0.35)
            _deg(a, side + "arm_e", 35 + 55 * ext)
            _deg(a, side + "arm_a", 5)
            _deg(a, side + "elbow", 125 * (1 - ext))
        _deg(a, "twist", 15 * (_pulse(sec, hit - 0.25, 0.35) - _pulse(sec, hit + 0.25, 0.35)))
        _deg(b, "lean", -14 * _pulse(sec, hit + 0.15, 0.8), add=True)
        _shift(b, -0.25 * _smoothstep((sec - hit) / 0.5), -axis)
    receiver_points = kind in ("push", "kick", "punch") and rng.random() < overlap_prob
    if receiver_points:
        _deg(b, "r_arm_e", 8 + 80 * env)
        _deg(b, "r_arm_a", 20 - 20 * env)
        _deg(b, "r_elbow", 12 * (1 - env))
    return Pair(a, b, (float(t0), float(t1)), receiver_points)


def stage_bystander(sec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A passer-by walking across the background."""
    p = neutral_params(len(sec))
    direction = rng.choice([-1.0, 1.0])
    p[:, P["yaw"]] = np.deg2rad(90.0 * direction + rng.uniform(-15, 15))
    _gait(p, Ctx(np.linspace(0, 1, len(sec)), sec, rng, 1.0), (0.8, 1.1), 25, 45, 20, 15)
    _travel(p, Ctx(np.linspace(0, 1, len(sec)), sec, rng, 1.0), rng.uniform(0.9, 1.4))
    p[:, P["root_x"]] += rng.uniform(-1.5, 1.5)
    p[:, P["root_z"]] += rng.uniform(3.0, 5.5)
    return p


# ---------------------------------------------------------------------------------------------
# camera, boxes, rendering


def sequence_camera(seq_rng: np.random.Generator, height: int, width: int) -> Camera:
    """A fixed, elevated camera: the horizon near the top, the pair's area in the lower half."""
    cam_h = seq_rng.uniform(2.4, 3.6)
    distance = seq_rng.uniform(4.5, 6.5)
    cy = seq_rng.uniform(-0.05, 0.12) * height
    scale = (seq_rng.uniform(0.85, 0.95) * height - cy) * distance / cam_h
    cx = width / 2 + seq_rng.uniform(-0.08, 0.08) * width
    return Camera(height=cam_h, distance=distance, scale=scale, cx=cx, cy=cy)


def person_boxes(joints: np.ndarray, body: Body, camera: Camera, height: int, width: int):
    """Per-frame normalized boxes (T, 4) of a person, and visibility (T,) bool.

    The box spans the projected joints padded by the limb thickness (and the head's radius on
    top); a person counts as visible when at least half of the padded box is inside the frame.
    """
    uv, depth = camera.project(joints)
    pad = camera.scale * (body.r_thigh + 0.02) / depth.mean(axis=1)
    head_top = camera.project(joints[:, J["head"]] + np.array([0.0, body.head_r, 0.0]))[0][:, 1]
    x1 = uv[..., 0].min(axis=1) - pad
    x2 = uv[..., 0].max(axis=1) + pad
    y1 = np.minimum(uv[..., 1].min(axis=1), head_top) - pad * 0.5
    y2 = uv[..., 1].max(axis=1) + pad * 0.5
    full = np.maximum(x2 - x1, 1e-6) * np.maximum(y2 - y1, 1e-6)
    cx1, cx2 = np.clip(x1, 0, width), np.clip(x2, 0, width)
    cy1, cy2 = np.clip(y1, 0, height), np.clip(y2, 0, height)
    inside = np.maximum(cx2 - cx1, 0) * np.maximum(cy2 - cy1, 0)
    boxes = np.stack([cx1 / width, cy1 / height, cx2 / width, cy2 / height], axis=1)
    return boxes, inside / full >= 0.5


@dataclass
class RenderedVideo:
    frames: np.ndarray  # (T, H, W, 3) uint8
    boxes: np.ndarray  # (persons, T, 4) normalized
    visible: np.ndarray  # (persons, T) bool
    roles: list[str]  # "agent" | "receiver" | "bystander"
    window: tuple[float, float]
    receiver_points: bool


def render_interaction(
    kind: str, split: str, sequence: int, index: int, config: InteractConfig
) -> RenderedVideo:
    """Render one video (deterministic in its arguments and the config's seed)."""
    seq_ss = np.random.SeedSequence([config.seed, _SALT, 0 if split == "train" else 1, sequence])
    clip_ss = np.random.SeedSequence(
        [config.seed, _SALT, 2 if split == "train" else 3, ACTION_IDS[kind], index]
    )
    camera = sequence_camera(np.random.default_rng(seq_ss.spawn(1)[0]), config.height, config.width)
    motion_ss, look_ss, light_ss = clip_ss.spawn(3)
    rng = np.random.default_rng(motion_ss)
    sec = np.arange(config.num_frames) / config.fps
    pair = stage_pair(kind, sec, rng, config.overlap_prob)
    tracks = [(pair.agent, "agent"), (pair.receiver, "receiver")]
    for _ in range(int(rng.integers(0, config.max_bystanders + 1))):
        tracks.append((stage_bystander(sec, rng), "bystander"))
    look_rng = np.random.default_rng(look_ss)
    props, boxes, visible = [], [], []
    for params, _role in tracks:
        body, look = sample_body(look_rng), sample_look(look_rng)
        joints = forward_kinematics(params, body)
        props += figure_props(joints, facing(params), body, look)
        b, v = person_boxes(joints, body, camera, config.height, config.width)
        boxes.append(b)
        visible.append(v)
    # the background belongs to the sequence (fixed camera); lighting noise to the clip
    background_rng = np.random.default_rng(seq_ss.spawn(2)[1])
    canvas = make_background(background_rng, config.height, config.width, camera.horizon())
    light = np.random.default_rng(light_ss)
    ramp = np.linspace(-0.5, 0.5, config.num_frames)
    shot = Shot(
        camera=camera,
        offsets=np.zeros((config.num_frames, 2), dtype=int),
        canvas=canvas,
        origin=np.zeros(2, dtype=int),
        props=props,
        gain=light.uniform(0.9, 1.1) * (1 + light.uniform(-0.05, 0.05) * ramp),
        bias=light.uniform(-8, 8) + np.zeros(config.num_frames),
        tint=light.uniform(0.95, 1.05, size=3),
        noise_sigma=float(light.uniform(1.0, 3.0)),
    )
    frames = render_shot(shot, light, config.height, config.width)
    return RenderedVideo(
        frames,
        np.stack(boxes),
        np.stack(visible),
        [role for _, role in tracks],
        pair.window,
        pair.receiver_points,
    )


# ---------------------------------------------------------------------------------------------
# annotations and the dataset


def keyframe_times(config: InteractConfig) -> np.ndarray:
    """Keyframe timestamps (seconds): every ``keyframe_every`` s, half an interval in."""
    duration = config.num_frames / config.fps
    return np.arange(config.keyframe_every / 2, duration, config.keyframe_every)


def annotate(
    video: RenderedVideo, video_id: str, kind: str, config: InteractConfig
) -> tuple[list[dict], list[dict]]:
    """(AVA action rows, person rows) at the keyframes of one rendered video."""
    actions, persons = [], []
    t0, t1 = video.window
    for ts in keyframe_times(config):
        frame = min(int(round(ts * config.fps)), config.num_frames - 1)
        for person, role in enumerate(video.roles):
            if not video.visible[person, frame]:
                continue
            x1, y1, x2, y2 = (round(float(v), 4) for v in video.boxes[person, frame])
            box = {"video_id": video_id, "timestamp": round(float(ts), 3),
                   "x1": x1, "y1": y1, "x2": x2, "y2": y2}  # fmt: skip
            persons.append({**box, "person_id": person, "role": role})
            if role == "bystander" or not t0 <= ts <= t1:
                continue
            labels = [kind]
            if role == "receiver" and video.receiver_points:
                labels.append("point")
            for label in labels:
                actions.append({**box, "action_id": ACTION_IDS[label], "person_id": person})
    return actions, persons


def _plan(config: InteractConfig) -> list[dict]:
    plan = []
    counts = instance_counts(config)
    for split, per_class in counts.items():
        sequences = config.train_sequences if split == "train" else config.test_sequences
        offset = 0
        for kind, n in per_class.items():
            for i in range(n):
                sequence = (offset + i) % sequences
                plan.append({"split": split, "class": kind, "index": i, "sequence": sequence,
                             "video_id": f"{split}_s{sequence:02d}_{kind}_{i:04d}"})  # fmt: skip
            offset += n
    return plan


def _make(job: tuple[dict, InteractConfig, str]) -> tuple[dict, list[dict], list[dict]]:
    item, config, root = job
    video = render_interaction(
        item["class"], item["split"], item["sequence"], item["index"], config
    )
    path = f"videos/{item['video_id']}.mp4"
    write_mp4(video.frames, Path(root) / path, config.fps)
    actions, persons = annotate(video, item["video_id"], item["class"], config)
    row = {**item, "path": path, "num_frames": config.num_frames, "fps": config.fps,
           "width": config.width, "height": config.height, "people": len(video.roles)}  # fmt: skip
    return row, actions, persons


def label_map_pbtxt() -> str:
    """The label map in AVA's pbtxt format."""
    return "".join(f'item {{\n  name: "{n}"\n  id: {ACTION_IDS[n]}\n}}\n' for n in INTERACTIONS)


def _write_csv(table: pd.DataFrame, path: Path, header: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    table.to_csv(tmp, index=False, header=header, lineterminator="\n")
    os.replace(tmp, path)


def generate_interact(root: str | Path, config: InteractConfig) -> pd.DataFrame:
    """Render every video and write the annotations; returns the manifest."""
    root = Path(root)
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    jobs = [(item, config, str(root)) for item in _plan(config)]
    results = map_with_progress(_make, jobs, config.workers, "synth-interact", "video")
    manifest = pd.DataFrame([r[0] for r in results])
    action_cols = ["video_id", "timestamp", "x1", "y1", "x2", "y2", "action_id", "person_id"]
    for split in SOURCE_COUNTS:
        ids = set(manifest.loc[manifest["split"] == split, "video_id"])
        actions = pd.DataFrame([a for r in results for a in r[1]], columns=action_cols)
        persons = pd.DataFrame(
            [p for r in results for p in r[2]], columns=[*action_cols[:6], "person_id", "role"]
        )
        _write_csv(actions[actions["video_id"].isin(ids)], root / "annotations" / f"{split}.csv",
                   header=False)  # fmt: skip
        _write_csv(persons[persons["video_id"].isin(ids)],
                   root / "annotations" / f"persons_{split}.csv", header=True)  # fmt: skip
    (root / "label_map.pbtxt").write_text(label_map_pbtxt())
    _write_csv(manifest, root / "manifest.csv", header=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """``python -m vidad.synth.interact --profile cpu``: the DVC stage ``synth_interact``.

    Reads ``synth_interact.<profile>`` from params.yaml, validates it before rendering, and
    writes the dataset to ``build/<profile>/synth/synth-interact`` from scratch.
    """
    from vidad.synth.stage import synth_stage_main

    return synth_stage_main(
        "synth_interact",
        "synth-interact",
        InteractConfig.from_params,
        generate_interact,
        argv,
        main.__doc__.splitlines()[0],
    )


if __name__ == "__main__":
    raise SystemExit(main())
