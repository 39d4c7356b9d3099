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
