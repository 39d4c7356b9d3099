"""Procedurally rendered videos of articulated people: stand-ins for Kinetics and UCF Sports.

``synth-actions`` (pretraining stand-in) has 25 actions including time-reversed pairs that only
motion can tell apart; ``synth-sports`` renders the 10 UCF Sports classes with their props and
scenes under the source study's anomaly protocol. Clips are real H.264 mp4 files plus a manifest.
"""

from vidad.synth.actions import ACTION_CLASSES, REVERSED_PAIRS
from vidad.synth.generate import SynthConfig, generate_dataset, render_clip
from vidad.synth.sports import SPORTS_CLASSES

__all__ = [
    "ACTION_CLASSES",
    "REVERSED_PAIRS",
    "SPORTS_CLASSES",
    "SynthConfig",
    "generate_dataset",
    "render_clip",
]
