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
A finished unit's record is written atomically to ``units/<key>.json`` by the driver; a resumed
run never redoes it. A unit that raises, or whose worker process dies, is retried once and then
reported as failed with its traceback, while the other units carry on.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import json
import math
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from paperzoo.core.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from paperzoo.core.errors import UsageError
from paperzoo.core.io import append_jsonl, atomic_write_json, to_jsonable
from paperzoo.core.progress import UnitProgress, track
from paperzoo.core.seed import seed_everything

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
    "relative_change",
    "run_units",
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
    """What a finished unit left: its metrics, small JSON artifacts and its cost."""

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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UnitRecord:
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


def late_change(values: Sequence[float], fraction: float = 0.2, relative: bool = True) -> float:
    """How much a monitored curve still moved over its last ``fraction`` of points.

    ``m_end - m_start``, where ``m_end`` is the mean of the last ``w`` points and ``m_start``
    the mean of the ``w`` points ending where the final ``fraction`` begins,
    ``w = max(1, round(n * fraction / 2))`` (window means tame noisy curves such as per-round
    accuracy); its absolute value, divided by ``max(|m_end|, 1e-12)`` when ``relative``. 0 for
    a flat curve, large for one still climbing; ``inf`` for fewer than two points. Used by
    convergence gates (relative for accuracies and losses, absolute for log-likelihoods, whose
    value can sit near 0).
    """
    v = np.asarray([float(x) for x in values])
    n = len(v)
    if n < 2:
        return math.inf
    w = max(1, round(n * fraction / 2))
    cut = min(n - 1, max(w, round(n * (1 - fraction))))
    end, start = v[n - w :].mean(), v[max(0, cut - w) : cut].mean()
    change = abs(end - start)
    return float(change / max(abs(end), 1e-12) if relative else change)


def relative_change(values: Sequence[float], fraction: float = 0.2) -> float:
    """:func:`late_change` relative to the curve's final level."""
    return late_change(values, fraction, relative=True)


def absolute_change(values: Sequence[float], fraction: float = 0.2) -> float:
    """:func:`late_change` in the curve's own units (e.g. nats)."""
    return late_change(values, fraction, relative=False)


# --- the unit context --------------------------------------------------------------------------

_PROCESS_CACHE: dict[Any, Any] = {}


def _safe(key: str) -> str:
    return key.replace("/", "__")


def artifact_path(run_path: Path, key: str, name: str) -> Path:
    """Where unit ``key`` keeps its file artifact ``name`` (e.g. trained weights):
    ``artifacts/<key>/<name>``."""
    return Path(run_path) / "artifacts" / _safe(key) / name


def record_path(run_path: Path, key: str) -> Path:
    """Where the record of the finished unit ``key`` is kept: ``units/<key>.json``."""
    return run_path / "units" / f"{_safe(key)}.json"


def _checkpoints(run_path: Path, key: str) -> list[Path]:
    return list((run_path / "checkpoints").glob(f"{_safe(key)}__*.pt"))


