"""A 17-point articulated human body: pose parameters, body sizes, forward kinematics, camera.

Why joint *angles* and 3-D kinematics rather than 2-D stick drawings: the same motion must be
seen from the side, the front or at an angle, and walking towards the camera must show as a
change of scale. Angles also make time reversal and random amplitude trivial to apply.

Angles are in radians. Limb directions are spherical: ``elevation`` 0 hangs down, pi/2 is
horizontal, pi points up (negative swings backwards); ``azimuth`` 0 is forward, pi/2 is sideways
outwards. Elbows bend the forearm further up; knees bend the shin backwards.
World frame: y up, the camera looks along +z from ``z = -distance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JOINTS: tuple[str, ...] = (
    "head", "neck", "pelvis",
    "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
    "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle",
    "l_toe", "r_toe",
)  # fmt: skip
J = {name: i for i, name in enumerate(JOINTS)}

# Pose parameter layout: one row of this width per frame.
PARAMS: tuple[str, ...] = (
    "root_x", "root_y", "root_z", "yaw", "pitch", "lean", "twist",
    "l_arm_e", "l_arm_a", "l_elbow", "r_arm_e", "r_arm_a", "r_elbow",
    "l_leg_e", "l_leg_a", "l_knee", "r_leg_e", "r_leg_a", "r_knee",
)  # fmt: skip
P = {name: i for i, name in enumerate(PARAMS)}
N_PARAMS = len(PARAMS)

#: Neutral standing pose in degrees (arms hang slightly out, knees nearly straight).
NEUTRAL_DEG: dict[str, float] = {
    "l_arm_e": 8.0, "l_arm_a": 20.0, "l_elbow": 12.0,
    "r_arm_e": 8.0, "r_arm_a": 20.0, "r_elbow": 12.0,
    "l_leg_e": 0.0, "l_leg_a": 5.0, "l_knee": 3.0,
    "r_leg_e": 0.0, "r_leg_a": 5.0, "r_knee": 3.0,
}  # fmt: skip


def neutral_params(num_frames: int) -> np.ndarray:
    """A (T, N_PARAMS) array holding the neutral pose in every frame, angles in radians."""
    params = np.zeros((num_frames, N_PARAMS))
    for name, deg in NEUTRAL_DEG.items():
        params[:, P[name]] = np.deg2rad(deg)
    return params


@dataclass(frozen=True)
class Body:
    """Segment lengths and thicknesses of one actor, in metres.

    Drawn per actor so that body size and proportions vary between people but not between
    classes; a model cannot use "the tall one always claps".
    """

    torso: float = 0.52
    neck_head: float = 0.15
    head_r: float = 0.105
    shoulder_w: float = 0.18
    hip_w: float = 0.095
    upper_arm: float = 0.29
    forearm: float = 0.29
    thigh: float = 0.45
    shin: float = 0.44
    foot: float = 0.15
    r_torso: float = 0.12
    r_upper_arm: float = 0.05
    r_forearm: float = 0.04
    r_thigh: float = 0.07
    r_shin: float = 0.055
    r_neck: float = 0.045
    r_foot: float = 0.04


def sample_body(rng: np.random.Generator) -> Body:
    """Random actor: overall scale 0.85-1.1 (children to tall adults), +-8% proportions, build."""
    scale = rng.uniform(0.85, 1.1)
    build = rng.uniform(0.8, 1.3)  # thickness factor: slim to heavy

    def j(x: float) -> float:
        return x * scale * rng.uniform(0.92, 1.08)

    def t(x: float) -> float:
        return x * scale * build * rng.uniform(0.9, 1.1)

    b = Body()
    return Body(
        torso=j(b.torso), neck_head=j(b.neck_head), head_r=j(b.head_r),
        shoulder_w=j(b.shoulder_w) * (0.5 + 0.5 * build), hip_w=j(b.hip_w) * build,
        upper_arm=j(b.upper_arm), forearm=j(b.forearm), thigh=j(b.thigh), shin=j(b.shin),
        foot=j(b.foot), r_torso=t(b.r_torso), r_upper_arm=t(b.r_upper_arm),
        r_forearm=t(b.r_forearm), r_thigh=t(b.r_thigh), r_shin=t(b.r_shin),
        r_neck=t(b.r_neck), r_foot=t(b.r_foot),
    )  # fmt: skip


def _sph(elev: np.ndarray, azim: np.ndarray, side: float) -> np.ndarray:
    """Unit limb direction (T, 3) from elevation/azimuth; side +1 = left (+x), -1 = right."""
    s = np.sin(elev)
    return np.stack([side * s * np.sin(azim), -np.cos(elev), s * np.cos(azim)], axis=-1)


def _rot_x(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Tip +y towards +z by ``ang`` (forward lean / forward somersault), per frame."""
    shape = (-1,) + (1,) * (v.ndim - 2)
    c, s = np.cos(ang).reshape(shape), np.sin(ang).reshape(shape)
    y, z = v[..., 1], v[..., 2]
    return np.stack([v[..., 0], y * c - z * s, y * s + z * c], axis=-1)


