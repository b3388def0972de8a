"""A run's config from a preset: the one path every entry point takes.

``paperzoo reproduce``, the torchrun DDP entry points, the Flower deployment and app, the
evaluation commands and the benchmarks all call :func:`build_config`, so a preset plus the same
``--set`` overrides gives the same validated config whichever way a method is run.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from paperzoo.core.config import ConfigError, apply_overrides, validate
from paperzoo.core.errors import UsageError
from paperzoo.core.registry import get_experiment

__all__ = ["add_config_arguments", "build_config", "config_from_args"]


def build_config(
    method: str, preset: str, seeds: int | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Any:
    """The preset's config with ``--seeds N`` (seeds 0..N-1) and ``--set`` overrides applied,
    every field validated against its declared range (defaults included).

    Raises:
        UsageError: unknown method or preset.
        ConfigError: an unknown key, a value out of range, no seed or a repeated seed.
    """
    exp = get_experiment(method, preset)
    cfg = exp.make_config()
    if "seeds" not in {f.name for f in dataclasses.fields(cfg)}:
        raise TypeError(f"{method}/{preset}: the config must have a 'seeds' field")
    if seeds is not None:
        if seeds < 1:
            raise ConfigError("--seeds must be at least 1")
        cfg = dataclasses.replace(cfg, seeds=list(range(seeds)))
    cfg = apply_overrides(cfg, list(overrides))
    if not cfg.seeds:
        raise ConfigError("seeds is empty: give at least one seed")
    if len(set(cfg.seeds)) != len(cfg.seeds):
        raise ConfigError(f"seeds {cfg.seeds} repeat a seed")
    validate(cfg)  # every field against its declared range, defaults included
    return cfg


def add_config_arguments(parser: argparse.ArgumentParser, default_preset: str = "quick") -> None:
    """``--preset`` and repeatable ``--set KEY=VALUE``: the options an entry point needs to build
    the same config as ``paperzoo reproduce --preset P --set ...``."""
    parser.add_argument(
        "--preset",
        default=default_preset,
        help=f"the config's preset (default {default_preset}; `paperzoo list` shows them)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, as `paperzoo reproduce --set` (repeatable)",
    )


def config_from_args(method: str, args: argparse.Namespace, prog: str | None = None) -> Any:
    """:func:`build_config` from the ``--preset`` / ``--set`` of :func:`add_config_arguments`;
    bad usage (unknown preset or key, a value out of range) prints one line and exits with
    status 2, as the ``paperzoo`` command does."""
    try:
        return build_config(method, args.preset, overrides=args.overrides)
    except UsageError as e:  # ConfigError is a UsageError
        print(f"{prog or sys.argv[0]}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
