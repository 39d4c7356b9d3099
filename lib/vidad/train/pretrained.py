"""Backbones written by stage ``pretrain`` (:mod:`vidad.experiments.pretrain`), read back.

The anomaly and detection chapters embed clips with these stand-ins for Kinetics-400 weights::

    build/<profile>/pretrained/<backbone>/weights.pt   # state_dict (torch.load(weights_only=True))
    build/<profile>/pretrained/<backbone>/meta.json    # model, options, setup, classes, accuracy
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from vidad.models import create_model
from vidad.models.base import VideoModel
from vidad.models.timesformer import Timesformer, init_from_frame_model
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


def frame_weights(paths: Paths) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    """The frame model's ``state_dict``, its meta and the SHA-256 of its weights file.

    The digest keys the runs initialised from it: a retrained frame model must not resume a
    TimeSformer run started from the old one. One clear error when the stage has not run.
    """
    folder = paths.frame_model
    weights, meta = folder / WEIGHTS_NAME, folder / META_NAME
    if not weights.is_file() or not meta.is_file():
        raise FileNotFoundError(
            f"no frame model for profile {paths.profile!r} in {folder}; run "
            f"`python -m vidad.experiments.frame_vit --profile {paths.profile}`"
        )
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    state = torch.load(weights, map_location="cpu", weights_only=True)
    return state, json.loads(meta.read_text()), digest


def init_from_frames(model: VideoModel, paths: Paths) -> str:
    """Initialise a TimeSformer from the profile's frame model; return the weights' digest."""
    if not isinstance(model, Timesformer):
        raise TypeError(f"only a TimeSformer starts from the frame model, not {type(model)}")
    state, _meta, digest = frame_weights(paths)
    init_from_frame_model(model, state)
    return digest
