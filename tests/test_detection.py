"""Keyframe data, imitation person detector and a tiny end-to-end detection run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vidad.data.ava import keyframes, read_ava_csv
from vidad.detection.data import (
    KeyframeClips,
    boxes_by_keyframe,
    clip_indices,
    collate_keyframes,
    detector_boxes,
    frame_cache,
    person_table,
)
from vidad.detection.splits import class_counts, data_key, load_splits
from vidad.detection.train import (
    LOSS_VARIANTS,
    DetectionSetup,
    detections_table,
    predict_boxes,
    run_settings,
    train_variant,
)
from vidad.eval.detection import evaluate
from vidad.synth.interact import ACTION_IDS, INTERACTIONS, InteractConfig, generate_interact

CLASSES = [ACTION_IDS[c] for c in INTERACTIONS]


@pytest.fixture(scope="module")
def interact(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("interact")
    config = InteractConfig(scale=0.004, train_sequences=2, test_sequences=2, height=48,
                            width=64, num_frames=24, fps=8.0, seed=1)  # fmt: skip
    manifest = generate_interact(root, config)
    frames = frame_cache(root, manifest, 32, root / "cache")
    split = {}
    for name in ("train", "test"):
        actions = read_ava_csv(root / "annotations" / f"{name}.csv")
        persons = pd.read_csv(root / "annotations" / f"persons_{name}.csv")
        split[name] = (actions, persons, keyframes(person_table(persons, actions), CLASSES))
    return root, manifest, frames, split


def test_clip_indices_repeat_edges() -> None:
    np.testing.assert_array_equal(clip_indices(1, 4, 2, 10), [0, 0, 1, 3])
    np.testing.assert_array_equal(clip_indices(9, 4, 1, 10), [7, 8, 9, 9])


def test_person_table_keeps_unlabelled_people_as_negatives(interact) -> None:
    _, _, _, split = interact
    actions, persons, kfs = split["train"]
    assert sum(len(k.boxes) for k in kfs) == len(persons.drop_duplicates())
    labelled = sum(int(k.labels.any(axis=1).sum()) for k in kfs)
    assert 0 < labelled < len(persons)
    assert sum(int(k.labels.sum()) for k in kfs) == len(actions)


def test_frame_cache_is_reused(interact) -> None:
    root, manifest, frames, _ = interact
    again = frame_cache(root, manifest, 32, root / "cache")
    assert set(again) == set(frames)
    video = next(iter(frames.values()))
    assert video.shape[1:] == (32, 32, 3) and video.dtype == np.uint8


def test_items_and_collate(interact) -> None:
    _, _, frames, split = interact
    data = KeyframeClips(frames, split["train"][2], 8.0, 8, 1, 32, alpha=4)
    item = data[0]
    assert [p.shape for p in item["clip"]] == [(3, 2, 32, 32), (3, 8, 32, 32)]
    inputs, targets = collate_keyframes([data[0], data[1]])
    assert inputs["boxes"].shape[1] == 5 and set(inputs["boxes"][:, 0].tolist()) == {0.0, 1.0}
    assert len(targets) == len(inputs["boxes"])
    assert (inputs["boxes"][:, 1:] >= 0).all() and (inputs["boxes"][:, 1:] <= 32).all()


def test_detector_boxes_miss_jitter_and_spurious(interact) -> None:
    _, _, _, split = interact
    persons = split["test"][1]
    boxes = detector_boxes(persons, seed=0, miss_rate=0.5, spurious_rate=1.0)
    pd.testing.assert_frame_equal(boxes, detector_boxes(persons, 0, miss_rate=0.5,
                                                        spurious_rate=1.0))  # fmt: skip
    frames = persons.groupby(["video_id", "timestamp"]).ngroups
    assert len(boxes) < len(persons) + frames
    assert ((boxes[["x1", "y1", "x2", "y2"]] >= 0) & (boxes[["x1", "y1", "x2", "y2"]] <= 1)).all(
        axis=None
    )
    none = detector_boxes(persons, 0, jitter=0.0, miss_rate=0.0, spurious_rate=0.0)
    ordered = persons.sort_values(["video_id", "timestamp"], kind="stable")
    np.testing.assert_allclose(none[["x1", "y1"]], ordered[["x1", "y1"]], atol=1e-9)


def test_tiny_training_run_and_evaluation(interact, tmp_path) -> None:
    _, manifest, frames, split = interact
    setup = DetectionSetup(num_frames=8, crop_size=32, epochs=1, batch_size=2, warmup_epochs=0)
    data = lambda kfs: KeyframeClips(frames, kfs, 8.0, 8, 1, 32, alpha=4)  # noqa: E731
    train, test = split["train"][2], split["test"][2]
    run = train_variant(
        "focal_bn", LOSS_VARIANTS["focal_bn"], setup, data(train[:6]), data(train[6:10]), 0,
        tmp_path, "tiny",
    )  # fmt: skip
    assert run.best_epoch == 1 and "val_map" in run.history[0]
    probs = predict_boxes(run.model, data(test))
    assert all(p.shape == (len(k.boxes), 6) for p, k in zip(probs, test, strict=True))
    det = detections_table(data(test), probs, CLASSES)
    gt = split["test"][0].assign(sequence=0)
    table = evaluate(gt, det, CLASSES, group_by="sequence")
    value = table[(table["group"] == "all") & (table["metric"] == "mAP")]["value"].iloc[0]
    assert 0.0 <= value <= 1.0


def test_load_splits_holds_out_the_last_train_sequences(interact, tmp_path) -> None:
    root, manifest, _, _ = interact
    data = load_splits(root, val_sequences=1)
    train_seqs = sorted(manifest.loc[manifest["split"] == "train", "sequence"].unique())
    assert set(data.actions["val"]["sequence"]) == {train_seqs[-1]}
    assert set(data.actions["train"]["sequence"]) == set(train_seqs[:-1])
    assert set(data.persons["val"]["sequence"]) == {train_seqs[-1]}
    val_videos = {k.video_id for k in data.keyframes["val"]}
    assert val_videos and val_videos.isdisjoint(k.video_id for k in data.keyframes["train"])
    assert data.classes == CLASSES
    with pytest.raises(ValueError, match="leave no train sequence"):
        load_splits(root, val_sequences=len(train_seqs))
    with pytest.raises(FileNotFoundError, match="dvc repro synth_interact"):
        load_splits(tmp_path)


def test_class_counts_and_data_key(interact) -> None:
    root = interact[0]
    data = load_splits(root, val_sequences=1)
    counts = class_counts(data)
    assert len(counts) == 3 * len(CLASSES)
    for split in ("train", "val", "test"):
        in_split = counts[counts["split"] == split]
        assert in_split["annotations"].sum() == len(data.actions[split])
    key = data_key(data)
    assert len(key) == 16 and key == data_key(load_splits(root, val_sequences=1))
    data.actions["test"] = data.actions["test"].iloc[1:]
    assert data_key(data) != key


def test_boxes_by_keyframe_groups_rows_per_rounded_keyframe() -> None:
    table = pd.DataFrame(
        {
            "video_id": ["a", "a", "b"],
            "timestamp": [1.00001, 1.00001, 2.0],
            "x1": [0.1, 0.5, 0.0], "y1": [0.2, 0.6, 0.0],
            "x2": [0.3, 0.7, 1.0], "y2": [0.4, 0.8, 1.0],
            "det_score": [0.9, 0.8, 0.7],
        }
    )  # fmt: skip
    boxes = boxes_by_keyframe(table)
    assert set(boxes) == {("a", 1.0), ("b", 2.0)}
    assert boxes[("a", 1.0)].dtype == np.float32
    np.testing.assert_allclose(boxes[("a", 1.0)], [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])


def test_run_settings_key_the_initial_weights_by_content() -> None:
    """A re-trained pretrain backbone must start new detector runs, not resume old ones."""
    import torch

    setup, variant = DetectionSetup(num_frames=8, crop_size=32), LOSS_VARIANTS["bce"]
    old = {"w": torch.zeros(3)}
    same = run_settings(variant, setup, 0, "data", {"w": torch.zeros(3)})
    assert run_settings(variant, setup, 0, "data", old) == same
    assert run_settings(variant, setup, 0, "data", {"w": torch.ones(3)}) != same
    assert run_settings(variant, setup, 0, "data", None)["init"] is None
