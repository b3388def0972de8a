"""The engine's data model: a :class:`Unit` of work, the :class:`UnitRecord` it leaves, the
:class:`Results` a method's claims and figures read, and where a unit's files live in the run
directory.

A run directory keeps one record per finished unit (``units/<key>.json``), the unit's file
artifacts (``artifacts/<key>/<name>``) and, while it runs, its step checkpoints
(``checkpoints/<key>__<name>.pt``); a key's ``/`` becomes ``__`` in file names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Results",
    "Role",
    "Unit",
    "UnitRecord",
    "UnitsFailed",
    "artifact_path",
    "record_path",
]

Role = Literal["arm", "aux"]


@dataclass(frozen=True)
class Unit:
    """One independent piece of work.

    Attributes:
        key: stable identifier, unique in the run (``"mnist/fedmix/seed0"``); the record file
            and checkpoints are named after it.
        arm: the arm label whose per-seed metrics this unit provides (``"mnist/fedmix"``).
        seed: the seed; all global RNGs are seeded from it before ``run_unit``.
        params: extra settings of this unit (a sweep value, a bit width); JSON-able.
        deps: keys of units that must finish first (their records are readable through
            :meth:`UnitContext.dep`).
        role: ``"arm"`` units fill ``results.arms`` (one unit per arm and seed, every seed of
            the config); ``"aux"`` units (teachers, sweeps) are kept in ``results.units`` only.
        cost: relative expected run time (a hint, any unit): with several workers, ready units
            start longest first, so a slow unit does not run alone at the end.
    """

    key: str
    arm: str
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)
    deps: tuple[str, ...] = ()
    role: Role = "arm"
    cost: float = 1.0


@dataclass
class UnitRecord:
    """What a finished unit left: its metrics, small JSON artifacts, its cost and provenance.

    ``commit`` and ``dirty`` are the git commit and the uncommitted-changes flag of the session
    that computed the unit (:func:`paperzoo.core.runs.git_state`; None without git, and in
    records written before they were kept).
    """

    key: str
    arm: str
    seed: int
    params: dict[str, Any]
    role: str
    metrics: dict[str, float]
    artifacts: dict[str, Any] = field(default_factory=dict)
    arm_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    """For a unit that measured several arms: ``{arm: {metric: value}}`` (``metrics`` empty)."""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    attempts: int = 1
    commit: str | None = None
    dirty: bool | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UnitRecord:
        """A record from its JSON; fields an older record lacks take their defaults."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Results:
    """Everything ``claims``, ``figures``, ``tables`` and ``notes`` may read.

    Attributes:
        config: the resolved config of the run.
        seeds: the config's seeds, in order.
        arms: ``{arm: {metric: [value per seed]}}`` from the ``"arm"`` units.
        units: every finished unit's record by key (aux units included).
    """

    config: Any
    seeds: list[int]
    arms: dict[str, dict[str, list[float]]]
    units: dict[str, UnitRecord] = field(default_factory=dict)

    def unit(self, arm: str, seed: int) -> UnitRecord:
        """The record of the ``"arm"`` unit of ``arm`` (or of the group measuring it) and
        ``seed``."""
        for r in self.units.values():
            if r.role == "arm" and r.seed == seed and (r.arm == arm or arm in r.arm_metrics):
                return r
        raise KeyError(f"no unit for arm {arm!r} seed {seed}")

    def of_arm(self, arm: str) -> list[UnitRecord]:
        """The arm's records in seed order."""
        return [self.unit(arm, s) for s in self.seeds]

    def mean(self, arm: str, metric: str) -> float:
        vals = self.arms[arm][metric]
        return float(sum(vals) / len(vals))

    @classmethod
    def from_records(
        cls, config: Any, seeds: Sequence[int], records: Sequence[UnitRecord]
    ) -> Results:
        """Assemble ``arms`` (seed order of ``seeds``) from unit records."""
        seeds = list(seeds)
        by: dict[str, dict[int, dict[str, float]]] = {}
        for r in records:
            if r.role != "arm":
                continue
            for arm, metrics in (r.arm_metrics or {r.arm: r.metrics}).items():
                if r.seed in by.setdefault(arm, {}):
                    raise ValueError(f"arm {arm!r}: two units report seed {r.seed}")
                by[arm][r.seed] = metrics
        arms: dict[str, dict[str, list[float]]] = {}
        for arm, per_seed in by.items():
            missing = [s for s in seeds if s not in per_seed]
            if missing:
                raise ValueError(f"arm {arm!r}: no unit for seed(s) {missing}")
            names = set(per_seed[seeds[0]])
            for s in seeds:
                if set(per_seed[s]) != names:
                    raise ValueError(f"arm {arm!r}: seed {s} reports different metrics")
            arms[arm] = {m: [float(per_seed[s][m]) for s in seeds] for m in sorted(names)}
        return cls(config, seeds, arms, {r.key: r for r in records})


class UnitsFailed(RuntimeError):
    """Some units failed twice; the others finished and are kept for ``--resume``."""

    def __init__(self, failures: dict[str, str], run_path: Path) -> None:
        self.failures, self.run_path = failures, run_path
        keys = ", ".join(sorted(failures))
        super().__init__(
            f"{len(failures)} unit(s) failed after a retry: {keys}; tracebacks in "
            f"{run_path / 'failures.json'}; fix and rerun with --resume to redo only those"
        )


# --- where a unit's files live -----------------------------------------------------------------


def _safe(key: str) -> str:
    return key.replace("/", "__")


def artifact_path(run_path: Path, key: str, name: str) -> Path:
    """Where unit ``key`` keeps its file artifact ``name`` (e.g. trained weights):
    ``artifacts/<key>/<name>``."""
    return Path(run_path) / "artifacts" / _safe(key) / name


def record_path(run_path: Path, key: str) -> Path:
    """Where the record of the finished unit ``key`` is kept: ``units/<key>.json``."""
    return run_path / "units" / f"{_safe(key)}.json"


def _checkpoint_path(run_path: Path, key: str, name: str) -> Path:
    """Unit ``key``'s checkpoint ``name``: ``checkpoints/<key>__<name>.pt``."""
    return run_path / "checkpoints" / f"{_safe(key)}__{name}.pt"


def _checkpoints(run_path: Path, key: str) -> list[Path]:
    """Every checkpoint unit ``key`` left (deleted once its record is written)."""
    return list((run_path / "checkpoints").glob(f"{_safe(key)}__*.pt"))
