"""Registry of (method, preset) experiments, discovered lazily.

A method package registers its presets in its ``repro/experiments.py`` with :func:`register`;
its train module (``units``/``run_unit``/``claims``, see :mod:`paperzoo.core.engine`) is named
by a string and imported only when a run starts, so ``paperzoo list`` never imports training
code or heavy optional dependencies.

Discovery imports ``paperzoo.<package>.repro.experiments`` for every sub-package that has one; the
core, datasets and app packages are never methods.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperzoo.core.errors import UsageError

__all__ = [
    "Experiment",
    "discover",
    "get_experiment",
    "list_experiments",
    "measured_minutes",
    "method_commands",
    "register",
]

_NOT_METHODS = {"app", "core", "datasets"}
_REGISTRY: dict[tuple[str, str], Experiment] = {}
_DISCOVERED = False


@dataclass(frozen=True)
class Experiment:
    """One named preset of one method.

    Attributes:
        method: package name, e.g. ``"neural_processes"``.
        preset: ``"smoke"`` (< 30 s CPU), ``"quick"`` (the CPU reproduction), ``"paper"``, ...
        summary: one line for ``paperzoo list`` (the docstring's first paragraph, joined).
        cpu_minutes: expected wall time on 2 CPU cores, for ``paperzoo list``.
        make_config: builds the preset's config (a dataclass with a ``seeds`` field).
        module: the method's train module (``units``, ``run_unit``, ``claims``), imported only
            when a run starts.
        needs_data: dataset names (``paperzoo data status``) the preset reads from the data root.
        doc: the preset function's full docstring (which table/figure it targets).
    """

    method: str
    preset: str
    summary: str
    cpu_minutes: float
    make_config: Callable[[], Any]
    module: str
    needs_data: tuple[str, ...] = ()
    doc: str = ""

    def load_module(self) -> Any:
        """Import the train module (this is where training code gets imported)."""
        mod = importlib.import_module(self.module)
        missing = [f for f in ("units", "run_unit") if not hasattr(mod, f)]
        if missing:
            raise TypeError(f"{self.module} lacks {', '.join(missing)} (see core.engine)")
        return mod

    def load_claims(self) -> Callable[[Any], Any]:
        """The method's ``claims(results)``: from its ``claims`` module (sibling of the train
        module) when it has one, else from the train module."""
        package = self.module.rpartition(".")[0]
        name = f"{package}.claims" if package else "claims"
        try:
            return importlib.import_module(name).claims
        except ModuleNotFoundError as e:
            if not (e.name and name.startswith(e.name)):
                raise
        mod = importlib.import_module(self.module)
        if not hasattr(mod, "claims"):
            raise TypeError(f"{self.module} has no claims() and there is no {name} module")
        return mod.claims


def register(
    method: str,
    preset: str,
    *,
    cpu_minutes: float,
    needs_data: tuple[str, ...] = (),
    module: str | None = None,
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Decorator for a zero-argument function that returns a preset's config.

    ``module`` is the train module (default ``paperzoo.<method>.repro.train``).

    >>> @register("demo_method", "smoke", cpu_minutes=0.2, module="mypkg.train")
    ... def smoke():
    ...     '''Tiny run for tests.'''
    ...     return MyConfig(steps=10)
    """
    module = module or f"paperzoo.{method}.repro.train"

    def deco(fn: Callable[[], Any]) -> Callable[[], Any]:
        key = (method, preset)
        if key in _REGISTRY and _REGISTRY[key].make_config is not fn:
            raise ValueError(f"experiment {method}/{preset} is registered twice")
        doc = (fn.__doc__ or "").strip()
        _REGISTRY[key] = Experiment(
            method=method,
            preset=preset,
            summary=" ".join(doc.split("\n\n")[0].split()) if doc else "",
            cpu_minutes=float(cpu_minutes),
            make_config=fn,
            module=module,
            needs_data=tuple(needs_data),
            doc=doc,
        )
        return fn

    return deco


