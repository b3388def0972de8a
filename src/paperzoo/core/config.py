"""Dataclass configs <-> plain dicts and TOML, and ``section.key=value`` overrides.

Every method's ``config.py`` holds ``@dataclass`` configs whose fields carry type hints; this
module uses those hints to type-check values coming from TOML files or the command line, and
rejects unknown keys with a message that lists the valid ones.

A field declares its valid values in its annotation, next to its docstring, with
``Annotated[float, Range(gt=0)]`` (or the aliases :data:`PosFloat`, :data:`PosInt`,
:data:`NonNegInt`, :data:`NonNegFloat`, :data:`Fraction`) or ``Annotated[str, OneOf(...)]``
(also on the items of a list), and ``(low, high)`` pairs with ``Ordered()``. :func:`validate`
checks every field of a config, defaults included, and a dataclass may add cross-field rules
in a ``check(self)`` method that raises ``ValueError``. Floats are never NaN, and infinite
only where a ``Range`` says ``finite=False``.

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
import math
import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from paperzoo.core.errors import UsageError

T = TypeVar("T")

__all__ = [
    "ConfigError",
    "FiniteFloat",
    "Fraction",
    "NonNegFloat",
    "NonNegInt",
    "OneOf",
    "Ordered",
    "PosFloat",
    "PosInt",
    "Range",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_toml",
    "require_divisible",
    "to_toml",
    "validate",
]


class ConfigError(UsageError, ValueError):
    """An unknown key, a value of the wrong type, or a malformed override."""


@dataclasses.dataclass(frozen=True)
class Range:
    """The interval a number must lie in: ``Annotated[float, Range(gt=0, le=1)]``.

    ``ge``/``gt`` bound it from below (inclusive/exclusive), ``le``/``lt`` from above; ``finite``
    (default True) also refuses +-inf. NaN is always refused.
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    finite: bool = True

    def describe(self) -> str:
        """The allowed values in words, e.g. ``> 0``, ``in [0, 1]``, ``in (0, 1)``."""
        low = (
            (f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}")
            if (self.ge is not None or self.gt is not None)
            else None
        )
        high = (
            (f"{self.le:g}]" if self.le is not None else f"{self.lt:g})")
            if (self.le is not None or self.lt is not None)
            else None
        )
        if low and high:
            return f"in {low}, {high}"
        if low:
            return (">= " if low[0] == "[" else "> ") + low[1:]
        if high:
            return ("<= " if high[-1] == "]" else "< ") + high[:-1]
        return "finite" if self.finite else "a number"

    def check(self, value: float, where: str) -> None:
        """Raise :class:`ConfigError` naming ``where``, ``value`` and the range if it is outside."""
        bad = (
            math.isnan(value)
            or (self.finite and math.isinf(value))
            or (self.ge is not None and not value >= self.ge)
            or (self.gt is not None and not value > self.gt)
            or (self.le is not None and not value <= self.le)
            or (self.lt is not None and not value < self.lt)
        )
        if bad:
            raise ConfigError(f"{where} = {value!r} is out of range: it must be {self.describe()}")


@dataclasses.dataclass(frozen=True)
class OneOf:
    """The values a string may take: ``Annotated[str, OneOf("a", "b")]`` (or on list items)."""

    choices: tuple[str, ...]

    def __init__(self, *choices: str | tuple[str, ...] | list[str]) -> None:
        # OneOf("a", "b") or OneOf(NAMES) with NAMES a tuple of names
        flat = tuple(c for g in choices for c in ((g,) if isinstance(g, str) else g))
        object.__setattr__(self, "choices", flat)

    def check(self, value: Any, where: str) -> None:
        if value not in self.choices:
            raise ConfigError(
                f"{where} = {value!r} is not allowed: choose from {', '.join(self.choices)}"
            )


@dataclasses.dataclass(frozen=True)
class Ordered:
    """A ``(low, high)`` pair with ``low <= high``:
    ``Annotated[tuple[float, float], Ordered()]``."""

    def check(self, value: Any, where: str) -> None:
        low, high = value
        if low > high:
            raise ConfigError(f"{where} = ({low!r}, {high!r}) has low > high")


