"""The ``synth-actions`` classes: joint-angle trajectories standing in for Kinetics pretraining.

Each action writes a (T, N_PARAMS) pose track from the clip's normalised time ``t`` in [0, 1]
and its time in seconds, with a random phase, speed and amplitude per clip. Periodic actions
use real frequencies (Hz) so that a change of frame rate changes sampling, not the motion.

Time-reversed pairs (:data:`REVERSED_PAIRS`): the second class of a pair is *defined* as the
first class's clip played backwards (the renderer reverses the whole rendered clip, noise and
camera included). So the set of single frames has exactly the same distribution for both
classes and only the temporal order tells them apart: a single-frame model cannot beat chance
on a pair, a motion model can. Note the price: ``walk_away`` is ``walk_towards`` reversed, so
the walker steps backwards while facing the camera.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vidad.synth.skeleton import P, neutral_params

#: (class played forwards, class defined as its time reversal)
REVERSED_PAIRS: list[tuple[str, str]] = [
    ("sit_down", "stand_up"),
    ("raise_arms", "lower_arms"),
    ("walk_towards", "walk_away"),
    ("turn_left", "turn_right"),
    ("open_arms", "close_arms"),
]
REVERSED_OF: dict[str, str] = {b: a for a, b in REVERSED_PAIRS}
#: Classes that are each other's mirror image (a left-right flip of one is a clip of the other).
#: Every other class is its own mirror image (a mirrored throw is a left-handed throw), so a
#: flip that swaps these labels is a label-preserving augmentation for the whole corpus.
MIRRORED_PAIRS: list[tuple[str, str]] = [
    ("wave_left_hand", "wave_right_hand"),
    ("turn_left", "turn_right"),
]


@dataclass
class Ctx:
    """Per-clip inputs of a motion function."""

    t: np.ndarray  # (T,) normalised time 0..1
    sec: np.ndarray  # (T,) seconds since clip start
    rng: np.random.Generator
    amp: float  # amplitude factor around 1


@dataclass
class Motion:
    """A pose track plus how to film it."""

    params: np.ndarray
    grounded: bool = True
    track: float = 0.0  # fraction of the subject's sideways travel the camera follows


def _d(x: float | np.ndarray) -> float | np.ndarray:
    return np.deg2rad(x)


def _set(p: np.ndarray, name: str, deg: float | np.ndarray) -> None:
    p[:, P[name]] = _d(deg)


def _add(p: np.ndarray, name: str, deg: float | np.ndarray) -> None:
    p[:, P[name]] += _d(deg)


def _phase(c: Ctx, lo_hz: float, hi_hz: float) -> np.ndarray:
    """Angle 2*pi*(f*t + phi) for a random frequency in [lo, hi] Hz and random phase."""
    return 2 * np.pi * (c.rng.uniform(lo_hz, hi_hz) * c.sec + c.rng.uniform())


def _progress(c: Ctx) -> np.ndarray:
    """Smooth 0 -> 1 over a random window inside the clip (a one-shot action)."""
    t0, t1 = c.rng.uniform(0.0, 0.3), c.rng.uniform(0.7, 1.0)
    s = np.clip((c.t - t0) / (t1 - t0), 0, 1)
    return s * s * (3 - 2 * s)


def _pos(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _both(p: np.ndarray, what: str, deg: float | np.ndarray) -> None:
    _set(p, "l_" + what, deg)
    _set(p, "r_" + what, deg)


def _stationary_yaw(rng: np.random.Generator) -> float:
    """Heading for actions done on the spot: front, side, back or three-quarter views."""
    base = rng.choice(
        [180.0, 90.0, -90.0, 135.0, -135.0, 45.0, -45.0, 0.0],
        p=[0.25, 0.15, 0.15, 0.12, 0.12, 0.07, 0.07, 0.07],
    )
    return float(_d(base + rng.uniform(-15, 15)))


def _travel(p: np.ndarray, c: Ctx, speed: float) -> None:
    """Move the root along its heading at ``speed`` m/s, centred on the clip's middle."""
    yaw = p[:, P["yaw"]]
    dist = speed * (c.sec - c.sec.mean())
    p[:, P["root_x"]] += np.sin(yaw) * dist
    p[:, P["root_z"]] += np.cos(yaw) * dist


