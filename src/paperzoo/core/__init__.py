"""Small, dependency-light plumbing shared by every method: configs, registry, seeding, devices,
run directories, checkpoints, data roots, progress, plots, the reproduction engine (units,
executors, resume; :mod:`paperzoo.core.engine`) and claim verdicts. No paper maths lives here,
and nothing here imports a method package or the application layer (:mod:`paperzoo.app`: what
``paperzoo reproduce``, ``finalize`` and ``report`` do).

Names are loaded on first use (PEP 562), so ``import paperzoo.core.errors`` or the registry
(what ``paperzoo --help`` and ``list`` need) does not import torch.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "ClaimSpec",
    "ConfigError",
    "DataMissingError",
    "Experiment",
    "Gate",
    "Results",
    "RunDir",
    "Unit",
    "UnitContext",
    "UnitRecord",
    "UsageError",
    "absolute_change",
    "apply_overrides",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "config_from_dict",
    "config_to_dict",
    "get_experiment",
    "late_new_high",
    "list_experiments",
    "load_toml",
    "make_generator",
    "register",
    "relative_change",
    "resolve_data_root",
    "resolve_device",
    "seed_everything",
    "summarize",
    "to_toml",
]

_WHERE = {
    "ClaimSpec": ".claims",
    "ConfigError": ".config",
    "DataMissingError": ".data",
    "Experiment": ".registry",
    "Gate": ".claims",
    "Results": ".engine",
    "RunDir": ".runs",
    "Unit": ".engine",
    "UnitContext": ".engine",
    "UnitRecord": ".engine",
    "UsageError": ".errors",
    "absolute_change": ".engine",
    "late_new_high": ".engine",
    "apply_overrides": ".config",
    "atomic_write_bytes": ".io",
    "atomic_write_json": ".io",
    "atomic_write_text": ".io",
    "config_from_dict": ".config",
    "config_to_dict": ".config",
    "get_experiment": ".registry",
    "list_experiments": ".registry",
    "load_toml": ".config",
    "make_generator": ".seed",
    "register": ".registry",
    "relative_change": ".engine",
    "resolve_data_root": ".data",
    "resolve_device": ".device",
    "seed_everything": ".seed",
    "summarize": ".results",
    "to_toml": ".config",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