class UnitContext:
    """What ``run_unit`` gets besides the config and the unit: device, data root, logging,
    resumable step loops, checkpoints, artifacts and its dependencies' records.

    Attributes:
        unit: the unit being run.
        device: the ``torch.device`` chosen by ``--device``.
        data_root: the resolved data root (loaders say what is missing).
        path: the run directory.
    """

    def __init__(
        self,
        unit: Unit,
        run_path: Path,
        device: torch.device,
        data_root: Path | None,
        progress: bool = True,
    ) -> None:
        self.unit, self.path, self.device, self.data_root = unit, run_path, device, data_root
        self.artifacts: dict[str, Any] = {}
        self._progress = progress
        self._seq = 0  # the unit's log-line counter, saved with every checkpoint

    # -- logging and artifacts --------------------------------------------------------------
    def log(self, record: Mapping[str, Any]) -> None:
        """Append one JSON line (tagged with the unit key) to the run's ``metrics.jsonl``.

        Each line carries the unit's running number ``seq``; a resumed unit continues the
        number saved with its checkpoint, so the lines it logs again replace the first
        attempt's when the engine compacts the file (:func:`compact_log`).
        """
        append_jsonl(
            self.path / "metrics.jsonl", {"unit": self.unit.key, "seq": self._seq, **record}
        )
        self._seq += 1

    def artifact(self, name: str, value: Any) -> None:
        """Keep a small JSON-able value (a curve, plot data) in the unit's record."""
        self.artifacts[name] = to_jsonable(value)

    def file(self, name: str, unit_key: str | None = None) -> Path:
        """Path of a file artifact (e.g. a teacher's weights) of this unit or of ``unit_key``."""
        p = artifact_path(self.path, unit_key or self.unit.key, name)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def dep(self, key: str) -> UnitRecord:
        """The record of a finished dependency."""
        if key not in self.unit.deps:
            raise KeyError(f"unit {self.unit.key} does not declare {key!r} in deps")
        return UnitRecord.from_dict(json.loads(record_path(self.path, key).read_text("utf-8")))

    @staticmethod
    def cache(key: Any, build: Callable[[], Any]) -> Any:
        """Per-process memo for data every unit of a run loads (datasets, fixed eval sets)."""
        if key not in _PROCESS_CACHE:
            _PROCESS_CACHE[key] = build()
        return _PROCESS_CACHE[key]

    def progress(self, iterable: Any, total: int | None = None, desc: str = "") -> Any:
        return track(
            iterable,
            total=total,
            desc=f"{self.unit.key} {desc}".strip(),
            position=1,
            disable=not self._progress,
        )

    # -- checkpoints ----------------------------------------------------------------------------
    def _ckpt(self, name: str) -> Path:
        return self.path / "checkpoints" / f"{_safe(self.unit.key)}__{name}.pt"

    def save_checkpoint(self, name: str, state: dict[str, Any]) -> None:
        save_checkpoint(self._ckpt(name), state)

    def load_checkpoint(self, name: str) -> dict[str, Any] | None:
        return load_checkpoint(self._ckpt(name), map_location=self.device)

    def steps(
        self,
        total: int,
        state: Mapping[str, Any],
        *,
        name: str = "train",
        every: int | None = None,
        every_s: float = 120.0,
        desc: str = "",
    ) -> Iterator[int]:
        """Yield steps ``start+1 .. total``, checkpointing ``state`` so a killed run resumes.

        ``state`` maps names to what must survive: modules, optimizers and schedulers (anything
        with ``state_dict``/``load_state_dict``), ``torch.Generator``s, numpy ``Generator``s, and
        mutable dicts or lists (curves), restored in place. The global torch RNG is saved too.
        A checkpoint is written every ``every`` steps, or every ``every_s`` seconds when
        ``every`` is None, and once more at the end (so a unit with several loops, each under
        its own ``name``, skips the finished ones on resume).
        """
        start = 0
        ck = self.load_checkpoint(name)
        if ck is not None:
            _restore(state, ck["state"])
            set_rng_state(ck["rng"])
            start = int(ck["step"])
            self._seq = int(ck.get("log_seq", self._seq))

        def save(step: int) -> None:
            self.save_checkpoint(
                name,
                {"step": step, "state": _snapshot(state), "rng": rng_state(), "log_seq": self._seq},
            )

        last = time.monotonic()
        it = track(
            range(start + 1, total + 1),
            total=total - start,
            desc=f"{self.unit.key} {desc or name}",
            position=1,
            disable=not self._progress,
        )
        step = start
        for step in it:
            yield step
            due = (every and step % every == 0) or (
                every is None and time.monotonic() - last >= every_s
            )
            if due and step < total:
                save(step)
                last = time.monotonic()
        if start < total:
            save(total)


def _snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in state.items():
        if isinstance(v, torch.Generator):
            out[k] = v.get_state()
        elif hasattr(v, "state_dict"):
            out[k] = v.state_dict()
        elif hasattr(v, "bit_generator"):  # numpy Generator
            out[k] = to_jsonable(v.bit_generator.state)
        elif isinstance(v, (dict, list)):
            out[k] = to_jsonable(v)
        else:
            raise TypeError(f"steps(): cannot checkpoint state[{k!r}] of type {type(v)}")
    return out


def _restore(state: Mapping[str, Any], saved: Mapping[str, Any]) -> None:
    for k, v in state.items():
        s = saved[k]
        if isinstance(v, torch.Generator):
            v.set_state(s)
        elif hasattr(v, "load_state_dict"):
            v.load_state_dict(s)
        elif hasattr(v, "bit_generator"):
            v.bit_generator.state = s
        elif isinstance(v, dict):
            v.clear()
            v.update(s)
        elif isinstance(v, list):
            v[:] = s


