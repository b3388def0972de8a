"""The reproduction engine: run a method's units (serially, in local processes or on Ray),
resume them, collect per-seed results and judge the declared claims.

A method provides three functions and nothing else the engine needs:

* ``units(config) -> list[Unit]``: the independent pieces of work, each with a stable key; a
  unit may name earlier units in ``deps`` (a teacher per seed that students then load);
* ``run_unit(config, unit, ctx) -> dict[str, float]``: one unit's loop; checkpoints, curves
  and files go through ``ctx`` (:class:`UnitContext`). A unit that measures several arms at
  once (one shared evaluation of many predictors) returns ``{arm: {metric: value}}`` instead;
  ``unit.arm`` then only names the group;
* ``claims(results) -> list[ClaimSpec]``: the paper's claims, declared (see
  :mod:`paperzoo.core.claims`), a pure function of :class:`Results`, in the method's
  ``claims.py`` (or in the train module);

and optionally ``preflight(config, data_root)`` (called once before any unit runs, e.g. to fail
on missing data at once). The method's ``figures.py`` provides ``figures(results, run_dir)`` and
optionally ``tables(results) -> {title: markdown}`` and ``notes(results) -> str`` (settings and
deviations for the report).

Every unit runs with the global RNGs seeded from ``unit.seed`` and a fixed number of torch
threads, so the same seeds give the same per-unit numbers with one worker, N workers or Ray.
A finished unit's record is written atomically to ``units/<key>.json`` by the driver, with the
git commit and dirty flag of the session that computed it; a resumed run never redoes it. A
unit that raises, or whose worker process dies, is retried once and then reported as failed
with its traceback, while the other units carry on.

The pieces, one module each:

* :mod:`~paperzoo.core.engine.model`: :class:`Unit`, :class:`UnitRecord`, :class:`Results`,
  :class:`UnitsFailed` and where a unit's record, artifacts and checkpoints live;
* :mod:`~paperzoo.core.engine.curves`: convergence measures of a curve for claim gates
  (:func:`late_change`, :func:`relative_change`, :func:`absolute_change`,
  :func:`late_new_high`);
* :mod:`~paperzoo.core.engine.context`: :class:`UnitContext`, what ``run_unit`` sees, with the
  resumable step loops (step checkpointing);
* :mod:`~paperzoo.core.engine.executors`: running one unit, and the serial, local process pool
  and Ray executors;
* :mod:`~paperzoo.core.engine.scheduler`: :func:`run_units` (dependency order, retries,
  resume), :func:`check_units` and :func:`compact_log`.
"""

from __future__ import annotations

from paperzoo.core.engine.context import UnitContext
from paperzoo.core.engine.curves import (
    absolute_change,
    late_change,
    late_new_high,
    relative_change,
)
from paperzoo.core.engine.executors import execute as execute
from paperzoo.core.engine.model import (
    Results,
    Unit,
    UnitRecord,
    UnitsFailed,
    artifact_path,
)
from paperzoo.core.engine.model import record_path as record_path
from paperzoo.core.engine.scheduler import check_units as check_units
from paperzoo.core.engine.scheduler import compact_log, run_units

# ``check_units``, ``record_path`` and ``execute`` stay importable from here (``app.reproduce``
# and the tests use them) without joining the public API below.
__all__ = [
    "Results",
    "Unit",
    "UnitContext",
    "UnitRecord",
    "UnitsFailed",
    "absolute_change",
    "artifact_path",
    "compact_log",
    "late_change",
    "late_new_high",
    "relative_change",
    "run_units",
]
