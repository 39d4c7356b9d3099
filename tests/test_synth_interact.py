"""synth-interact: determinism, the source's imbalance, AVA annotations and exact boxes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from vidad.synth.interact import (
    ACTION_IDS,
    INTERACTIONS,
    SOURCE_COUNTS,
    InteractConfig,
    generate_interact,
    instance_counts,
    keyframe_times,
    label_map_pbtxt,
    render_interaction,
)
from vidad.video.decode import probe_video

TINY = InteractConfig(scale=0.004, train_sequences=2, test_sequences=2, height=48, width=64,
                      num_frames=24, fps=8.0, seed=3)  # fmt: skip


def test_counts_follow_the_source_imbalance() -> None:
    counts = instance_counts(InteractConfig(scale=0.1))
    assert counts["train"]["handshake"] == 101 and counts["train"]["kick"] == 25
    assert counts["test"]["hug"] == 21
    ratios = np.array(list(counts["train"].values())) / np.array(SOURCE_COUNTS["train"])
    assert np.allclose(ratios, 0.1, atol=0.01)
    with pytest.raises(ValueError, match="scale"):
        InteractConfig(scale=0)


def test_rendering_is_deterministic_and_boxes_hold_the_people() -> None:
    a = render_interaction("push", "train", 1, 0, TINY)
    b = render_interaction("push", "train", 1, 0, TINY)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert a.roles[:2] == ["agent", "receiver"]
    assert a.boxes.shape == (len(a.roles), TINY.num_frames, 4)
    assert ((a.boxes >= 0) & (a.boxes <= 1)).all()
    assert (a.boxes[..., 2] > a.boxes[..., 0]).all() and (a.boxes[..., 3] > a.boxes[..., 1]).all()
    # the figure differs from the background inside the agent's box, not just anywhere
    other = render_interaction("push", "train", 1, 1, TINY)
    assert not np.array_equal(a.frames, other.frames)


def test_same_sequence_shares_the_background() -> None:
    first = render_interaction("point", "test", 0, 0, TINY).frames[0].astype(float)
    second = render_interaction("hug", "test", 0, 3, TINY).frames[0].astype(float)
    third = render_interaction("hug", "test", 1, 3, TINY).frames[0].astype(float)
    # corners are background in all three: equal up to lighting within a sequence
    corner = (slice(0, 8), slice(0, 8))
    same = np.abs(first[corner] - second[corner]).mean()
    different = np.abs(first[corner] - third[corner]).mean()
    assert same < different


def test_generate_writes_ava_annotations(tmp_path) -> None:
    manifest = generate_interact(tmp_path / "a", TINY)
    assert set(manifest["split"]) == {"train", "test"}
    assert set(manifest["class"]) == set(INTERACTIONS)
    assert manifest.groupby("split")["sequence"].nunique().to_dict() == {"test": 2, "train": 2}
    actions = pd.read_csv(tmp_path / "a" / "annotations" / "train.csv", header=None)
    assert actions.shape[1] == 8
    assert set(actions[6]) <= set(ACTION_IDS.values())
    assert set(actions[0]) <= set(manifest["video_id"])
    assert set(actions[1]) <= set(np.round(keyframe_times(TINY), 3))
    persons = pd.read_csv(tmp_path / "a" / "annotations" / "persons_train.csv")
    assert len(persons) >= len(actions.drop_duplicates([0, 1, 7]))
    assert probe_video(tmp_path / "a" / manifest["path"].iloc[0]).num_frames == TINY.num_frames
    assert 'name: "kick"' in label_map_pbtxt()
    again = generate_interact(tmp_path / "b", TINY)
    pd.testing.assert_frame_equal(manifest, again)
    for name in ("annotations/train.csv", "annotations/persons_test.csv", manifest["path"].iloc[3]):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("fps", "8", "fps: expected float, got '8' (str)"),
        ("workers", True, "workers: expected int, got True (bool)"),
        ("height", 48.0, "height: expected int, got 48.0 (float)"),
        ("overlap_prob", [0.1], "overlap_prob: expected float, got [0.1] (list)"),
    ],
)
def test_interact_config_checks_every_type(key, value, expected) -> None:
    from vidad.config import ConfigError

    values = {**dataclasses.asdict(TINY), key: value}
    with pytest.raises(ConfigError) as err:
        InteractConfig.from_params(values, "params.yaml synth_interact.smoke")
    assert str(err.value) == f"params.yaml synth_interact.smoke.{expected}"
    assert InteractConfig.from_params(dataclasses.asdict(TINY)) == TINY


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("fps", 0, "fps > 0"),
        ("keyframe_every", -1.0, "keyframe_every must be a positive number (got -1.0)"),
        ("keyframe_every", float("nan"), "keyframe_every must be a positive number (got nan)"),
        ("seed", -1, "seed must be >= 0 (got -1)"),
    ],
)
def test_interact_config_ranges_are_one_error_not_a_crash(key, value, expected) -> None:
    with pytest.raises(ValueError, match="invalid InteractConfig") as err:
        dataclasses.replace(TINY, **{key: value})
    assert expected in str(err.value)
