"""Fuzz pass: damaged videos through the dataset, the clip cache and ``python -m vidad score``.

Small real videos (mp4/H.264 with the index at the end and at the front, avi/MPEG-4, a folder
of png frames) are damaged, seeded: truncated at random offsets, or random bytes flipped (for
the folder, in one random frame). Each damaged copy goes through :class:`ClipDataset` (with and
without validation), :class:`CachedClipDataset` and the score CLI. A crash is anything else than
a clean skip-and-report (the clip dropped or ``None``, with a one-line reason) or a clean
one-line CLI error with exit status 2. The target is zero crashes; the tally is printed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import make_frame_folder, make_video
from test_anomaly_detector import detector  # noqa: F401 - the tiny detector fixture

from vidad.anomaly.score_cli import main as score_main
from vidad.data.ucsd_ped import UCSDPed, frame_labels, read_gray
from vidad.video.cache import CachedClipDataset, ClipCacheSpec
from vidad.video.dataset import ClipDataset
from vidad.video.manifest import write_manifest

SEED = 17
NUM_FRAMES = 32  # frames of each source; the detector's window is 12
TRUNCATIONS = 6  # per source
FLIPS = (1, 2, 4, 8, 16, 64)  # bytes flipped anywhere, one damaged copy each
HEAD_FLIPS = (1, 4, 16)  # bytes flipped in the first KiB (headers, sample tables, IHDR)
HEAD = 1024


def _sources(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    return [
        make_video(folder / "index_at_end.mp4", NUM_FRAMES, codec="libx264"),
        make_video(folder / "index_at_front.mp4", NUM_FRAMES, codec="libx264", faststart=True),
        make_video(folder / "ucf_style.avi", NUM_FRAMES, codec="mpeg4"),
        make_frame_folder(folder / "ucsd_style", NUM_FRAMES, ext=".png"),
    ]


def _damage(data: bytes, rng: np.random.Generator, kind: str, amount: int) -> bytes:
    if kind == "truncate":
        return data[: int(rng.integers(1, len(data)))]
    damaged = bytearray(data)
    span = min(HEAD, len(data)) if kind == "head" else len(data)
    for pos in rng.choice(span, size=min(amount, span), replace=False):
        damaged[pos] ^= int(rng.integers(1, 256))
    return bytes(damaged)


def fuzzed_inputs(folder: Path, seed: int = SEED) -> list[Path]:
    """Every source undamaged, plus its truncated and byte-flipped copies, one folder each."""
    rng = np.random.default_rng(seed)
    damages = [("truncate", 0)] * TRUNCATIONS + [("flip", n) for n in FLIPS]
    damages += [("head", n) for n in HEAD_FLIPS]
    inputs = []
    for source in _sources(folder / "sources"):
        for k, (kind, amount) in enumerate([("none", 0), *damages]):
            name = f"{source.stem}_{kind}{amount or ''}_{k}{source.suffix}"
            target = folder / "inputs" / name / source.name
            target.parent.mkdir(parents=True)
            if source.is_dir():
                shutil.copytree(source, target)
                frames = sorted(target.iterdir())
                victim = frames[int(rng.integers(len(frames)))]
            else:
                shutil.copy(source, target)
                victim = target
            if kind != "none":
                victim.write_bytes(_damage(victim.read_bytes(), rng, kind, amount))
            inputs.append(target)
    return inputs


def _through_datasets(clip: Path, cache_root: Path) -> list[str]:
    """Crashes of one clip through ClipDataset (validated or not) and CachedClipDataset."""
    root = clip.parent
    table = pd.DataFrame(
        [(clip.name, 0, "a", "train")], columns=["path", "label", "class", "split"]
    )
    write_manifest(table, root)
    crashes = []
    for stage, make in [
        ("ClipDataset", lambda: ClipDataset(root, "train", num_frames=8, progress=False)),
        ("ClipDataset(validate=False)", lambda: ClipDataset(root, "train", 8, validate=False)),
        ("CachedClipDataset", lambda: CachedClipDataset(
            root, "train", ClipCacheSpec(8, 16, 16), cache_root / root.name, progress=False
        )),
    ]:  # fmt: skip
        try:
            dataset = make()
            items = [dataset[i] for i in range(len(dataset))]
            for item in items:
                assert item is None or item["video"].shape[0] == 8, "wrong clip length"
            assert all("\n" not in reason for _, reason in dataset.report.failures)
            if any(item is None for item in items) or len(items) == 0:
                assert dataset.report.num_failed, "a clip dropped without a report"
        except Exception:  # noqa: BLE001 - counting what escapes is the point
            crashes.append(f"{stage}: {traceback.format_exc(limit=-3).strip()}")
    return crashes


def _through_ucsd(folder: Path, work: Path) -> list[str]:
    """Crashes of a damaged frame folder read as a UCSD Ped video (train and test)."""
    root = work / "UCSDped2"
    shutil.copytree(folder, root / "Train" / "Train001")
    shutil.copytree(folder, root / "Test" / "Test001")
    try:
        data = UCSDPed(work)
        for video in data.train + data.test:
            read_gray(video.frames, (16, 16))
            frame_labels(video)
        kept = len(data.train) + len(data.test)
        assert kept + data.report.num_failed == 2, "a video dropped without a report"
    except Exception:  # noqa: BLE001
        return [f"UCSDPed: {traceback.format_exc(limit=-3).strip()}"]
    return []


def _through_score(clip: Path, checkpoint: Path, out: Path, capsys) -> list[str]:
    """Crashes of one clip through ``python -m vidad score`` (in process)."""
    capsys.readouterr()
    try:
        status = score_main([str(clip), "--detector", str(checkpoint), "--out", str(out)])
    except BaseException:  # noqa: BLE001 - SystemExit included: main must return a status
        return [f"score: {traceback.format_exc(limit=-3).strip()}"]
    finally:
        plt.close("all")  # one process scores many videos here; the CLI scores one
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if status == 0 and not errors and (out / f"{clip.stem}_scores.csv").is_file():
        return []
    if status == 2 and len(errors) == 1 and "Traceback" not in err:
        return []
    return [f"score: exit status {status}, stderr {err!r}"]


@pytest.mark.slow
def test_fuzzed_videos_never_crash(tmp_path, detector, capsys) -> None:  # noqa: F811
    checkpoint = detector.save(tmp_path / "detector.pt")
    inputs = fuzzed_inputs(tmp_path)
    crashes: dict[str, list[str]] = {}
    skipped = 0
    for clip in inputs:
        found = _through_datasets(clip, tmp_path / "cache")
        found += _through_score(clip, checkpoint, tmp_path / "out" / clip.parent.name, capsys)
        if clip.is_dir():
            found += _through_ucsd(clip, tmp_path / "ucsd" / clip.parent.name)
        if found:
            crashes[clip.parent.name] = found
        skipped += not (tmp_path / "out" / clip.parent.name / f"{clip.stem}_scores.csv").is_file()
    with capsys.disabled():
        print(
            f"\nfuzz: {len(inputs)} inputs ({len(inputs) - 4} damaged), score refused "
            f"{skipped} cleanly; {sum(map(len, crashes.values()))} crashes (input x stage) "
            f"in {len(crashes)} inputs"
        )
        for name, found in crashes.items():
            print(f"  {name}: " + " | ".join(" ".join(f.split()) for f in found))
    assert not crashes, f"{len(crashes)} of {len(inputs)} fuzzed inputs crashed: {sorted(crashes)}"
    assert skipped < len(inputs) - 4  # the undamaged sources and some damaged ones do score


@pytest.mark.slow
def test_score_module_exits_2_with_one_line_on_a_damaged_video(tmp_path, detector) -> None:  # noqa: F811
    checkpoint = detector.save(tmp_path / "detector.pt")
    video = make_video(tmp_path / "clip.mp4", NUM_FRAMES)
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])  # the index is at the end
    done = subprocess.run(
        [sys.executable, "-m", "vidad", "score", str(video), "--detector", str(checkpoint)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: cannot read")
    assert str(video) in done.stderr and "Traceback" not in done.stderr
