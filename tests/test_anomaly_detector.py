"""The learned heads, the pixel-space baseline, the saved detector and the score CLI."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from vidad.anomaly import baselines
from vidad.anomaly.autoencoder import EmbeddingAutoencoder, ae_widths
from vidad.anomaly.detector import (
    Detector,
    DetectorError,
    build_detector,
    calibrate,
    calibrated_threshold,
    frame_scores,
    localization_scores,
    score_video,
    scored_video,
    segment_labels,
)
from vidad.anomaly.heads import deep_svdd_scores, memae_head_scores
from vidad.anomaly.long_video import Segment, make_long_video, segments_path, video_plan
from vidad.anomaly.metrics import auroc
from vidad.anomaly.pixel import PixelAESettings, pixel_ae_scores, to_gray_clips
from vidad.anomaly.score_cli import main as score_main
from vidad.models import create_model
from vidad.synth import SynthConfig
from vidad.synth.writer import write_mp4
from vidad.train.recognition import RecognitionSetup
from vidad.video.cache import resize_clip
from vidad.video.decode import VideoDecodeError, read_frames, read_video
from vidad.video.windows import window_starts


def _gaussian_problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(4, 24))
    train = rng.normal(size=(200, 4)) @ basis + 0.05 * rng.normal(size=(200, 24))
    normals = rng.normal(size=(40, 4)) @ basis + 0.05 * rng.normal(size=(40, 24))
    anomalies = rng.normal(size=(40, 24)) * 2.0  # off the normal 4-d subspace
    return train.astype(np.float32), normals.astype(np.float32), anomalies.astype(np.float32)


@pytest.mark.parametrize("scorer", [memae_head_scores, deep_svdd_scores])
def test_learned_heads_separate_off_manifold_points_and_are_deterministic(scorer) -> None:
    train, normals, anomalies = _gaussian_problem()
    query = np.concatenate([normals, anomalies])
    scores = scorer(train, query, 0)
    labels = np.r_[np.zeros(len(normals)), np.ones(len(anomalies))]
    assert scores.shape == (len(query),) and np.isfinite(scores).all()
    assert auroc(scores, labels) > 0.9
    np.testing.assert_array_equal(scores, scorer(train, query, 0))


def test_heads_are_registered_with_the_baselines() -> None:
    assert {"MemAE head", "Deep SVDD"} <= set(baselines.SCORERS)


def test_pixel_autoencoder_shapes_and_determinism() -> None:
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 255, size=(6, 10, 20, 20, 3), dtype=np.uint8)
    settings = PixelAESettings(side=16, num_frames=8, epochs=2, batch_size=4)
    x = to_gray_clips(clips, settings)
    assert x.shape == (6, 1, 8, 16, 16)
    train = np.array([1, 1, 1, 1, 0, 0], bool)
    scores = pixel_ae_scores(clips, train, settings)
    assert scores.shape == (6,) and np.isfinite(scores).all()
    np.testing.assert_array_equal(scores, pixel_ae_scores(clips, train, settings))
    with pytest.raises(ValueError, match="multiple of 16"):
        to_gray_clips(clips, dataclasses.replace(settings, side=20))


def test_window_starts_cover_the_video_and_frame_scores_average_windows() -> None:
    np.testing.assert_array_equal(window_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(window_starts(11, 4, 3), [0, 3, 6, 7])
    with pytest.raises(ValueError, match="shorter"):
        window_starts(3, 4, 1)
    windows = pd.DataFrame({"start_frame": [0, 2], "end_frame": [4, 6], "score": [1.0, 3.0]})
    np.testing.assert_allclose(frame_scores(windows, 6), [1, 1, 2, 2, 3, 3])
    np.testing.assert_allclose(frame_scores(windows, 6, "max"), [1, 1, 3, 3, 3, 3])
    segments = pd.DataFrame(
        {"start_frame": [0, 3], "end_frame": [3, 6], "anomalous": [False, True]}
    )
    np.testing.assert_array_equal(segment_labels(segments, 6), [0, 0, 0, 1, 1, 1])


def test_window_starts_reject_bad_lengths() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        window_starts(10, 4, 0)
    with pytest.raises(ValueError, match="must be >= 1"):
        window_starts(10, 0, 1)
    np.testing.assert_array_equal(window_starts(4, 4, 3), [0])


def test_read_video_resizes_in_chunks_as_the_whole_video_would_be(tmp_path) -> None:
    video = _video(tmp_path, frames=30)
    whole = resize_clip(read_frames(video), 20, 20)
    frames, fps = read_video(video, lambda chunk: resize_clip(chunk, 20, 20), chunk=7)
    np.testing.assert_array_equal(frames, whole)
    assert fps == pytest.approx(10.0)
    raw, _ = read_video(video)
    assert raw.shape == (30, 32, 48, 3)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(raw[:3]):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    frames, fps = read_video(folder, lambda chunk: resize_clip(chunk, 20, 20))
    assert frames.shape == (3, 20, 20, 3) and fps == 0.0
    with pytest.raises(VideoDecodeError, match="no such file"):
        read_video(tmp_path / "absent.mp4")


def _scored(detector: Detector, windows: pd.DataFrame, num_frames: int, threshold: float):
    at = dataclasses.replace(detector, meta={**detector.meta, "threshold": threshold})
    return scored_video(at, windows, num_frames, 0.0)


def test_localization_scores_by_hand(detector) -> None:
    # frames 0-3 normal, 4-7 anomalous; windows [0,4) [2,6) [4,8)
    segments = pd.DataFrame({"start_frame": [0, 4], "end_frame": [4, 8], "anomalous": [0, 1]})
    windows = pd.DataFrame(
        {"start_frame": [0, 2, 4], "end_frame": [4, 6, 8], "score": [1.0, 2.0, 3.0]}
    )
    # frame scores (mean of covering windows) 1, 1, 1.5, 1.5, 2.5, 2.5, 3, 3; threshold 1.2
    got = localization_scores(_scored(detector, windows, 8, 1.2), segments)
    assert got["frame AUROC"] == 1.0  # every anomalous frame above every normal one
    assert got["window AUROC"] == 1.0  # [2,6) is half anomalous: not a majority, so normal
    assert got["anomalous frames flagged"] == 1.0
    assert got["normal frames flagged"] == 0.5  # frames 2 and 3 (1.5 > 1.2), not 0 and 1
    # the stored threshold decides, not "any window flagged": at 2.6 frames 4-5 (2.5) are not
    got = localization_scores(_scored(detector, windows, 8, 2.6), segments)
    assert got["anomalous frames flagged"] == 0.5 and got["normal frames flagged"] == 0.0
    reversed_scores = windows.assign(score=[3.0, 2.0, 1.0])
    got = localization_scores(_scored(detector, reversed_scores, 8, 1.2), segments)
    assert got["frame AUROC"] == 0.0
    # one anomalous frame: no window is mostly anomalous, so the window AUROC is undefined
    short = pd.DataFrame({"start_frame": [0, 7], "end_frame": [7, 8], "anomalous": [0, 1]})
    got = localization_scores(_scored(detector, windows, 8, 1.2), short)
    assert np.isnan(got["window AUROC"])
    # frame 7 (score 3) beats the six normal frames below 3 and ties frame 6: (6 + 0.5) / 7
    assert got["frame AUROC"] == pytest.approx(6.5 / 7)


def test_the_threshold_is_calibrated_to_the_target_share_of_normal_frames(detector) -> None:
    scores = [np.arange(100.0), np.arange(100.0, 200.0)]
    threshold = calibrated_threshold(scores, 0.05)
    pooled = np.concatenate(scores)
    assert np.mean(pooled > threshold) <= 0.05
    assert np.mean(pooled >= threshold) > 0.05  # the lowest threshold that meets the target
    with pytest.raises(ValueError, match="target_false_alarm"):
        calibrated_threshold(scores, 0.0)
    windows = pd.DataFrame({"start_frame": [0, 2, 4], "end_frame": [4, 6, 8], "score": [1.0, 2, 3]})
    normal = [_scored(detector, windows, 8, float("nan"))] * 2
    calibrated = calibrate(detector, normal, 0.25)
    # frame scores 1, 1, 1.5, 1.5, 2.5, 2.5, 3, 3 (twice): 25% above 2.5
    assert calibrated.threshold == 2.5
    assert calibrated.meta["target_false_alarm"] == 0.25
    assert calibrated.meta["calibration"] == {"videos": 2, "frames": 16, "false_alarm": 0.25}
    assert "calibrated to flag 25% of the frames of 2 normal videos (16 frames)" in (
        calibrated.calibration_text()
    )
    assert detector.calibration_text() == "threshold set by hand, not calibrated"


@pytest.fixture(scope="module")
def detector() -> Detector:
    setup = RecognitionSetup(
        classes="all", num_frames=8, crop_size=16, cache_size=20, motion=False,
        mirror=False, size="tiny",
        epochs=1, batch_size=2, lr=1e-3, weight_decay=0.0, warmup_epochs=0, seed=0,
    )  # fmt: skip
    torch.manual_seed(0)
    backbone = create_model("r2plus1d_18", size="tiny", num_classes=3, num_frames=8, crop_size=16)
    dim = backbone.embed_dim
    autoencoder = EmbeddingAutoencoder(dim, ae_widths(dim))
    meta = {
        "model": "r2plus1d_18",
        "size": "tiny",
        "options": {"num_frames": 8},  # an option that repeats a setup value must not clash
        "classes": ["a", "b", "c"],
        "setup": dataclasses.asdict(setup),
    }
    return build_detector(backbone, meta, autoencoder, threshold=1.0, window_frames=12)


def _video(tmp_path, frames: int = 30):
    rng = np.random.default_rng(1)
    path = tmp_path / "clip.mp4"
    write_mp4(rng.integers(0, 255, size=(frames, 32, 48, 3), dtype=np.uint8), path, 10.0)
    return path


def test_detector_round_trip_gives_identical_scores(detector: Detector, tmp_path) -> None:
    video = _video(tmp_path)
    scored = score_video(detector, video, stride=4)
    windows = scored.windows
    assert scored.num_frames == 30 and scored.fps == pytest.approx(10.0)
    np.testing.assert_array_equal(windows["start_frame"], [0, 4, 8, 12, 16, 18])
    assert (windows["end_frame"] - windows["start_frame"] == 12).all()
    expected = frame_scores(windows, 30)
    np.testing.assert_allclose(scored.frames["score"], expected)
    np.testing.assert_array_equal(scored.frames["flagged"], expected > 1.0)
    path = detector.save(tmp_path / "det.pt")
    loaded = Detector.load(path)
    again = score_video(loaded, video, stride=4)
    np.testing.assert_allclose(again.windows["score"], windows["score"], rtol=1e-5)
    assert loaded.threshold == 1.0 and loaded.window_frames == 12
    assert loaded.frame_rule == "mean" and loaded.meta["target_false_alarm"] is None


def test_detector_errors_are_clear(detector: Detector, tmp_path) -> None:
    with pytest.raises(DetectorError, match="no detector checkpoint"):
        Detector.load(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DetectorError, match="not a readable"):
        Detector.load(tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="needs at least one window"):
        score_video(detector, _video(tmp_path, frames=8))
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoDecodeError):
        score_video(detector, tmp_path / "broken.mp4")


def test_score_cli_writes_csv_and_timeline(detector: Detector, tmp_path, capsys) -> None:
    video = _video(tmp_path)
    checkpoint = detector.save(tmp_path / "det.pt")
    out = tmp_path / "out"
    assert score_main([str(video), "--detector", str(checkpoint), "--out", str(out)]) == 0
    table = pd.read_csv(out / "clip_scores.csv")
    assert list(table.columns) == ["start_frame", "end_frame", "start_s", "end_s", "score"]
    frames = pd.read_csv(out / "clip_frames.csv")
    assert list(frames.columns) == ["frame", "time_s", "score", "flagged"] and len(frames) == 30
    assert (out / "clip_timeline.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "in 7 windows of 12 frames" in printed
    assert "threshold set by hand, not calibrated" in printed
    (tmp_path / "short").mkdir()
    short = _video(tmp_path / "short", frames=8)
    for argv, message in [
        ([str(video), "--detector", str(tmp_path / "none.pt")], "no detector checkpoint"),
        ([str(tmp_path / "missing.mp4"), "--detector", str(checkpoint)], "no such video"),
        ([str(short), "--detector", str(checkpoint)], "needs at least one window"),
        ([str(video), "--detector", str(checkpoint), "--stride", "0"], "--stride"),
    ]:
        assert score_main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_long_video_segments_match_the_written_video(tmp_path) -> None:
    config = SynthConfig(height=32, width=48, num_frames=8, fps=8.0, duration_jitter=0.0)
    classes = ["Run-Side", Segment("Walk-Front", "Golf-Swing"), "Diving-Side"]
    segments = make_long_video(tmp_path / "long.mp4", classes, config, seed=3, min_frames=20)
    # each segment is three 8-frame takes of one actor (at least 20 frames)
    assert list(segments["segment"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert list(segments["take"]) == [0, 1, 2] * 3
    assert list(segments["anomalous"]) == [False] * 3 + [True] * 3 + [False] * 3
    assert list(segments["venue"][3:6]) == ["Golf-Swing"] * 3
    assert (segments["start_frame"].iloc[1:].to_numpy() == segments["end_frame"].iloc[:-1]).all()
    from vidad.video.decode import probe_video

    assert probe_video(tmp_path / "long.mp4").num_frames == segments["end_frame"].iloc[-1]
    pd.testing.assert_frame_equal(pd.read_csv(segments_path(tmp_path / "long.mp4")), segments)
    first = (tmp_path / "long.mp4").read_bytes()
    make_long_video(tmp_path / "again.mp4", classes, config, seed=3, min_frames=20)
    assert (tmp_path / "again.mp4").read_bytes() == first


def _one_line_status_2(argv: list[str], capsys) -> str:
    with warnings.catch_warnings(record=True) as caught:  # a warning would be a second line
        warnings.simplefilter("always", UserWarning)
        assert score_main(argv) == 2
    assert [str(w.message) for w in caught if w.category is UserWarning] == []
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert "weights_only" not in captured.err and "Traceback" not in captured.err
    return captured.err


def _blob(detector: Detector, path, change) -> str:
    """A detector checkpoint whose saved dict went through ``change`` (bad metadata)."""
    detector.save(path)
    blob = torch.load(path, weights_only=True)
    change(blob)
    torch.save(blob, path)
    return str(path)


def _drop_meta_key(key: str):
    def change(blob: dict) -> None:
        meta = json.loads(blob["meta"])
        del meta[key]
        blob["meta"] = json.dumps(meta)

    return change


def _set_meta(key: str, value):
    def change(blob: dict) -> None:
        blob["meta"] = json.dumps({**json.loads(blob["meta"]), key: value})

    return change


def test_score_cli_options_that_cannot_work_are_one_line(detector, tmp_path, capsys) -> None:
    video = _video(tmp_path)
    checkpoint = str(detector.save(tmp_path / "det.pt"))
    (tmp_path / "taken").write_text("a file, not a folder")
    base = [str(video), "--detector", checkpoint]
    err = _one_line_status_2([*base, "--out", str(tmp_path / "taken")], capsys)
    assert f"--out {tmp_path / 'taken'}: {tmp_path / 'taken'} is a file, not a folder" in err
    err = _one_line_status_2([*base, "--out", str(tmp_path / "taken" / "sub")], capsys)
    assert f"--out {tmp_path / 'taken' / 'sub'}: {tmp_path / 'taken'} is a file" in err
    for size in ("0", "-3"):
        err = _one_line_status_2([*base, "--batch-size", size], capsys)
        assert f"--batch-size must be >= 1, got {size}" in err


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (lambda p, d: p.write_bytes(b"not a checkpoint"), "not a torch checkpoint"),
        (lambda p, d: p.write_bytes(b""), "the file is empty"),
        (
            lambda p, d: p.write_bytes(d.save(p).read_bytes()[:1000]),
            "truncated or corrupt",
        ),
        (
            lambda p, d: p.write_bytes(pickle.dumps({"format": object()})),
            "not a torch checkpoint",
        ),
        (lambda p, d: torch.save({"weights": torch.zeros(2)}, p), "not a vidad detector"),
        (lambda p, d: _blob(d, p, lambda b: b.update(meta="{oops")), "metadata is not JSON"),
        (lambda p, d: _blob(d, p, _drop_meta_key("setup")), "metadata lacks ['setup']"),
        (lambda p, d: _blob(d, p, _drop_meta_key("threshold")), "metadata lacks ['threshold']"),
        (lambda p, d: _blob(d, p, _set_meta("setup", {"num_frames": 8})), "metadata 'setup'"),
        (lambda p, d: _blob(d, p, _set_meta("threshold", "high")), "metadata 'threshold'"),
        (lambda p, d: _blob(d, p, _set_meta("model", "nope")), "metadata 'model'"),
        (lambda p, d: _blob(d, p, _set_meta("embed_dim", 7)), "weights do not match"),
        (lambda p, d: _blob(d, p, lambda b: b.pop("backbone")), "lacks the 'backbone' weights"),
        (lambda p, d: _blob(d, p, _set_meta("frame_rule", "median")), "metadata 'frame_rule'"),
        (
            lambda p, d: _blob(d, p, _set_meta("target_false_alarm", 5)),
            "metadata 'target_false_alarm'",
        ),
        (lambda p, d: _blob(d, p, lambda b: b.update(version=1)), "version 1 is unsupported"),
    ],
    ids=[
        "garbage", "empty", "truncated", "pickled object", "foreign dict", "meta not json",
        "no setup", "no threshold", "bad setup", "bad threshold", "unknown model",
        "wrong shapes", "no weights", "bad frame rule", "bad target", "version 1",
    ],
)  # fmt: skip
def test_a_bad_detector_file_is_one_line_naming_it_and_why(
    detector, tmp_path, capsys, write, reason
) -> None:
    path = tmp_path / "det.pt"
    write(path, detector)
    err = _one_line_status_2([str(_video(tmp_path)), "--detector", str(path)], capsys)
    assert f"error: {path}" in err and reason in err, err
    with pytest.raises(DetectorError, match=re.escape(reason)):
        Detector.load(path)


def test_a_successful_score_prints_its_result_and_nothing_else(detector, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    video = _video(tmp_path)
    checkpoint = detector.save(tmp_path / "det.pt")
    lib = Path(__file__).resolve().parents[1] / "lib"
    run = subprocess.run(
        [sys.executable, "-m", "vidad", "score", str(video), "--detector", str(checkpoint)],
        env={**os.environ, "PYTHONPATH": str(lib)}, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith("clip.mp4: 30 frames in 7 windows of 12 frames; ")
    assert run.stdout.count("\n") == 1


def test_video_plans_put_anomalies_where_the_kind_says() -> None:
    normal = video_plan("normal", 7, seed=0)
    assert not any(s.anomalous for s in normal)
    assert all(
        a.action != b.action for a, b in zip(normal, normal[1:], strict=False)
    )  # no repeated class
    behaviour = video_plan("behaviour_only", 6, seed=0)
    assert [s.anomalous for s in behaviour] == [False, True, False, False, True, False]
    assert all(s.venue is not None for s in behaviour if s.anomalous)
    assert all(s.venue is None for s in video_plan("confounded", 6, seed=0))
    assert video_plan("behaviour_only", 6, seed=0) == behaviour  # deterministic
    with pytest.raises(ValueError, match="unknown kind"):
        video_plan("odd", 3, seed=0)
