"""Scheduling: :func:`run_units` runs every unit of a run not finished yet, in dependency
order and longest first, on the chosen executor; it writes each finished unit's record (stamped
with the session's git commit and dirty flag), retries a failed unit once and reports the units
that failed twice (:class:`UnitsFailed`) after the others have finished.

:func:`check_units` validates a method's unit list before anything runs; :func:`compact_log`
keeps ``metrics.jsonl`` free of the lines a resumed unit logged twice.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

import paperzoo.core.runs as _runs
from paperzoo.core.engine.executors import _Job, _Processes, _Ray, _Serial
from paperzoo.core.engine.model import Unit, UnitRecord, UnitsFailed, _checkpoints, record_path
from paperzoo.core.errors import UsageError
from paperzoo.core.io import atomic_write_json
from paperzoo.core.progress import UnitProgress

__all__ = ["check_units", "compact_log", "run_units"]


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
    provenance: Mapping[str, Any] | None = None,
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
        provenance: ``{"commit", "dirty"}`` of this session, stamped on every record it
            writes (default: :func:`paperzoo.core.runs.git_state` now, once).

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

    prov = dict(provenance) if provenance is not None else _runs.git_state()
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
                rec.commit, rec.dirty = prov.get("commit"), prov.get("dirty")
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
