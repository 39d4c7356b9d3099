"""Tests of the synthetic video generator (tiny sizes so the whole file runs in seconds)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from vidad.data.protocol import ANOMALY_CLASSES, UCF_SPORTS_CLIP_COUNTS
from vidad.synth import (
    ACTION_CLASSES,
    REVERSED_PAIRS,
    SPORTS_CLASSES,
    SynthConfig,
    generate_dataset,
    render_clip,
)
from vidad.synth.writer import write_mp4

TINY = SynthConfig(
    clips_per_class=2, clips_scale=0.1, height=32, width=32, num_frames=6, fps=10.0, seed=3
)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.fixture(scope="module")
def sports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("sports")
    cfg = dataclasses.replace(TINY, height=48, width=64, duration_jitter=0.3)
    return root, generate_dataset("synth-sports", root, cfg)


def test_same_seed_gives_identical_bytes_and_workers_do_not_matter(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate_dataset("synth-actions", a, TINY)
    generate_dataset("synth-actions", b, dataclasses.replace(TINY, workers=2))
    fa, fb = _files(a), _files(b)
    assert "manifest.csv" in fa
    assert len(fa) == len(ACTION_CLASSES) * TINY.clips_per_class + 1
    assert fa == fb


def test_different_seed_gives_different_frames() -> None:
    one = render_clip("synth-actions", "clap", TINY, 1)
    same = render_clip("synth-actions", "clap", TINY, 1)
    two = render_clip("synth-actions", "clap", TINY, 2)
    assert one.shape == (TINY.num_frames, TINY.height, TINY.width, 3) and one.dtype == np.uint8
    assert np.array_equal(one, same)
    assert not np.array_equal(one, two)


def test_class_list_and_reversed_pairs_are_exact_reversals() -> None:
    assert len(ACTION_CLASSES) >= 20 and len(set(ACTION_CLASSES)) == len(ACTION_CLASSES)
    assert len(REVERSED_PAIRS) >= 3
    for fwd, rev in REVERSED_PAIRS:
        assert fwd in ACTION_CLASSES and rev in ACTION_CLASSES
        for seed in (0, 5):
            a = render_clip("synth-actions", fwd, TINY, seed)
            b = render_clip("synth-actions", rev, TINY, seed)
            assert np.array_equal(a, b[::-1])
            assert not np.array_equal(a, a[::-1])  # the clip is not a palindrome


def test_every_class_renders_a_visible_figure() -> None:
    cfg = dataclasses.replace(TINY, height=48, width=48, num_frames=4)
    for name, classes in (("synth-actions", ACTION_CLASSES), ("synth-sports", SPORTS_CLASSES)):
        for i, cls in enumerate(classes):
            clip = render_clip(name, cls, cfg, i).astype(float)
            assert clip.std() > 5, (name, cls)
            assert np.abs(np.diff(clip, axis=0)).mean() > 0.5, (name, cls)  # it moves


def test_actions_manifest_columns_counts_and_splits(tmp_path: Path) -> None:
    cfg = dataclasses.replace(TINY, clips_per_class=4)
    table = generate_dataset("synth-actions", tmp_path, cfg)
    on_disk = pd.read_csv(tmp_path / "manifest.csv")
    assert list(on_disk.columns) == [
        "path",
        "label",
        "class",
        "split",
        "actor",
        "num_frames",
        "fps",
        "duration_s",
        "width",
        "height",
        "view",
    ]
    assert len(on_disk) == len(table) == 4 * len(ACTION_CLASSES)
    assert (on_disk.groupby("class").size() == 4).all()
    assert set(on_disk["split"]) <= {"train", "val", "test"}
    assert on_disk["label"].tolist() == [ACTION_CLASSES.index(c) for c in on_disk["class"]]
    # one actor never spans two splits
    assert (on_disk.groupby("actor")["split"].nunique() == 1).all()
    assert all((tmp_path / p).is_file() for p in on_disk["path"])


def test_sports_manifest_protocol(sports: tuple[Path, pd.DataFrame]) -> None:
    root, table = sports
    on_disk = pd.read_csv(root / "manifest.csv")
    assert "is_anomaly" in on_disk.columns
    counts = on_disk.groupby("class").size()
    for cls in SPORTS_CLASSES:
        assert counts[cls] == max(3, round(UCF_SPORTS_CLIP_COUNTS[cls] * 0.1))
        rows = on_disk[on_disk["class"] == cls]
        if cls in ANOMALY_CLASSES:
            assert (rows["split"] == "anomaly").all() and (rows["is_anomaly"] == 1).all()
        else:
            assert set(rows["split"]) == {"train", "val", "test"}
            assert (rows["is_anomaly"] == 0).all()
    assert on_disk["num_frames"].nunique() > 1  # duration jitter gives varying lengths


def test_mp4_decodes_to_configured_frames_and_size(sports: tuple[Path, pd.DataFrame]) -> None:
    root, table = sports
    for row in table.iloc[::7].itertuples():
        frames = _decode(root / row.path)
        assert frames.shape == (row.num_frames, 48, 64, 3)
        assert row.duration_s == pytest.approx(row.num_frames / 10.0)


def test_writer_is_byte_identical_close_to_input_and_validates(tmp_path: Path) -> None:
    clip = render_clip("synth-actions", "walk", TINY, 0)
    write_mp4(clip, tmp_path / "a.mp4", 10.0)
    write_mp4(clip, tmp_path / "b.mp4", 10.0)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    decoded = _decode(tmp_path / "a.mp4").astype(float)
    assert np.abs(decoded - clip).mean() < 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "b.mp4"]  # no temp left
    with pytest.raises(ValueError, match="even"):
        write_mp4(np.zeros((2, 31, 32, 3), np.uint8), tmp_path / "c.mp4", 10.0)
    assert not (tmp_path / "c.mp4").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"width": 33},
        {"height": 0},
        {"num_frames": 1},
        {"fps": 0.0},
        {"clips_per_class": 0},
        {"clips_scale": -1.0},
        {"duration_jitter": 1.5},
        {"workers": 0},
        {"seed": -1},
    ],
)
def test_bad_config_raises(bad: dict) -> None:
    with pytest.raises(ValueError, match="invalid SynthConfig"):
        dataclasses.replace(TINY, **bad)


def test_unknown_names_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synth-actions"):
        generate_dataset("kinetics", tmp_path, TINY)
    with pytest.raises(ValueError, match="not a synth-actions class"):
        render_clip("synth-actions", "Diving-Side", TINY, 0)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"fps": "10"}, "fps: expected float, got '10' (str)"),
        ({"height": 32.0}, "height: expected int, got 32.0 (float)"),
        ({"workers": True}, "workers: expected int, got True (bool)"),
        ({"duration_jitter": None}, "duration_jitter: expected float, got None (NoneType)"),
    ],
)
def test_a_mistyped_config_value_names_the_key_and_the_type(bad: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        dataclasses.replace(TINY, **bad)
    assert str(err.value) == message


def test_extra_test_clips_leave_every_regular_clip_as_it_was(tmp_path: Path) -> None:
    base = dataclasses.replace(TINY, clips_per_class=6)
    plain = generate_dataset("synth-actions", tmp_path / "plain", base)
    extra_cfg = dataclasses.replace(base, extra_test_clips_per_class=3)
    extra = generate_dataset("synth-actions", tmp_path / "extra", extra_cfg)
    assert len(extra) == len(plain) + 3 * plain["class"].nunique()
    regular = extra[extra["path"].isin(plain["path"])].set_index("path")
    pd.testing.assert_frame_equal(regular, plain.set_index("path").loc[regular.index])
    added = extra[~extra["path"].isin(plain["path"])]
    assert set(added["split"]) == {"test"}
    assert not set(added["actor"]) & set(plain["actor"])  # new actors only
    assert (added.groupby("class").size() == 3).all()
    plain_files, extra_files = _files(tmp_path / "plain"), _files(tmp_path / "extra")
    for name, data in plain_files.items():
        if name.startswith("videos/"):
            assert extra_files[name] == data, name
    with pytest.raises(ValueError, match="extra_test_clips_per_class must be an int >= 0"):
        dataclasses.replace(base, extra_test_clips_per_class=-1)


def test_extra_test_clips_are_synth_actions_only(tmp_path: Path) -> None:
    from vidad.config import ConfigError
    from vidad.synth.profile import synth_configs

    params = tmp_path / "params.yaml"
    params.write_text(
        "synth:\n  smoke:\n    seed: 0\n    workers: 1\n"
        "    actions: {clips_per_class: 4, extra_test_clips_per_class: 2}\n"
        "    sports: {clips_scale: 0.5, extra_test_clips_per_class: 2}\n"
    )
    with pytest.raises(ConfigError, match="only synth-actions"):
        synth_configs("smoke", params)
    params.write_text(
        params.read_text().replace("{clips_scale: 0.5, extra_test_clips_per_class: 2}", "{}")
    )
    configs = synth_configs("smoke", params)
    assert configs["synth-actions"].extra_test_clips_per_class == 2
