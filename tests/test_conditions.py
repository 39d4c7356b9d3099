"""synth-sports test conditions: behaviour without its scenery, scenery never seen."""

from __future__ import annotations

import numpy as np
import pytest

from vidad.data.protocol import ANOMALY_CLASSES
from vidad.synth import SynthConfig, sports
from vidad.synth.conditions import (
    CONDITIONS,
    NEW_VENUES,
    VENUE_CLASSES,
    ConditionsConfig,
    clip_seeds,
    condition_pairs,
    generate_conditions,
    main,
    plan,
    render_staged_clip,
    staged_scene,
)
from vidad.synth.render import sample_look
from vidad.synth.skeleton import sample_body
from vidad.video.manifest import read_manifest

SMALL = SynthConfig(height=32, width=48, num_frames=8, fps=8.0, duration_jitter=0.0)


def test_the_plan_covers_every_pair_with_anomalies_only_in_behaviour_only() -> None:
    rows = plan(ConditionsConfig(clips_per_pair=2))
    by = {c: [r for r in rows if r["split"] == c] for c in CONDITIONS}
    assert len(by["behaviour_only"]) == len(ANOMALY_CLASSES) * len(VENUE_CLASSES) * 2
    assert len(by["new_venue"]) == len(VENUE_CLASSES) * len(NEW_VENUES) * 2
    assert all(r["is_anomaly"] == 1 and r["class"] in ANOMALY_CLASSES for r in by["behaviour_only"])
    assert all(r["is_anomaly"] == 0 and r["venue"] in NEW_VENUES for r in by["new_venue"])
    assert len({r["path"] for r in rows}) == len(rows)
    assert set(condition_pairs("behaviour_only")) == {
        (a, v) for a in ANOMALY_CLASSES for v in VENUE_CLASSES
    }


def test_a_staged_scene_has_the_actions_body_and_the_venues_scenery() -> None:
    sec = np.arange(8) / 8.0
    body = sample_body(np.random.default_rng(1))
    look = sample_look(np.random.default_rng(2))
    own, _ = sports.sports_scene("Lifting", sec, np.random.default_rng(3), body, look)
    venue, _ = sports.sports_scene("Run-Side", sec, np.random.default_rng(4), body, look)
    staged, _ = staged_scene(
        "Lifting", "Run-Side", sec, np.random.default_rng(3), np.random.default_rng(4), body, look
    )
    np.testing.assert_array_equal(staged.joints, own.joints)  # the lifter's motion
    assert len(staged.props) == len(own.props)  # with the barbell
    assert staged.palette == venue.palette and len(staged.static) == len(venue.static)
    assert staged.track == venue.track  # filmed as the running track is
    novel, _ = staged_scene(
        "Run-Side", "beach", sec, np.random.default_rng(3), np.random.default_rng(4), body, look
    )
    assert novel.palette["floor"] != venue.palette["floor"]
    with pytest.raises(ValueError, match="unknown venue"):
        staged_scene("Lifting", "moon", sec, np.random.default_rng(3), None, body, look)


def test_clips_are_deterministic_and_differ_by_venue() -> None:
    clip_ss, actor_ss = clip_seeds("behaviour_only", "Lifting", 0, 0, seed=0)
    a, _ = render_staged_clip("Lifting", "Run-Side", SMALL, clip_ss, actor_ss)
    clip_ss, actor_ss = clip_seeds("behaviour_only", "Lifting", 0, 0, seed=0)
    b, _ = render_staged_clip("Lifting", "Run-Side", SMALL, clip_ss, actor_ss)
    np.testing.assert_array_equal(a, b)
    clip_ss, actor_ss = clip_seeds("behaviour_only", "Lifting", 0, 0, seed=0)
    c, _ = render_staged_clip("Lifting", "Golf-Swing", SMALL, clip_ss, actor_ss)
    assert a.shape == c.shape == (8, 32, 48, 3) and not np.array_equal(a, c)


def test_the_dataset_is_written_with_a_manifest(tmp_path) -> None:
    table = generate_conditions(tmp_path, ConditionsConfig(clips_per_pair=1), SMALL)
    manifest = read_manifest(tmp_path)
    assert len(manifest) == len(table) == 12 + 8
    assert sorted(manifest["split"].unique()) == sorted(CONDITIONS)
    assert {"venue", "is_anomaly"} <= set(manifest.columns)
    assert all((tmp_path / p).is_file() for p in manifest["path"])


def test_a_bad_parameter_is_one_error_line(tmp_path, capsys) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(
        "synth_conditions:\n  smoke: {clips_per_pair: 0}\n"
        "synth:\n  smoke:\n    seed: 0\n    workers: 1\n"
        "    actions: {clips_per_class: 4, height: 32, width: 32, num_frames: 8, fps: 8.0}\n"
        "    sports: {clips_scale: 0.5, height: 32, width: 48, num_frames: 8, fps: 8.0}\n"
    )
    assert main(["--profile", "smoke", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "clips_per_pair must be >= 1" in err
