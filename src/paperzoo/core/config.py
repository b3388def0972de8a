"""Dataclass configs <-> plain dicts and TOML, and ``section.key=value`` overrides.

Every method's ``config.py`` holds ``@dataclass`` configs whose fields carry type hints; this
module uses those hints to type-check values coming from TOML files or the command line, and
rejects unknown keys with a message that lists the valid ones.

>>> from dataclasses import dataclass, field
>>> @dataclass
... class Opt:
...     lr: float = 1e-3
>>> @dataclass
... class Cfg:
...     steps: int = 10
...     opt: Opt = field(default_factory=Opt)
>>> apply_overrides(Cfg(), ["opt.lr=3e-4", "steps=5"])
Cfg(steps=5, opt=Opt(lr=0.0003))
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from paperzoo.core.errors import UsageError

T = TypeVar("T")

__all__ = [
    "ConfigError",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_toml",
    "to_toml",
]


class ConfigError(UsageError, ValueError):
    """An unknown key, a value of the wrong type, or a malformed override."""


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it (int->float, list->tuple)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{where}: None is not allowed (expected {_type_name(tp)})")
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not match {_type_name(tp)}")
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{where}: {value!r} is not one of {list(allowed)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(
                _coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))
            )
        item = args[0] if args else Any
        out = [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table/dict, got {value!r}")
        kt, vt = get_args(tp) or (Any, Any)
        return {_coerce(k, kt, where): _coerce(v, vt, f"{where}.{k}") for k, v in value.items()}
    if _is_dataclass_type(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of {tp.__name__} fields, got {value!r}")
        return config_from_dict(tp, value, _where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: unsupported field type {_type_name(tp)}")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A nested plain dict of a dataclass config (tuples become lists)."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(cfg)


def config_from_dict(cls: type[T], data: dict[str, Any], *, _where: str = "") -> T:
    """Build ``cls`` from a (possibly partial) nested dict; missing keys keep their defaults.

    Raises:
        ConfigError: for an unknown key (the message lists the valid keys) or a mistyped value.
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"{cls!r} is not a dataclass type")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {}
    for key, value in data.items():
        where = f"{_where}.{key}" if _where else key
        if key not in names:
            raise ConfigError(
                f"unknown config key '{where}'; valid keys"
                f"{' in ' + _where if _where else ''}: {', '.join(names)}"
            )
        kwargs[key] = _coerce(value, hints[key], where)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{_where or cls.__name__}: {e}") from e


def _parse_scalar(text: str) -> Any:
    """Parse an override value the way TOML would; bare words stay strings."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_for(text: str, tp: Any) -> Any:
    """Parse ``text`` for a field of type ``tp``: strings are taken verbatim when ``tp`` is str."""
    origin = get_origin(tp)
    args = get_args(tp)
    if tp is str or (origin is Literal and all(isinstance(a, str) for a in args)):
        return text
    if origin in (list, tuple) and not text.strip().startswith("["):
        # Allow the shell-friendly comma form: seeds=0,1,2
        item = args[0] if args else Any
        return [_parse_for(t.strip(), item) for t in text.split(",") if t.strip()]
    value = _parse_scalar(text)
    if tp is float and isinstance(value, str):
        try:
            return float(text)
        except ValueError:
            return value
    return value


def apply_overrides(cfg: T, overrides: list[str] | tuple[str, ...]) -> T:
    """Return a copy of ``cfg`` with ``section.key=value`` overrides applied and type-checked.

    Args:
        cfg: a dataclass config instance.
        overrides: strings like ``"train.lr=3e-4"``, ``"seeds=0,1,2"``, ``"model=banp"``.

    Raises:
        ConfigError: malformed override, unknown key (listing the valid ones) or a wrong type.
    """
    data = config_to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override '{item}' must look like section.key=value")
        path, text = item.split("=", 1)
        keys = [k.strip() for k in path.strip().split(".")]
        if not all(keys):
            raise ConfigError(f"override '{item}' has an empty key")
        cls: Any = type(cfg)
        node = data
        for depth, key in enumerate(keys):
            where = ".".join(keys[: depth + 1])
            names = [f.name for f in dataclasses.fields(cls)]
            if key not in names:
                parent = ".".join(keys[:depth])
                raise ConfigError(
                    f"unknown config key '{where}'; valid keys"
                    f"{' in ' + parent if parent else ''}: {', '.join(names)}"
                )
            tp = _hints(cls)[key]
            if depth == len(keys) - 1:
                if _is_dataclass_type(tp):
                    raise ConfigError(f"'{where}' is a section; set one of its keys instead")
                node[key] = _coerce(_parse_for(text, tp), tp, where)
            else:
                if not _is_dataclass_type(tp):
                    raise ConfigError(f"'{where}' is not a section (it is a {_type_name(tp)})")
                cls, node = tp, node[key]
    return config_from_dict(type(cfg), data)


def _drop_none(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    if isinstance(d, list):
        return [_drop_none(v) for v in d]
    return d


def to_toml(cfg: Any) -> str:
    """TOML text of a config; TOML has no null, so fields set to None are left out."""
    import tomli_w

    data = config_to_dict(cfg)
    body = tomli_w.dumps(_drop_none(data))
    return "# fields whose value is None are omitted (TOML has no null)\n" + body


def load_toml(cls: type[T], path: str | Path) -> T:
    """Load a config of type ``cls`` from a TOML file (a partial file keeps the other defaults)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    return config_from_dict(cls, data)
