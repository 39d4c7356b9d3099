"""The architecture chapters' machinery: motion input, class subsets, order scores, run keys."""

from __future__ import annotations

import math
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
    "mirror": True,
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
    assert noise_note([right], "network", claims=False) == (
        "One seed per network and 4 test clips: differences of a few points are within noise."
    )
    assert noise_note([right], "network").startswith("One seed per network and 4 test clips; ")


# --- claims: paired verdicts of two variants tested on the same clips -----------------------------


def test_accuracy_claim_pairs_the_test_clips():
    from recognition_fakes import scored

    from vidad.experiments.recognition import accuracy_claim

    def claim(better: range, worse: range):
        return accuracy_claim("A beats B", "a paper", scored("A", better), scored("B", worse))

    reproduced = claim(range(36), range(20))  # 16 clips right for A only
    assert reproduced.verdict == "reproduced" and reproduced.difference == pytest.approx(0.4)
    assert 0 < reproduced.ci_low < 0.4 < reproduced.ci_high
    assert (reproduced.claim, reproduced.source, reproduced.seeds, reproduced.n_test) == (
        "A beats B",
        "a paper",
        1,
        40,
    )
    # the same accuracies on clips shifted by two: 2 right for A only, 2 for B only
    unresolved = claim(range(2, 24), range(22))
    assert unresolved.verdict == "not resolved" and unresolved.difference == 0.0
    assert unresolved.ci_low < 0 < unresolved.ci_high
    reversed_ = claim(range(20), range(36))
    assert reversed_.verdict == "reversed" and reversed_.difference == pytest.approx(-0.4)
    assert (reversed_.ci_low, reversed_.ci_high) == (-reproduced.ci_high, -reproduced.ci_low)
    assert claim(range(36), range(20)) == reproduced  # seeded: the same CI on a re-run


def test_claims_refuse_variants_tested_on_different_clips():
    from recognition_fakes import LABELS_40, fake_result, scored

    from vidad.experiments.recognition import accuracy_claim, direction_claim

    a = scored("A", range(36))
    other_order = fake_result("B", val=0.5, labels=LABELS_40[::-1])
    fewer = fake_result("C", val=0.5, labels=LABELS_40[:-1])
    renamed = scored("D", range(20), classes=("stand_up", "sit_down", "raise_arms", "lower_arms"))
    for claim in (accuracy_claim, direction_claim):
        for b in (other_order, fewer, renamed):
            with pytest.raises(ValueError, match=f"A and {b.variant.label} were not tested on"):
                claim("A beats B", "a paper", a, b)


def test_direction_claim_counts_the_clips_in_the_right_pair_only():
    from recognition_fakes import scored

    from vidad.experiments.recognition import direction_claim

    # A: right on 20 clips, the others in the wrong pair: direction 20 / 20
    # B: right on 20 clips, the others the reversed twin: direction 20 / 40
    a = scored("A", range(20), miss="other_pair")
    b = scored("B", range(20))
    assert a.order_scores()["direction_accuracy"] == 1.0
    assert b.order_scores()["direction_accuracy"] == 0.5
    better = direction_claim("A sees order better", "a paper", a, b)
    assert better.verdict == "reproduced" and better.difference == pytest.approx(0.5)
    assert 0 < better.ci_low < 0.5 < better.ci_high
    worse = direction_claim("B sees order better", "a paper", b, a)
    assert worse.verdict == "reversed" and worse.difference == pytest.approx(-0.5)
    same = direction_claim("B sees order better", "a paper", b, scored("C", range(2, 22)))
    assert same.verdict == "not resolved" and same.difference == 0.0


def test_direction_claim_without_a_pair_clip_is_not_resolved():
    from recognition_fakes import fake_result

    from vidad.experiments.recognition import direction_claim

    classes = ("jump", "run")  # no reversed pair: direction accuracy undefined
    a = fake_result("A", val=0.5, labels=[0, 1] * 5, classes=classes)
    b = fake_result("B", val=0.5, labels=[0, 1] * 5, predictions=[1, 0] * 5, classes=classes)
    verdict = direction_claim("A sees order better", "a paper", a, b)
    assert verdict.verdict == "not resolved"
    assert all(math.isnan(x) for x in (verdict.difference, verdict.ci_low, verdict.ci_high))


