"""Typed configs: nested dataclasses loaded from TOML, with `section.key=value` overrides.

Every stage defines its own dataclass (DataConfig, ModelConfig, ...); this module only knows how to
fill any dataclass from a dict, strictly: an unknown key or a value of the wrong type raises a
ConfigError naming the key, because a silently ignored typo (`L_cycels = 6`) wastes a GPU-week.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import numpy as np

from arcsolve.errors import ConfigError
from arcsolve.io import read_input_bytes

T = TypeVar("T")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, where: str) -> Any:
    """Check `value` against the annotation `tp`; return it (ints widen to floats, lists to tuples)."""
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(where, f"'{key}' must be a table, got {type(value).__name__}")
        return from_dict(tp, value, where, prefix=f"{key}.")
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, where)
            except ConfigError as err:
                errors.append(err.what)
        raise ConfigError(where, errors[0] if len(errors) == 1 else f"'{key}' has the wrong type: {value!r}")
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(where, f"'{key}' must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(where, f"'{key}' must be a list, got {type(value).__name__}")
        (item_tp, *_rest) = get_args(tp) or (Any,)
        items = [_coerce(v, item_tp, f"{key}[{i}]", where) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is Any:
        return value
    if tp is np.ndarray:  # arrays travel inside checkpoints (e.g. the augmentation table), never in TOML
        if not isinstance(value, np.ndarray):
            raise ConfigError(where, f"'{key}' must be an array, got {type(value).__name__}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(where, f"'{key}' must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(where, f"'{key}' must be an integer, got {value!r}")
        # TOML integers are 64-bit, but tomllib reads any size; a bigger one would overflow later
        # (torch seeds, array sizes) with an error that no longer names the key.
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ConfigError(where, f"'{key}' must be a 64-bit integer, got {value}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(where, f"'{key}' must be a number, got {value!r}")
        # TOML allows nan and inf; no knob means anything with them, and `lr = nan` would only
        # surface steps later as a diverged loss.
        try:
            number = float(value)
        except OverflowError:  # an integer too big for a float
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(where, f"'{key}' must be a finite number, got {value!r}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(where, f"'{key}' must be a string, got {value!r}")
        return value
    raise ConfigError(where, f"'{key}' has an unsupported type {_type_name(tp)}")


def from_dict(cls: type[T], data: dict[str, Any], where: str = "config", prefix: str = "") -> T:
    """Build dataclass `cls` from `data`, rejecting unknown keys and wrong types by name."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise ConfigError(where, f"unknown key '{prefix}{unknown[0]}' (known keys here: {known})")
    kwargs = {name: _coerce(value, hints[name], f"{prefix}{name}", where) for name, value in data.items()}
    try:
        obj = cls(**kwargs)
    except TypeError as err:  # a required field with no default was left out
        raise ConfigError(where, f"missing key in '{prefix or 'top level'}': {err}") from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate(where)
    return obj


def checked(obj: T, where: str) -> T:
    """A config built in code (not read from TOML), put through the same typed checks and
    `validate()` as `from_dict`, so there is one checker for both."""
    return from_dict(type(obj), dataclasses.asdict(obj), where)  # type: ignore[arg-type]


def check_bounds(
    obj: Any,
    where: str,
    section: str,
    names: tuple[str, ...],
    low: float | None = None,
    high: float | None = None,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    """Raise ConfigError naming the first of `names` (fields of `obj`) outside the range: at least
    `low` (above it with open_low), at most `high` (below it with open_high). None values pass.
    Types are `from_dict`'s job; this is the one range checker of every config's `validate()`."""
    for name in names:
        value = getattr(obj, name)
        if value is None:
            continue
        above = low is None or (value > low if open_low else value >= low)
        below = high is None or (value < high if open_high else value <= high)
        if not (above and below):
            if high is None:
                rule = f"be {'>' if open_low else '>='} {low}"
            elif low is None:
                rule = f"be {'<' if open_high else '<='} {high}"
            else:
                rule = f"lie in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
            raise ConfigError(where, f"{section}{name} must {rule}, got {value!r}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """`model.hidden_size=128` -> (["model", "hidden_size"], 128). Values are read as TOML."""
    if "=" not in text:
        raise ConfigError("--set", f"expected key=value, got {text!r}")
    key, raw = text.split("=", 1)
    path = [part.strip() for part in key.strip().split(".")]
    if not all(path):
        raise ConfigError("--set", f"bad key {key!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except (ValueError, RecursionError):  # not TOML (or nested past Python's stack)
        value = raw.strip()  # a bare word such as `variant=mlp` is taken as a string
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with each `a.b=value` override set (tables are created as needed)."""
    merged = _deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = merged
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError("--set", f"'{'.'.join(path)}': '{part}' is not a table")
            node = child
        node[path[-1]] = value
    return merged


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    raw = read_input_bytes(path, "a TOML file", ConfigError)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(str(path), "not a UTF-8 text file") from None
    except ValueError as err:  # TOMLDecodeError, or an integer too long for int() (over 4300 digits)
        raise ConfigError(str(path), f"invalid TOML: {err}") from None
    except RecursionError:
        raise ConfigError(str(path), "invalid TOML: arrays or tables nested too deeply") from None


def load_config(cls: type[T], path: str | Path, overrides: list[str] | None = None) -> T:
    """Read a TOML file into dataclass `cls`, after applying `--set` overrides."""
    data = read_toml(path)
    try:
        data = apply_overrides(data, overrides or [])
    except RecursionError:  # `[a.a.a. ...]` tables parse fine but are too deep to copy
        raise ConfigError(str(path), "tables nested too deeply") from None
    return from_dict(cls, data, where=str(path))


def to_dict(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(data: dict[str, Any], _prefix: str = "") -> str:
    """Write a nested dict of scalars and lists as TOML (None values are left out, as TOML has no null)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) and v is not None]
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{_prefix}{key}"
            body = to_toml(value, f"{name}.")
            lines.append(f"\n[{name}]\n{body}" if body.strip() else f"\n[{name}]")
    return "\n".join(lines).strip("\n") + "\n"
