"""Package namespaces that import their public names on first use (PEP 562).

A package ``__init__`` lists ``{name: module}`` and calls :func:`lazy_exports`; ``import
package`` then costs nothing, and ``package.name`` imports ``module`` once. This keeps the quick
commands (``paperzoo --help``, ``list``, ``data status``) free of torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, where: Mapping[str, str], names: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``.

    Args:
        package: the package's ``__name__``.
        where: public name -> module that defines it (relative, like ``".models"``, or absolute).
        names: the package's ``__all__``.
    """
    public = sorted(names)

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name], package), name)
            setattr(sys.modules[package], name, value)  # later lookups skip this function
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return public

    return __getattr__, __dir__