def test_claims_markdown_is_one_bullet_per_sentence():
    from recognition_fakes import scored

    from vidad.experiments.recognition import accuracy_claim, claims_markdown

    a, b = scored("A", range(36)), scored("B", range(20))
    claims = [accuracy_claim("A beats B", "p", a, b), accuracy_claim("B beats A", "p", b, a)]
    text = claims_markdown(claims)
    assert text.splitlines() == [f"- {v.sentence()}" for v in claims]
    assert text.startswith("- A beats B (p): **reproduced**; difference +0.400, 95% CI [")
    assert text.endswith(", 1 seed, 40 test clips.")
    assert "- B beats A (p): **reversed** here; difference -0.400" in text
    assert claims_markdown([]) == ""


def test_train_split_predictions_scores_the_training_clips_without_augmentation(
    monkeypatch, tmp_path
):
    from recognition_fakes import fake_result

    import vidad.train.recognition as recognition
    from vidad.models.base import InputSpec
    from vidad.paths import Paths

    made = {}

    class TrainClips(torch.utils.data.Dataset):
        def __init__(self, root, split, cache, cache_root, transform, classes):
            made.update(root=root, split=split, cache_root=cache_root)
            made.update(transform=transform, classes=classes, frames=cache.num_frames)

        def __len__(self):
            return 6

        def __getitem__(self, i):
            return {"video": torch.tensor([float(i)]), "label": i % 3}

    class Model(torch.nn.Module):
        input_spec = InputSpec(num_frames=8, crop_size=16)

        def forward(self, x):  # predicts class 1 for every clip but the first
            return torch.nn.functional.one_hot((x[:, 0] > 0).long(), 3).float()

    monkeypatch.setattr(recognition, "CachedClipDataset", TrainClips)
    monkeypatch.setattr(recognition, "clip_transform", lambda spec, setup, train: ("eval", train))
    result = fake_result("A", val=0.5, classes=("a", "b", "c"), fake_model=Model())
    paths = Paths("smoke", tmp_path)
    labels, predictions = recognition.train_split_predictions(result, make_setup(), paths)
    assert (labels, predictions) == ([0, 1, 2, 0, 1, 2], [0, 1, 1, 1, 1, 1])
    assert made["split"] == "train" and made["transform"] == ("eval", False)
    assert made["classes"] == ["a", "b", "c"] and made["frames"] == 8
    assert made["root"] == paths.synth("synth-actions")
    assert made["cache_root"] == paths.cache / "synth-actions"


@pytest.mark.parametrize("mirror", [True, False])
def test_splits_mirror_only_the_training_clips_with_the_crop_generator(
    monkeypatch, tmp_path, mirror
):
    import vidad.train.recognition as recognition
    from vidad.models.base import InputSpec
    from vidad.paths import Paths
    from vidad.synth import REVERSED_PAIRS

    made = {}

    class Clips:
        def __init__(self, root, split, cache, cache_root, transform, classes, mirror):
            made[split] = mirror

    monkeypatch.setattr(recognition, "CachedClipDataset", Clips)
    classes = [name for pair in REVERSED_PAIRS for name in pair]
    generator = torch.Generator()
    spec = InputSpec(num_frames=8, crop_size=32)
    setup = make_setup(mirror=mirror)
    recognition.splits_for(spec, setup, Paths("smoke", tmp_path), classes, generator)
    assert made["val"] is None and made["test"] is None
    if not mirror:
        assert made["train"] is None
        return
    left, right = classes.index("turn_left"), classes.index("turn_right")
    assert made["train"].label_map == {left: right, right: left}  # the waves are not in the set
    assert made["train"].generator is generator  # saved in checkpoints as the crop generator


def test_fitting_markdown_tells_a_model_that_never_fitted_from_one_that_did():
    import math

    from recognition_fakes import fake_result

    from vidad.experiments.recognition import fitting_markdown

    def history(losses):
        return [
            {"epoch": e + 1, "train_loss": loss, "val_accuracy": 0.3}
            for e, loss in enumerate(losses)
        ]

    floor = math.log(4)  # four classes
    fitted = fake_result("cnn", val=0.9, history=history([floor, 0.4]))
    stuck = fake_result("vit", val=0.3, history=history([floor, 0.9 * floor]))
    text = fitting_markdown([fitted, stuck], chance=0.25)
    assert f"cnn {floor:.2f} -> 0.40" in text and f"ln K = {floor:.2f}" in text
    assert "vit ended above 75% of it: it has not fitted even the training clips" in text
    assert "not fitted" not in fitting_markdown([fitted], chance=0.25)