# --- executing one unit (in this process, a worker process or a Ray task) ----------------------


@dataclass(frozen=True)
class _Job:
    module: str
    config: Any
    unit: Unit
    run_path: str
    device: str
    data_root: str | None
    threads: int
    progress: bool


def execute(job: _Job) -> dict[str, Any]:
    """Run one unit and return its record as a dict (raises what ``run_unit`` raises)."""
    mod = importlib.import_module(job.module)
    unit = job.unit
    ctx = UnitContext(
        unit,
        Path(job.run_path),
        torch.device(job.device),
        Path(job.data_root) if job.data_root else None,
        progress=job.progress,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, job.threads))
    try:
        seed_everything(unit.seed)
        wall, cpu = time.perf_counter(), time.process_time()
        metrics = mod.run_unit(job.config, unit, ctx)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        torch.set_num_threads(before)
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{job.module}.run_unit must return dict[str, float], got {type(metrics)}")
    multi = bool(metrics) and all(isinstance(v, Mapping) for v in metrics.values())
    per_arm = {a: _finite(m, unit.key) for a, m in metrics.items()} if multi else {}
    clean = {} if multi else _finite(metrics, unit.key)
    rec = UnitRecord(
        key=unit.key,
        arm=unit.arm,
        seed=unit.seed,
        params=dict(unit.params),
        role=unit.role,
        metrics=clean,
        artifacts=ctx.artifacts,
        arm_metrics=per_arm,
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 3),
    )
    return to_jsonable(asdict(rec))


def _finite(metrics: Mapping[str, Any], key: str) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        f = float(v)
        if not math.isfinite(f):
            raise FloatingPointError(f"unit {key}: metric {k} is {f}")
        out[k] = f
    return out


def _worker_init() -> None:
    # Each worker: plain progress lines (bars from several processes would garble); the thread
    # count is set per unit by `execute`.
    os.environ["PAPERZOO_PROGRESS"] = os.environ.get("PAPERZOO_PROGRESS") or "plain"


# --- executors -------------------------------------------------------------------------------


class _Serial:
    """Runs units in this process, one at a time."""

    def __init__(self) -> None:
        self.pending: list[tuple[cf.Future, _Job]] = []

    def submit(self, job: _Job) -> cf.Future:
        fut: cf.Future = cf.Future()
        self.pending.append((fut, job))
        return fut

    def wait(self, futures: set[cf.Future]) -> set[cf.Future]:
        fut, job = self.pending.pop(0)
        try:
            fut.set_result(execute(job))
        except Exception as e:  # reported by the scheduler, like a worker's exception
            fut.set_exception(e)
        return {fut}

    def shutdown(self, abort: bool = False) -> None:
        pass


class _Processes:
    """A pool of N spawned worker processes (spawn: safe with torch's thread pools)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = self._new()

    def _new(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
        )

    def submit(self, job: _Job) -> cf.Future:
        try:
            return self.pool.submit(execute, job)
        except BrokenProcessPool:
            self.pool = self._new()  # a worker died: the scheduler resubmits its units
            return self.pool.submit(execute, job)

    def wait(self, futures: set[cf.Future]) -> set[cf.Future]:
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def shutdown(self, abort: bool = False) -> None:
        if abort:  # Ctrl-C / SIGTERM: stop the running units now (their checkpoints stay)
            for proc in list(getattr(self.pool, "_processes", {}).values()):
                proc.terminate()
        self.pool.shutdown(wait=not abort, cancel_futures=True)


class _Ray:
    """Ray tasks on an existing cluster (``address``) or a local one; one CPU per thread.

    Records come back to the driver, which writes them; checkpoints and file artifacts are
    written by the task into the run directory, so on a multi-node cluster the run directory
    must be on a filesystem every node mounts.
    """

    def __init__(self, address: str | None, threads: int, workers: int) -> None:
        try:
            import ray
        except ImportError as e:
            raise UsageError(
                "--executor ray needs Ray: pip install -c requirements/constraints.txt "
                "'paperzoo[ray]'"
            ) from e
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
            level = "INFO" if os.environ.get("PAPERZOO_VERBOSE") else "WARNING"
            kw: dict[str, Any] = {"logging_level": level, "include_dashboard": False}
            if address is None:  # a local cluster sized for the requested workers
                kw["num_cpus"] = workers * max(1, threads)
            if address not in (None, "auto", "local"):
                _check_reachable(address)
            try:
                ray.init(address=address, **kw)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UsageError(
                    f"--executor ray: cannot reach a Ray cluster at {address!r} ({e}); start one "
                    "(`ray start --head`) or leave out --address for a local one"
                ) from e
            self.started = True
        self.remote = ray.remote(num_cpus=max(1, threads), max_retries=0)(_ray_execute)
        self.refs: dict[Any, cf.Future] = {}

    def submit(self, job: _Job) -> cf.Future:
        fut: cf.Future = cf.Future()
        self.refs[self.remote.remote(job)] = fut
        return fut

    def wait(self, futures: set[cf.Future]) -> set[cf.Future]:
        ready, _ = self.ray.wait(list(self.refs), num_returns=1)
        done = set()
        for ref in ready:
            fut = self.refs.pop(ref)
            try:
                fut.set_result(self.ray.get(ref))
            except Exception as e:
                fut.set_exception(e)
            done.add(fut)
        return done

    def shutdown(self, abort: bool = False) -> None:
        if abort:
            for ref in self.refs:
                self.ray.cancel(ref, force=True)
        if self.started:
            self.ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a Ray address nobody listens at (``ray.init`` retries for minutes)."""
    import socket

    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise UsageError(
            f"--executor ray: nothing listens at {address} ({e}); start a cluster "
            "(`ray start --head`) or leave out --address for a local one"
        ) from e


