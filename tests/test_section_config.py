"""Typed params.yaml sections: every value checked against its field before any compute."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
import yaml

from vidad.book.run_chapter import chapter_parameters
from vidad.book.stages import STAGES
from vidad.config import PROFILES, ConfigError, SectionConfig

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Example(SectionConfig):
    SECTION = "example"
    lr: float
    epochs: int
    motion: bool
    depths: list[int | Literal["increasing", "decreasing"]]
    options: dict[str, dict[str, int]] = field(default_factory=dict)
    note: str | None = None

    def validate(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")


GOOD = {"lr": 0.003, "epochs": 2, "motion": True, "depths": [1, "increasing"]}


def test_a_good_section_builds_and_an_int_is_a_float() -> None:
    config = Example.from_params({**GOOD, "lr": 1})
    assert config.lr == 1 and config.options == {} and config.note is None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("lr", "3e-3", "lr: expected float, got '3e-3' (str)"),  # YAML 1.1 reads 3e-3 as str
        ("epochs", "30", "epochs: expected int, got '30' (str)"),
        ("epochs", 2.0, "epochs: expected int"),
        ("epochs", True, "epochs: expected int"),
        ("motion", "false", "motion: expected bool, got 'false' (str)"),
        ("depths", 3, "depths: expected list"),
        ("depths", [1, "sideways"], "depths: expected list[int | 'increasing' | 'decreasing']"),
        ("options", {"a": {"b": "1"}}, "options: expected dict[str, dict[str, int]]"),
    ],
)
def test_a_mistyped_value_is_one_error_naming_key_value_and_type(key, value, expected) -> None:
    with pytest.raises(ConfigError) as err:
        Example.from_params({**GOOD, key: value}, "params.yaml example.cpu")
    assert str(err.value).startswith(f"params.yaml example.cpu.{key}: ")
    assert expected in str(err.value)


def test_unknown_missing_and_cross_field_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown keys \['epoch'\]"):
        Example.from_params({**GOOD, "epoch": 3})
    without = {k: v for k, v in GOOD.items() if k != "motion"}
    with pytest.raises(ConfigError, match=r"lacks keys \['motion'\]"):
        Example.from_params(without)
    with pytest.raises(ConfigError, match="example: epochs must be >= 1, got 0"):
        Example.from_params({**GOOD, "epochs": 0})
    with pytest.raises(ConfigError, match="must be a mapping"):
        Example.from_params(5)  # type: ignore[arg-type]


def test_load_reads_params_yaml_when_no_params_are_passed(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"profile": "cpu", "example": {"cpu": GOOD}}))
    assert Example.load("cpu", None, path).depths == [1, "increasing"]
    assert Example.load("cpu", {**GOOD, "epochs": 7}, path).epochs == 7


CHAPTER_STAGES = [s for s in STAGES if s.notebook]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("stage", CHAPTER_STAGES, ids=lambda s: s.name)
def test_every_chapter_has_a_config_that_accepts_every_profile(stage, profile) -> None:
    config_class = importlib.import_module(f"vidad.experiments.{stage.name}").Config
    assert stage.name == config_class.SECTION
    values = chapter_parameters(stage.name, profile, REPO / "params.yaml")["params"]
    config = config_class.load(profile, values)
    assert {k: config.as_params()[k] for k in values} == values  # same names end to end


def test_a_mistyped_chapter_value_fails_before_the_kernel_starts(tmp_path: Path) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["c3d"]["smoke"]["epochs"] = "3"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match=r"params.yaml c3d.smoke.epochs: expected int"):
        chapter_parameters("c3d", "smoke", path)


# --- the issue's cases, end to end through the stage command lines -------------------------------

PARAMS_TEXT = (REPO / "params.yaml").read_text()


def _sub(old: str, new: str):
    """An edit of params.yaml's text: the first ``old`` (which must be there) becomes ``new``."""

    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def _section_as(section: str, replacement: str):
    """An edit that rewrites the whole ``section:`` block (up to the next blank line)."""

    def edit(text: str) -> str:
        start = text.index(f"\n{section}:\n") + 1
        end = text.index("\n\n", start)
        return text[:start] + replacement + text[end:]

    return edit


