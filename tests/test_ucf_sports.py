"""UCF Sports adapter on a tiny fixture with the release's folder layout."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import make_corrupt, make_frame_folder, make_video

from vidad.data import protocol
from vidad.data.ucf_sports import (
    DatasetNotFoundError,
    build_ucf_sports_manifest,
    find_class_root,
    main,
)
from vidad.video.dataset import ClipDataset
from vidad.video.manifest import read_manifest


def _avi(folder: Path, n: int = 15) -> Path:
    return make_video(
        folder / f"{folder.parent.name}_{folder.name}.avi", num_frames=n, fps=10, codec="mpeg4"
    )


def make_ucf_fixture(src: Path, nested: bool = True) -> Path:
    """A tiny UCF Sports tree; returns the folder holding the action folders."""
    base = src / "ucf_sports_actions" / "ucf action" if nested else src
    for folder in (
        "Diving-Side",
        "Riding-Horse",
        "Golf-Swing-Front",
        "Golf-Swing-Side",
        "Kicking-Front",
        "Walk-Front",
    ):
        for clip in ("001", "002"):
            _avi(base / folder / clip)
    make_frame_folder(base / "Kicking-Side" / "001", num_frames=12, ext=".jpg")  # frames only
    make_frame_folder(base / "Kicking-Side" / "002" / "jpeg", num_frames=12, ext=".jpg")
    make_corrupt(base / "Lifting" / "001" / "broken.avi")
    _avi(base / "Lifting" / "002")
    _avi(base / "Run-Side" / "001", n=5)  # 0.5 s: too short
    _avi(base / "Run-Side" / "002")
    (base / "Swing-Bench" / "001").mkdir(parents=True)  # empty clip folder
    return base


def test_build_manifest_real_layout(tmp_path, caplog):
    src = tmp_path / "ucf_sports"
    make_ucf_fixture(src)
    with caplog.at_level(logging.WARNING):
        table = build_ucf_sports_manifest(src, src, seed=0)
    report = table.attrs["report"]
    assert report.num_failed == 2
    failed = " ".join(report.failed_paths)
    assert "broken.avi" in failed and "Run-Side_001.avi" in failed
    assert "too short" in report.summary()
    assert report.summary().startswith(f"decoded {len(table)} clips, skipped 2")
    warn = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("broken.avi" in m and "skipping" in m for m in warn) == 1
    assert any("Swing-Bench" in m for m in warn)  # empty clip folder reported

    assert len(table) == 16
    assert set(table["class"]) == {
        "Diving-Side",
        "Riding-Horse",
        "Golf-Swing",
        "Kicking",
        "Walk-Front",
        "Lifting",
        "Run-Side",
    }
    golf = table[table["class"] == "Golf-Swing"]
    assert len(golf) == 4 and set(golf["source_folder"]) == {"Golf-Swing-Front", "Golf-Swing-Side"}
    kick = table[table["class"] == "Kicking"]
    assert len(kick) == 4 and set(kick["source_folder"]) == {"Kicking-Front", "Kicking-Side"}
    frames_rows = kick[kick["source_folder"] == "Kicking-Side"]
    assert sorted(frames_rows["num_frames"]) == [12, 12]
    for _, row in table.iterrows():
        assert row["label"] == protocol.UCF_SPORTS_CLASSES.index(row["class"])
        assert row["is_anomaly"] == (row["class"] in protocol.ANOMALY_CLASSES)
        assert row["duration_s"] >= protocol.MIN_DURATION_S
    anomaly = table[table["split"] == "anomaly"]
    assert set(anomaly["class"]) == {"Walk-Front", "Lifting"}
    assert set(table.loc[~table["is_anomaly"], "split"]) <= {"train", "val", "test"}
    assert "train" in set(table["split"]) and "test" in set(table["split"])

    # written manifest: readable, paths relative and inside the root, columns in order
    written = read_manifest(src)
    assert list(written.columns[:4]) == ["path", "label", "class", "split"]
    for col in (
        "source_folder",
        "num_frames",
        "fps",
        "duration_s",
        "width",
        "height",
        "is_anomaly",
    ):
        assert col in written.columns
    assert all(not Path(p).is_absolute() for p in written["path"])
    assert written["path"].iloc[0].startswith("ucf_sports_actions/ucf action/")
    ds = ClipDataset(src, "anomaly", num_frames=4, progress=False)
    assert len(ds) == 3 and ds[0]["video"].shape == (4, 48, 64, 3)

    # seeded: the same seed gives the same manifest bytes
    first = (src / "manifest.csv").read_bytes()
    build_ucf_sports_manifest(src, src, seed=0)
    assert (src / "manifest.csv").read_bytes() == first


def test_flat_layout_and_mp4_conversion(tmp_path):
    src = tmp_path / "raw"
    base = src
    _avi(base / "Diving-Side" / "001")
    _avi(base / "Diving-Side" / "002")
    make_frame_folder(base / "Walk-Front" / "001", num_frames=11, ext=".jpg")
    assert find_class_root(src) == src
    out = tmp_path / "out"
    table = build_ucf_sports_manifest(src, out, seed=1, convert_to_mp4=True)
    assert sorted(table["path"]) == [
        "Diving-Side/001.mp4",
        "Diving-Side/002.mp4",
        "Walk-Front/001.mp4",
    ]
    assert (out / "manifest.csv").is_file()
    assert sorted(table["num_frames"]) == [11, 15, 15]
    ds = ClipDataset(out, "anomaly", num_frames=3, progress=False)
    assert ds.report.num_failed == 0 and len(ds) == 1


def test_in_place_needs_out_containing_src(tmp_path):
    src = tmp_path / "raw"
    _avi(src / "Diving-Side" / "001")
    with pytest.raises(ValueError, match="must contain"):
        build_ucf_sports_manifest(src, tmp_path / "elsewhere")


def test_missing_dataset_message(tmp_path, capsys):
    for src in (tmp_path / "absent", tmp_path):
        with pytest.raises(DatasetNotFoundError) as err:
            build_ucf_sports_manifest(src, src)
        msg = str(err.value)
        assert isinstance(err.value, FileNotFoundError)
        assert str(src) in msg
        assert "data/ucf_sports/" in msg and "ucf action/<Action>/<NNN>" in msg
        assert "crcv.ucf.edu" in msg and "UCF Sports" in msg
        assert "synth-sports" in msg
    assert main(["--src", str(tmp_path / "absent")]) == 2
    assert "synth-sports" in capsys.readouterr().out


def test_cli(tmp_path, capsys):
    src = tmp_path / "ucf"
    make_ucf_fixture(src, nested=False)
    assert main(["--src", str(src), "--out", str(src), "--seed", "3"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(read_manifest(src)) == 16


def _cut_avi(folder: Path, frames_kept: int) -> Path:
    """A 90-frame 10 fps clip whose header still declares 90 frames, cut after ``frames_kept``."""
    path = make_video(
        folder / f"{folder.parent.name}_{folder.name}.avi", num_frames=90, fps=10,
        codec="mpeg4", height=96, width=128,
    )  # fmt: skip
    data = path.read_bytes()
    chunks = [m for m in range(len(data)) if data.startswith(b"00dc", m)]
    path.write_bytes(data[: chunks[frames_kept]])
    return path


@pytest.mark.parametrize("mp4", [True, False])
def test_truncated_source_is_reported_and_length_rechecked(tmp_path, caplog, mp4):
    src = tmp_path / "raw"
    _cut_avi(src / "Diving-Side" / "001", 40)  # 4 s of 9: kept, but reported
    _cut_avi(src / "Diving-Side" / "002", 6)  # ~0.5 s of 9: under the 1 s minimum
    _avi(src / "Walk-Front" / "001")
    out = tmp_path / "out" if mp4 else src
    with caplog.at_level(logging.WARNING):
        table = build_ucf_sports_manifest(src, out, seed=0, convert_to_mp4=mp4)
    report = table.attrs["report"]
    assert report.failed_paths == [str(src / "Diving-Side" / "002" / "Diving-Side_002.avi")]
    (reason,) = [r for _, r in report.failures]
    assert "too short" in reason and "s < 1.0 s" in reason and "ends early" in reason
    ((path, reason),) = report.warnings
    assert path.endswith("Diving-Side_001.avi") and "ends early" in reason and "of 90" in reason
    assert report.summary().startswith("decoded 2 clips, skipped 1")
    diving = table[table["class"] == "Diving-Side"].iloc[0]
    assert 30 < diving["num_frames"] <= 40
    assert diving["duration_s"] == pytest.approx(diving["num_frames"] / 10.0, abs=0.11)
    assert (table["duration_s"] >= protocol.MIN_DURATION_S).all()
    warned = [r.getMessage() for r in caplog.records if "Diving-Side_001" in r.getMessage()]
    assert warned and all("\n" not in m for m in warned)