def _ray_execute(job: _Job) -> dict[str, Any]:
    _worker_init()
    return execute(job)


# --- scheduling ------------------------------------------------------------------------------


def check_units(units: Sequence[Unit], seeds: Sequence[int]) -> None:
    """Keys unique, dependencies known and acyclic, one ``arm`` unit per arm and config seed."""
    keys = [u.key for u in units]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"duplicate unit keys: {dup}")
    known = set(keys)
    for u in units:
        unknown = [d for d in u.deps if d not in known]
        if unknown:
            raise ValueError(f"unit {u.key} depends on unknown unit(s) {unknown}")
    order = {k: i for i, k in enumerate(keys)}
    for u in units:
        if any(order[d] >= order[u.key] for d in u.deps):
            raise ValueError(f"unit {u.key}: list its dependencies before it (no cycles)")
    pairs: dict[str, list[int]] = {}
    for u in units:
        if u.role == "arm":
            pairs.setdefault(u.arm, []).append(u.seed)
    for arm, ss in pairs.items():
        if sorted(ss) != sorted(seeds):
            raise ValueError(f"arm {arm!r} has units for seeds {ss}, the config has {list(seeds)}")


def _load_record(path: Path) -> UnitRecord | None:
    if not path.is_file():
        return None
    return UnitRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))


def compact_log(path: Path) -> None:
    """Drop the lines a unit logged again after a resume: of the lines with the same
    ``(unit, seq)`` only the last is kept, in place of the first; other lines stay as they are.
    A torn last line (a killed writer) is dropped. Call it only while no unit is running."""
    try:
        raw = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return
    rows: list[Any] = []
    where: dict[tuple[str, int], int] = {}
    changed = False
    for line in raw:
        try:
            rec = json.loads(line)
        except ValueError:
            changed = True
            continue
        key = (rec.get("unit"), rec.get("seq")) if isinstance(rec, dict) else (None, None)
        if key[0] is not None and isinstance(key[1], int):
            if key in where:
                rows[where[key]] = None  # the earlier attempt's line gives way
                changed = True
            where[key] = len(rows)
        rows.append(line)
    if changed:
        from paperzoo.core.io import atomic_write_text

        atomic_write_text(path, "".join(f"{r}\n" for r in rows if r is not None))


