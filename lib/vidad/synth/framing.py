"""Film a scene: pick the camera, frame the motion, add backdrop and lighting, render.

Why automatic framing: motions differ a lot in extent (a dive falls two metres, a clap hardly
moves), and a clip whose figure leaves the picture is useless. The camera scale is therefore
chosen per clip so that the whole motion fits, at a random fraction of the frame; a travelling
subject (runner, rider) is followed by the camera instead, so the background scrolls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidad.synth.render import Color, Prop, camera_path, draw_static, make_shot, render_shot
from vidad.synth.skeleton import J, frame_camera


@dataclass
class Scene:
    """A world to film: joints, extra moving props, fixed scenery and camera preferences."""

    joints: np.ndarray  # (T, 17, 3)
    props: list[Prop]  # figure + moving props
    static: list[Prop] = field(default_factory=list)  # scenery painted into the backdrop
    palette: dict[str, Color] | None = None
    frame_points: np.ndarray | None = None  # extra world points that must be visible
    track: float = 0.0  # fraction of sideways root travel the camera follows
    frame_mask: np.ndarray | None = None  # (T,) bool: frames whose joints must be visible
    fill: tuple[float, float] = (0.6, 0.9)
    cam_height: tuple[float, float] = (0.7, 1.4)
    distance: tuple[float, float] = (3.5, 6.0)


def view_label(yaw: np.ndarray) -> str:
    """ "front" / "side" / "angle" / "back" from the circular mean heading (radians)."""
    mean = np.angle(np.mean(np.exp(1j * yaw)))
    off = abs((np.degrees(mean) + 180.0) % 360.0 - 180.0)  # 0 = facing away, 180 = facing us
    if off >= 155:
        return "front"
    if off <= 25:
        return "back"
    if 65 <= off <= 115:
        return "side"
    return "angle"


def film(scene: Scene, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Render ``scene`` to a (T, H, W, 3) uint8 clip."""
    joints = scene.joints
    num = joints.shape[0]
    cam_h = rng.uniform(*scene.cam_height)
    dist = rng.uniform(*scene.distance)
    root_x = joints[:, J["pelvis"], 0]
    follow = scene.track * (root_x - root_x.mean())
    pts = joints.copy()
    pts[..., 0] -= follow[:, None]
    tops = pts[:, J["head"]] + np.array([0.0, 0.14, 0.0])
    if scene.frame_mask is not None:
        pts, tops = pts[scene.frame_mask], tops[scene.frame_mask]
    extra = [pts.reshape(-1, 3), tops]
    if scene.frame_points is not None:
        extra.append(scene.frame_points)
    margin = 0.09
    camera = frame_camera(
        np.concatenate(extra), cam_h, dist, width, height, rng, scene.fill, margin
    )
    depth = np.maximum(joints[:, J["pelvis"], 2] + dist, 0.2)
    track_px = np.stack([camera.scale * follow / depth, np.zeros(num)], axis=1)
    offsets = camera_path(rng, num, track_px, max_pan=0.06 * width, shake=0.004 * width)
    shot = make_shot(rng, camera, offsets, height, width, scene.palette)
    draw_static(shot, scene.static)
    shot.props = scene.props
    return render_shot(shot, rng, height, width)
