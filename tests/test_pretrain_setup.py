"""The pretrain stage's parameters: shared recipe, per-backbone overrides, early errors."""

import pytest

from vidad.analysis.pretrain import setup_from_params

BASE = {"classes": "all", "size": "tiny", "epochs": 12, "lr": 0.003, "num_frames": 16}


def test_backbone_setup_overrides_only_its_backbone():
    setups, backbones, options = setup_from_params(
        {
            **BASE,
            "backbones": ["r2plus1d_18", "timesformer"],
            "backbone_options": {"timesformer": {"patch_size": 8}},
            "backbone_setup": {"timesformer": {"lr": 0.001, "epochs": 30}},
        }
    )
    assert backbones == ["r2plus1d_18", "timesformer"]
    assert options == {"timesformer": {"patch_size": 8}}
    assert (setups["r2plus1d_18"].lr, setups["r2plus1d_18"].epochs) == (0.003, 12)
    assert (setups["timesformer"].lr, setups["timesformer"].epochs) == (0.001, 30)
    assert setups["timesformer"].num_frames == 16  # the rest is the shared recipe


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"backbone_setup": {"c3d_big": {"lr": 0.1}}}, "unknown backbone"),
        ({"backbone_setup": {"timesformer": {"learning_rate": 0.1}}}, "learning_rate"),
        ({"backbone_setup": {"timesformer": {"classes": "reversed_pairs"}}}, "classes"),
        ({"backbone_options": {"r3d_18": {}}}, "unknown backbone"),
    ],
)
def test_bad_pretrain_params_fail_before_training(extra, message):
    with pytest.raises(ValueError, match=message):
        setup_from_params({**BASE, "backbones": ["timesformer"], **extra})