def run_units(
    module: str,
    config: Any,
    units: Sequence[Unit],
    run_path: Path,
    *,
    device: torch.device,
    data_root: Path | None,
    workers: int = 1,
    threads: int | None = None,
    executor: str = "local",
    address: str | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
) -> list[UnitRecord]:
    """Run every unit not finished yet; return all records in the order of ``units``.

    Args:
        module: the method's train module (``"paperzoo.neural_processes.repro.train"``).
        workers: local processes (``executor="local"``); 1 runs in this process.
        threads: torch threads per unit (default: the current setting with one local worker,
            else cores // workers, at least 1). Equal numbers across executors need equal
            thread counts (a reduction's order can depend on them).
        executor: ``"local"`` or ``"ray"`` (``address`` of an existing cluster, or a new local
            one of ``workers * threads`` CPUs when None).

    Raises:
        UnitsFailed: after every runnable unit has finished, if any failed twice.
    """
    workers = max(1, int(workers))
    in_process = executor == "local" and workers == 1
    # In this process the caller's thread setting stands; workers share the cores.
    threads = threads or (
        torch.get_num_threads() if in_process else max(1, (os.cpu_count() or 1) // workers)
    )
    records: dict[str, UnitRecord] = {}
    for u in units:
        r = _load_record(record_path(run_path, u.key))
        if r is not None:
            records[u.key] = r
    todo = [u for u in units if u.key not in records]
    compact_log(run_path / "metrics.jsonl")  # a resumed run starts from a clean log
    bar = UnitProgress(len(units), done=len(records))
    if not todo:
        bar.close()
        return [records[u.key] for u in units]

    in_process = in_process or (executor == "local" and len(todo) == 1)
    if executor == "ray":
        ex: Any = _Ray(address, threads, workers)
    elif executor != "local":
        raise UsageError(f"unknown executor {executor!r}; use local or ray")
    else:
        ex = _Serial() if in_process else _Processes(min(workers, len(todo)))

    def job(u: Unit) -> _Job:
        return _Job(
            module,
            config,
            u,
            str(run_path),
            str(device),
            str(data_root) if data_root else None,
            threads,
            in_process,
        )

    attempts: dict[str, int] = {}
    failures: dict[str, str] = {}
    running: dict[cf.Future, Unit] = {}
    # Longest first (a stable sort keeps the declared order among equal costs); dependencies
    # still gate when a unit may start.
    waiting = sorted(todo, key=lambda u: -u.cost)
    completed = False
    try:
        while waiting or running:
            # Submit every unit whose dependencies are done (up to the worker count).
            blocked = []
            for u in waiting:
                if any(d in failures for d in u.deps):
                    failures[u.key] = f"not run: dependency {[d for d in u.deps if d in failures]}"
                    bar.failed(u.key)
                    continue
                ready = all(d in records for d in u.deps)
                if ready and len(running) < max(workers, 1):
                    attempts[u.key] = attempts.get(u.key, 0) + 1
                    running[ex.submit(job(u))] = u
                    bar.started(u.key)
                else:
                    blocked.append(u)
            waiting = blocked
            if not running:
                break
            for fut in ex.wait(set(running)):
                u = running.pop(fut)
                try:
                    rec = UnitRecord.from_dict(fut.result())
                except UsageError:
                    raise  # e.g. missing data: the user must act, a retry cannot help
                except Exception as e:
                    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
                    if isinstance(e, BrokenProcessPool):
                        tb = f"worker process died ({e}); this unit was running in it\n" + tb
                    if attempts[u.key] < 2:
                        print(
                            f"paperzoo: unit {u.key} failed, retrying once:\n{tb}", file=sys.stderr
                        )
                        waiting.insert(0, u)
                    else:
                        failures[u.key] = tb
                        bar.failed(u.key)
                        if log:
                            log({"event": "unit_failed", "unit": u.key, "traceback": tb})
                    continue
                rec.attempts = attempts[u.key]
                atomic_write_json(record_path(run_path, u.key), asdict(rec))
                # The unit is final: its mid-unit checkpoints are no longer needed.
                for p in _checkpoints(run_path, u.key):
                    p.unlink(missing_ok=True)
                records[u.key] = rec
                bar.finished(u.key, rec.wall_s)
                if log:
                    log(
                        {
                            "event": "unit_done",
                            "unit": u.key,
                            "wall_s": rec.wall_s,
                            "cpu_s": rec.cpu_s,
                            "metrics": rec.metrics,
                        }
                    )
        completed = True
    finally:
        ex.shutdown(abort=not completed)
        bar.close()
        compact_log(run_path / "metrics.jsonl")  # no unit writes any more
    if failures:
        atomic_write_json(run_path / "failures.json", failures)
        raise UnitsFailed(failures, run_path)
    (run_path / "failures.json").unlink(missing_ok=True)
    return [records[u.key] for u in units]