def _gait(
    p: np.ndarray,
    c: Ctx,
    hz: tuple[float, float],
    leg: float,
    knee: float,
    arm: float,
    elbow: float,
) -> np.ndarray:
    """Alternating legs and counter-swinging arms; returns the gait phase."""
    ph = _phase(c, *hz)
    a = c.amp
    for side, sgn in (("l_", 1.0), ("r_", -1.0)):
        s = np.sin(ph) * sgn
        _set(p, side + "leg_e", leg * a * s)
        # the knee bends while the leg swings forwards (derivative of the hip angle > 0)
        _set(p, side + "knee", 5 + knee * a * _pos(np.cos(ph) * sgn) ** 1.5)
        _set(p, side + "arm_e", -arm * a * s)
        _set(p, side + "arm_a", 10)
        _set(p, side + "elbow", elbow)
    return ph


# ------------------------------------------------------------------------------------------
# the actions (each writes into p in place and returns how to film it)


def wave_hand(side: str) -> Callable[[np.ndarray, Ctx], Motion]:
    def act(p: np.ndarray, c: Ctx) -> Motion:
        ph = _phase(c, 1.5, 2.5)
        _set(p, side + "arm_e", 125 + 10 * c.amp * np.sin(ph))
        _set(p, side + "arm_a", 75)
        _set(p, side + "elbow", 45 + 35 * c.amp * np.sin(ph))
        return Motion(p)

    return act


def clap(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 1.8, 3.0)
    s = 0.5 + 0.5 * np.sin(ph)
    _both(p, "arm_e", 60 + 10 * s)
    _both(p, "arm_a", -20 + 70 * c.amp * s)
    _both(p, "elbow", 45 - 15 * s)
    return Motion(p)


def jumping_jacks(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 0.9, 1.4)
    s = 0.5 - 0.5 * np.cos(ph)
    _both(p, "arm_a", 90)
    _both(p, "arm_e", 15 + 150 * c.amp * s)
    _both(p, "elbow", 10)
    _both(p, "leg_a", 90)
    _both(p, "leg_e", 3 + 14 * s)
    p[:, P["root_y"]] = 0.07 * np.abs(np.sin(ph))
    return Motion(p)


def squat(p: np.ndarray, c: Ctx) -> Motion:
    s = 0.5 - 0.5 * np.cos(_phase(c, 0.5, 0.9))
    s = s * c.amp
    _both(p, "leg_e", 90 * s)
    _both(p, "knee", 115 * s)
    _set(p, "lean", 35 * s)
    _both(p, "arm_e", 10 + 75 * s)
    _both(p, "arm_a", 10)
    return Motion(p)


def punch(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 1.0, 1.8)
    for side, off in (("l_", 0.0), ("r_", np.pi)):
        ext = _pos(np.sin(ph + off)) ** 2 * c.amp
        _set(p, side + "arm_e", 35 + 55 * ext)
        _set(p, side + "arm_a", 5)
        _set(p, side + "elbow", 125 * (1 - ext))
    _set(p, "twist", 18 * np.sin(ph))
    _both(p, "knee", 20)
    _both(p, "leg_e", 10)
    _set(p, "l_leg_a", 25)
    _set(p, "r_leg_a", 25)
    return Motion(p)


def kick(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 0.6, 1.0)
    k = _pos(np.sin(ph)) ** 2 * c.amp
    side = "l_" if c.rng.random() < 0.5 else "r_"
    _set(p, side + "leg_e", 85 * k - 15 * _pos(-np.sin(ph)))
    _set(p, side + "knee", 70 * (1 - k) * _pos(np.cos(ph)) + 5)
    _set(p, "lean", -12 * k)
    _both(p, "arm_a", 45 + 20 * k)
    _both(p, "arm_e", 30 + 25 * k)
    return Motion(p)


