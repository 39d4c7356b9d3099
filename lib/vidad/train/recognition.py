"""The architecture chapters' experiment: train model variants on synth-actions, compare on test.

Every architecture chapter (C3D, R(2+1)D, SlowFast, TimeSformer) asks the same question of a
few variants of one model: trained from scratch on the same clips, which classifies held-out
clips better, and does it get the *direction* of time-reversed actions right? The protocol
lives here once (:func:`run_variant`): clips decoded once into a cache, the same augmentation
for every variant, training on ``train``, the epoch chosen on ``val``, ``test`` scored once.

By default the chapters use the ten classes of synth-actions' five time-reversed pairs
(``sit_down`` / ``stand_up``, ...): within a pair every single frame is equally likely under
both classes, so only a model of temporal order can separate them. That is our analogue of
Something-Something (Goyal et al., *The "something something" video database for learning and
evaluating visual common sense*, ICCV 2017), where the TimeSformer paper (Bertasius et al.,
*Is Space-Time Attention All You Need for Video Understanding?*, ICML 2021) finds order
matters, as opposed to Kinetics (Kay et al., *The Kinetics Human Action Video Dataset*, arXiv
2017), where scenes and objects give most classes away. Each chapter's experiment
(:mod:`vidad.experiments.c3d` ...) builds its variants and settings; this module only trains.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

from vidad.models import count_macs, count_params, create_model
from vidad.models.base import InputSpec, VideoModel
from vidad.paths import Paths
from vidad.synth import REVERSED_PAIRS
from vidad.synth.actions import MIRRORED_PAIRS
from vidad.train import TrainConfig, make_generator
from vidad.train.classify import ClassifierRun, predict, train_classifier
from vidad.train.pretrained import init_from_frames
from vidad.video.cache import CachedClipDataset, ClipCacheSpec, RandomMirror, mirror_label_map
from vidad.video.manifest import read_manifest
from vidad.video.transforms import make_clip_transform

#: The synth-actions classes a chapter trains on: the five time-reversed pairs' ten, or all.
ClassSet = Literal["reversed_pairs", "all"]
CLASS_SETS: tuple[str, ...] = typing.get_args(ClassSet)


@dataclass(frozen=True)
class RecognitionSetup:
    """Data, input and training settings shared by every variant of a chapter.

    ``num_frames`` is what the cache stores per clip (the most any variant sees; a variant that
    wants fewer subsamples them uniformly), ``crop_size`` the side the networks see,
    ``cache_size`` the side clips are stored at (random crops come from scales between the
    two). ``motion`` feeds each clip minus its mean frame (see
    :class:`~vidad.video.transforms.SubtractMeanFrame`). ``mirror`` flips a random half of the
    training clips left-right, swapping the labels of synth-actions' mirror-image classes
    (:data:`~vidad.synth.actions.MIRRORED_PAIRS`; see :class:`~vidad.video.cache.RandomMirror`).
    No field has a default: every value comes from ``params.yaml`` (the recipe block of the
    architecture chapters, through each chapter's ``Config``) or from a pretrained backbone's
    ``meta.json``.
    """

    classes: ClassSet
    num_frames: int
    crop_size: int
    cache_size: int
    motion: bool
    mirror: bool
    size: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    warmup_epochs: int
    seed: int

    def __post_init__(self) -> None:
        problems = []
        if self.classes not in CLASS_SETS:
            problems.append(f"classes must be one of {CLASS_SETS}, got {self.classes!r}")
        if self.cache_size < self.crop_size:
            problems.append(f"cache_size {self.cache_size} < crop_size {self.crop_size}")
        if min(self.num_frames, self.crop_size, self.epochs, self.batch_size) < 1:
            problems.append("num_frames, crop_size, epochs and batch_size must be >= 1")
        if problems:
            raise ValueError("invalid RecognitionSetup: " + "; ".join(problems))

    def train_config(self) -> TrainConfig:
        """AdamW + cosine schedule with warm-up: one recipe for every variant of a chapter."""
        return TrainConfig.adamw_cosine(
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_epochs=self.warmup_epochs,
            batch_size=self.batch_size,
            seed=self.seed,
        )


def class_names(classes: str, paths: Paths) -> list[str]:
    """The class list of a class set, in label order (the reversed pairs side by side)."""
    if classes == "reversed_pairs":
        return [name for pair in REVERSED_PAIRS for name in pair]
    table = read_manifest(paths.synth("synth-actions"))
    return list(table.drop_duplicates("label").sort_values("label")["class"])


#: How a variant's weights start: random (from scratch, as the CNN papers train), or, for a
#: TimeSformer, from the profile's frame model (as the paper starts from an ImageNet ViT).
Init = Literal["random", "frame_model"]
INITS: tuple[str, ...] = typing.get_args(Init)


@dataclass(frozen=True)
class Variant:
    """One model to train: a label for tables, a registry name, its options and its init."""

    label: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)
    init: Init = "random"

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"init of {self.label!r} must be one of {INITS}, got {self.init!r}")


def build_model(variant: Variant, setup: RecognitionSetup, num_classes: int) -> VideoModel:
    """The variant at the setup's preset, input size and frame count (options may override)."""
    options = {"num_frames": setup.num_frames, "crop_size": setup.crop_size, **variant.options}
    return create_model(variant.model, size=setup.size, num_classes=num_classes, **options)


def clip_transform(
    spec: InputSpec, setup: RecognitionSetup, train: bool, generator: torch.Generator | None = None
):
    """The clip pipeline a model's :class:`InputSpec` asks for, with the setup's augmentation."""
    return make_clip_transform(
        train,
        spec.num_frames,
        spec.crop_size,
        mean=spec.mean,
        std=spec.std,
        min_scale=spec.crop_size if train else None,
        max_scale=setup.cache_size if train else None,
        pathway_alpha=spec.alpha,
        time_first=spec.layout == "TCHW",
        generator=generator,
        motion=setup.motion,
    )


def crop_generator(setup: RecognitionSetup) -> torch.Generator:
    """The generator of the training clips' random scale + crop, seeded from the setup.

    Its state shapes every training batch, so a resumable run hands it to ``fit`` (as
    ``generators={"crop": g}``) to have it saved in each checkpoint.
    """
    return make_generator(setup.seed)


def splits_for(
    spec: InputSpec,
    setup: RecognitionSetup,
    paths: Paths,
    classes: Sequence[str],
    generator: torch.Generator | None = None,
) -> tuple[CachedClipDataset, CachedClipDataset, CachedClipDataset]:
    """train / val / test datasets read from one clip cache shared by every chapter.

    ``generator`` drives the training transform's random crops and, with ``setup.mirror``, the
    training clips' flips (default: a new :func:`crop_generator`); pass it to ``fit`` too for
    an exact resume.
    """
    data_root = paths.synth("synth-actions")
    cache = ClipCacheSpec(setup.num_frames, setup.cache_size, setup.cache_size)
    cache_root = paths.cache / "synth-actions"
    if generator is None:
        generator = crop_generator(setup)
    mirror = (
        RandomMirror(mirror_label_map(classes, MIRRORED_PAIRS), generator) if setup.mirror else None
    )
    return tuple(  # type: ignore[return-value]
        CachedClipDataset(
            data_root,
            split,
            cache,
            cache_root,
            transform=clip_transform(spec, setup, split == "train", generator),
            classes=classes,
            mirror=mirror if split == "train" else None,
        )
        for split in ("train", "val", "test")
    )


@dataclass(frozen=True)
class VariantResult:
    """A trained variant: its size, compute and the classifier run (history, test predictions)."""

    variant: Variant
    params: int
    gmacs: float
    run: ClassifierRun
    classes: tuple[str, ...]
    model: VideoModel = field(repr=False, compare=False)

    def order_scores(self) -> dict[str, float]:
        """Pair and direction accuracy on the test clips of the reversed-pair classes.

        ``pair_accuracy``: the prediction is the clip's class or its time-reversed twin.
        ``direction_accuracy``: among those, the fraction that got the direction right. A model
        blind to temporal order scores 0.5 here however good its pair accuracy.
        """
        return order_scores(self.run.test_labels, self.run.test_predictions, self.classes)

    def row(self) -> dict[str, Any]:
        scores = self.order_scores()
        return {
            "variant": self.variant.label,
            "parameters (M)": self.params / 1e6,
            "GMACs per clip": self.gmacs,
            "best epoch (val)": self.run.best_epoch,
            "val accuracy": self.run.val_accuracy,
            "test accuracy": self.run.test_accuracy,
            "test pair accuracy": scores["pair_accuracy"],
            "test direction accuracy": scores["direction_accuracy"],
        }

    def metrics(self) -> dict[str, Any]:
        """What a chapter records in its metrics file for this variant."""
        return {
            "model": self.variant.model,
            "options": {k: str(v) for k, v in self.variant.options.items()},
            "params": self.params,
            "gmacs": self.gmacs,
            "best_epoch": self.run.best_epoch,
            "val_accuracy": self.run.val_accuracy,
            "test_accuracy": self.run.test_accuracy,
            **{f"test_{k}": v for k, v in self.order_scores().items()},
        }


def order_scores(
    labels: Sequence[int], predictions: Sequence[int], classes: Sequence[str]
) -> dict[str, float]:
    """Pair / direction accuracy over the clips whose class belongs to a reversed pair."""
    twin = {a: b for a, b in REVERSED_PAIRS} | {b: a for a, b in REVERSED_PAIRS}
    in_pair = right_pair = right_direction = 0
    for label, pred in zip(labels, predictions, strict=True):
        name = classes[label]
        if name not in twin or twin[name] not in classes:
            continue
        in_pair += 1
        if pred in (label, classes.index(twin[name])):
            right_pair += 1
            right_direction += int(pred == label)
    nan = float("nan")
    return {
        "pair_accuracy": right_pair / in_pair if in_pair else nan,
        "direction_accuracy": right_direction / right_pair if right_pair else nan,
    }


def run_variant(
    variant: Variant,
    setup: RecognitionSetup,
    paths: Paths,
    chapter: str,
    classes: Sequence[str],
) -> VariantResult:
    """Build, train (or resume) and test one variant under the chapter's protocol."""
    torch.manual_seed(setup.seed)
    model = build_model(variant, setup, len(classes))
    # the frame model's digest keys the run: a retrained frame model starts a new run
    init = init_from_frames(model, paths) if variant.init == "frame_model" else "random"
    spec = model.input_spec
    params = count_params(model)
    gmacs = count_macs(model, spec.example(1)) / 1e9
    crop = crop_generator(setup)
    train, val, test = splits_for(spec, setup, paths, classes, crop)
    run = train_classifier(
        variant.label,
        model,
        train,
        val,
        test,
        setup.train_config(),
        paths.runs(chapter),
        settings={
            "model": variant.model,
            "options": variant.options,
            **({} if init == "random" else {"init": init}),
            "setup": asdict(setup),
            "classes": list(classes),
            "data": [split.data_key for split in (train, val, test)],  # the clips' content
        },
        generators={"crop": crop},
    )
    return VariantResult(variant, params, gmacs, run, tuple(classes), model)


def train_split_predictions(
    result: VariantResult, setup: RecognitionSetup, paths: Paths
) -> tuple[list[int], list[int]]:
    """(labels, predictions) of the selected checkpoint on every *training* clip, without
    augmentation: the per-clip outcomes a paired CI of two models' training error needs."""
    spec = result.model.input_spec
    cache = ClipCacheSpec(setup.num_frames, setup.cache_size, setup.cache_size)
    train = CachedClipDataset(
        paths.synth("synth-actions"),
        "train",
        cache,
        paths.cache / "synth-actions",
        transform=clip_transform(spec, setup, train=False),
        classes=list(result.classes),
    )
    return predict(result.model, train, setup.batch_size)


def train_split_accuracy(result: VariantResult, setup: RecognitionSetup, paths: Paths) -> float:
    """Accuracy of the selected checkpoint on the *training* clips, without augmentation.

    Beside test accuracy it separates fitting from generalizing (the R(2+1)D paper's claim is
    lower training *and* test error).
    """
    labels, predictions = train_split_predictions(result, setup, paths)
    correct = sum(int(a == b) for a, b in zip(labels, predictions, strict=True))
    return correct / len(labels) if labels else float("nan")