def require_divisible(cfg: Any, name: str, by: str) -> None:
    """Cross-field rule for ``check()``: ``cfg.<name>`` is a multiple of ``cfg.<by>`` (e.g. an
    attention width split evenly over its heads)."""
    a, b = getattr(cfg, name), getattr(cfg, by)
    if a % b:
        raise ValueError(f"{name} = {a} is not divisible by {by} = {b}")


PosFloat = Annotated[float, Range(gt=0)]
"""A float > 0 (learning rates, scales, temperatures)."""
NonNegFloat = Annotated[float, Range(ge=0)]
"""A float >= 0 (weights of optional loss terms, decays)."""
Fraction = Annotated[float, Range(ge=0, le=1)]
"""A float in [0, 1] (shares, probabilities)."""
PosInt = Annotated[int, Range(ge=1)]
"""An int >= 1 (sizes, steps, counts)."""
NonNegInt = Annotated[int, Range(ge=0)]
"""An int >= 0 (counts where 0 means none or "all")."""
FiniteFloat = Annotated[float, Range()]
"""Any finite float (a reference level that may be negative, an input interval's ends)."""


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _split(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[T, c1, c2]`` -> ``(T, (c1, c2))``; anything else -> ``(tp, ())``."""
    if get_origin(tp) is Annotated:
        base, *extras = get_args(tp)
        return base, tuple(e for e in extras if isinstance(e, (Range, OneOf, Ordered)))
    return tp, ()


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check_value(value: Any, constraints: tuple[Any, ...], where: str) -> None:
    """Apply ``Range``/``OneOf`` constraints (to every item of a list) and ``Ordered`` (to the
    pair as a whole)."""
    for c in constraints:
        if isinstance(c, Ordered) and value is not None:
            c.check(value, where)
    constraints = tuple(c for c in constraints if not isinstance(c, Ordered))
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_value(v, constraints, f"{where}[{i}]")
        return
    if isinstance(value, float) and math.isnan(value):
        raise ConfigError(f"{where} = nan is not a number")
    for c in constraints:
        if value is None:
            continue
        c.check(value, where)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it (int->float, list->tuple)."""
    tp, constraints = _split(tp)
    if constraints:
        infinite_ok = any(isinstance(c, Range) and not c.finite for c in constraints)
        if tp is float and infinite_ok and isinstance(value, float) and math.isinf(value):
            out: Any = value
        else:
            out = _coerce(value, tp, where)
        _check_value(out, constraints, where)
        return out
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
            if math.isnan(value):
                raise ConfigError(f"{where} = nan is not a number")
            if math.isinf(value):
                # Only a Range(finite=False) admits infinity (handled in the Annotated branch).
                raise ConfigError(f"{where} = {value!r} is out of range: it must be finite")
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: unsupported field type {_type_name(tp)}")


def _unknown_key(
    where: str,
    parent: str,
    names: list[str],
    renamed: dict[str, str] | None = None,
    retired: dict[str, str] | None = None,
) -> str:
    """``unknown config key 'train.lr' (did you mean 'learning_rate'?); valid keys in ...``."""
    import difflib

    key = where.rsplit(".", 1)[-1]
    if key in (retired or {}):
        return f"config key '{where}' was retired: {retired[key]}"  # type: ignore[index]
    guess = (renamed or {}).get(key) or next(iter(difflib.get_close_matches(key, names, 1)), None)
    hint = f" (did you mean '{guess}'?)" if guess else ""
    return (
        f"unknown config key '{where}'{hint}; valid keys"
        f"{' in ' + parent if parent else ''}: {', '.join(names)}"
    )


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

    A section's ``RENAMED`` ClassVar maps a stored run's former key to its field's new name;
    ``RETIRED`` maps a removed key to why it went: stored runs that carry it still load (the
    key is skipped), and ``--set`` with it is refused with that reason.

    Raises:
        ConfigError: for an unknown key (the message lists the valid keys) or a mistyped value.
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"{cls!r} is not a dataclass type")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    renamed: dict[str, str] = getattr(cls, "RENAMED", {})
    retired: dict[str, str] = getattr(cls, "RETIRED", {})
    kwargs = {}
    for key, value in data.items():
        if key in retired and key not in names:
            # A stored run's field that no longer exists (``RETIRED`` says why): its value
            # meant something the current code does not measure, so it is not mapped onto a
            # new field; the run's ledger keeps what it was.
            continue
        # Stored runs (config.json) may use a field's former name: read it under the new one.
        old, key = key, renamed.get(key, key)
        where = f"{_where}.{key}" if _where else key
        if key not in names:
            raise ConfigError(_unknown_key(where, _where, names))
        if old != key and get_origin(_split(hints[key])[0]) is list and not isinstance(value, list):
            value = [value]  # a former single-value field that became a list (``x`` -> ``xs``)
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
    tp, _ = _split(tp)
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
                raise ConfigError(
                    _unknown_key(
                        where,
                        ".".join(keys[:depth]),
                        names,
                        getattr(cls, "RENAMED", {}),
                        getattr(cls, "RETIRED", {}),
                    )
                )
            tp = _hints(cls)[key]
            if depth == len(keys) - 1:
                if _is_dataclass_type(tp):
                    raise ConfigError(f"'{where}' is a section; set one of its keys instead")
                node[key] = _coerce(_parse_for(text, tp), tp, where)
            else:
                if _dict_type(tp) is not None:
                    # ``section.table.name=value`` (or ``table.a.b=value`` for a table of
                    # tables): one entry of a dict field (a level per data set, say), the
                    # others kept
                    node[key] = _set_entry(node.get(key), tp, keys[depth + 1 :], text, where)
                    break
                if not _is_dataclass_type(tp):
                    raise ConfigError(f"'{where}' is not a section (it is a {_type_name(tp)})")
                cls, node = tp, node[key]
    return config_from_dict(type(cfg), data)


