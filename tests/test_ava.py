"""AVA-format CSVs, label maps, the keyframe index and video-path containment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vidad.data.ava import (
    AvaFormatError,
    keyframes,
    read_ava_csv,
    read_label_map,
    resolve_video_path,
    write_ava_csv,
)
from vidad.video.manifest import ManifestError

GT_CSV = """\
-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,80,1
-5KQ66BBWC4,0902,0.077,0.151,0.283,0.811,9,1
-5KQ66BBWC4,0902,0.332,0.194,0.481,0.891,12,0
-5KQ66BBWC4,0903,0.332,0.194,0.481,0.891,12,0

seq01,3,0.1,0.2,0.3,0.4,1,0
"""


def _write(tmp_path: Path, text: str, name: str = "ann.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_ground_truth(tmp_path: Path) -> None:
    table = read_ava_csv(_write(tmp_path, GT_CSV))
    assert list(table.columns) == [
        "video_id",
        "timestamp",
        "x1",
        "y1",
        "x2",
        "y2",
        "action_id",
        "person_id",
    ]
    assert len(table) == 5
    assert table["video_id"].iloc[0] == "-5KQ66BBWC4"  # a leading dash is part of the id
    assert table["timestamp"].dtype == np.int64 and table["timestamp"].iloc[0] == 902
    assert table["action_id"].tolist() == [80, 9, 12, 12, 1]
    assert table["person_id"].tolist() == [1, 1, 0, 0, 0]
    assert table["x1"].iloc[0] == pytest.approx(0.077)


def test_seven_columns_and_float_timestamps(tmp_path: Path) -> None:
    table = read_ava_csv(_write(tmp_path, "v,1.5,0,0,1,1,3\nv,2,0,0,1,1,3,4\n"))
    assert table["timestamp"].tolist() == [1.5, 2.0]
    assert table["person_id"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("v,1,0.5,0.1,0.4,0.9,1,0", "box"),  # x1 > x2
        ("v,1,0.1,0.1,0.4,1.2,1,0", "box"),  # outside [0, 1]
        ("v,1,0.1,0.1,0.4,0.9,0,0", "action_id '0'"),
        ("v,1,0.1,0.1,0.4,0.9,2.5,0", "action_id '2.5'"),
        ("v,1,0.1,0.1,0.4,0.9", "expected 7 or 8 columns, got 6"),
        ("v,one,0.1,0.1,0.4,0.9,1,0", "timestamp 'one'"),
        ("v,1,0.1,nan,0.4,0.9,1,0", "not finite"),
        (",1,0.1,0.1,0.4,0.9,1,0", "empty video_id"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, GT_CSV + line + "\n")
    with pytest.raises(AvaFormatError, match=message) as info:
        read_ava_csv(path)
    assert f"{path}, line 7:" in str(info.value)


def test_detections_need_a_score(tmp_path: Path) -> None:
    table = read_ava_csv(_write(tmp_path, "v,1,0,0,0.5,0.5,2,0.75\n"), kind="detections")
    assert table["score"].tolist() == [0.75] and "person_id" not in table.columns
    with pytest.raises(AvaFormatError, match="line 1: expected 8 columns, got 7"):
        read_ava_csv(_write(tmp_path, "v,1,0,0,0.5,0.5,2\n"), kind="detections")
    with pytest.raises(ValueError, match="unknown kind"):
        read_ava_csv(_write(tmp_path, ""), kind="boxes")  # type: ignore[arg-type]


def test_write_read_round_trip(tmp_path: Path) -> None:
    gt = read_ava_csv(_write(tmp_path, GT_CSV))
    out = write_ava_csv(gt, tmp_path / "sub" / "gt.csv")
    assert read_ava_csv(out).equals(gt)
    assert out.read_text().splitlines()[0] == "-5KQ66BBWC4,902,0.077,0.151,0.283,0.811,80,1"
    assert [p.name for p in out.parent.iterdir()] == ["gt.csv"]  # no temp file left behind
    det = gt.drop(columns="person_id").assign(score=0.5)
    back = read_ava_csv(write_ava_csv(det, tmp_path / "det.csv"), kind="detections")
    pd.testing.assert_frame_equal(back, det)


def test_write_refuses_missing_columns_and_keeps_old_file(tmp_path: Path) -> None:
    path = _write(tmp_path, GT_CSV, "gt.csv")
    with pytest.raises(ValueError, match="without column"):
        write_ava_csv(pd.DataFrame({"video_id": ["v"]}), path)
    assert path.read_text() == GT_CSV


def test_keyframes_merge_labels_per_person(tmp_path: Path) -> None:
    frames = keyframes(read_ava_csv(_write(tmp_path, GT_CSV)), classes=[9, 12, 80])
    assert [(f.video_id, f.timestamp) for f in frames] == [
        ("-5KQ66BBWC4", 902),
        ("-5KQ66BBWC4", 903),
        ("seq01", 3),
    ]
    first = frames[0]
    assert first.boxes.shape == (2, 4) and first.boxes.dtype == np.float32
    assert np.allclose(first.boxes[0], [0.077, 0.151, 0.283, 0.811])
    assert first.labels.tolist() == [[1, 0, 1], [0, 1, 0]]  # person 1: actions 9 and 80
    assert first.person_ids.tolist() == [1, 0]
    # action 1 is not in the class list: the person stays, as a negative for every class
    assert frames[2].labels.tolist() == [[0, 0, 0]]


def test_keyframes_same_box_different_person_stays_apart() -> None:
    table = pd.DataFrame(
        {
            "video_id": ["v"] * 3,
            "timestamp": [1] * 3,
            "x1": [0.1] * 3,
            "y1": [0.1] * 3,
            "x2": [0.5] * 3,
            "y2": [0.5] * 3,
            "action_id": [1, 2, 2],
            "person_id": pd.array([0, 1, pd.NA], dtype="Int64"),
        }
    )
    (frame,) = keyframes(table, classes=[1, 2])
    assert frame.labels.tolist() == [[1, 0], [0, 1], [0, 1]]
    assert frame.person_ids.tolist() == [0, 1, -1]
    with pytest.raises(ValueError, match="duplicates"):
        keyframes(table, classes=[1, 1])


def test_label_maps(tmp_path: Path) -> None:
    pbtxt = _write(
        tmp_path,
        'item {\n  name: "bend/bow (at the waist)"\n  id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
        'item { name: "hand shake" id: 59 }\n',
        "ava.pbtxt",
    )
    assert read_label_map(pbtxt) == {1: "bend/bow (at the waist)", 59: "hand shake"}
    csv = _write(tmp_path, "id,name\n2,point\n1,handshake\n", "labels.csv")
    assert read_label_map(csv) == {1: "handshake", 2: "point"}
    assert list(read_label_map(csv)) == [1, 2]
    bad = _write(tmp_path, 'item {\n  name: "x"\n}\n', "bad.pbtxt")
    with pytest.raises(AvaFormatError, match="bad.pbtxt, line 1: item needs"):
        read_label_map(bad)
    stray = _write(tmp_path, 'item { name: "x" id: 1 }\n\nitme { }\n', "stray.pbtxt")
    with pytest.raises(AvaFormatError, match="line 3: text outside"):
        read_label_map(stray)
    with pytest.raises(AvaFormatError, match="line 2: expected 'id,name'"):
        read_label_map(_write(tmp_path, "1,a\nb,2\n", "bad.csv"))


def test_resolve_video_path_stays_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "videos"
    root.mkdir()
    (root / "clip.mp4").write_bytes(b"")
    (root / "frames_only").mkdir()
    (tmp_path / "secret.mp4").write_bytes(b"")
    assert resolve_video_path(root, "clip") == (root / "clip.mp4").resolve()
    assert resolve_video_path(root, "frames_only") == (root / "frames_only").resolve()
    with pytest.raises(ManifestError, match="escapes the dataset root"):
        resolve_video_path(root, "../secret")
    with pytest.raises(ManifestError, match="absolute"):
        resolve_video_path(root, str(tmp_path / "secret"))
    (root / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    with pytest.raises(ManifestError, match="escapes"):
        resolve_video_path(root, "link")
    with pytest.raises(FileNotFoundError, match="no video for id 'absent'"):
        resolve_video_path(root, "absent")
