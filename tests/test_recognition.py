"""The architecture chapters' machinery: motion input, class subsets, order scores, run keys."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import torch

from vidad.experiments.slowfast import SLOWFAST_VARIANTS
from vidad.models import create_model
from vidad.models.summary import factorization_table
from vidad.train.classify import code_fingerprint
from vidad.train.recognition import RecognitionSetup, Variant, build_model, order_scores
from vidad.video.cache import select_classes
from vidad.video.transforms import SubtractMeanFrame, make_clip_transform

#: A complete recipe (RecognitionSetup has no defaults: params.yaml states every value).
RECIPE = {
    "classes": "reversed_pairs",
    "num_frames": 8,
    "crop_size": 32,
    "cache_size": 36,
    "motion": True,
    "size": "tiny",
    "epochs": 2,
    "batch_size": 4,
    "lr": 3e-3,
    "weight_decay": 0.05,
    "warmup_epochs": 1,
    "seed": 0,
}


def make_setup(**changes) -> RecognitionSetup:
    return RecognitionSetup(**{**RECIPE, **changes})


def test_subtract_mean_frame_removes_the_static_background():
    background = torch.rand(3, 1, 8, 8).expand(3, 6, 8, 8)
    moving = torch.zeros(3, 6, 8, 8)
    for t in range(6):
        moving[:, t, 2, t] = 1.0  # a dot walking right
    out = SubtractMeanFrame()(background + moving)
    same = SubtractMeanFrame()(moving)
    assert torch.allclose(out, same, atol=1e-5)  # the background is gone entirely
    assert out.mean(dim=1).abs().max() < 1e-5 and abs(float(out.std()) - 1) < 1e-4
    reversed_out = SubtractMeanFrame()((background + moving).flip(1))
    assert torch.allclose(reversed_out, out.flip(1), atol=1e-5)  # order is kept
    with pytest.raises(ValueError, match="clip tensor"):
        SubtractMeanFrame()(torch.zeros(3, 8, 8))


def test_motion_transform_is_inserted_after_normalizing():
    clip = torch.randint(0, 255, (8, 20, 20, 3), dtype=torch.uint8).numpy()
    plain = make_clip_transform(False, 4, 16)(clip)
    motion = make_clip_transform(False, 4, 16, motion=True)(clip)
    assert plain.shape == motion.shape == (3, 4, 16, 16)
    assert motion.mean(dim=1).abs().max() < 1e-4 and not torch.allclose(plain, motion)


def test_select_classes_relabels_in_the_given_order():
    table = pd.DataFrame(
        {
            "path": [f"v{i}.mp4" for i in range(6)],
            "label": [0, 1, 2, 0, 1, 2],
            "class": ["a", "b", "c", "a", "b", "c"],
            "split": ["train"] * 6,
        }
    )
    subset = select_classes(table, ["c", "a"])
    assert list(subset["class"]) == ["a", "c", "a", "c"]
    assert list(subset["label"]) == [1, 0, 1, 0]
    assert list(subset["source_label"]) == [0, 2, 0, 2]
    with pytest.raises(ValueError, match="unknown"):
        select_classes(table, ["a", "zebra"])
    with pytest.raises(ValueError, match="distinct"):
        select_classes(table, ["a", "a"])


def test_order_scores_separate_pair_and_direction():
    classes = ["sit_down", "stand_up", "raise_arms", "lower_arms"]
    labels = [0, 0, 1, 1, 2, 3]
    # right, reversed, right, wrong pair, reversed, right
    preds = [0, 1, 1, 2, 3, 3]
    scores = order_scores(labels, preds, classes)
    assert scores["pair_accuracy"] == pytest.approx(5 / 6)
    assert scores["direction_accuracy"] == pytest.approx(3 / 5)
    blind = order_scores([0, 1], [1, 0], classes)
    assert blind == {"pair_accuracy": 1.0, "direction_accuracy": 0.0}
    assert order_scores([0], [0], ["sit_down", "jump"])["pair_accuracy"] != 1.0  # nan: no twin


def test_setup_validates_and_builds_variants_at_its_input_size():
    with pytest.raises(ValueError, match="classes must be one of"):
        make_setup(classes="some")
    with pytest.raises(ValueError, match="cache_size"):
        make_setup(crop_size=64, cache_size=32)
    with pytest.raises(ValueError, match="must be >= 1"):
        make_setup(epochs=0)
    with pytest.raises(TypeError, match="missing"):
        RecognitionSetup(num_frames=8, crop_size=32, cache_size=36)  # no value is defaulted
    setup = make_setup()
    config = setup.train_config()
    assert config.optimizer == "adamw" and config.schedule == "cosine"
    for key, variant in SLOWFAST_VARIANTS.items():
        if key == "alpha_8":
            continue  # needs num_frames divisible by 8
        model = build_model(variant, setup, num_classes=10)
        assert model.input_spec.crop_size == 32
    c3d = build_model(Variant("d1", "c3d", {"temporal_depth": 1}), setup, 10)
    assert c3d.input_spec.num_frames == 8 and c3d.config.temporal_depth == 1


def test_factorization_table_follows_the_rule_except_torchvision_quirk():
    table = factorization_table(create_model("r2plus1d_18", size="paper"))
    assert len(table) == 16
    follows = table["M_i"] == table["M_i by the rule"]
    # torchvision reuses a widening block's M_i for its second conv: 3 convs off the rule
    assert (~follows).sum() == 3
    assert table.loc[follows, "ratio"].between(0.99, 1.0).all()


def test_run_key_ignores_unrelated_models():
    c3d = create_model("c3d", size="tiny")
    r21 = create_model("r2plus1d_18", size="tiny")
    assert code_fingerprint(c3d) == code_fingerprint(create_model("c3d", size="tiny", num_frames=8))
    assert code_fingerprint(c3d) != code_fingerprint(r21)


def test_load_pretrained_round_trip_and_clear_error(tmp_path):
    import json

    from vidad.train.pretrained import META_NAME, WEIGHTS_NAME, load_pretrained, pretrained_dir

    with pytest.raises(FileNotFoundError, match="dvc repro pretrain"):
        load_pretrained("smoke", "r2plus1d_18", tmp_path)
    setup = make_setup()
    variant = Variant("timesformer", "timesformer", {"patch_size": 8})
    model = build_model(variant, setup, num_classes=3).eval()
    folder = pretrained_dir("smoke", "timesformer", tmp_path)
    folder.mkdir(parents=True)
    torch.save(model.state_dict(), folder / WEIGHTS_NAME)
    meta = {
        "model": "timesformer",
        "size": setup.size,
        "options": variant.options,
        "setup": {"num_frames": 8, "crop_size": 32},
        "classes": ["a", "b", "c"],
    }
    (folder / META_NAME).write_text(json.dumps(meta))
    loaded, loaded_meta = load_pretrained("smoke", "timesformer", tmp_path)
    x = model.input_spec.example(2)
    assert loaded_meta["classes"] == ["a", "b", "c"] and not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded.forward_features(x), model.forward_features(x))


def test_recipe_config_declares_exactly_the_setup_fields():
    import dataclasses

    from vidad.experiments.recipe import RECIPE_KEYS, RecipeConfig

    assert {f.name for f in dataclasses.fields(RecipeConfig)} == set(RECIPE_KEYS)
    assert set(RECIPE_KEYS) == set(RECIPE)


@pytest.mark.parametrize("profile", ["smoke", "cpu", "gpu"])
def test_the_recipe_block_of_params_yaml_is_a_valid_recipe(profile):
    from pathlib import Path

    from vidad.config import load_params
    from vidad.experiments.recipe import RecipeConfig

    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    config = RecipeConfig.from_params(params["recipe"][profile], f"recipe.{profile}")
    assert config.setup() == RecognitionSetup(**params["recipe"][profile])


def test_recipe_config_is_strict_and_validated():
    from vidad.config import ConfigError
    from vidad.experiments.recipe import RecipeConfig

    with pytest.raises(ConfigError, match=re.escape("size: expected 'paper' | 'small' | 'tiny'")):
        RecipeConfig.from_params({**RECIPE, "size": "large"})
    with pytest.raises(ConfigError, match="cache_size 36 < crop_size 64"):
        RecipeConfig.from_params({**RECIPE, "crop_size": 64})


def test_shared_sentences_and_pair_heatmap():
    import matplotlib

    matplotlib.use("Agg")
    from recognition_fakes import fake_result

    from vidad.experiments.recognition import (
        chance_level,
        classes_line,
        noise_note,
        pair_breakdown,
        pair_heatmap,
    )

    right = fake_result("right", val=1.0, test=1.0)
    swapped = fake_result("swapped", val=0.0, test=0.0, predictions=[1, 0, 3, 2])
    pairs = pair_breakdown([right, swapped])
    assert pairs.loc["sit_down / stand_up"].to_dict() == {"right": 1.0, "swapped": 0.0}
    fig = pair_heatmap([right, swapped], "title", width_per_variant=1.0, height=3.0, rotation=20)
    assert tuple(fig.get_size_inches()) == (5.0, 3.0) and fig.axes[0].get_title() == "title"
    assert chance_level(["a", "b", "c", "d"]) == 0.25
    assert classes_line(["a", "b"]) == "2 classes: a, b"
    assert noise_note([right], "network") == (
        "One seed per network and 4 test clips: differences of a few points are within noise."
    )