def _set_entry(current: Any, tp: Any, names: list[str], text: str, where: str) -> Any:
    """``current`` (a value of the dict type inside ``tp``) with the entry at ``names`` set."""
    table = _dict_type(tp)
    name = names[0]
    if table is None or not isinstance(current, dict):
        raise ConfigError(
            f"'{where}' holds {current!r}, not a table: set it whole, e.g. "
            f"--set '{where}={{{name} = ...}}'"
        )
    value_tp = get_args(table)[1]
    here = f"{where}.{name}"
    if len(names) == 1:
        return {**current, name: _coerce(_parse_for(text, value_tp), value_tp, here)}
    inner = current.get(name, {} if _dict_type(value_tp) is not None else None)
    return {**current, name: _set_entry(inner, value_tp, names[1:], text, here)}


def _dict_type(tp: Any) -> Any:
    """The ``dict[K, V]`` annotation inside ``tp`` (itself, in a union, or annotated), else
    None."""
    base, _ = _split(tp)
    if get_origin(base) is dict:
        return base
    if get_origin(base) in (Union, types.UnionType):
        return next((a for a in get_args(base) if get_origin(_split(a)[0]) is dict), None)
    return None


def validate(cfg: Any, *, _where: str = "") -> None:
    """Check every field of a config against its type and declared range, defaults included.

    Nested configs are checked recursively, then the dataclass's own ``check()`` (cross-field
    rules) runs if it has one; a ``ValueError`` from it becomes a :class:`ConfigError`.

    Raises:
        ConfigError: naming the first offending field (``train.lr``), its value and the range.
    """
    hints = _hints(type(cfg))
    for f in dataclasses.fields(cfg):
        where = f"{_where}.{f.name}" if _where else f.name
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            validate(value, _where=where)
            continue
        _coerce(value, hints[f.name], where)
    check = getattr(cfg, "check", None)
    if callable(check):
        try:
            check()
        except ConfigError:
            raise
        except ValueError as e:
            raise ConfigError(f"{_where + ': ' if _where else ''}{e}") from e


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