# (section, edit of params.yaml's text, what the one error line must say)
ISSUE_CASES = {
    "string for int": (
        "datasets",
        _sub("    probe_epochs: 2\n", '    probe_epochs: "30"\n'),
        "params.yaml datasets.smoke.probe_epochs: expected int, got '30' (str)",
    ),
    "list for number": (
        "datasets",
        _sub("    probe_size: 16 ", "    probe_size: [16, 16] "),
        "params.yaml datasets.smoke.probe_size: expected int, got [16, 16] (list)",
    ),
    "yaml 1.1 float": (  # YAML 1.1 reads 3e-3 (no dot) as a string
        "c3d",
        _sub("    lr: 0.003\n", "    lr: 3e-3\n"),
        "params.yaml c3d.smoke.lr: expected float, got '3e-3' (str)",
    ),
    "string for bool": (
        "c3d",
        _sub("    motion: true\n", '    motion: "false"\n'),
        "params.yaml c3d.smoke.motion: expected bool, got 'false' (str)",
    ),
    "deleted key": (
        "datasets",
        _sub("    probe_epochs: 2\n", ""),
        "params.yaml datasets.smoke lacks keys ['probe_epochs']",
    ),
    "section as scalar": (
        "c3d",
        _section_as("c3d", "c3d: 5"),
        "params.yaml section 'c3d' must be a mapping of profile -> values, got 5",
    ),
    "profile as scalar": (
        "c3d",
        _section_as("c3d", "c3d: {smoke: 5, cpu: 5, gpu: 5}"),
        "params.yaml c3d.smoke must be a mapping of key -> value, got 5",
    ),
    "malformed yaml": (
        "c3d",
        _sub("    lr: 0.003\n", "    lr: [0.003\n"),
        "params.yaml is not valid YAML at line 76, column 9: while parsing a flow sequence; "
        "expected ',' or ']', but got ':' (line 77, column 17)",
    ),
    "duplicate key": (
        "datasets",
        _sub("    probe_epochs: 2\n", "    probe_epochs: 2\n    probe_epochs: 3\n"),
        "params.yaml is not valid YAML at line 38, column 5: key 'probe_epochs' is set twice "
        "(first at line 37)",
    ),
}
CHAPTER_SOURCES = {s.name: REPO / s.source for s in CHAPTER_STAGES}


def _broken_params(folder: Path, edit) -> Path:
    path = folder / "params.yaml"
    path.write_text(edit(PARAMS_TEXT))
    return path


def _one_error_line(err: str, expected: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(("section", "edit", "expected"), ISSUE_CASES.values(), ids=ISSUE_CASES)
def test_the_issues_bad_params_are_one_line_and_status_2_from_run_chapter(
    tmp_path: Path, capsys, section, edit, expected
) -> None:
    from vidad.book.run_chapter import main

    path = _broken_params(tmp_path, edit)
    argv = [str(CHAPTER_SOURCES[section]), "--section", section, "--profile", "smoke"]
    status = main([*argv, "--params", str(path), "--output-dir", str(tmp_path / "out")])
    assert status == 2
    _one_error_line(capsys.readouterr().err, expected.replace("params.yaml is", f"{path} is"))
    assert not (tmp_path / "out").exists()  # nothing ran


PRETRAIN_CASES = {
    "yaml 1.1 float": ISSUE_CASES["yaml 1.1 float"][1:],  # pretrain merges the smoke recipe too
    "string for bool": ISSUE_CASES["string for bool"][1:],
    "list for number": (
        _sub("    epochs: 1\n", "    epochs: [1]\n"),
        "params.yaml pretrain.smoke.epochs: expected int, got [1] (list)",
    ),
    "deleted key": (
        _sub("    backbone_options: {timesformer: {patch_size: 8}}\n", ""),
        "params.yaml pretrain.smoke lacks keys ['backbone_options']",
    ),
    "section as scalar": (
        _section_as("pretrain", "pretrain: [r2plus1d_18]"),
        "params.yaml section 'pretrain' must be a mapping of profile -> values, "
        "got ['r2plus1d_18']",
    ),
    "profile as scalar": (
        _section_as("pretrain", "pretrain: {smoke: 5, cpu: 5, gpu: 5}"),
        "params.yaml pretrain.smoke must be a mapping of key -> value, got 5",
    ),
    "malformed yaml": ISSUE_CASES["malformed yaml"][1:],
}


@pytest.mark.parametrize(("edit", "expected"), PRETRAIN_CASES.values(), ids=PRETRAIN_CASES)
def test_the_issues_bad_params_are_one_line_and_status_2_from_pretrain(
    tmp_path: Path, capsys, edit, expected
) -> None:
    from vidad.experiments.pretrain import main

    path = _broken_params(tmp_path, edit)
    expected = expected.replace("c3d.smoke", "pretrain.smoke")
    assert main(["--profile", "smoke", "--root", str(tmp_path)]) == 2
    _one_error_line(capsys.readouterr().err, expected.replace("params.yaml is", f"{path} is"))
    assert not (tmp_path / "build").exists() and not (tmp_path / "results").exists()


def _typed_sections():
    from vidad.synth.interact import InteractConfig
    from vidad.synth.ped import PedConfig

    configs = {s.name: importlib.import_module(f"vidad.experiments.{s.name}").Config for s in
               CHAPTER_STAGES}  # fmt: skip
    return {**configs, "synth_ped": PedConfig, "synth_interact": InteractConfig}


FUZZ_VALUES = ["30", "3e-3", "false", "", [1], [], {"a": 1}, None, True, 0, -1, 1.5, float("nan")]


@pytest.mark.parametrize(("section", "config_class"), _typed_sections().items())
def test_any_value_of_any_key_is_accepted_or_one_config_error_never_a_crash(
    section, config_class
) -> None:
    from vidad.config import load_params, stage_params

    base = stage_params(load_params(REPO / "params.yaml"), section, "smoke")
    for key in base:
        for value in FUZZ_VALUES:
            try:
                config_class.from_params({**base, key: value}, f"params.yaml {section}.smoke")
            except ConfigError as err:
                assert "\n" not in str(err) and str(err).startswith(f"params.yaml {section}.")
