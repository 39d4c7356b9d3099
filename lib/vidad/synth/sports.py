"""The ``synth-sports`` classes: the 10 UCF Sports actions with their motions, props and scenes.

Why props and scenes: in the real UCF Sports clips the pool, the horse or the golf green are
as telling as the motion, and the source study's anomaly classes (Walk-Front, Lifting,
SkateBoarding-Front) differ from the normal ones in both. The stand-in keeps that structure so
results on it are comparable in kind. The actor's body and clothes are still independent of the
class; only the sport's own equipment and venue are not.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vidad.data.protocol import ANOMALY_CLASSES, UCF_SPORTS_CLASSES
from vidad.synth.framing import Scene, view_label
from vidad.synth.render import Color, Look, Prop, figure_props
from vidad.synth.skeleton import Body, J, P, facing, forward_kinematics, neutral_params

SPORTS_CLASSES: tuple[str, ...] = UCF_SPORTS_CLASSES
__all__ = ["ANOMALY_CLASSES", "SPORTS_CLASSES", "sports_scene"]

_SKY: Color = (150.0, 190.0, 230.0)
_GRASS: Color = (70.0, 140.0, 60.0)


def _d(x: float | np.ndarray) -> float | np.ndarray:
    return np.deg2rad(x)


def _set(p: np.ndarray, name: str, deg: float | np.ndarray) -> None:
    p[:, P[name]] = _d(deg)


def _both(p: np.ndarray, what: str, deg: float | np.ndarray) -> None:
    _set(p, "l_" + what, deg)
    _set(p, "r_" + what, deg)


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _keys(p: np.ndarray, t: np.ndarray, knots: list[float], poses: list[dict[str, float]]) -> None:
    """Interpolate key poses (degrees; ``"l_/r_"`` omitted = both sides) smoothly over ``t``."""
    names = sorted({k for pose in poses for k in pose})
    for name in names:
        vals = np.array([pose.get(name, np.nan) for pose in poses], dtype=float)
        vals = np.where(np.isnan(vals), np.nanmean(vals), vals)
        out = np.full_like(t, vals[0])
        for i in range(len(knots) - 1):
            s = _smooth((t - knots[i]) / max(knots[i + 1] - knots[i], 1e-6))
            out = np.where(t >= knots[i], vals[i] + s * (vals[i + 1] - vals[i]), out)
        for full in [name] if name in P else ["l_" + name, "r_" + name]:
            _set(p, full, out)


def _aim(p: np.ndarray, limb: str, d: np.ndarray) -> None:
    """Point ``l_arm``/``r_leg``/... along direction ``d`` (T, 3) given in the limb's frame."""
    side = 1.0 if limb.startswith("l_") else -1.0
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    p[:, P[limb + "_e"]] = np.arccos(np.clip(-d[:, 1], -1, 1))
    p[:, P[limb + "_a"]] = np.arctan2(side * d[:, 0], d[:, 2])


