"""Small, dependency-light plumbing shared by every method: configs, registry, seeding, devices,
run directories, checkpoints, data roots, progress, plots, the reproduction engine (units,
executors, resume) and claim verdicts. No paper maths lives here, and
nothing here imports a method package.
"""

from paperzoo.core.claims import ClaimSpec, Gate
from paperzoo.core.config import (
    ConfigError,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_toml,
    to_toml,
)
from paperzoo.core.data import DataMissingError, resolve_data_root
from paperzoo.core.device import resolve_device
from paperzoo.core.engine import (
    Results,
    Unit,
    UnitContext,
    UnitRecord,
    absolute_change,
    relative_change,
)
from paperzoo.core.errors import UsageError
from paperzoo.core.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from paperzoo.core.registry import Experiment, get_experiment, list_experiments, register
from paperzoo.core.results import summarize
from paperzoo.core.runs import RunDir
from paperzoo.core.seed import make_generator, seed_everything

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
