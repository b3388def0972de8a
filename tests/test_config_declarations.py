"""Every method's config declares what each field may hold: a number has its range (``PosInt``,
``Fraction``, ``Range(...)``), ``arms`` lists its names with ``OneOf``, so ``--set`` can never
pass an out-of-range value silently (a negative learning rate, an unknown arm)."""

import dataclasses
import typing

import pytest

from paperzoo.core.config import OneOf, Range
from paperzoo.core.registry import list_experiments

METHODS = sorted({e.method for e in list_experiments()})


def _config_class(method):
    exp = next(e for e in list_experiments(method) if e.preset == "smoke")
    return type(exp.make_config())


def _fields(cls, where=""):
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        yield f"{where}{f.name}", tp
        base = typing.get_args(tp)[0] if typing.get_origin(tp) is typing.Annotated else tp
        if dataclasses.is_dataclass(base):
            yield from _fields(base, f"{where}{f.name}.")


def _numbers_without_range(tp, ranged=False):
    """Numeric leaves of the annotation ``tp`` that no Range covers."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        ranged = ranged or any(isinstance(a, Range) for a in tp.__metadata__)
        return _numbers_without_range(args[0], ranged)
    if tp in (int, float):
        return [] if ranged else [tp.__name__]
    if origin is typing.Literal or tp in (bool, str, type(None)):
        return []
    if dataclasses.is_dataclass(tp):
        return []  # checked field by field
    out = []
    for a in args:
        if a is not Ellipsis:
            out += _numbers_without_range(a, ranged and origin not in (dict,))
    return out


@pytest.mark.parametrize("method", METHODS)
def test_every_number_declares_its_range(method):
    bad = [name for name, tp in _fields(_config_class(method)) if _numbers_without_range(tp)]
    assert not bad, f"{method}: fields without a declared range: {bad}"


@pytest.mark.parametrize("method", METHODS)
def test_arms_are_declared_by_name(method):
    hints = typing.get_type_hints(_config_class(method), include_extras=True)
    if "arms" not in hints:
        pytest.skip(f"{method} has no arms field")
    (item,) = typing.get_args(hints["arms"])
    assert typing.get_origin(item) is typing.Annotated and any(
        isinstance(a, OneOf) for a in item.__metadata__
    ), f"{method}: arms must be list[Annotated[str, OneOf(...)]]"