def walk(p: np.ndarray, c: Ctx) -> Motion:
    p[:, P["yaw"]] = _d(c.rng.choice([90.0, -90.0]) + c.rng.uniform(-30, 30))
    _gait(p, c, (0.8, 1.1), 25, 45, 20, 15)
    _travel(p, c, c.rng.uniform(1.0, 1.5))
    return Motion(p, track=float(c.rng.uniform(0.6, 1.0)))


def run(p: np.ndarray, c: Ctx) -> Motion:
    p[:, P["yaw"]] = _d(c.rng.choice([90.0, -90.0]) + c.rng.uniform(-25, 25))
    ph = _gait(p, c, (1.3, 1.7), 42, 100, 45, 90)
    _set(p, "lean", 12)
    p[:, P["root_y"]] = 0.06 * np.abs(np.cos(ph))
    _travel(p, c, c.rng.uniform(3.0, 4.5))
    return Motion(p, track=float(c.rng.uniform(0.7, 1.0)))


def jump(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 0.8, 1.2)
    air = _pos(np.sin(ph))
    crouch = _pos(-np.sin(ph))
    p[:, P["root_y"]] = 0.35 * c.amp * air
    _both(p, "leg_e", 60 * crouch + 10 * air)
    _both(p, "knee", 80 * crouch + 25 * air)
    _set(p, "lean", 25 * crouch)
    _both(p, "arm_e", -30 * crouch + 150 * air)
    return Motion(p)


def bow(p: np.ndarray, c: Ctx) -> Motion:
    s = _pos(np.sin(_phase(c, 0.5, 0.8))) ** 1.5
    _set(p, "lean", 70 * c.amp * s)
    _both(p, "leg_e", -8 * s)
    return Motion(p)


def arm_circles(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 1.0, 2.0)
    _both(p, "arm_e", 90 + 25 * c.amp * np.sin(ph))
    _both(p, "arm_a", 80 + 25 * c.amp * np.cos(ph))
    _both(p, "elbow", 5)
    return Motion(p)


def march_in_place(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 0.8, 1.2)
    for side, off in (("l_", 0.0), ("r_", np.pi)):
        up = _pos(np.sin(ph + off))
        _set(p, side + "leg_e", 70 * c.amp * up)
        _set(p, side + "knee", 90 * c.amp * up)
        _set(p, side + "arm_e", 40 * np.sin(ph + off + np.pi))
        _set(p, side + "elbow", 70)
    return Motion(p)


def hop(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 1.2, 1.8)
    side = "l_" if c.rng.random() < 0.5 else "r_"
    _set(p, side + "knee", 95)
    _set(p, side + "leg_e", 15)
    p[:, P["root_y"]] = 0.15 * c.amp * _pos(np.sin(ph))
    _both(p, "arm_a", 80)
    _both(p, "arm_e", 50 + 20 * np.sin(ph))
    return Motion(p)


def throw(p: np.ndarray, c: Ctx) -> Motion:
    ph = _phase(c, 0.6, 0.9)
    s = np.sin(ph)
    back, fwd = _pos(-s), _pos(s)
    _set(p, "r_arm_e", 40 + 120 * back - 40 * fwd)
    _set(p, "r_arm_a", 60 * back)
    _set(p, "r_elbow", 80 * back + 10)
    _set(p, "l_arm_e", 70 * back + 20)
    _set(p, "twist", -35 * back + 30 * fwd)
    _set(p, "lean", -10 * back + 25 * fwd)
    _set(p, "l_leg_e", 25 * c.amp)
    _set(p, "r_leg_e", -15)
    return Motion(p)


def sit_down(p: np.ndarray, c: Ctx) -> Motion:
    s = _progress(c)
    _both(p, "leg_e", 90 * s)
    _both(p, "knee", 92 * s)
    _set(p, "lean", 35 * np.sin(np.pi * s) + 10 * s)
    _both(p, "arm_e", 8 + 40 * np.sin(np.pi * s) + 20 * s)
    return Motion(p)


