"""Rasterise figures, props and backgrounds into uint8 frames with numpy only.

Why distance fields: a limb is a capsule (segment + radius), so its pixel coverage is
``radius - distance_to_segment`` clipped to [0, 1], which gives anti-aliased, rounded limbs in
a few vectorised operations restricted to the capsule's bounding box. That keeps a 112x112
frame at about a millisecond or two, which matters when rendering thousands of clips.

Everything random here (background, colours, light, noise) is drawn from the clip's own
generator and never from the class, so the *rendering* cannot give the class away. A scene can:
in synth-sports each class has its own venue and props (as in UCF Sports), so there the scenery
does tell the class; :mod:`vidad.synth.conditions` separates the two for chapter 6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidad.synth.skeleton import Body, Camera, J

Color = tuple[float, float, float]


# ---------------------------------------------------------------------------------------------
# primitives


def draw_capsule(
    img: np.ndarray, p0: np.ndarray, p1: np.ndarray, r: float, color: Color, alpha: float = 1.0
) -> None:
    """Blend a capsule from ``p0`` to ``p1`` (pixel x, y) of radius ``r`` into ``img`` in place."""
    h, w = img.shape[:2]
    r = max(float(r), 0.5)
    x0 = max(int(np.floor(min(p0[0], p1[0]) - r - 1)), 0)
    x1 = min(int(np.ceil(max(p0[0], p1[0]) + r + 2)), w)
    y0 = max(int(np.floor(min(p0[1], p1[1]) - r - 1)), 0)
    y1 = min(int(np.ceil(max(p0[1], p1[1]) + r + 2)), h)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(p0[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(p0[1])
    dx, dy = np.float32(p1[0] - p0[0]), np.float32(p1[1] - p0[1])
    ll = dx * dx + dy * dy
    if ll > 1e-6:
        tt = np.clip((xs * dx + ys * dy) / ll, 0.0, 1.0)
        ex, ey = xs - tt * dx, ys - tt * dy
    else:
        ex, ey = xs, ys
    cov = np.clip(np.float32(r + 0.5) - np.sqrt(ex * ex + ey * ey), 0.0, 1.0)
    if alpha != 1.0:
        cov = cov * np.float32(alpha)
    _blend(img[y0:y1, x0:x1], cov, color)


def draw_polygon(img: np.ndarray, pts: np.ndarray, color: Color, alpha: float = 1.0) -> None:
    """Blend a filled convex polygon (k, 2 pixel points, any winding) into ``img`` in place."""
    h, w = img.shape[:2]
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - 1, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + 2, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    sign = 1.0 if area > 0 else -1.0
    inside = None
    for a, b in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        ex, ey = b - a
        n = np.hypot(ex, ey)
        if n < 1e-6:
            continue
        # signed distance to the edge's line, positive inside
        d = sign * ((xs - a[0]) * ey - (ys - a[1]) * ex) / -n
        inside = d if inside is None else np.minimum(inside, d)
    if inside is None:
        return
    cov = np.clip(inside + 0.5, 0.0, 1.0).astype(np.float32) * np.float32(alpha)
    _blend(img[y0:y1, x0:x1], cov, color)


def _blend(region: np.ndarray, cov: np.ndarray, color: Color) -> None:
    c = np.asarray(color, dtype=np.float32)
    region += cov[..., None] * (c - region)


# ---------------------------------------------------------------------------------------------
# appearance


@dataclass(frozen=True)
class Look:
    """Clothing and skin colours of one actor (RGB 0-255)."""

    skin: Color
    hair: Color
    shirt: Color
    trousers: Color
    shoes: Color
    long_sleeves: bool
    shorts: bool


_SKIN = np.array(
    [
        [255, 219, 172],
        [241, 194, 125],
        [224, 172, 105],
        [198, 134, 66],
        [141, 85, 36],
        [92, 56, 34],
        [234, 192, 134],
    ],
    dtype=float,
)
_HAIR = np.array(
    [[20, 15, 10], [60, 40, 25], [110, 75, 40], [200, 170, 100], [140, 140, 140], [150, 60, 30]],
    dtype=float,
)


def _rgb(rng: np.random.Generator, lo: float = 15, hi: float = 240) -> Color:
    return tuple(float(v) for v in rng.uniform(lo, hi, size=3))


def sample_look(rng: np.random.Generator) -> Look:
    """Random clothing/skin colours, independent of the action."""
    skin = _SKIN[rng.integers(len(_SKIN))] * rng.uniform(0.9, 1.05, size=3)
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    return Look(
        skin=tuple(np.clip(skin, 0, 255).tolist()),
        hair=tuple(np.clip(hair, 0, 255).tolist()),
        shirt=_rgb(rng),
        trousers=_rgb(rng, 10, 180),
        shoes=_rgb(rng, 5, 120),
        long_sleeves=bool(rng.random() < 0.5),
        shorts=bool(rng.random() < 0.3),
    )


# ---------------------------------------------------------------------------------------------
# props: world-space shapes that move with the scene (ball, horse, barbell, water surface)


@dataclass
class Prop:
    """A world-space shape drawn per frame, depth-sorted together with the body's limbs.

    ``kind`` is ``"capsule"`` (points (T, 2, 3), ``radius`` in metres; equal end points give a
    disc) or ``"polygon"`` (points (T, k, 3), convex). ``depth_bias`` (metres) pushes it
    forward (negative) or back in the painter's order; ``-inf`` draws it last (a water surface).
    """

    kind: str
    points: np.ndarray
    color: Color
    radius: float = 0.0
    alpha: float = 1.0
    depth_bias: float = 0.0


# (joint a, joint b, radius attribute, colour part) for the figure's capsules
_LIMBS: tuple[tuple[str, str, str, str], ...] = (
    ("pelvis", "neck", "r_torso", "shirt"),
    ("l_shoulder", "r_shoulder", "r_upper_arm", "shirt"),
    ("l_hip", "r_hip", "r_thigh", "trousers"),
    ("l_shoulder", "l_elbow", "r_upper_arm", "shirt"),
    ("r_shoulder", "r_elbow", "r_upper_arm", "shirt"),
    ("l_elbow", "l_wrist", "r_forearm", "sleeve"),
    ("r_elbow", "r_wrist", "r_forearm", "sleeve"),
    ("l_hip", "l_knee", "r_thigh", "trousers"),
    ("r_hip", "r_knee", "r_thigh", "trousers"),
    ("l_knee", "l_ankle", "r_shin", "leg"),
    ("r_knee", "r_ankle", "r_shin", "leg"),
    ("l_ankle", "l_toe", "r_foot", "shoes"),
    ("r_ankle", "r_toe", "r_foot", "shoes"),
    ("l_wrist", "l_wrist", "hand", "skin"),
    ("r_wrist", "r_wrist", "hand", "skin"),
)


def figure_props(joints: np.ndarray, fwd: np.ndarray, body: Body, look: Look) -> list[Prop]:
    """Turn a joint track (T, 17, 3) into capsule props: limbs, neck, head and hair."""
    colors = {
        "shirt": look.shirt, "trousers": look.trousers, "shoes": look.shoes, "skin": look.skin,
        "sleeve": look.shirt if look.long_sleeves else look.skin,
        "leg": look.skin if look.shorts else look.trousers,
    }  # fmt: skip
    props = []
    for a, b, rname, part in _LIMBS:
        r = body.r_forearm * 1.3 if rname == "hand" else getattr(body, rname)
        pts = joints[:, [J[a], J[b]]]
        props.append(Prop("capsule", pts, colors[part], radius=r))
    head, neck = joints[:, J["head"]], joints[:, J["neck"]]
    props.append(
        Prop("capsule", np.stack([neck, 0.5 * (neck + head)], 1), look.skin, radius=body.r_neck)
    )
    props.append(Prop("capsule", np.stack([head, head], 1), look.skin, radius=body.head_r))
    # hair sits up and back on the head: it shows which way the face points
    up = (head - neck) / np.maximum(np.linalg.norm(head - neck, axis=-1, keepdims=True), 1e-6)
    hair = head - fwd * body.head_r * 0.35 + up * body.head_r * 0.3
    props.append(Prop("capsule", np.stack([hair, hair], 1), look.hair, radius=body.head_r * 0.9))
    return props


# ---------------------------------------------------------------------------------------------
# backgrounds


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1], (h, w), by bilinear upsampling of a coarse grid."""
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.uniform(-1.0, 1.0, size=(gh, gw)).astype(np.float32)
    yi = np.arange(h, dtype=np.float32) / cell
    xi = np.arange(w, dtype=np.float32) / cell
    y0, x0 = yi.astype(int), xi.astype(int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    g00, g01 = grid[y0][:, x0], grid[y0][:, x0 + 1]
    g10, g11 = grid[y0 + 1][:, x0], grid[y0 + 1][:, x0 + 1]
    return (g00 * (1 - fx) + g01 * fx) * (1 - fy) + (g10 * (1 - fx) + g11 * fx) * fy


def make_background(
    rng: np.random.Generator,
    h: int,
    w: int,
    horizon: float,
    palette: dict[str, Color] | None = None,
) -> np.ndarray:
    """A random (h, w, 3) float32 backdrop: wall/sky gradient, floor, texture, clutter.

    ``palette`` lets a sports scene fix the wall (``"sky"``) and floor (``"floor"``) colours
    (water, grass, track); without it every colour is random.
    """
    palette = palette or {}
    rows = np.arange(h, dtype=np.float32)[:, None, None]
    sky_top = np.asarray(palette.get("sky", _rgb(rng)), np.float32) * rng.uniform(0.85, 1.1)
    sky_bot = sky_top * rng.uniform(0.7, 1.3, size=3).astype(np.float32)
    floor_near = np.asarray(palette.get("floor", _rgb(rng)), np.float32) * rng.uniform(0.85, 1.1)
    floor_far = floor_near * rng.uniform(0.75, 1.2, size=3).astype(np.float32)
    hz = float(np.clip(horizon, 1, h - 1))
    a = np.clip(rows / hz, 0, 1)
    sky = sky_top + a * (sky_bot - sky_top)
    b = np.clip((rows - hz) / max(h - hz, 1.0), 0, 1)
    floor = floor_far + b * (floor_near - floor_far)
    img = np.where(rows < hz, sky, floor).astype(np.float32)
    img = np.broadcast_to(img, (h, w, 3)).copy()
    # clutter: a few boxes and blobs above the floor line (furniture, trees, posters)
    if not palette.get("no_clutter"):
        for _ in range(int(rng.integers(1, 6))):
            cx, cy = rng.uniform(0, w), rng.uniform(-0.2 * h, hz)
            bw, bh = rng.uniform(0.05, 0.3) * w, rng.uniform(0.05, 0.4) * h
            col = _rgb(rng)
            alpha = float(rng.uniform(0.4, 1.0))
            if rng.random() < 0.6:
                quad = (
                    np.array([[cx, cy]])
                    + np.array([[-bw, -bh], [bw, -bh], [bw, bh], [-bw, bh]]) / 2
                )
                draw_polygon(img, quad, col, alpha)
            else:
                draw_capsule(
                    img, np.array([cx, cy]), np.array([cx, cy + bh * 0.5]), bw * 0.4, col, alpha
                )
    tex = rng.uniform(4, 20)
    img += _smooth_noise(rng, h, w, int(rng.integers(4, 16)))[..., None] * np.float32(tex)
    img += _smooth_noise(rng, h, w, 2)[..., None] * np.float32(rng.uniform(1, 6))
    return img


# ---------------------------------------------------------------------------------------------
# a whole clip


@dataclass
class Shot:
    """Everything needed to render a clip: camera, per-frame pan, canvas, props, lighting."""

    camera: Camera
    offsets: np.ndarray  # (T, 2) integer pixel camera offsets (x, y)
    canvas: np.ndarray  # (H + pan range, W + pan range, 3) float32 backdrop
    origin: np.ndarray  # (2,) the minimum offset: canvas pixel = image pixel + offset - origin
    props: list[Prop] = field(default_factory=list)
    gain: np.ndarray | None = None  # (T,) global illumination gain
    bias: np.ndarray | None = None  # (T,) global illumination offset
    tint: np.ndarray | None = None  # (3,) colour cast
    noise_sigma: float = 2.0


def camera_path(
    rng: np.random.Generator,
    num_frames: int,
    track: np.ndarray | None = None,
    max_pan: float = 6.0,
    shake: float = 0.8,
) -> np.ndarray:
    """Integer (T, 2) camera offsets: slow random pan + hand-held shake (+ subject tracking).

    ``track`` (T, 2) pixel offsets follow a moving subject (runner, rider) as a real camera
    operator would; the background then scrolls past.
    """
    tt = np.linspace(-0.5, 0.5, num_frames)[:, None]
    pan = rng.uniform(-max_pan, max_pan, size=(1, 2)) * tt * 2
    jitter = np.cumsum(rng.normal(0, shake, size=(num_frames, 2)), axis=0)
    jitter -= np.linspace(0, 1, num_frames)[:, None] * jitter[-1:]  # drift-free shake
    off = pan + jitter
    if track is not None:
        off = off + track
    return np.round(off).astype(int)


def make_shot(
    rng: np.random.Generator,
    camera: Camera,
    offsets: np.ndarray,
    h: int,
    w: int,
    palette: dict[str, Color] | None = None,
) -> Shot:
    """Draw the backdrop big enough for the camera path, plus lighting and noise levels."""
    lo, hi = offsets.min(axis=0), offsets.max(axis=0)
    ch, cw = h + int(hi[1] - lo[1]), w + int(hi[0] - lo[0])
    canvas = make_background(rng, ch, cw, camera.horizon() - lo[1], palette)
    num = offsets.shape[0]
    ramp = np.linspace(-0.5, 0.5, num)
    gain = rng.uniform(0.8, 1.15) * (1 + rng.uniform(-0.25, 0.25) * ramp)
    gain *= 1 + rng.uniform(0, 0.05) * np.sin(
        2 * np.pi * (rng.uniform(0.2, 1.5) * ramp + rng.uniform())
    )
    bias = rng.uniform(-15, 15) + rng.uniform(-10, 10) * ramp
    tint = rng.uniform(0.92, 1.08, size=3)
    return Shot(
        camera=camera,
        offsets=offsets,
        canvas=canvas,
        origin=lo,
        gain=gain,
        bias=bias,
        tint=tint,
        noise_sigma=float(rng.uniform(0.5, 4.0)),
    )


def draw_static(shot: Shot, props: list[Prop]) -> None:
    """Paint fixed world shapes (diving board, pool, bars) into the backdrop once."""
    for prop in props:
        uv, _ = shot.camera.project(prop.points[0])
        uv = uv - shot.origin
        _draw(
            shot.canvas,
            prop,
            uv,
            shot.camera.scale / np.maximum(prop.points[0, :, 2] + shot.camera.distance, 0.2).mean(),
        )


def _draw(img: np.ndarray, prop: Prop, uv: np.ndarray, px_per_m: float) -> None:
    if prop.kind == "capsule":
        draw_capsule(img, uv[0], uv[1], prop.radius * px_per_m, prop.color, prop.alpha)
    else:
        draw_polygon(img, uv, prop.color, prop.alpha)


def render_shot(shot: Shot, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Render every frame of ``shot``: crop the backdrop, paint props far-to-near, light, noise."""
    num = shot.offsets.shape[0]
    cam = shot.camera
    projected = []
    for prop in shot.props:  # a prop with one frame of points stands still
        pts = np.broadcast_to(prop.points, (num, *prop.points.shape[1:]))
        uv, depth = cam.project(pts)
        projected.append((uv, depth.mean(axis=1) + prop.depth_bias, cam.scale / depth.mean(axis=1)))
    out = np.empty((num, h, w, 3), dtype=np.uint8)
    for t in range(num):
        ox, oy = shot.offsets[t] - shot.origin
        img = shot.canvas[oy : oy + h, ox : ox + w].copy()
        order = np.argsort([-p[1][t] for p in projected], kind="stable")
        for k in order:
            uv, _, ppm = projected[k]
            _draw(img, shot.props[k], uv[t] - shot.offsets[t], ppm[t])
        img *= (shot.tint * shot.gain[t]).astype(np.float32)
        img += np.float32(shot.bias[t])
        img += rng.standard_normal((h, w, 3), dtype=np.float32) * np.float32(shot.noise_sigma)
        np.clip(img, 0, 255, out=img)
        out[t] = img.astype(np.uint8)
    return out
