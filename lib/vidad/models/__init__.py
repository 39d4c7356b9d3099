"""Video backbones for the book: C3D, R3D/R(2+1)D, SlowFast/Slow, TimeSformer.

``create_model(name, size, num_classes, pretrained, **options)`` builds any of them with one
interface (:class:`VideoModel`: ``forward_features`` -> (B, D) embedding, ``forward`` -> logits,
``embed_dim``, ``input_spec``). ``size="paper"`` is the published architecture; "small" and
"tiny" are the same code at reduced width/depth so CPU tests and smoke runs stay fast.
"""

from __future__ import annotations

from typing import Any

from vidad.models import c3d, resnet3d, slowfast, timesformer  # noqa: F401  (registers models)
from vidad.models.base import InputSpec, VideoModel, pack_pathways
from vidad.models.c3d import load_c3d_state_dict
from vidad.models.complexity import count_macs, count_params
from vidad.models.pretrained import (
    HuggingFaceWeights,
    PretrainedWeightsUnavailable,
    PytorchvideoWeights,
    TorchvisionWeights,
    WeightsSource,
)
from vidad.models.registry import get_entry, list_models, register_model, validate
from vidad.models.resnet3d import r2plus1d_midplanes

__all__ = [
    "HuggingFaceWeights",
    "InputSpec",
    "PretrainedWeightsUnavailable",
    "PytorchvideoWeights",
    "TorchvisionWeights",
    "VideoModel",
    "WeightsSource",
    "count_macs",
    "count_params",
    "create_model",
    "list_models",
    "load_c3d_state_dict",
    "pack_pathways",
    "r2plus1d_midplanes",
    "register_model",
]


def create_model(
    name: str,
    size: str = "paper",
    num_classes: int = 400,
    pretrained: str | None = None,
    **options: Any,
) -> VideoModel:
    """Build a registered model; all arguments are validated before anything is allocated.

    ``pretrained`` names one of the weights the model's registration declares (e.g.
    ``"kinetics400"``); their source loads them from the local cache (see
    :mod:`vidad.models.pretrained`). With another ``num_classes`` than the checkpoint's the
    backbone is loaded and the new classifier stays random.
    """
    entry = get_entry(name)
    validate(entry, size, pretrained, options)
    source = entry.pretrained.get(pretrained) if pretrained is not None else None
    if pretrained is not None and source is None:  # the builder loads these weights itself
        options = {**options, "pretrained": pretrained}
    if source is not None:
        source.check_available(name)  # fail before a build that can take seconds
    model = entry.builder(size=size, num_classes=num_classes, **options)
    if source is not None:
        source.load(model, name)
    return model
