"""Where units run: one unit executed with its seed and thread count (:func:`execute`), in this
process (``_Serial``), in a pool of spawned local processes (``_Processes``) or as Ray tasks
(``_Ray``).

Every executor has the same three methods the scheduler calls: ``submit(job) -> Future``,
``wait(futures) -> done futures`` and ``shutdown(abort)``. A unit's record comes back to the
driver as a dict; a unit's exception (or a dead worker's ``BrokenProcessPool``) comes back
through its future.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import math
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from paperzoo.core.engine.context import UnitContext
from paperzoo.core.engine.model import Unit, UnitRecord
from paperzoo.core.errors import UsageError
from paperzoo.core.io import to_jsonable
from paperzoo.core.seed import seed_everything

__all__ = ["execute"]

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