def raise_arms(p: np.ndarray, c: Ctx) -> Motion:
    s = _progress(c)
    _both(p, "arm_a", c.rng.uniform(0, 90))
    _both(p, "arm_e", 8 + 165 * c.amp * s)
    _both(p, "elbow", 15 * (1 - s))
    return Motion(p)


def walk_towards(p: np.ndarray, c: Ctx) -> Motion:
    p[:, P["yaw"]] = _d(180 + c.rng.uniform(-35, 35))
    _gait(p, c, (0.8, 1.1), 25, 45, 20, 15)
    _travel(p, c, c.rng.uniform(1.0, 1.5))
    return Motion(p)


def turn_left(p: np.ndarray, c: Ctx) -> Motion:
    s = _progress(c)
    p[:, P["yaw"]] += _d(c.rng.uniform(90, 200)) * s
    steps = np.sin(np.pi * s) * _pos(np.sin(_phase(c, 1.5, 2.0)))
    _set(p, "l_leg_e", 25 * steps)
    _set(p, "l_knee", 40 * steps)
    return Motion(p)


def open_arms(p: np.ndarray, c: Ctx) -> Motion:
    s = _progress(c)
    _both(p, "arm_e", 85)
    _both(p, "arm_a", -12 + 100 * c.amp * s)
    _both(p, "elbow", 25 * (1 - s))
    return Motion(p)


_ACTIONS: dict[str, Callable[[np.ndarray, Ctx], Motion]] = {
    "wave_left_hand": wave_hand("l_"),
    "wave_right_hand": wave_hand("r_"),
    "clap": clap,
    "jumping_jacks": jumping_jacks,
    "squat": squat,
    "punch": punch,
    "kick": kick,
    "walk": walk,
    "run": run,
    "jump": jump,
    "bow": bow,
    "arm_circles": arm_circles,
    "march_in_place": march_in_place,
    "hop": hop,
    "throw": throw,
    "sit_down": sit_down,
    "raise_arms": raise_arms,
    "walk_towards": walk_towards,
    "turn_left": turn_left,
    "open_arms": open_arms,
}

#: All synth-actions classes in label order.
ACTION_CLASSES: tuple[str, ...] = tuple(sorted(list(_ACTIONS) + [b for _, b in REVERSED_PAIRS]))


def _wobble(num: int, rng: np.random.Generator) -> np.ndarray:
    """Small smooth random joint-angle perturbations (T, N_PARAMS), so no two clips repeat."""
    tt = np.linspace(0, 1, num)[:, None]
    out = np.zeros((num, len(P)))
    for _ in range(2):
        f = rng.uniform(0.3, 2.0, size=(1, len(P)))
        ph = rng.uniform(0, 2 * np.pi, size=(1, len(P)))
        out += np.sin(2 * np.pi * f * tt + ph) * _d(rng.uniform(0, 3, size=(1, len(P))))
    out[:, : P["yaw"]] = 0.0  # root position is not wobbled
    return out


def action_motion(class_name: str, sec: np.ndarray, rng: np.random.Generator) -> Motion:
    """Pose track for one clip of a *forward* action (reversed classes: see module doc)."""
    if class_name not in _ACTIONS:
        raise ValueError(
            f"{class_name!r} is not a forward synth-actions class; "
            f"forward classes: {sorted(_ACTIONS)}"
        )
    num = len(sec)
    t = np.linspace(0, 1, num) if num > 1 else np.zeros(1)
    ctx = Ctx(t=t, sec=sec, rng=rng, amp=float(rng.uniform(0.8, 1.15)))
    p = neutral_params(num)
    p[:, P["yaw"]] = _stationary_yaw(rng)
    motion = _ACTIONS[class_name](p, ctx)
    motion.params = motion.params + _wobble(num, rng)
    return motion
