"""Pretrain the anomaly chapters' backbones on synth-actions, our stand-in for Kinetics-400.

The seed system embeds clips with R(2+1)D-18 (Tran et al., *A Closer Look at Spatiotemporal
Convolutions for Action Recognition*, CVPR 2018), SlowFast R50 (Feichtenhofer et al., *SlowFast
Networks for Video Recognition*, ICCV 2019) and TimeSformer (Bertasius et al., *Is Space-Time
Attention All You Need for Video Understanding?*, ICML 2021), all pretrained on Kinetics-400
(Kay et al., *The Kinetics Human Action Video Dataset*, arXiv 2017). Those weights cannot be
downloaded where this book is built (and ``pretrained="kinetics400"`` says so, naming what to
fetch), so this stage trains the same architectures, at the profile's preset, on all classes of
synth-actions, with the recipe of the architecture chapters (``backbone_setup`` may change it for
one backbone: TimeSformer needs a lower learning rate), and writes each as a DVC output::

    build/<profile>/pretrained/<backbone>/weights.pt   # state_dict (torch.load(weights_only=True))
    build/<profile>/pretrained/<backbone>/meta.json    # model, options, setup, classes, accuracy

plus ``results/<profile>/pretrain.json`` with every backbone's validation and test accuracy,
test direction accuracy on the time-reversed pairs, each test figure with its 95% interval.

    python -m vidad.experiments.pretrain --profile cpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from vidad.config import ConfigError
from vidad.experiments.recipe import RECIPE_KEYS, RecipeConfig
from vidad.paths import Paths
from vidad.stats import wilson_interval
from vidad.synth import REVERSED_PAIRS
from vidad.train.pretrained import META_NAME, WEIGHTS_NAME
from vidad.train.recognition import (
    INITS,
    RecognitionSetup,
    Variant,
    VariantResult,
    class_names,
    run_variant,
)

SECTION = "pretrain"
BACKBONES: tuple[str, ...] = ("r2plus1d_18", "slowfast_r50", "timesformer")
#: What ``pretrain.json`` records per backbone: ``meta.json``'s metrics, ``train_minutes`` and
#: the test accuracies' intervals (:meth:`Backbone.intervals`).
METRIC_KEYS: tuple[str, ...] = (
    "params",
    "gmacs",
    "best_epoch",
    "val_accuracy",
    "test_accuracy",
    "direction_accuracy",
    "train_minutes",
    "embed_dim",
    "test_accuracy_ci",
    "direction_accuracy_ci",
    "test_clips",
    "direction_clips",
)
#: Confidence level of the intervals ``pretrain.json`` gives beside each accuracy.
CI_LEVEL = 0.95

#: A model option or a recipe override, as ``params.yaml`` writes it.
Scalar = int | float | str | bool


@dataclasses.dataclass(frozen=True)
class Config(RecipeConfig):
    """The recipe, the backbones to train and their per-backbone model options and overrides.

    ``backbone_setup`` overrides training settings for one backbone (e.g. a lower learning
    rate for the transformer, which does not train from scratch at the CNNs' 3e-3); the
    recipe every backbone shares stays in one place. Everything is validated here, before any
    backbone trains.
    """

    SECTION = SECTION

    backbones: list[str]
    backbone_options: dict[str, dict[str, Scalar]]
    backbone_setup: dict[str, dict[str, Scalar]] = dataclasses.field(default_factory=dict)
    #: backbone -> how its weights start (``random`` | ``frame_model``: TimeSformer from the
    #: ViT of ``python -m vidad.experiments.frame_vit``, as the paper starts from ImageNet);
    #: unnamed backbones start random
    backbone_init: dict[str, str] = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        super().validate()
        unknown = (
            sorted(set(self.backbones) - set(BACKBONES))
            + sorted(set(self.backbone_options) - set(self.backbones))
            + sorted(set(self.backbone_setup) - set(self.backbones))
            + sorted(set(self.backbone_init) - set(self.backbones))
        )
        if unknown:
            raise ValueError(f"unknown backbone(s) {unknown}; choose from {list(BACKBONES)}")
        for backbone, extra in self.backbone_setup.items():
            bad = sorted(set(extra) - (set(RECIPE_KEYS) - {"classes"}))
            if bad:
                raise ValueError(
                    f"backbone_setup.{backbone}: cannot set {bad} per backbone "
                    "(every backbone shares the class set; other keys are the recipe's: "
                    f"{sorted(set(RECIPE_KEYS) - {'classes'})})"
                )
        for backbone, init in self.backbone_init.items():
            if init not in INITS:
                raise ValueError(f"backbone_init.{backbone} must be one of {INITS}, got {init!r}")
            if init == "frame_model" and backbone != "timesformer":
                raise ValueError(f"backbone_init.{backbone}: only timesformer has a frame model")
        self.setups()  # each backbone's recipe passes RecognitionSetup's checks

    def setups(self) -> dict[str, RecognitionSetup]:
        """Each backbone's training settings: the recipe with its ``backbone_setup`` applied.

        An override is type-checked and validated as the recipe is (it builds a
        :class:`RecipeConfig`), so ``{lr: "5e-4"}`` fails here, naming the backbone.
        """
        recipe = {k: getattr(self, k) for k in RECIPE_KEYS}
        setups = {}
        for backbone in self.backbones:
            try:
                own = RecipeConfig(**{**recipe, **self.backbone_setup.get(backbone, {})})
            except ValueError as err:
                raise ValueError(f"backbone_setup.{backbone}: {err}") from err
            setups[backbone] = own.setup()
        return setups

    def variant(self, backbone: str) -> Variant:
        """The backbone as a model to train: registry name and its ``backbone_options``."""
        options = dict(self.backbone_options.get(backbone, {}))
        return Variant(backbone, backbone, options, self.backbone_init.get(backbone, "random"))


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One trained backbone: its settings, its run, what its ``meta.json`` says, and how long
    it took (kept out of ``meta.json``: see :func:`backbone_meta`)."""

    name: str
    setup: RecognitionSetup
    result: VariantResult
    meta: dict[str, Any]
    train_minutes: float

    def metrics(self) -> dict[str, Any]:
        """This backbone's row of ``pretrain.json``: ``meta.json``'s metrics, the training
        minutes and :meth:`intervals`."""
        row = {**self.meta, "train_minutes": self.train_minutes, **self.intervals()}
        return {k: row[k] for k in METRIC_KEYS}

    def intervals(self) -> dict[str, Any]:
        """95% Wilson intervals of test and direction accuracy, with the clips they rest on.

        One backbone is trained once here, so the interval covers the test clips only, not
        seeds (which move an R(2+1)D's accuracy by more: ``benchmarks/recipes.py``). Direction
        accuracy is a proportion of the test clips whose reversed pair was right; its count is
        recovered from :func:`~vidad.train.recognition.order_scores`' ratios, so the two cannot
        disagree on which clips count.
        """
        run = self.result.run
        labels, predictions = run.test_labels, run.test_predictions
        correct = sum(int(a == b) for a, b in zip(labels, predictions, strict=True))
        in_pairs = {name for pair in REVERSED_PAIRS for name in pair}
        pair_clips = sum(self.result.classes[label] in in_pairs for label in labels)
        scores = self.result.order_scores()
        right_pair = round(scores["pair_accuracy"] * pair_clips) if pair_clips else 0
        row: dict[str, Any] = {
            "test_clips": len(labels),
            "direction_clips": right_pair,
            "test_accuracy_ci": None,
            "direction_accuracy_ci": None,
        }
        if labels:
            ci = wilson_interval(correct, len(labels), CI_LEVEL)
            row["test_accuracy_ci"] = [ci.low, ci.high]
        if right_pair:
            right_direction = round(scores["direction_accuracy"] * right_pair)
            ci = wilson_interval(right_direction, right_pair, CI_LEVEL)
            row["direction_accuracy_ci"] = [ci.low, ci.high]
        return row


@dataclasses.dataclass(frozen=True)
class Result:
    """Every backbone trained by :func:`run`, on ``classes``."""

    classes: list[str]
    backbones: list[Backbone]

    def metrics(self) -> dict[str, Any]:
        """``results/<profile>/pretrain.json``."""
        return {
            "backbones": {b.name: b.metrics() for b in self.backbones},
            "classes": len(self.classes),
        }


def backbone_meta(
    backbone: str,
    setup: RecognitionSetup,
    variant: Variant,
    result: VariantResult,
    classes: list[str],
) -> dict[str, Any]:
    """What ``meta.json`` records: enough for :func:`~vidad.train.pretrained.load_pretrained`.

    ``direction_accuracy``: on the test clips of the reversed-pair classes, the share whose
    direction of time is right among those whose pair is right (0.5 = blind to order).
    Only what the trained weights determine goes here, no wall times: the stages downstream
    depend on ``build/<profile>/pretrained`` by its hash, and a re-run that gives the same
    weights must not make them stale. Timings go to ``pretrain.json`` (:meth:`Backbone.metrics`).
    """
    metrics = result.metrics()
    # metrics() first: it carries the options as strings (for tables), which must not
    # replace the typed options that load_pretrained passes back to create_model
    return {
        **metrics,
        "direction_accuracy": metrics["test_direction_accuracy"],
        "init": variant.init,
        "model": backbone,
        "size": setup.size,
        "options": variant.options,
        "setup": dataclasses.asdict(setup),
        "classes": classes,
        "embed_dim": result.model.embed_dim,
    }


def write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(tmp)`` then rename over ``path``: an interrupted stage never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_backbone(folder: Path, result: VariantResult, meta: dict[str, Any]) -> None:
    """``weights.pt`` (a CPU state_dict) and ``meta.json`` of one backbone, each atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
    write_atomic(folder / WEIGHTS_NAME, lambda p: torch.save(state, p))
    text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
    write_atomic(folder / META_NAME, lambda p: p.write_text(text))


def write_metrics(result: Result, paths: Paths) -> Path:
    """Write ``results/<profile>/pretrain.json`` (atomically) and return its path."""
    path = paths.metrics(SECTION)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.metrics(), indent=2, sort_keys=True)
    write_atomic(path, lambda p: p.write_text(text + "\n"))
    return path


def run(config: Config, paths: Paths) -> Result:
    """Train every configured backbone and write its weights and metadata."""
    setups = config.setups()
    classes = class_names(config.classes, paths)
    backbones = []
    for backbone in config.backbones:
        setup = setups[backbone]
        variant = config.variant(backbone)
        started = time.perf_counter()
        result = run_variant(variant, setup, paths, SECTION, classes)
        minutes = (time.perf_counter() - started) / 60
        meta = backbone_meta(backbone, setup, variant, result, classes)
        write_backbone(paths.pretrained_backbone(backbone), result, meta)
        backbones.append(Backbone(backbone, setup, result, meta, minutes))
    return Result(classes, backbones)


def _interval(bounds: list[float] | None) -> str:
    return "[n/a]" if bounds is None else f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    try:  # every value checked before any compute: one line and status 2 when one is wrong
        paths = Paths(args.profile, args.root)
        config = Config.load(args.profile, params_file=Path(args.root) / "params.yaml")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run(config, paths)
    write_metrics(result, paths)
    for name, row in result.metrics()["backbones"].items():
        print(
            f"{name}: val {row['val_accuracy']:.3f}, test {row['test_accuracy']:.3f} "
            f"{_interval(row['test_accuracy_ci'])}, direction {row['direction_accuracy']:.3f} "
            f"{_interval(row['direction_accuracy_ci'])} (epoch {row['best_epoch']}, "
            f"{row['train_minutes']:.1f} min) -> {paths.pretrained_backbone(name)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
