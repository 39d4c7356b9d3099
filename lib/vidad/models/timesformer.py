"""TimeSformer (Bertasius et al., ICML 2021) via Hugging Face ``transformers``, random init.

Wrapping ``TimesformerForVideoClassification`` (rather than re-implementing it) keeps the module
names of ``facebook/timesformer-base-finetuned-k400`` so its weights load unchanged; the embedding
is the final-layer-normed CLS token, exactly what HF's classifier reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from transformers import TimesformerConfig, TimesformerForVideoClassification

from vidad.models.base import InputSpec, VideoModel
from vidad.models.pretrained import HuggingFaceWeights
from vidad.models.registry import ANY, register_model
from vidad.video.transforms import KINETICS_MEAN, KINETICS_STD

ATTENTION_TYPES = ("divided_space_time", "space_only", "joint_space_time")


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
    "tiny": TimesformerSize(hidden_size=192, num_layers=4, num_heads=3, image_size=64),
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
    **inputs: int,
) -> Timesformer:
    """TimeSformer-Base (8x224, patch 16) with divided, space-only or joint attention."""
    config = timesformer_config(size, num_classes, attention_type, **inputs)
    return Timesformer(TimesformerForVideoClassification(config))