def discover() -> None:
    """Import every method package's ``experiments`` module once (cheap: configs only)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import paperzoo

    for info in sorted(pkgutil.iter_modules(paperzoo.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in _NOT_METHODS:
            continue
        name = f"paperzoo.{info.name}.repro.experiments"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    _DISCOVERED = True


def method_commands() -> list[Any]:
    """Command modules of the methods (``paperzoo.<method>.repro.commands``), for the CLI.

    Such a module defines ``COMMAND`` (the sub-command name, e.g. ``"retro"``), ``HELP`` (one
    line), ``add_arguments(parser)`` and ``run(args) -> int``, and imports nothing heavy at
    module level (``paperzoo --help`` imports every one of them).
    """
    import paperzoo

    out = []
    for info in sorted(pkgutil.iter_modules(paperzoo.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name in _NOT_METHODS:
            continue
        name = f"paperzoo.{info.name}.repro.commands"
        if importlib.util.find_spec(name) is not None:
            mod = importlib.import_module(name)
            missing = [
                a for a in ("COMMAND", "HELP", "add_arguments", "run") if not hasattr(mod, a)
            ]
            if missing:
                raise TypeError(f"{name} lacks {', '.join(missing)}")
            out.append(mod)
    return out


def list_experiments(method: str | None = None) -> list[Experiment]:
    """All registered experiments (after discovery), sorted by method then cost."""
    discover()
    exps = [e for e in _REGISTRY.values() if method is None or e.method == method]
    return sorted(exps, key=lambda e: (e.method, e.cpu_minutes, e.preset))


def get_experiment(method: str, preset: str) -> Experiment:
    """Look up one experiment; unknown names are a :class:`UsageError` listing the valid ones."""
    discover()
    methods = sorted({m for m, _ in _REGISTRY})
    if method not in methods:
        raise UsageError(f"unknown method '{method}'; known methods: {', '.join(methods)}")
    if (method, preset) not in _REGISTRY:
        presets = [e.preset for e in list_experiments(method)]
        raise UsageError(
            f"unknown preset '{preset}' for {method}; known presets: {', '.join(presets)}"
        )
    return _REGISTRY[(method, preset)]


def _docs_results() -> Path | None:
    """``docs/results`` of a source checkout (absent in an installed wheel)."""
    p = Path(__file__).resolve().parents[3] / "docs" / "results"
    return p if p.is_dir() else None


def measured_minutes(
    method: str, preset: str, docs_root: str | Path | None = None, config: Any = None
) -> tuple[float, int] | None:
    """(wall minutes, workers) of the committed run of ``method/preset``, if it recorded them.

    Reads ``docs/results/<method>/<preset>/results.json`` (``runtime_s`` sums every session of
    a resumed run); None when there is no committed run, it predates that record, or (given
    ``config``) the committed run used another configuration than ``config``.
    """
    root = Path(docs_root) if docs_root is not None else _docs_results()
    if root is None:
        return None
    folder = root / method / preset
    try:
        res = json.loads((folder / "results.json").read_text("utf-8"))
        if config is not None:
            import tomllib

            from paperzoo.core.config import ConfigError, config_from_dict, config_to_dict

            # Compared as configs, not as text: a stored run written under a field's former
            # name (``RENAMED``) is the same configuration.
            try:
                stored = config_from_dict(
                    type(config), tomllib.loads((folder / "config.toml").read_text("utf-8"))
                )
            except (ConfigError, TypeError):
                return None
            if config_to_dict(stored) != config_to_dict(config):
                return None  # the preset changed since: its old time says nothing
    except (OSError, ValueError):
        return None
    runtime = res.get("runtime_s")
    if not isinstance(runtime, (int, float)) or runtime <= 0:
        return None
    return float(runtime) / 60.0, int(res.get("workers") or 1)
