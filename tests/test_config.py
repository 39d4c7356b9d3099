"""params.yaml handling: bad profiles, sections and parameters fail early with one clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from vidad.book.run_chapter import notebook_parameters, run_chapter
from vidad.config import PROFILES, ConfigError, load_params, stage_params
from vidad.synth.profile import synth_configs

REPO = Path(__file__).resolve().parents[1]


def test_every_stage_section_has_every_profile() -> None:
    params = load_params(REPO / "params.yaml")
    assert params["profile"] in PROFILES
    for section, value in params.items():
        if section == "profile":
            continue
        assert set(value) == set(PROFILES), section


def test_unknown_profile_and_section_are_rejected() -> None:
    params = load_params(REPO / "params.yaml")
    with pytest.raises(ConfigError, match="unknown profile 'laptop'"):
        stage_params(params, "synth", "laptop")
    with pytest.raises(ConfigError, match="no section 'nope'"):
        stage_params(params, "nope", "cpu")


def test_missing_params_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "params.yaml")


@pytest.mark.parametrize("profile", PROFILES)
def test_synth_configs_are_valid_for_every_profile(profile: str) -> None:
    configs = synth_configs(profile, REPO / "params.yaml")
    assert set(configs) == {"synth-actions", "synth-sports"}


def test_bad_synth_value_fails_before_any_compute(tmp_path: Path) -> None:
    params = load_params(REPO / "params.yaml")
    params["synth"]["smoke"]["actions"]["width"] = 63  # odd: H.264 needs even sizes
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="synth.smoke.actions"):
        synth_configs("smoke", path)
    params["synth"]["smoke"]["actions"]["width"] = 64
    params["synth"]["smoke"]["actions"]["colour"] = "red"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="colour"):
        synth_configs("smoke", path)


def test_notebook_parameters_are_read_from_the_tagged_cell() -> None:
    import jupytext

    from vidad.experiments import datasets

    nb = jupytext.read(REPO / "notebooks/01_datasets.py")
    assert notebook_parameters(nb) == {"profile", "params"}
    # the section's keys are the typed Config's fields, which papermill's `params` carries
    fields = {f.name for f in dataclasses.fields(datasets.Config)}
    params = load_params(REPO / "params.yaml")
    for profile in PROFILES:
        assert set(stage_params(params, "datasets", profile)) == fields


def test_undeclared_chapter_parameter_is_rejected_before_the_kernel_starts(tmp_path: Path) -> None:
    params = load_params(REPO / "params.yaml")
    params["datasets"]["smoke"]["probe_sise"] = 3  # a typo must not be silently ignored
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="probe_sise"):
        run_chapter(
            REPO / "notebooks/01_datasets.py",
            "datasets",
            "smoke",
            path,
            output_dir=tmp_path / "out",
        )
    assert not (tmp_path / "out" / "01_datasets.ipynb").exists()


def _synth_error(tmp_path: Path, edit) -> str:
    params = load_params(REPO / "params.yaml")
    edit(params["synth"]["smoke"])
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError) as err:
        synth_configs("smoke", path)
    return str(err.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda s: s["actions"].update(fps="12"),
            "params.yaml synth.smoke.actions.fps: expected float, got '12' (str)",
        ),
        (
            lambda s: s["sports"].update(height=[64]),
            "params.yaml synth.smoke.sports.height: expected int, got [64] (list)",
        ),
        (
            lambda s: s["actions"].update(clips_per_class=True),
            "params.yaml synth.smoke.actions.clips_per_class: expected int, got True (bool)",
        ),
        (
            lambda s: s.update(workers="2"),
            "params.yaml synth.smoke.workers: expected int, got '2' (str)",
        ),
        (
            lambda s: s.update(actions=5),
            "params.yaml synth.smoke.actions must be a mapping of key -> value, got 5",
        ),
        (
            lambda s: s["sports"].update(seed=1),
            "params.yaml synth.smoke.sports sets ['seed'], which synth.smoke sets for every "
            "dataset",
        ),
    ],
)
def test_synth_values_are_type_checked_before_any_compute(tmp_path: Path, edit, expected) -> None:
    assert _synth_error(tmp_path, edit) == expected
