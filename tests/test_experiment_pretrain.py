"""Stage pretrain: shared recipe, per-backbone overrides, early errors, the files it writes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from recognition_fakes import FakeModel, fake_run

from vidad.config import ConfigError, load_params, stage_params
from vidad.experiments import pretrain
from vidad.paths import Paths

REPO = Path(__file__).resolve().parents[1]

BASE = {
    "seed": 0,
    "classes": "all",
    "size": "tiny",
    "num_frames": 16,
    "crop_size": 32,
    "cache_size": 40,
    "motion": True,
    "mirror": True,
    "epochs": 12,
    "batch_size": 32,
    "lr": 0.003,
    "weight_decay": 0.05,
    "warmup_epochs": 1,
    "backbone_options": {},
}


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_every_profile_gives_a_valid_config(profile):
    config = pretrain.Config.load(profile, params_file=REPO / "params.yaml")
    assert list(config.setups()) == config.backbones


def test_smoke_has_no_backbone_setup_and_defaults_to_none():
    params = stage_params(load_params(REPO / "params.yaml"), "pretrain", "smoke")
    assert "backbone_setup" not in params
    assert pretrain.Config.from_params(params).backbone_setup == {}


def test_backbone_setup_overrides_only_its_backbone():
    config = pretrain.Config.from_params(
        {
            **BASE,
            "backbones": ["r2plus1d_18", "timesformer"],
            "backbone_options": {"timesformer": {"patch_size": 8}},
            "backbone_setup": {"timesformer": {"lr": 0.001, "epochs": 30}},
        }
    )
    setups = config.setups()
    assert config.backbones == ["r2plus1d_18", "timesformer"]
    assert config.variant("timesformer").options == {"patch_size": 8}
    assert config.variant("r2plus1d_18").options == {}
    assert (setups["r2plus1d_18"].lr, setups["r2plus1d_18"].epochs) == (0.003, 12)
    assert (setups["timesformer"].lr, setups["timesformer"].epochs) == (0.001, 30)
    assert setups["timesformer"].num_frames == 16  # the rest is the shared recipe


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"backbone_setup": {"c3d_big": {"lr": 0.1}}}, "unknown backbone"),
        ({"backbone_setup": {"timesformer": {"learning_rate": 0.1}}}, "learning_rate"),
        ({"backbone_setup": {"timesformer": {"classes": "reversed_pairs"}}}, "classes"),
        ({"backbone_setup": {"timesformer": {"lr": "5e-4"}}}, "timesformer: lr: expected float"),
        ({"backbone_setup": {"timesformer": {"crop_size": 64}}}, "cache_size 40 < crop_size 64"),
        ({"backbone_options": {"r3d_18": {}}}, "unknown backbone"),
        ({"backbones": ["r3d_18"]}, "unknown backbone"),
        ({"backbones": "timesformer"}, r"backbones: expected list\[str\]"),
        ({"lr": "0.003"}, "lr: expected float"),
        ({"epochs_per_backbone": 3}, "unknown keys"),
    ],
)
def test_bad_pretrain_params_fail_before_training(extra, message):
    with pytest.raises(ConfigError, match=message):
        pretrain.Config.from_params({**BASE, "backbones": ["timesformer"], **extra})


def test_a_missing_recipe_key_is_named():
    params = {**BASE, "backbones": ["timesformer"]}
    del params["weight_decay"]
    with pytest.raises(ConfigError, match="weight_decay"):
        pretrain.Config.from_params(params)


def trained(tmp_path: Path) -> tuple[pretrain.Config, pretrain.Result]:
    config = pretrain.Config.from_params(
        {
            **BASE,
            "backbones": ["timesformer"],
            "backbone_options": {"timesformer": {"patch_size": 8}},
        }
    )
    setup = config.setups()["timesformer"]
    variant = config.variant("timesformer")
    result = fake_run(
        "timesformer",
        val=0.5,
        test=0.25,
        model="timesformer",
        options=variant.options,
        fake_model=FakeModel(embed_dim=192),
    )
    meta = pretrain.backbone_meta("timesformer", setup, variant, result, ["a", "b", "c"])
    return config, pretrain.Result(
        ["a", "b", "c"], [pretrain.Backbone("timesformer", setup, result, meta, 1.5)]
    )


def test_meta_keeps_typed_options_and_the_whole_setup(tmp_path):
    config, result = trained(tmp_path)
    meta = result.backbones[0].meta
    assert meta["options"] == {"patch_size": 8}  # typed, for create_model (metrics() has "8")
    assert meta["setup"] == {k: getattr(config, k) for k in pretrain.RECIPE_KEYS}
    assert (meta["model"], meta["size"], meta["embed_dim"]) == ("timesformer", "tiny", 192)
    assert meta["classes"] == ["a", "b", "c"]
    # no wall times: a re-run with the same weights leaves build/<profile>/pretrained's hash as is
    assert not any("minutes" in key or "seconds" in key for key in meta)


def test_metrics_schema_and_file(tmp_path):
    _, result = trained(tmp_path)
    metrics = result.metrics()
    assert set(metrics) == {"backbones", "classes"} and metrics["classes"] == 3
    assert set(metrics["backbones"]["timesformer"]) == set(pretrain.METRIC_KEYS)
    row = metrics["backbones"]["timesformer"]
    assert row["train_minutes"] == 1.5
    assert (
        row["direction_accuracy"] == result.backbones[0].result.order_scores()["direction_accuracy"]
    )
    path = pretrain.write_metrics(result, Paths("smoke", tmp_path))
    assert path == tmp_path / "results" / "smoke" / "pretrain.json"
    text = path.read_text()
    assert text == json.dumps(metrics, indent=2, sort_keys=True) + "\n"


def test_write_backbone_writes_cpu_weights_and_sorted_meta(tmp_path):
    class Tiny:
        def state_dict(self):
            return {"w": torch.ones(2, requires_grad=True)}

    _, result = trained(tmp_path)
    backbone = result.backbones[0]
    fake = dataclasses.replace(backbone.result, model=Tiny())
    folder = tmp_path / "pretrained" / "timesformer"
    pretrain.write_backbone(folder, fake, backbone.meta)
    weights = torch.load(folder / "weights.pt", weights_only=True)
    assert torch.equal(weights["w"], torch.ones(2)) and not weights["w"].requires_grad
    meta_text = (folder / "meta.json").read_text()
    assert meta_text == json.dumps(backbone.meta, indent=2, sort_keys=True, default=str) + "\n"
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "weights.pt"]  # no .tmp


def test_backbone_init_is_checked_before_any_compute():
    config = pretrain.Config.from_params(
        {**BASE, "backbones": ["timesformer"], "backbone_init": {"timesformer": "frame_model"}}
    )
    assert config.variant("timesformer").init == "frame_model"
    with pytest.raises(ValueError, match="only timesformer"):
        pretrain.Config.from_params(
            {**BASE, "backbones": ["r2plus1d_18"], "backbone_init": {"r2plus1d_18": "frame_model"}}
        )
    with pytest.raises(ValueError, match="backbone_init"):
        pretrain.Config.from_params(
            {**BASE, "backbones": ["timesformer"], "backbone_init": {"timesformer": "imagenet"}}
        )


def test_intervals_count_the_test_and_direction_clips():
    # 40 test clips (sit_down, stand_up, raise_arms, lower_arms) x 10; the model gets every
    # sit_down right, calls every stand_up sit_down (right pair, wrong direction), and gets
    # raise_arms right but calls lower_arms sit_down (wrong pair).
    labels = [0, 1, 2, 3] * 10
    predictions = [0, 0, 2, 0] * 10
    result = fake_run("r", val=0.5, labels=labels, predictions=predictions)
    backbone = pretrain.Backbone("r2plus1d_18", None, result, {}, 0.0)  # type: ignore[arg-type]
    row = backbone.intervals()
    assert (row["test_clips"], row["direction_clips"]) == (40, 30)
    test_low, test_high = row["test_accuracy_ci"]
    assert test_low < 20 / 40 < test_high and test_low > 0.3 and test_high < 0.7
    direction_low, direction_high = row["direction_accuracy_ci"]  # 20 of the 30 right pairs
    assert direction_low < 20 / 30 < direction_high and direction_high < 0.85
    assert (direction_low, direction_high) != (test_low, test_high)


def test_intervals_are_none_without_clips_of_a_reversed_pair():
    result = fake_run("r", val=0.5, labels=[0, 1], predictions=[2, 3])  # every pair wrong
    row = pretrain.Backbone("slowfast_r50", None, result, {}, 0.0).intervals()  # type: ignore[arg-type]
    assert row["direction_accuracy_ci"] is None and row["direction_clips"] == 0
    assert row["test_accuracy_ci"][0] == 0.0
