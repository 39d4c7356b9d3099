"""TimeSformer (Bertasius et al., ICML 2021) via Hugging Face ``transformers``.

Wrapping ``TimesformerForVideoClassification`` (rather than re-implementing it) keeps the module
names of ``facebook/timesformer-base-finetuned-k400`` so its weights load unchanged; the embedding
is the final-layer-normed CLS token, exactly what HF's classifier reads.

The paper never trains TimeSformer from scratch: its spatial attention, MLPs, patch and position
embeddings start from an ImageNet ViT, and the temporal attention is added on top.
:func:`init_from_frame_model` does the same from a *frame model*, a space-only TimeSformer over
one frame (a ViT; see :mod:`vidad.experiments.frame_vit`), following the paper's code
(facebookresearch/TimeSformer, ``load_pretrained`` and ``VisionTransformer.__init__``): the
temporal attention and its LayerNorm are copies of the spatial ones, the temporal projection
(``temporal_fc``, here ``temporal_dense``) of every block but the first starts at zero so each
block begins as the frame model's, and the time embeddings start at zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch
from torch import nn
from transformers import TimesformerConfig, TimesformerForVideoClassification

from vidad.models.base import InputSpec, VideoModel
from vidad.models.pretrained import HuggingFaceWeights
from vidad.models.registry import ANY, register_model
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD

ATTENTION_TYPES = ("divided_space_time", "space_only", "joint_space_time")
#: How patches become tokens: the paper's linear patch embedding (one ``p x p`` stride-``p``
#: conv), or a small convolutional stem (Xiao et al., *Early Convolutions Help Transformers See
#: Better*, NeurIPS 2021): 3x3 stride-2 convs down to the same token grid, then a 1x1 conv.
PATCH_STEMS = ("linear", "conv")


def conv_stem(patch_size: int, hidden_size: int, channels: int = 3) -> nn.Sequential:
    """Stride-2 3x3 conv + BN + ReLU blocks (log2(patch) of them) and a 1x1 conv to ``D``.

    Same output grid as the linear embedding (``H / p`` by ``W / p``), so position embeddings
    and everything after are unchanged; widths double from ``D / 2**(k-1)`` up to ``D``.
    """
    steps = patch_size.bit_length() - 1
    if patch_size < 2 or 2**steps != patch_size:
        raise ValueError(f"a conv stem needs a power-of-two patch_size >= 2, got {patch_size}")
    layers: list[nn.Module] = []
    width_in = channels
    for i in range(steps):
        width = max(hidden_size // 2 ** (steps - 1 - i), 8)
        layers += [
            nn.Conv2d(width_in, width, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        width_in = width
    layers.append(nn.Conv2d(width_in, hidden_size, 1))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class TimesformerSize:
    """The ViT dimensions and input of one preset."""

    hidden_size: int = 768
    num_layers: int = 12
    num_heads: int = 12
    patch_size: int = 16
    num_frames: int = 8
    image_size: int = 224


TIMESFORMER_SIZES: dict[str, TimesformerSize] = {
    "paper": TimesformerSize(),
    "small": TimesformerSize(hidden_size=192, num_layers=4, num_heads=3, image_size=112),
    # width 96 (0.7M parameters with a 10-class head, like SlowFast tiny): at 192 one cpu run
    # of ten epochs took 6.7 min on 2 cores, too much for three seeds of each scheme
    "tiny": TimesformerSize(hidden_size=96, num_layers=4, num_heads=3, image_size=64),
}


class Timesformer(VideoModel):
    """HF TimeSformer (``self.hf``) taking (B, T, C, H, W) clips."""

    def __init__(self, hf: TimesformerForVideoClassification) -> None:
        super().__init__()
        self.hf = hf
        cfg = hf.config
        self.embed_dim = cfg.hidden_size
        self.input_spec = InputSpec(
            num_frames=cfg.num_frames,
            crop_size=cfg.image_size,
            mean=KINETICS_MEAN,
            std=KINETICS_STD,
            layout="TCHW",
        )

    def forward_features(self, clip: torch.Tensor) -> torch.Tensor:
        """CLS token of the last hidden state (after the final LayerNorm).

        With ``space_only`` attention HF keeps every frame as its own sequence, so the hidden
        state has ``B * T`` rows; the frames' CLS tokens are averaged, as the original
        TimeSformer does for its space-only model.
        """
        cls = self.hf.timesformer(pixel_values=clip).last_hidden_state[:, 0]
        if cls.shape[0] != clip.shape[0]:
            cls = cls.reshape(clip.shape[0], -1, cls.shape[-1]).mean(dim=1)
        return cls

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.hf.classifier(features)


def timesformer_config(
    size: str = "paper",
    num_classes: int = 400,
    attention_type: str = "divided_space_time",
    **inputs: int,
) -> TimesformerConfig:
    """The HF config of a preset (also used to check a downloaded checkpoint matches).

    ``inputs`` (``num_frames``, ``crop_size``, ``patch_size``) override the preset's input: the
    position and time embeddings are sized from them.
    """
    if "crop_size" in inputs:
        inputs["image_size"] = inputs.pop("crop_size")
    s = replace(TIMESFORMER_SIZES[size], **inputs)
    return TimesformerConfig(
        image_size=s.image_size,
        patch_size=s.patch_size,
        num_frames=s.num_frames,
        hidden_size=s.hidden_size,
        num_hidden_layers=s.num_layers,
        num_attention_heads=s.num_heads,
        intermediate_size=4 * s.hidden_size,
        attention_type=attention_type,
        num_labels=num_classes,
    )


@register_model(
    "timesformer",
    sizes=tuple(TIMESFORMER_SIZES),
    options={
        "attention_type": ATTENTION_TYPES,
        "num_frames": ANY,
        "crop_size": ANY,
        "patch_size": ANY,
        "patch_stem": PATCH_STEMS,
    },
    pretrained={
        "kinetics400": HuggingFaceWeights(
            "facebook/timesformer-base-finetuned-k400",
            model_class=TimesformerForVideoClassification,
            head="classifier",
            label="TimeSformer",
        )
    },
)
def timesformer(
    size: str = "paper",
    num_classes: int = 400,
    attention_type: str = "divided_space_time",
    patch_stem: str = "linear",
    **inputs: int,
) -> Timesformer:
    """TimeSformer-Base (8x224, patch 16) with divided, space-only or joint attention.

    ``patch_stem="conv"`` swaps HF's linear patch embedding for :func:`conv_stem` (not in the
    paper, whose models start from an ImageNet ViT; a known remedy for ViTs trained on little
    data); the module keeps its name (``...patch_embeddings.projection``).
    """
    config = timesformer_config(size, num_classes, attention_type, **inputs)
    hf = TimesformerForVideoClassification(config)
    if patch_stem == "conv":
        embeddings = hf.timesformer.embeddings.patch_embeddings
        embeddings.projection = conv_stem(config.patch_size, config.hidden_size)
    return Timesformer(hf)


#: Parameters a frame model does not give a video model: its classifier (other classes) and
#: the time embeddings (a space-only model over one frame has none).
_NOT_FROM_FRAMES = ("hf.classifier.", "hf.timesformer.embeddings.time_embeddings")


def init_from_frame_model(model: Timesformer, frame_state: Mapping[str, torch.Tensor]) -> list[str]:
    """Initialise ``model`` from a frame model's ``state_dict``, as the paper does from ViT.

    Every parameter both share by name and shape is copied (patch and position embeddings,
    CLS token, spatial attention, MLPs, LayerNorms); with divided attention the temporal
    attention and ``temporal_layernorm`` copy the spatial ones, ``temporal_dense`` of blocks
    1.. is zeroed and the time embeddings are zero (see the module docstring). The classifier
    keeps its fresh init. Returns the names of the parameters set from ``frame_state``; a
    frame model of another width, depth or patch grid raises ``ValueError`` naming the first
    mismatch, since a silent partial copy would be a from-scratch run under another name.
    """
    target = model.state_dict()
    new: dict[str, torch.Tensor] = {}
    for name, value in frame_state.items():
        if name.startswith(_NOT_FROM_FRAMES):
            continue
        if name not in target:
            raise ValueError(f"frame model parameter {name} has no place in this TimeSformer")
        if target[name].shape != value.shape:
            raise ValueError(
                f"frame model parameter {name} is {tuple(value.shape)}, this TimeSformer's "
                f"{tuple(target[name].shape)}: width, depth, patch and crop must match"
            )
        new[name] = value
    if model.hf.config.attention_type == "divided_space_time":
        for name, value in list(new.items()):
            if ".attention." in name and ".encoder.layer." in name:
                new[name.replace(".attention.", ".temporal_attention.", 1)] = value
            if ".layernorm_before." in name:
                new[name.replace(".layernorm_before.", ".temporal_layernorm.")] = value
        for name, value in target.items():
            if ".temporal_dense." in name and ".encoder.layer.0." not in name:
                new[name] = torch.zeros_like(value)
    for name, value in target.items():
        if name.startswith(_NOT_FROM_FRAMES[1]):
            new[name] = torch.zeros_like(value)
    fresh = {n for n in target if n.startswith(_NOT_FROM_FRAMES[0])}
    fresh |= {n for n in target if ".encoder.layer.0.temporal_dense." in n}
    left = sorted(set(target) - set(new) - fresh)
    if left:
        raise ValueError(f"the frame model sets no value for {left[0]} ({len(left)} in all)")
    model.load_state_dict({**target, **new})
    return sorted(new)
