"""Reading ``params.yaml``: one profile column per stage, validated before any compute.

``params.yaml`` is organised by stage, then by profile (``synth.cpu``, ``datasets.smoke``...),
so DVC can depend on exactly one stage's column of the active profile: changing a chapter's
parameter re-runs that chapter and the book, nothing else.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import yaml

PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu")
DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """A parameter file, profile or section is missing or wrong."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load``, except that a key set twice in one mapping is an error.

    (PyYAML silently keeps the last value.) Keys merged in with ``<<: *anchor`` may still be
    overridden: only the mapping's own keys are compared.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not key_node.start_mark:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is set twice (first at line {first.line + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep)


def _yaml_error(path: Path, err: yaml.YAMLError) -> ConfigError:
    """One line naming the file, the line and column, and what the parser expected."""
    if not isinstance(err, yaml.MarkedYAMLError):
        return ConfigError(f"{path} is not valid YAML: {' '.join(str(err).split())}")
    first = err.context_mark or err.problem_mark
    where = f" at line {first.line + 1}, column {first.column + 1}" if first else ""
    problem = err.problem or ""
    if err.problem_mark and err.problem_mark is not first:
        problem += f" (line {err.problem_mark.line + 1}, column {err.problem_mark.column + 1})"
    details = "; ".join(" ".join(s.split()) for s in (err.context, problem) if s)
    return ConfigError(f"{path} is not valid YAML{where}: {details}")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Load the whole parameter file; one :class:`ConfigError` line when it is absent, is not
    valid YAML (naming the line), sets a key twice or is not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"parameter file {path} not found (run from the project root)")
    try:
        params = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not UTF-8 text (byte {err.start}): {err.reason}") from err
    except yaml.YAMLError as err:
        raise _yaml_error(path, err) from err
    if not isinstance(params, dict):
        raise ConfigError(
            f"{path} must hold a mapping of stage -> profile -> values, got {_short(params)}"
        )
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
            f"{sorted((k for k in params if k != 'profile'), key=str)}"
        )
    section = params[stage]
    if not isinstance(section, dict):
        raise ConfigError(
            f"params.yaml section {stage!r} must be a mapping of profile -> values, "
            f"got {_short(section)}"
        )
    if profile not in section:
        raise ConfigError(f"params.yaml section {stage!r} has no {profile!r} profile")
    values = section[profile]
    if not isinstance(values, dict):
        raise ConfigError(
            f"params.yaml {stage}.{profile} must be a mapping of key -> value, got {_short(values)}"
        )
    return dict(values)


# --- typed sections -------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (types.UnionType, typing.Union):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(tp) if a is not Ellipsis)
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return "None" if tp is type(None) else getattr(tp, "__name__", str(tp))


def _matches(value: Any, tp: Any) -> bool:
    """Whether a YAML-loaded ``value`` has the declared type ``tp`` (no coercion).

    Strict where YAML is treacherous: ``"false"`` is not a bool, ``"30"`` is not an int and
    ``3e-3`` (which YAML 1.1 reads as a string) is not a float; an int is accepted as a float.
    """
    if tp is Any:
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return any(_matches(value, a) for a in args)
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple, collections.abc.Sequence):
        if not isinstance(value, list | tuple):
            return False
        item = args[0] if args else Any
        return all(_matches(v, item) for v in value)
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            return False
        key, val = args if args else (Any, Any)
        return all(_matches(k, key) and _matches(v, val) for k, v in value.items())
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


class FieldTypeError(ValueError):
    """A value whose type is not the one its field declares (the message starts with the key)."""


@dataclasses.dataclass(frozen=True)
class SectionConfig:
    """Base of every stage's settings: its fields *are* the ``params.yaml`` section's keys.

    Every value is checked against its annotation when the object is built, and
    :meth:`from_params` names the unknown, missing or mistyped key in one line, so a wrong
    ``params.yaml`` fails before any compute (``run_chapter`` builds the config before the
    kernel starts). Subclasses set ``SECTION`` and add cross-field checks in :meth:`validate`.
    """

    SECTION: typing.ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not _matches(value, hints[f.name]):
                raise FieldTypeError(
                    f"{f.name}: expected {_type_name(hints[f.name])}, "
                    f"got {value!r} ({type(value).__name__})"
                )
        self.validate()

    def validate(self) -> None:
        """Cross-field checks of a subclass; raise ValueError naming the keys."""

    @classmethod
    def from_params(cls, values: dict[str, Any], where: str | None = None) -> typing.Self:
        """Build from one ``params.yaml`` column; one :class:`ConfigError` for anything wrong."""
        where = where or f"params.yaml {cls.SECTION}"
        if not isinstance(values, dict):
            raise ConfigError(f"{where} must be a mapping of key -> value, got {_short(values)}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names), key=str)
        if unknown:
            raise ConfigError(f"{where} has unknown keys {unknown}; valid keys: {names}")
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        missing = [n for n in required if n not in values]
        if missing:
            raise ConfigError(f"{where} lacks keys {missing}; set them (they have no default)")
        try:
            return cls(**values)
        except (TypeError, ValueError) as err:
            sep = "." if isinstance(err, FieldTypeError) else ": "
            raise ConfigError(f"{where}{sep}{err}") from err

    @classmethod
    def load(
        cls,
        profile: str,
        params: dict[str, Any] | None = None,
        params_file: str | Path = DEFAULT_PARAMS,
    ) -> typing.Self:
        """The section for ``profile``: ``params`` when given (papermill passes it), else
        read from ``params_file``, so a notebook run by hand uses the same values as the book.
        """
        if params is None:
            params = stage_params(load_params(params_file), cls.SECTION, profile)
        return cls.from_params(params, f"params.yaml {cls.SECTION}.{profile}")

    def as_params(self) -> dict[str, Any]:
        """The section as ``params.yaml`` spells it (for run keys and metadata)."""
        return dataclasses.asdict(self)