def _heading(yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """World forward and left-lateral unit vectors for a heading."""
    return np.array([np.sin(yaw), 0.0, np.cos(yaw)]), np.array([np.cos(yaw), 0.0, -np.sin(yaw)])


def _cap(
    a: np.ndarray, b: np.ndarray, r: float, color: Color, bias: float = 0.0, alpha: float = 1.0
) -> Prop:
    """Moving capsule prop from per-frame end points (T, 3) (or fixed (3,) points)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n = max(len(a), len(b))
    pts = np.stack([np.broadcast_to(a, (n, 3)), np.broadcast_to(b, (n, 3))], axis=1)
    return Prop("capsule", pts, color, radius=r, alpha=alpha, depth_bias=bias)


def _poly(
    corners: np.ndarray, color: Color, num: int = 1, bias: float = 0.0, alpha: float = 1.0
) -> Prop:
    """Polygon prop with fixed corners (k, 3), repeated over ``num`` frames."""
    pts = np.broadcast_to(np.asarray(corners, float)[None], (num, len(corners), 3)).copy()
    return Prop("polygon", pts, color, alpha=alpha, depth_bias=bias)


def _rect(x0: float, x1: float, y0: float, y1: float, z: float = 0.0) -> np.ndarray:
    return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]])


def _ground_rect(x0: float, x1: float, z0: float, z1: float, y: float = 0.0) -> np.ndarray:
    return np.array([[x0, y, z0], [x1, y, z0], [x1, y, z1], [x0, y, z1]])


def _pin(joints: np.ndarray, names: list[str], target: np.ndarray) -> np.ndarray:
    """Translate each frame so the mean of ``names`` joints sits at ``target`` (T, 3) or (3,)."""
    mid = joints[:, [J[n] for n in names]].mean(axis=1)
    return joints + (np.asarray(target) - mid)[:, None, :]


def _side_yaw(rng: np.random.Generator, spread: float = 10.0) -> float:
    return float(_d(rng.choice([90.0, -90.0]) + rng.uniform(-spread, spread)))


def _gray(rng: np.random.Generator, lo: float, hi: float) -> Color:
    v = rng.uniform(lo, hi)
    return (v, v, v * rng.uniform(0.95, 1.05))


class _Clip:
    """Shared per-clip state while a sport is being staged."""

    def __init__(self, sec: np.ndarray, rng: np.random.Generator, body: Body, look: Look):
        self.sec, self.rng, self.body, self.look = sec, rng, body, look
        self.num = len(sec)
        self.t = np.linspace(0.0, 1.0, self.num) if self.num > 1 else np.zeros(1)
        self.p = neutral_params(self.num)

    def window(self, lo: tuple[float, float], hi: tuple[float, float]) -> np.ndarray:
        """Normalised progress 0..1 of an action that starts/ends at random times."""
        t0, t1 = self.rng.uniform(*lo), self.rng.uniform(*hi)
        return np.clip((self.t - t0) / (t1 - t0), 0.0, 1.0)

    def phase(self, lo_hz: float, hi_hz: float) -> np.ndarray:
        return 2 * np.pi * (self.rng.uniform(lo_hz, hi_hz) * self.sec + self.rng.uniform())

    def figure(self, joints: np.ndarray) -> list[Prop]:
        return figure_props(joints, facing(self.p), self.body, self.look)


def _gait(
    c: _Clip, hz: tuple[float, float], leg: float, knee: float, arm: float, elbow: float
) -> np.ndarray:
    ph = c.phase(*hz)
    for side, sgn in (("l_", 1.0), ("r_", -1.0)):
        _set(c.p, side + "leg_e", leg * np.sin(ph) * sgn)
        _set(c.p, side + "knee", 5 + knee * np.maximum(np.cos(ph) * sgn, 0) ** 1.5)
        _set(c.p, side + "arm_e", -arm * np.sin(ph) * sgn)
        _set(c.p, side + "elbow", elbow)
    return ph


def _walk_along(c: _Clip, speed: float) -> None:
    yaw = c.p[:, P["yaw"]]
    dist = speed * (c.sec - c.sec.mean())
    c.p[:, P["root_x"]] += np.sin(yaw) * dist
    c.p[:, P["root_z"]] += np.cos(yaw) * dist


# ------------------------------------------------------------------------------------------
# the sports


def diving(c: _Clip) -> Scene:
    yaw = _side_yaw(c.rng, 5)
    fwd, _ = _heading(yaw)
    c.p[:, P["yaw"]] = yaw
    board_y = c.rng.uniform(0.8, 1.5)
    t_off, t_in = c.rng.uniform(0.1, 0.3), c.rng.uniform(0.7, 0.85)
    u = np.clip((c.t - t_off) / (t_in - t_off), 0, None)  # flight progress, >1 under water
    f = np.clip(u, 0, 1)
    turns = c.rng.choice([0.5, 1.5, 2.5])
    tuck = np.sin(np.pi * f) ** 0.7 if turns > 1 else 0.35 * np.sin(np.pi * f)
    pre = np.clip(c.t / t_off, 0, 1)
    bounce = np.sin(np.pi * pre) * (u <= 0)
    c.p[:, P["pitch"]] = 2 * np.pi * turns * _smooth(f) ** 1.2
    _both(c.p, "leg_e", 115 * tuck + 10 * bounce)
    _both(c.p, "knee", 130 * tuck * (turns > 1) + 40 * bounce)
    _both(c.p, "leg_a", 4)
    _both(c.p, "arm_e", np.where(u > 0, 180 - 120 * tuck, 30 + 150 * pre))
    _both(c.p, "elbow", 40 * tuck)
    joints = forward_kinematics(c.p, c.body, grounded=False)
    stand = forward_kinematics(c.p, c.body, grounded=True)
    pelvis0 = board_y + stand[:, J["pelvis"], 1]
    peak = c.rng.uniform(0.4, 0.8)
    y = pelvis0 + 4 * peak * f * (1 - f) + (0.3 - pelvis0) * f - 1.2 * np.clip(u - 1, 0, 0.4)
    x = 1.2 * f + 0.3 * np.clip(u - 1, 0, 0.4)
    root = fwd * x[:, None]
    root[:, 1] = np.where(u > 0, y, stand[:, J["pelvis"], 1] + board_y)
    joints = np.where((u > 0)[:, None, None], joints, stand)
    joints = _pin(joints, ["pelvis"], root)
    tip = -fwd * 0.2
    board = [
        tip + [0, board_y - 0.09, 0],
        tip + [0, board_y, 0],
        tip - fwd * 3.5 + [0, board_y, 0],
        tip - fwd * 3.5 + [0, board_y - 0.09, 0],
    ]
    water_col = (40.0, 110 + c.rng.uniform(-20, 20), 190 + c.rng.uniform(-20, 20))
    pool = _rect(-15, 15, -6, 0, 0.8)
    static = [
        _poly(_rect(-15, 15, -6, 0, 1.5), water_col),
        _poly(np.array(board), (235.0, 235.0, 225.0)),
        _cap(
            tip - fwd * 2.5 + [0, board_y, 0.1],
            tip - fwd * 2.5 + [0, -0.2, 0.1],
            0.12,
            _gray(c.rng, 120, 180),
        ),
    ]
    water = _poly(pool, water_col, c.num, bias=-np.inf, alpha=0.75)
    props = [*c.figure(joints), water]
    frame = np.array([tip + [0, board_y, 0], [0, -0.6, 0], fwd * 1.8 + [0, -0.6, 0]])
    return Scene(
        joints,
        props,
        static,
        {"sky": (200.0, 215.0, 225.0), "floor": water_col},
        frame,
        fill=(0.75, 0.95),
        distance=(7.0, 10.0),
        cam_height=(0.5, 2.0),
        frame_mask=u <= 1.0,
    )


def golf(c: _Clip) -> Scene:
    yaw = float(_d(c.rng.choice([180.0, 90.0, -90.0, 0.0]) + c.rng.uniform(-20, 20)))
    c.p[:, P["yaw"]] = yaw
    lean = c.rng.uniform(25, 40)
    _set(c.p, "lean", lean)
    _both(c.p, "leg_a", 90)
    _both(c.p, "leg_e", 12)
    _both(c.p, "knee", 15)
    w = c.window((0.0, 0.15), (0.85, 1.0))
    hand = c.rng.choice([1.0, -1.0])  # right- or left-handed golfer
    back = c.rng.uniform(110, 150)
    sigma = np.where(
        w < 0.6,
        back * _smooth(w / 0.6),
        np.where(
            w < 0.72,
            back * (1 - _smooth((w - 0.6) / 0.12)),
            -back * 1.05 * _smooth((w - 0.72) / 0.28),
        ),
    )
    s = _d(sigma) * hand
    ang = _d(lean * 0.8)
    d = np.stack([np.sin(s), -np.cos(s) * np.cos(ang), np.cos(s) * np.sin(ang) + 0.25], axis=-1)
    _aim(c.p, "l_arm", d)
    _aim(c.p, "r_arm", d * np.array([1.0, 1.0, 1.0]))
    _both(c.p, "elbow", 5)
    _set(c.p, "twist", sigma * hand * 0.45)
    joints = forward_kinematics(c.p, c.body)
    grip = joints[:, [J["l_wrist"], J["r_wrist"]]].mean(axis=1)
    sh = joints[:, [J["l_shoulder"], J["r_shoulder"]]].mean(axis=1)
    axis = grip - sh
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    head = grip + axis * 0.95
    fwd, _ = _heading(yaw)
    ball0 = joints[0, J["pelvis"]] * [1, 0, 1] + fwd * 0.55 + [0, 0.05, 0]
    hit = c.t >= c.t[np.argmax(w >= 0.72)] if np.any(w >= 0.72) else np.zeros(c.num, bool)
    dt = np.clip(c.sec - c.sec[np.argmax(hit)], 0, None) * hit
    side = np.cross([0.0, 1.0, 0.0], fwd) * hand
    ball = (
        ball0
        + side[None] * 25 * dt[:, None]
        + np.array([0, 1, 0]) * (12 * dt - 4.9 * dt**2)[:, None]
    )
    props = [
        *c.figure(joints),
        _cap(grip, head, 0.012, (200.0, 200.0, 205.0)),
        _cap(head, head + axis * 0.06, 0.035, (60.0, 60.0, 70.0)),
        _cap(ball, ball, 0.045, (250.0, 250.0, 250.0), bias=-0.05),
    ]
    flag_x = c.rng.uniform(-3, 3)
    static = [
        _cap(np.array([flag_x, 0, 12]), np.array([flag_x, 2.2, 12]), 0.025, (240.0,) * 3),
        _poly(
            np.array([[flag_x, 2.2, 12], [flag_x + 0.7, 1.95, 12], [flag_x, 1.7, 12]]),
            (220.0, 30.0, 30.0),
        ),
        _poly(_ground_rect(-6, 6, -1.5, 14), (110.0, 185.0, 90.0)),
    ]
    return Scene(
        joints,
        props,
        static,
        {"sky": _SKY, "floor": _GRASS},
        np.array([ball0, ball0 + [0, 2.6, 0]]),
    )


def kicking(c: _Clip) -> Scene:
    yaw = float(_d(c.rng.choice([90.0, -90.0, 180.0], p=[0.4, 0.4, 0.2]) + c.rng.uniform(-15, 15)))
    c.p[:, P["yaw"]] = yaw
    fwd, _ = _heading(yaw)
    t_k = c.rng.uniform(0.45, 0.65)
    _gait(c, (1.2, 1.5), 25, 60, 25, 60)
    run_w = _smooth((t_k - c.t) / 0.15)  # gait fades out just before the kick
    for name in ("l_leg_e", "r_leg_e", "l_knee", "r_knee", "l_arm_e", "r_arm_e"):
        c.p[:, P[name]] *= run_w
    kick = np.exp(-(((c.t - t_k) / 0.07) ** 2))
    wind = np.exp(-(((c.t - t_k + 0.08) / 0.06) ** 2))
    foot = "r_" if c.rng.random() < 0.7 else "l_"
    c.p[:, P[foot + "leg_e"]] += _d(85 * kick - 40 * wind)
    c.p[:, P[foot + "knee"]] += _d(90 * wind + 10 * kick)
    _set(c.p, "lean", -15 * kick + 5)
    _both(c.p, "arm_a", 20 + 60 * kick)
    _both(c.p, "arm_e", 20 + 40 * kick)
    speed = c.rng.uniform(2.0, 3.0)
    moving = (c.t < t_k).astype(float)
    dist = np.concatenate([[0], np.cumsum(moving[1:] * np.diff(c.sec))]) * speed
    c.p[:, P["root_x"]] = fwd[0] * (dist - dist[-1])
    c.p[:, P["root_z"]] = fwd[2] * (dist - dist[-1])
    joints = forward_kinematics(c.p, c.body)
    base = joints[-1, J["pelvis"]] * [1, 0, 1]
    ball0 = base + fwd * c.rng.uniform(0.3, 0.45) + [0, 0.11, 0]
    dt = np.clip(c.sec - t_k * c.sec[-1], 0, None)
    ball = ball0 + fwd * 14 * dt[:, None] + np.array([0, 1, 0]) * (5 * dt - 4.9 * dt**2)[:, None]
    ball[:, 1] = np.maximum(ball[:, 1], 0.11)
    props = [
        *c.figure(joints),
        _cap(ball, ball, 0.11, (245.0, 245.0, 245.0), bias=-0.02),
        _cap(ball + [0.03, 0.03, -0.12], ball + [0.03, 0.03, -0.12], 0.04, (30.0,) * 3, bias=-0.3),
    ]
    gx = c.rng.uniform(-4, 4)
    white = (240.0, 240.0, 240.0)
    static = [
        _cap(np.array([gx - 3.6, 0, 18]), np.array([gx - 3.6, 2.4, 18]), 0.07, white),
        _cap(np.array([gx + 3.6, 0, 18]), np.array([gx + 3.6, 2.4, 18]), 0.07, white),
        _cap(np.array([gx - 3.6, 2.4, 18]), np.array([gx + 3.6, 2.4, 18]), 0.07, white),
        _poly(_ground_rect(-30, 30, 3.0, 3.12), white),
    ]
    return Scene(joints, props, static, {"sky": _SKY, "floor": _GRASS}, ball0[None])


def lifting(c: _Clip) -> Scene:
    c.p[:, P["yaw"]] = _d(180 + c.rng.uniform(-25, 25))
    w = c.window((0.0, 0.15), (0.85, 1.0))
    grip = c.rng.uniform(15, 25)
    bottom = {
        "leg_e": 75,
        "knee": 105,
        "lean": 45,
        "arm_e": 45,
        "arm_a": grip,
        "elbow": 0,
        "leg_a": 25,
    }
    stand = {"leg_e": 0, "knee": 5, "lean": 5, "arm_e": 8, "arm_a": grip, "elbow": 0, "leg_a": 20}
    rack = {
        "leg_e": 0,
        "knee": 5,
        "lean": 0,
        "arm_e": 55,
        "arm_a": grip + 10,
        "elbow": 125,
        "leg_a": 20,
    }
    dip = {
        "leg_e": 30,
        "knee": 45,
        "lean": 5,
        "arm_e": 55,
        "arm_a": grip + 10,
        "elbow": 125,
        "leg_a": 22,
    }
    over = {
        "leg_e": 0,
        "knee": 5,
        "lean": -5,
        "arm_e": 175,
        "arm_a": grip + 10,
        "elbow": 0,
        "leg_a": 22,
    }
    _keys(
        c.p, w, [0.0, 0.3, 0.45, 0.6, 0.72, 0.85, 1.0], [bottom, stand, rack, rack, dip, over, over]
    )
    joints = forward_kinematics(c.p, c.body)
    lw, rw = joints[:, J["l_wrist"]], joints[:, J["r_wrist"]]
    lat = lw - rw
    lat /= np.linalg.norm(lat, axis=-1, keepdims=True)
    mid = 0.5 * (lw + rw)
    plate = (c.rng.uniform(20, 60),) * 3
    props = [
        *c.figure(joints),
        _cap(mid - lat * 1.0, mid + lat * 1.0, 0.02, (180.0, 180.0, 190.0), bias=-0.1),
    ]
    for s in (1.0, -1.0):
        props.append(_cap(mid + s * lat * 0.78, mid + s * lat * 0.86, 0.22, plate, bias=-0.1))
    static = [_poly(_ground_rect(-1.5, 1.5, -1.2, 1.2, 0.0), (150.0, 110.0, 70.0))]
    return Scene(
        joints,
        props,
        static,
        {"floor": _gray(c.rng, 60, 110)},
        np.array([[-1.1, 0.0, 0.0], [1.1, 0.0, 0.0]]),
    )


def riding(c: _Clip) -> Scene:
    yaw = _side_yaw(c.rng, 15)
    c.p[:, P["yaw"]] = yaw
    fwd, lat = _heading(yaw)
    ph = c.phase(1.6, 2.2)
    bob = 0.07 * np.sin(2 * ph)
    speed = c.rng.uniform(4.0, 7.0)
    x = speed * (c.sec - c.sec.mean())
    _both(c.p, "leg_e", 50)
    _both(c.p, "leg_a", 30)
    _both(c.p, "knee", 85)
    _set(c.p, "lean", 15 + 8 * np.sin(2 * ph + 1))
    _both(c.p, "arm_e", 35)
    _both(c.p, "elbow", 60)
    joints = forward_kinematics(c.p, c.body, grounded=False)
    base = fwd[None] * x[:, None]  # horse ground point under its middle
    up = np.array([0.0, 1.0, 0.0])
    hb = 1.25 + bob[:, None]
    joints = _pin(joints, ["pelvis"], base + up * (hb + 0.45))
    col = tuple(
        np.array(
            [[110, 70, 40], [60, 40, 25], [200, 200, 195], [150, 120, 90], [30, 30, 30]], float
        )[c.rng.integers(5)]
        * c.rng.uniform(0.85, 1.1)
    )
    dark = tuple(np.array(col) * 0.6)

    def at(f: float, y: np.ndarray | float, lz: float = 0.0) -> np.ndarray:
        return base + fwd * f + up * y + lat * lz

    props = [
        _cap(at(-0.65, hb), at(0.6, hb + 0.05), 0.34, col, bias=0.05),
        _cap(at(0.55, hb + 0.15), at(0.95, hb + 0.65), 0.15, col, bias=0.04),
        _cap(at(0.95, hb + 0.65), at(1.3, hb + 0.35), 0.11, col, bias=0.03),
        _cap(at(0.6, hb + 0.3), at(0.92, hb + 0.75), 0.07, dark, bias=0.03),
        _cap(at(-0.95, hb + 0.05), at(-1.15, hb - 0.5), 0.06, dark, bias=0.06),
    ]
    for i, (f, lz) in enumerate(((0.45, 0.16), (0.45, -0.16), (-0.5, 0.16), (-0.5, -0.16))):
        swing = _d(35) * np.sin(ph + i * np.pi / 2)
        knee = _d(40) * np.maximum(np.sin(ph + i * np.pi / 2 + np.pi / 2), 0)
        top = at(f, hb - 0.1, lz)
        kn = top + (fwd * np.sin(swing)[:, None] - up * np.cos(swing)[:, None]) * 0.55
        hoof = kn + (fwd * np.sin(swing - knee)[:, None] - up * np.cos(swing - knee)[:, None]) * 0.5
        props.append(_cap(top, kn, 0.07, col, bias=0.05))
        props.append(_cap(kn, hoof, 0.05, dark, bias=0.05))
    props += c.figure(joints)
    span = speed * c.sec[-1] + 10
    fence = c.rng.uniform(2.5, 5.0)
    rail = _gray(c.rng, 180, 240)
    static = [
        _cap(np.array([-span, 0.9, fence]), np.array([span, 0.9, fence]), 0.04, rail),
        _cap(np.array([-span, 0.5, fence]), np.array([span, 0.5, fence]), 0.04, rail),
    ]
    for px in np.arange(-span, span, 2.0):
        static.append(_cap(np.array([px, 0, fence]), np.array([px, 1.0, fence]), 0.05, rail))
    frame = np.array([fwd * 1.4, -fwd * 1.2, fwd * 1.4 + up * 2.2])
    floor = tuple(np.array([[170, 150, 110], [90, 140, 70]], float)[c.rng.integers(2)])
    return Scene(
        joints,
        props,
        static,
        {"sky": _SKY, "floor": floor},
        frame,
        track=float(c.rng.uniform(0.85, 1.0)),
        distance=(6.0, 9.0),
    )


def run_side(c: _Clip) -> Scene:
    c.p[:, P["yaw"]] = _side_yaw(c.rng, 8)
    ph = _gait(c, (1.3, 1.7), 42, 100, 45, 90)
    _set(c.p, "lean", 12)
    c.p[:, P["root_y"]] = 0.06 * np.abs(np.cos(ph))
    speed = c.rng.uniform(4.0, 7.0)
    _walk_along(c, speed)
    joints = forward_kinematics(c.p, c.body)
    span = speed * c.sec[-1] + 12
    white = (240.0, 240.0, 240.0)
    static = [_poly(_ground_rect(-span, span, z, z + 0.05), white) for z in (-1.2, 0.7, 1.9, 3.1)]
    for px in np.arange(-span, span, 3.0):
        static.append(_cap(np.array([px, 0, 6]), np.array([px, 1.0, 6]), 0.06, (90.0,) * 3))
    track = (170.0 + c.rng.uniform(-20, 20), 80.0, 60.0)
    return Scene(
        joints,
        c.figure(joints),
        static,
        {"floor": track},
        None,
        track=float(c.rng.uniform(0.8, 1.0)),
    )


def skateboarding(c: _Clip) -> Scene:
    yaw = float(_d(180 + c.rng.uniform(-20, 20)))
    c.p[:, P["yaw"]] = yaw
    ph = c.phase(0.3, 0.7)
    _set(c.p, "l_leg_e", 18)
    _set(c.p, "r_leg_e", -18)
    _both(c.p, "leg_a", 8)
    _both(c.p, "knee", 25 + 10 * np.sin(2 * ph))
    _both(c.p, "arm_a", 85)
    _both(c.p, "arm_e", 55 + 15 * np.sin(ph))
    _both(c.p, "elbow", 20)
    _set(c.p, "twist", 15 * np.sin(ph))
    _set(c.p, "lean", 8)
    c.p[:, P["root_y"]] = 0.1
    c.p[:, P["yaw"]] += _d(12) * np.cos(ph)
    _walk_along(c, c.rng.uniform(1.5, 3.0))
    c.p[:, P["root_x"]] += 0.35 * np.sin(ph)
    joints = forward_kinematics(c.p, c.body)
    fwd = facing(c.p)
    mid = joints[:, [J["l_ankle"], J["r_ankle"]]].mean(axis=1) * [1, 0, 1]
    lat = np.cross(fwd, [0.0, 1.0, 0.0])
    deck = (c.rng.uniform(20, 200), c.rng.uniform(20, 120), c.rng.uniform(20, 120))
    props = [
        _cap(mid - fwd * 0.4 + [0, 0.09, 0], mid + fwd * 0.4 + [0, 0.09, 0], 0.035, deck, bias=0.02)
    ]
    for f in (-0.28, 0.28):
        for s in (-0.1, 0.1):
            w = mid + fwd * f + lat * s + [0, 0.03, 0]
            props.append(_cap(w, w, 0.03, (235.0, 225.0, 180.0), bias=0.03))
    props += c.figure(joints)
    static = [
        _poly(_ground_rect(-0.06, 0.06, z, z + 1.2), (230.0, 210.0, 80.0))
        for z in np.arange(-6, 40, 3.0)
    ]
    return Scene(joints, props, static, {"floor": _gray(c.rng, 80, 130), "sky": _SKY})


def pommel(c: _Clip) -> Scene:
    c.p[:, P["yaw"]] = float(_d(c.rng.choice([180.0, 0.0, 150.0, -150.0]) + c.rng.uniform(-10, 10)))
    ph = c.phase(0.8, 1.2)
    el = _d(c.rng.uniform(65, 85))
    spread = _d(12)
    for leg, off in (("l_leg", spread), ("r_leg", -spread)):
        d = np.stack(
            [
                np.sin(el) * np.sin(ph + off),
                -np.cos(el) * np.ones_like(ph),
                np.sin(el) * np.cos(ph + off),
            ],
            axis=-1,
        )
        _aim(c.p, leg, d)
    _both(c.p, "knee", 3)
    _both(c.p, "arm_e", 5)
    _both(c.p, "arm_a", 12)
    _both(c.p, "elbow", 0)
    _set(c.p, "lean", -10 * np.cos(ph))
    joints = forward_kinematics(c.p, c.body, grounded=False)
    yaw = c.p[0, P["yaw"]]
    _, lat = _heading(yaw)
    top = 1.15
    shift = -0.12 * np.sin(ph)[:, None] * lat
    joints = _pin(joints, ["l_wrist", "r_wrist"], np.array([0, top + 0.1, 0]) + shift)
    leather = (c.rng.uniform(90, 160), c.rng.uniform(50, 80), c.rng.uniform(30, 50))
    fwd, _ = _heading(yaw)
    axis = lat  # the horse's long axis runs sideways to the gymnast
    body_a, body_b = axis * 0.8 + [0, top - 0.12, 0], -axis * 0.8 + [0, top - 0.12, 0]
    props = [_cap(body_a, body_b, 0.17, leather, bias=0.0)]
    for s in (1.0, -1.0):
        pa = axis * s * 0.2 + [0, top, 0]
        props.append(_cap(pa - fwd * 0.01, pa + [0, 0.1, 0], 0.03, (230.0,) * 3, bias=0.0))
    static = [
        _cap(axis * 0.6 + [0, top - 0.12, 0], axis * 0.6, 0.05, (160.0,) * 3),
        _cap(-axis * 0.6 + [0, top - 0.12, 0], -axis * 0.6, 0.05, (160.0,) * 3),
        _poly(_ground_rect(-2, 2, -1.5, 1.5), (40.0, 70.0, 150.0)),
    ]
    props += c.figure(joints)
    return Scene(
        joints,
        props,
        static,
        {"floor": _gray(c.rng, 90, 150)},
        np.array([axis * 0.9, -axis * 0.9, [0, 0, 0]]),
    )


def high_bar(c: _Clip) -> Scene:
    yaw = float(_d(c.rng.choice([60.0, -60.0, 120.0, -120.0]) + c.rng.uniform(-15, 15)))
    c.p[:, P["yaw"]] = yaw
    if c.rng.random() < 0.5:
        ang = _d(c.rng.uniform(60, 120)) * np.sin(c.phase(0.4, 0.6))
    else:
        ang = 2 * np.pi * c.rng.uniform(0.5, 0.8) * c.sec + c.rng.uniform(0, 2 * np.pi)
    c.p[:, P["pitch"]] = ang
    _both(c.p, "arm_e", 178)
    _both(c.p, "arm_a", 10)
    _both(c.p, "elbow", 0)
    _both(c.p, "leg_e", 15 * np.sin(ang))
    _both(c.p, "knee", 10 * np.maximum(np.cos(ang), 0))
    joints = forward_kinematics(c.p, c.body, grounded=False)
    bar_y = 2.8
    joints = _pin(joints, ["l_wrist", "r_wrist"], np.array([0.0, bar_y, 0.0]))
    _, lat = _heading(yaw)
    steel = (200.0, 200.0, 210.0)
    static = [_cap(lat * 1.3 + [0, bar_y, 0], -lat * 1.3 + [0, bar_y, 0], 0.025, steel)]
    for s in (1.0, -1.0):
        static.append(_cap(s * lat * 1.3 + [0, bar_y, 0], s * lat * 1.3, 0.04, steel))
        static.append(_cap(s * lat * 1.3 + [0, bar_y, 0], s * lat * 2.8, 0.01, (90.0,) * 3))
    static.append(_poly(_ground_rect(-2, 2, -1.5, 1.5), (40.0, 70.0, 150.0)))
    frame = np.array([lat * 1.3 + [0, bar_y, 0], -lat * 1.3 + [0, bar_y, 0]])
    return Scene(
        joints,
        c.figure(joints),
        static,
        {"floor": _gray(c.rng, 90, 150)},
        frame,
        fill=(0.75, 0.95),
        cam_height=(1.2, 2.5),
        distance=(6.0, 9.0),
    )


def walk_front(c: _Clip) -> Scene:
    c.p[:, P["yaw"]] = _d(180 + c.rng.uniform(-15, 15))
    _gait(c, (0.8, 1.1), 25, 45, 20, 15)
    _walk_along(c, c.rng.uniform(1.0, 1.6))
    joints = forward_kinematics(c.p, c.body)
    curb = (190.0, 190.0, 180.0)
    static = [_poly(_ground_rect(s - 0.05, s + 0.05, -5, 40), curb) for s in (-1.8, 1.8)]
    return Scene(joints, c.figure(joints), static, {"floor": _gray(c.rng, 110, 170)})


_SPORTS: dict[str, Callable[[_Clip], Scene]] = {
    "Diving-Side": diving,
    "Golf-Swing": golf,
    "Kicking": kicking,
    "Lifting": lifting,
    "Riding-Horse": riding,
    "Run-Side": run_side,
    "SkateBoarding-Front": skateboarding,
    "Swing-Bench": pommel,
    "Swing-SideAngle": high_bar,
    "Walk-Front": walk_front,
}
if sorted(_SPORTS) != sorted(SPORTS_CLASSES):  # the protocol's class list is the authority
    raise RuntimeError("synth-sports does not stage exactly the UCF Sports classes")


def sports_scene(
    class_name: str, sec: np.ndarray, rng: np.random.Generator, body: Body, look: Look
) -> tuple[Scene, str]:
    """Stage one clip of a UCF Sports class; returns the scene and its view label."""
    if class_name not in _SPORTS:
        raise ValueError(
            f"{class_name!r} is not a synth-sports class; classes: {list(SPORTS_CLASSES)}"
        )
    clip = _Clip(sec, rng, body, look)
    scene = _SPORTS[class_name](clip)
    return scene, view_label(clip.p[:, P["yaw"]])
