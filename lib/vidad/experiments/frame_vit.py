"""A small ViT trained on single frames, TimeSformer's stand-in for ImageNet.

TimeSformer (Bertasius et al., *Is Space-Time Attention All You Need for Video Understanding?*,
ICML 2021) is never trained from scratch in its paper: every model starts from a ViT
pretrained on ImageNet (Dosovitskiy et al., ICLR 2021), and only the temporal attention is new.
ImageNet weights cannot be fetched here, so this command trains the same kind of model on frames
of our own data: a space-only TimeSformer over **one** frame (exactly a ViT: patch embedding,
CLS token, spatial attention, MLPs) classifying single frames of synth-actions' training clips
by their clip's class. A single frame cannot tell a time-reversed pair apart, so the frame
task teaches *where the body is and how it is posed*, which is what an image model gives a
video model, and not the direction of time, which is what chapter 5 asks of the temporal
attention. Frames are cut from clips after the video models' own clip pipeline (the mean-frame
subtraction included), so the ViT sees the input domain the TimeSformers will see.

Stage ``pretrain`` starts a TimeSformer from it with ``backbone_init: {timesformer:
frame_model}`` (:func:`vidad.models.timesformer.init_from_frame_model`). It is not a stage of
the default pipeline: at ``cpu`` size its loss stayed at ln 25 for the epochs the hour affords
(``benchmarks/recipes.py``), so the book's TimeSformers train from scratch::

    build/<profile>/frame_model/weights.pt   # state_dict (torch.load(weights_only=True))
    build/<profile>/frame_model/meta.json    # options, setup, classes, frame accuracies

    python -m vidad.experiments.frame_vit --profile cpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from vidad.config import ConfigError
from vidad.experiments.pretrain import write_atomic
from vidad.experiments.recipe import RecipeConfig
from vidad.models import count_params, create_model
from vidad.paths import Paths
from vidad.train.classify import train_classifier
from vidad.train.frames import ClipFrames
from vidad.train.pretrained import META_NAME, WEIGHTS_NAME
from vidad.train.recognition import class_names, crop_generator, splits_for

SECTION = "frame_vit"


@dataclasses.dataclass(frozen=True)
class Config(RecipeConfig):
    """The recipe (``num_frames``: frames of the clips the frames are cut from, i.e. the
    TimeSformers' frame count), the patch side, and how many frames of each clip an epoch sees."""

    SECTION = SECTION

    patch_size: int
    frames_per_clip: int

    def validate(self) -> None:
        super().validate()
        if self.frames_per_clip < 1:
            raise ValueError(f"frames_per_clip must be >= 1, got {self.frames_per_clip}")
        if self.patch_size < 1 or self.crop_size % self.patch_size:
            raise ValueError(f"patch_size {self.patch_size} must divide crop_size {self.crop_size}")

    def model_options(self) -> dict[str, Any]:
        """``create_model`` options of the frame model (a space-only TimeSformer, one frame)."""
        return {
            "attention_type": "space_only",
            "num_frames": 1,
            "crop_size": self.crop_size,
            "patch_size": self.patch_size,
        }


def run(config: Config, paths: Paths) -> dict[str, Any]:
    """Train the frame model, write its weights and ``meta.json``; return the meta."""
    setup = config.setup()
    classes = class_names(setup.classes, paths)
    torch.manual_seed(setup.seed)
    model = create_model(
        "timesformer", size=setup.size, num_classes=len(classes), **config.model_options()
    )
    video_spec = dataclasses.replace(model.input_spec, num_frames=setup.num_frames)
    crop = crop_generator(setup)
    train, val, test = splits_for(video_spec, setup, paths, classes, crop)
    started = time.perf_counter()
    result = train_classifier(
        "frame_vit",
        model,
        ClipFrames(train, config.frames_per_clip, crop),
        ClipFrames(val, config.frames_per_clip),
        ClipFrames(test, config.frames_per_clip),
        setup.train_config(),
        paths.runs(SECTION),
        settings={
            "options": config.model_options(),
            "setup": dataclasses.asdict(setup),
            "frames_per_clip": config.frames_per_clip,
            "classes": classes,
            "data": [split.data_key for split in (train, val, test)],
        },
        generators={"crop": crop},
    )
    meta = {
        "model": "timesformer",
        "size": setup.size,
        "options": config.model_options(),
        "setup": dataclasses.asdict(setup),
        "frames_per_clip": config.frames_per_clip,
        "classes": classes,
        "params": count_params(model),
        "best_epoch": result.best_epoch,
        "val_frame_accuracy": result.val_accuracy,
        "test_frame_accuracy": result.test_accuracy,
        "train_minutes": (time.perf_counter() - started) / 60,
        "history": result.history,
    }
    folder = paths.frame_model
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    write_atomic(folder / WEIGHTS_NAME, lambda p: torch.save(state, p))
    text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(folder / META_NAME, lambda p: p.write_text(text))
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    try:
        paths = Paths(args.profile, args.root)
        config = Config.load(args.profile, params_file=Path(args.root) / "params.yaml")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    meta = run(config, paths)
    paths.metrics(SECTION).parent.mkdir(parents=True, exist_ok=True)
    keys = ("params", "best_epoch", "val_frame_accuracy", "test_frame_accuracy", "train_minutes")
    metrics = {k: meta[k] for k in keys} | {"classes": len(meta["classes"])}
    text = json.dumps(metrics, indent=2, sort_keys=True) + "\n"
    write_atomic(paths.metrics(SECTION), lambda p: p.write_text(text))
    print(
        f"frame model: val {meta['val_frame_accuracy']:.3f}, test {meta['test_frame_accuracy']:.3f}"
        f" frame accuracy (epoch {meta['best_epoch']}), {meta['train_minutes']:.1f} min"
        f" -> {paths.frame_model}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
