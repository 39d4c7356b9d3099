"""Backbones written by stage ``pretrain`` (:mod:`vidad.experiments.pretrain`), read back.

The anomaly and detection chapters embed clips with these stand-ins for Kinetics-400 weights::

    build/<profile>/pretrained/<backbone>/weights.pt   # state_dict (torch.load(weights_only=True))
    build/<profile>/pretrained/<backbone>/meta.json    # model, options, setup, classes, accuracy
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from vidad.models import create_model
from vidad.models.base import VideoModel
from vidad.paths import Paths

WEIGHTS_NAME = "weights.pt"
META_NAME = "meta.json"


def pretrained_dir(profile: str, backbone: str, root: str | Path = ".") -> Path:
    return Paths(profile, root).pretrained_backbone(backbone)


def load_pretrained(
    profile: str, backbone: str, root: str | Path = "."
) -> tuple[VideoModel, dict[str, Any]]:
    """A backbone written by :func:`pretrain` (eval mode) and its metadata.

    One clear error, before any compute, when the stage has not run for this profile.
    """
    folder = pretrained_dir(profile, backbone, root)
    if not (folder / WEIGHTS_NAME).is_file() or not (folder / META_NAME).is_file():
        raise FileNotFoundError(
            f"no pretrained {backbone} for profile {profile!r} in {folder}; run "
            f"`dvc repro pretrain` (or `python -m vidad.experiments.pretrain --profile {profile}`)"
        )
    meta = json.loads((folder / META_NAME).read_text())
    setup = meta["setup"]
    inputs = {"num_frames": setup["num_frames"], "crop_size": setup["crop_size"]}
    model = create_model(
        meta["model"],
        size=meta["size"],
        num_classes=len(meta["classes"]),
        **{**inputs, **meta["options"]},
    )
    state = torch.load(folder / WEIGHTS_NAME, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval(), meta
