"""Pretrain the anomaly chapters' backbones on synth-actions, our stand-in for Kinetics-400.

The seed system embeds clips with R(2+1)D-18, SlowFast R50 and TimeSformer pretrained on
Kinetics-400. Those weights cannot be downloaded where this book is built (and
``pretrained="kinetics400"`` says so, naming what to fetch), so this stage trains the same
architectures, at the profile's preset, on all classes of synth-actions, with the recipe of the
architecture chapters (``backbone_setup`` may change it for one backbone: TimeSformer needs a lower
learning rate), and writes each as a DVC output::

    build/<profile>/pretrained/<backbone>/weights.pt   # state_dict (torch.load(weights_only=True))
    build/<profile>/pretrained/<backbone>/meta.json    # model, options, setup, classes, accuracy

plus ``results/<profile>/pretrain.json`` with every backbone's validation and test accuracy.

    python -m vidad.analysis.pretrain --profile cpu
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch

from vidad.analysis.recognition import RecognitionSetup, Variant, class_names, run_variant
from vidad.config import build_dir, load_params, results_dir, stage_params
from vidad.models import create_model
from vidad.models.base import VideoModel

SECTION = "pretrain"
BACKBONES: tuple[str, ...] = ("r2plus1d_18", "slowfast_r50", "timesformer")
WEIGHTS_NAME = "weights.pt"
META_NAME = "meta.json"


def pretrained_dir(profile: str, backbone: str, root: str | Path = ".") -> Path:
    return build_dir(profile, root) / "pretrained" / backbone


def setup_from_params(
    params: dict[str, Any],
) -> tuple[dict[str, RecognitionSetup], list[str], dict]:
    """(setup per backbone, backbones, per-backbone model options) from the stage's params.

    ``backbone_setup`` overrides training settings for one backbone (e.g. a lower learning
    rate for the transformer, which does not train from scratch at the CNNs' 3e-3); the
    recipe every backbone shares stays in one place. Everything is validated here, before any
    backbone trains.
    """
    params = dict(params)
    backbones = list(params.pop("backbones"))
    options = dict(params.pop("backbone_options", {}) or {})
    overrides = dict(params.pop("backbone_setup", {}) or {})
    unknown = (
        sorted(set(backbones) - set(BACKBONES))
        + sorted(set(options) - set(backbones))
        + sorted(set(overrides) - set(backbones))
    )
    if unknown:
        raise ValueError(f"unknown backbone(s) {unknown}; choose from {list(BACKBONES)}")
    base = RecognitionSetup(**params)
    fields = {f.name for f in dataclasses.fields(RecognitionSetup)}
    setups = {}
    for backbone in backbones:
        extra = dict(overrides.get(backbone, {}) or {})
        bad = sorted(set(extra) - (fields - {"classes"}))
        if bad:
            raise ValueError(
                f"backbone_setup.{backbone}: cannot set {bad} per backbone "
                "(every backbone shares the class set; other keys are RecognitionSetup fields)"
            )
        setups[backbone] = dataclasses.replace(base, **extra)
    return setups, backbones, options


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def pretrain(profile: str, root: str | Path = ".") -> dict[str, Any]:
    """Train every configured backbone; write weights, metadata and the metrics file."""
    setups, backbones, options = setup_from_params(
        stage_params(load_params(Path(root) / "params.yaml"), SECTION, profile)
    )
    classes = class_names(profile, setups[backbones[0]].classes, root)
    metrics: dict[str, Any] = {}
    for backbone in backbones:
        setup = setups[backbone]
        variant = Variant(backbone, backbone, dict(options.get(backbone, {})))
        result = run_variant(variant, setup, profile, SECTION, classes, root)
        out = pretrained_dir(profile, backbone, root)
        out.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
        _write_atomic(out / WEIGHTS_NAME, lambda p, s=state: torch.save(s, p))
        # metrics() first: it carries the options as strings (for tables), which must not
        # replace the typed options that load_pretrained passes back to create_model
        meta = {
            **result.metrics(),
            "model": backbone,
            "size": setup.size,
            "options": variant.options,
            "setup": dataclasses.asdict(setup),
            "classes": classes,
            "embed_dim": result.model.embed_dim,
        }
        text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
        _write_atomic(out / META_NAME, lambda p, t=text: p.write_text(t))
        metrics[backbone] = {
            k: meta[k]
            for k in ("params", "gmacs", "best_epoch", "val_accuracy", "test_accuracy", "embed_dim")
        }
    path = results_dir(profile, root) / f"{SECTION}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"backbones": metrics, "classes": len(classes)}, indent=2, sort_keys=True)
    _write_atomic(path, lambda p: p.write_text(text + "\n"))
    return metrics


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
            f"`dvc repro pretrain` (or `python -m vidad.analysis.pretrain --profile {profile}`)"
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--root", default=".")
    args = parser.parse_args(argv)
    for name, row in pretrain(args.profile, args.root).items():
        print(
            f"{name}: val {row['val_accuracy']:.3f}, test {row['test_accuracy']:.3f} "
            f"(epoch {row['best_epoch']}) -> {pretrained_dir(args.profile, name, args.root)}"
        )


if __name__ == "__main__":
    main()
