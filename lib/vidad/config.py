"""Reading ``params.yaml``: one profile column per stage, validated before any compute.

``params.yaml`` is organised by stage, then by profile (``synth.cpu``, ``datasets.smoke``...),
so DVC can depend on exactly one stage's column of the active profile: changing a chapter's
parameter re-runs that chapter and the book, nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu")
DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """A parameter file, profile or section is missing or wrong."""


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Load the whole parameter file, with a clear error when it is absent or not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"parameter file {path} not found (run from the project root)")
    params = yaml.safe_load(path.read_text())
    if not isinstance(params, dict):
        raise ConfigError(f"{path} must hold a mapping of stage -> profile -> values")
    return params


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is known, else raise one error listing the valid ones."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    return profile


def active_profile(params: dict[str, Any]) -> str:
    """The profile named by the file's top-level ``profile`` key."""
    if "profile" not in params:
        raise ConfigError("params.yaml has no top-level 'profile' key")
    return check_profile(str(params["profile"]))


def stage_params(params: dict[str, Any], stage: str, profile: str) -> dict[str, Any]:
    """The ``stage``'s values for ``profile`` (a copy); one clear error if anything is missing."""
    check_profile(profile)
    if stage not in params:
        raise ConfigError(
            f"params.yaml has no section {stage!r}; sections: "
            f"{sorted(k for k in params if k != 'profile')}"
        )
    section = params[stage]
    if not isinstance(section, dict) or profile not in section:
        raise ConfigError(f"params.yaml section {stage!r} has no {profile!r} profile")
    return dict(section[profile])


def build_dir(profile: str, root: str | Path = ".") -> Path:
    """Where a profile's generated data, executed notebooks and figures go."""
    return Path(root) / "build" / check_profile(profile)


def results_dir(profile: str, root: str | Path = ".") -> Path:
    """Where a profile's metrics JSON files go (the ``cpu`` ones are committed)."""
    return Path(root) / "results" / check_profile(profile)
