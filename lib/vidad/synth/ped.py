"""``synth-ped``: a fixed camera over a walkway, in the layout of UCSD Ped2.

The stand-in for UCSD Ped2 (Mahadevan et al., *Anomaly detection in crowded scenes*, CVPR
2010; MemAE, Gong et al., ICCV 2019, reports on it): an elevated, fixed camera looks at a paved
walkway with lawn on both sides. Normal videos show pedestrians walking along the walkway in both
directions; test videos add, for a stretch of frames, one anomaly: a ``cyclist``, a ``skater``,
a ``cart``, a person crossing the lawn (``lawn_crossing``) or a person ``running`` along the
walkway. Every test frame has a per-pixel ground-truth mask of the anomalous actor (coverage of
its rendered shapes > 0.5), and a frame is anomalous exactly when its mask is not empty.

Written in the UCSD layout, so that :mod:`vidad.data.ucsd_ped` reads it and the real dataset
alike (grayscale frames, as UCSD's)::

    <root>/Train/Train001/001.tif ...
    <root>/Test/Test001/001.tif ...        <root>/Test/Test001_gt/001.bmp ... (255 = anomalous)
    <root>/synth_ped.csv                   one row per test video: kind, first and last frame

Deterministic: the same seed gives byte-identical files whatever the number of workers.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from vidad.config import SectionConfig
from vidad.progress import map_with_progress
from vidad.synth.actions import Ctx, _gait
from vidad.synth.render import (
    Prop,
    Shot,
    _draw,
    draw_static,
    figure_props,
    make_background,
    render_shot,
    sample_look,
)
from vidad.synth.skeleton import (
    Camera,
    J,
    P,
    facing,
    forward_kinematics,
    neutral_params,
    sample_body,
)
from vidad.synth.sports import _cap, _ground_rect, _poly

ANOMALY_KINDS: tuple[str, ...] = ("cyclist", "skater", "cart", "lawn_crossing", "running")
WALKWAY = (1.0, 2.6)  # z range (metres from the camera's ground origin) of the paved strip
_SALT = 0x9ED2


@dataclass(frozen=True)
class PedConfig(SectionConfig):
    """Size and randomness of synth-ped (UCSD Ped2 has 16 train and 12 test videos).

    Every value is type-checked when built (:class:`vidad.config.SectionConfig`); a list of
    ``anomaly_kinds`` (as YAML writes it) is held as a tuple.
    """

    SECTION = "synth_ped"

    num_train: int = 16
    num_test: int = 12
    num_frames: int = 120
    height: int = 120
    width: int = 180
    fps: float = 10.0
    seed: int = 0
    workers: int = 1
    anomaly_kinds: tuple[str, ...] = field(default=ANOMALY_KINDS)

    def __post_init__(self) -> None:
        if isinstance(self.anomaly_kinds, list):
            object.__setattr__(self, "anomaly_kinds", tuple(self.anomaly_kinds))
        super().__post_init__()

    def validate(self) -> None:
        problems = []
        if self.num_train < 1 or self.num_test < 1:
            problems.append("num_train and num_test must be >= 1")
        if self.num_frames < 16:
            problems.append(f"num_frames must be >= 16 (got {self.num_frames})")
        if self.height < 32 or self.width < 32:
            problems.append("height and width must be >= 32")
        unknown = sorted(set(self.anomaly_kinds) - set(ANOMALY_KINDS))
        if unknown or not self.anomaly_kinds:
            problems.append(f"anomaly_kinds must be a non-empty subset of {ANOMALY_KINDS}")
        if not self.fps > 0 or self.workers < 1:
            problems.append("fps must be > 0 and workers >= 1")
        if self.seed < 0:
            problems.append(f"seed must be >= 0 (got {self.seed})")
        if problems:
            raise ValueError("invalid PedConfig: " + "; ".join(problems))


def ped_camera(height: int, width: int) -> Camera:
    """The one fixed camera of the dataset: high, looking down the walkway at a slant."""
    cam_h, distance = 6.0, 3.0
    cy = -0.35 * height
    scale = (0.98 * height - cy) * distance / cam_h
    return Camera(height=cam_h, distance=distance, scale=scale, cx=width / 2, cy=cy)


def _walker(
    sec: np.ndarray, rng: np.random.Generator, speed: float, heading: float, start: np.ndarray,
    gait: tuple[float, float, float, float, float, float],
) -> np.ndarray:  # fmt: skip
    """Pose track of a person moving at ``speed`` along ``heading`` (radians) from ``start``."""
    p = neutral_params(len(sec))
    p[:, P["yaw"]] = heading
    hz_lo, hz_hi, leg, knee, arm, elbow = gait
    _gait(p, Ctx(np.linspace(0, 1, len(sec)), sec, rng, 1.0), (hz_lo, hz_hi), leg, knee, arm, elbow)
    p[:, P["root_x"]] = start[0] + math.sin(heading) * speed * sec
    p[:, P["root_z"]] = start[1] + math.cos(heading) * speed * sec
    return p


WALK = (0.8, 1.1, 25.0, 45.0, 20.0, 15.0)
RUN = (1.3, 1.7, 42.0, 100.0, 45.0, 90.0)


def _crossing(rng: np.random.Generator, speed: float, sec_total: float, span: float):
    """Direction, heading and start of a trip along x that is on screen mid-way."""
    direction = rng.choice([-1.0, 1.0])
    heading = math.radians(90.0 * direction + rng.uniform(-6, 6))
    x0 = -direction * span - direction * rng.uniform(0, max(speed * sec_total - 2 * span, 0.1))
    return direction, heading, x0


def _person(params: np.ndarray, rng: np.random.Generator) -> list[Prop]:
    body, look = sample_body(rng), sample_look(rng)
    joints = forward_kinematics(params, body)
    return figure_props(joints, facing(params), body, look)


def pedestrians(sec: np.ndarray, rng: np.random.Generator, span: float) -> list[list[Prop]]:
    """3-7 people walking along the walkway, each entering at a random time from one edge."""
    people = []
    duration = float(sec[-1])
    for _ in range(int(rng.integers(3, 8))):
        speed = rng.uniform(0.9, 1.4)
        direction = rng.choice([-1.0, 1.0])
        heading = math.radians(90.0 * direction + rng.uniform(-5, 5))
        enter = rng.uniform(-0.6, 0.9) * duration
        x0 = -direction * span - direction * speed * enter
        params = _walker(sec, rng, speed, heading, np.array([x0, rng.uniform(*WALKWAY)]), WALK)
        people.append(_person(params, rng))
    return people


def anomaly_actor(kind: str, sec: np.ndarray, rng: np.random.Generator, span: float) -> list[Prop]:
    """The props of one anomalous actor, moving through the scene during the video."""
    duration = float(sec[-1])
    z = rng.uniform(*WALKWAY)
    if kind == "lawn_crossing":  # across the walkway, from lawn to lawn
        x = rng.uniform(-0.6 * span, 0.6 * span)
        direction = rng.choice([-1.0, 1.0])
        speed = rng.uniform(1.0, 1.3)
        z0 = (WALKWAY[0] - 2.5) if direction > 0 else (WALKWAY[1] + 2.5)
        z0 -= direction * rng.uniform(0, max(speed * duration - 6.0, 0.1))
        heading = 0.0 if direction > 0 else math.pi
        return _person(_walker(sec, rng, speed, heading, np.array([x, z0]), WALK), rng)
    speed = {"cyclist": 3.5, "skater": 2.8, "cart": 2.2, "running": 3.2}[kind] * rng.uniform(
        0.9, 1.1
    )
    direction, heading, x0 = _crossing(rng, speed, duration, span)
    gait = RUN if kind == "running" else WALK
    params = _walker(sec, rng, speed, heading, np.array([x0, z]), gait)
    fwd = np.array([math.sin(heading), 0.0, math.cos(heading)])
    root = np.stack([params[:, P["root_x"]], np.zeros(len(sec)), params[:, P["root_z"]]], axis=1)
    if kind == "running":
        return _person(params, rng)
    if kind == "cart":
        box = (rng.uniform(80, 200), rng.uniform(40, 120), rng.uniform(20, 90))
        outline = ((-0.7, 0.2), (0.7, 0.2), (0.7, 1.0), (-0.7, 1.0))  # along, up (metres)
        corners = [root + fwd * a + np.array([0.0, h, 0.0]) for a, h in outline]
        props = [Prop("polygon", np.stack(corners, axis=1), box)]
        for a in (-0.5, 0.5):
            props.append(_cap(root + fwd * a + [0, 0.15, 0], root + fwd * a + [0, 0.15, 0],
                              0.15, (30.0, 30.0, 30.0), bias=-0.05))  # fmt: skip
        return props
    # cyclist and skater: a person carried along without walking
    params[:, P["l_leg_e"] :] = neutral_params(len(sec))[:, P["l_leg_e"] :]
    if kind == "cyclist":
        crank = 2 * np.pi * 1.2 * sec
        for side, off in (("l_", 0.0), ("r_", np.pi)):
            params[:, P[side + "leg_e"]] = np.radians(45 + 25 * np.sin(crank + off))
            params[:, P[side + "knee"]] = np.radians(60 + 30 * np.cos(crank + off))
            params[:, P[side + "arm_e"]] = np.radians(55)
            params[:, P[side + "elbow"]] = np.radians(20)
        params[:, P["lean"]] = np.radians(25)
        params[:, P["root_y"]] = 0.45
    else:  # skater: slight crouch, arms out for balance
        for side in ("l_", "r_"):
            params[:, P[side + "knee"]] = np.radians(25)
            params[:, P[side + "arm_a"]] = np.radians(70)
            params[:, P[side + "arm_e"]] = np.radians(40)
        params[:, P["root_y"]] = 0.1
    body, look = sample_body(rng), sample_look(rng)
    joints = forward_kinematics(params, body, grounded=False)
    props = figure_props(joints, facing(params), body, look)
    dark = (40.0, 40.0, 45.0)
    if kind == "cyclist":
        for a in (-0.55, 0.55):
            wheel = root + fwd * a + [0, 0.33, 0]
            props.append(_cap(wheel, wheel, 0.33, dark, bias=0.05, alpha=0.9))
        props.append(_cap(root - fwd * 0.55 + [0, 0.35, 0], root + fwd * 0.5 + [0, 0.8, 0],
                          0.03, (200.0, 40.0, 40.0), bias=-0.02))  # fmt: skip
    else:
        feet = 0.5 * (joints[:, J["l_ankle"]] + joints[:, J["r_ankle"]])
        deck = feet - [0, 0.02, 0]
        props.append(_cap(deck - fwd * 0.4, deck + fwd * 0.4, 0.04, (150.0, 90.0, 40.0), bias=0.02))
    return props


def coverage(props: list[Prop], camera: Camera, num: int, height: int, width: int) -> np.ndarray:
    """(T, H, W) float coverage of ``props`` alone (their shapes painted white on black)."""
    out = np.zeros((num, height, width), np.float32)
    white = [replace(p, color=(255.0, 255.0, 255.0), alpha=1.0) for p in props]
    projected = []
    for prop in white:
        pts = np.broadcast_to(prop.points, (num, *prop.points.shape[1:]))
        uv, depth = camera.project(pts)
        projected.append((uv, camera.scale / depth.mean(axis=1)))
    for t in range(num):
        img = np.zeros((height, width, 3), np.float32)
        for prop, (uv, ppm) in zip(white, projected, strict=True):
            _draw(img, prop, uv[t], ppm[t])
        out[t] = img[..., 0] / 255.0
    return out


@dataclass
class PedVideo:
    frames: np.ndarray  # (T, H, W) uint8 grayscale
    masks: np.ndarray | None  # (T, H, W) bool, test videos only
    kind: str | None


def render_video(split: str, index: int, config: PedConfig) -> PedVideo:
    """Render one train or test video (deterministic in its arguments and the seed)."""
    ss = np.random.SeedSequence([config.seed, _SALT, 0 if split == "train" else 1, index])
    scene_ss, people_ss, anomaly_ss, light_ss = ss.spawn(4)
    rng = np.random.default_rng(people_ss)
    sec = np.arange(config.num_frames) / config.fps
    camera = ped_camera(config.height, config.width)
    span = 0.5 * config.width / camera.scale * (camera.distance + WALKWAY[1]) + 1.0
    props = [p for person in pedestrians(sec, rng, span) for p in person]
    kind, masks = None, None
    if split == "test":
        arng = np.random.default_rng(anomaly_ss)
        kind = config.anomaly_kinds[index % len(config.anomaly_kinds)]
        actor = anomaly_actor(kind, sec, arng, span)
        masks = coverage(actor, camera, config.num_frames, config.height, config.width) > 0.5
        props += actor
    # the scene (lawn, walkway, lighting level) is the same in every video: one camera
    scene_rng = np.random.default_rng(np.random.SeedSequence([config.seed, _SALT, 7]))
    palette = {"floor": (70.0, 125.0, 55.0), "sky": (90.0, 120.0, 60.0), "no_clutter": True}
    canvas = make_background(scene_rng, config.height, config.width, camera.horizon(), palette)
    light = np.random.default_rng(light_ss)
    shot = Shot(
        camera=camera,
        offsets=np.zeros((config.num_frames, 2), dtype=int),
        canvas=canvas,
        origin=np.zeros(2, dtype=int),
        props=props,
        gain=np.full(config.num_frames, light.uniform(0.95, 1.05)),
        bias=np.zeros(config.num_frames),
        tint=np.ones(3),
        noise_sigma=1.5,
    )
    far = 60.0
    draw_static(shot, [_poly(_ground_rect(-far, far, *WALKWAY), (150.0, 150.0, 145.0))])
    rgb = render_shot(shot, light, config.height, config.width)
    gray = np.round(rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    return PedVideo(np.clip(gray, 0, 255).astype(np.uint8), masks, kind)


def _segment(masks: np.ndarray) -> tuple[int, int]:
    frames = np.flatnonzero(masks.reshape(len(masks), -1).any(axis=1))
    return (int(frames[0]) + 1, int(frames[-1]) + 1) if len(frames) else (0, 0)


def _write_video(job: tuple[str, int, PedConfig, str]) -> dict:
    split, index, config, root = job
    video = render_video(split, index, config)
    name = f"{'Train' if split == 'train' else 'Test'}{index + 1:03d}"
    folder = Path(root) / ("Train" if split == "train" else "Test") / name
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for t, frame in enumerate(video.frames, start=1):
        Image.fromarray(frame).save(tmp / f"{t:03d}.tif")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    row = {"split": split, "video": name, "num_frames": len(video.frames), "kind": video.kind}
    if video.masks is not None:
        gt = folder.with_name(name + "_gt")
        gt_tmp = gt.with_name(gt.name + ".tmp")
        shutil.rmtree(gt_tmp, ignore_errors=True)
        gt_tmp.mkdir()
        for t, mask in enumerate(video.masks, start=1):
            Image.fromarray(mask.astype(np.uint8) * 255).save(gt_tmp / f"{t:03d}.bmp")
        shutil.rmtree(gt, ignore_errors=True)
        os.replace(gt_tmp, gt)
        row["start_frame"], row["end_frame"] = _segment(video.masks)
    return row


def generate_synth_ped(root: str | Path, config: PedConfig) -> pd.DataFrame:
    """Write every video in the UCSD layout; returns (and writes) the table of videos."""
    root = Path(root)
    jobs = [("train", i, config, str(root)) for i in range(config.num_train)]
    jobs += [("test", i, config, str(root)) for i in range(config.num_test)]
    rows = map_with_progress(_write_video, jobs, config.workers, "synth-ped", "video")
    table = pd.DataFrame(rows)
    tmp = root / "synth_ped.csv.tmp"
    table.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, root / "synth_ped.csv")
    return table


def main(argv: list[str] | None = None) -> int:
    """``python -m vidad.synth.ped --profile cpu``: the DVC stage ``synth_ped``.

    Reads ``synth_ped.<profile>`` from params.yaml (validated before rendering) and writes
    ``build/<profile>/synth/synth-ped`` from scratch.
    """
    from vidad.synth.stage import synth_stage_main

    return synth_stage_main(
        "synth_ped",
        "synth-ped",
        PedConfig.from_params,
        generate_synth_ped,
        argv,
        main.__doc__.splitlines()[0],
    )


if __name__ == "__main__":
    raise SystemExit(main())