def _rot_y(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Turn about the vertical axis; forward (0, 0, 1) goes to (sin a, 0, cos a)."""
    shape = (-1,) + (1,) * (v.ndim - 2)
    c, s = np.cos(ang).reshape(shape), np.sin(ang).reshape(shape)
    x, z = v[..., 0], v[..., 2]
    return np.stack([x * c + z * s, v[..., 1], -x * s + z * c], axis=-1)


def forward_kinematics(params: np.ndarray, body: Body, grounded: bool = True) -> np.ndarray:
    """World joint positions (T, 17, 3) for a (T, N_PARAMS) pose sequence.

    With ``grounded`` the figure is lifted per frame so its lowest foot point touches y = 0
    and ``root_y`` is added on top (jumps, flight phases); otherwise ``root_y`` is the pelvis
    height itself (a rider, a gymnast on a bar).
    """
    t = params.shape[0]
    p = {name: params[:, i] for name, i in P.items()}
    pts = np.zeros((t, len(JOINTS), 3))
    up = np.tile([0.0, 1.0, 0.0], (t, 1))
    x_axis = np.tile([1.0, 0.0, 0.0], (t, 1))

    def upper(v: np.ndarray) -> np.ndarray:  # upper-body frame: twist, then lean
        return _rot_x(_rot_y(v, p["twist"]), p["lean"])

    spine = upper(up)
    neck = spine * body.torso
    pts[:, J["neck"]] = neck
    pts[:, J["head"]] = neck + spine * body.neck_head
    for side, pre in ((1.0, "l_"), (-1.0, "r_")):
        sh = neck + upper(x_axis) * (side * body.shoulder_w) - spine * 0.03
        ua = upper(_sph(p[pre + "arm_e"], p[pre + "arm_a"], side))
        fa = upper(_sph(p[pre + "arm_e"] + p[pre + "elbow"], p[pre + "arm_a"], side))
        pts[:, J[pre + "shoulder"]] = sh
        pts[:, J[pre + "elbow"]] = sh + ua * body.upper_arm
        pts[:, J[pre + "wrist"]] = sh + ua * body.upper_arm + fa * body.forearm
        hip = x_axis * (side * body.hip_w)
        shin_e = p[pre + "leg_e"] - p[pre + "knee"]
        th = _sph(p[pre + "leg_e"], p[pre + "leg_a"], side)
        sn = _sph(shin_e, p[pre + "leg_a"], side)
        ft = _sph(shin_e + np.pi / 2, p[pre + "leg_a"] * 0.3, side)
        ankle = hip + th * body.thigh + sn * body.shin
        pts[:, J[pre + "hip"]] = hip
        pts[:, J[pre + "knee"]] = hip + th * body.thigh
        pts[:, J[pre + "ankle"]] = ankle
        pts[:, J[pre + "toe"]] = ankle + ft * body.foot
    # whole-body somersault about the pelvis, then heading
    pts = _rot_y(_rot_x(pts, p["pitch"]), p["yaw"])
    if grounded:
        feet = pts[:, [J["l_ankle"], J["r_ankle"], J["l_toe"], J["r_toe"]], 1]
        lift = -feet.min(axis=1) + body.r_foot + p["root_y"]
    else:
        lift = p["root_y"]
    pts[..., 0] += p["root_x"][:, None]
    pts[..., 1] += lift[:, None]
    pts[..., 2] += p["root_z"][:, None]
    return pts


def facing(params: np.ndarray) -> np.ndarray:
    """Unit forward direction (T, 3) of the body (for the hair/face cue and travel)."""
    yaw = params[:, P["yaw"]]
    return np.stack([np.sin(yaw), np.zeros_like(yaw), np.cos(yaw)], axis=-1)


@dataclass(frozen=True)
class Camera:
    """Pinhole camera at ``(0, height, -distance)`` looking along +z, then a 2-D image map.

    ``scale``/``cx``/``cy`` map normalised image coordinates to pixels; they are chosen per clip
    by :func:`frame_camera` so the whole motion stays inside the picture.
    """

    height: float = 1.0
    distance: float = 4.0
    scale: float = 100.0
    cx: float = 56.0
    cy: float = 56.0

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (..., 2) as (x, y) and depth (...) of world points (..., 3)."""
        depth = np.maximum(pts[..., 2] + self.distance, 0.2)
        u = pts[..., 0] / depth
        v = -(pts[..., 1] - self.height) / depth
        return np.stack([self.cx + self.scale * u, self.cy + self.scale * v], axis=-1), depth

    def horizon(self) -> float:
        """Image row of the horizon (ground plane at infinity) for this level camera."""
        return self.cy


def frame_camera(
    points: np.ndarray,
    height: float,
    distance: float,
    width: int,
    img_h: int,
    rng: np.random.Generator,
    fill: tuple[float, float] = (0.6, 0.85),
    margin: float = 0.06,
) -> Camera:
    """Choose scale and centre so all ``points`` (N, 3) fit the frame, at a random size/place.

    ``fill`` is the range of the fraction of the frame the points' bounding box may take on
    its tighter axis; ``margin`` keeps a border free for camera shake and pan.
    """
    probe = Camera(height=height, distance=distance, scale=1.0, cx=0.0, cy=0.0)
    uv, _ = probe.project(points)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    room = np.array([width, img_h]) * (1.0 - 2.0 * margin)
    scale = float(np.min(room / span) * rng.uniform(*fill))
    slack = np.maximum(room - span * scale, 0.0)
    start = np.array([width, img_h]) * margin + slack * rng.uniform(0.2, 0.8, size=2)
    c = start - lo * scale
    return Camera(height=height, distance=distance, scale=scale, cx=float(c[0]), cy=float(c[1]))
