"""What a unit's loop sees: :class:`UnitContext`, with logging, artifacts, its dependencies'
records, a per-process cache and resumable step loops.

:meth:`UnitContext.steps` is the step checkpointing: it yields the remaining steps of a loop
and saves the loop's state (modules, optimizers, generators, curves, the global torch RNG and
the log-line counter) every so often, so a killed run resumes mid-unit with the same numbers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from paperzoo.core.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from paperzoo.core.engine.model import (
    Unit,
    UnitRecord,
    _checkpoint_path,
    artifact_path,
    record_path,
)
from paperzoo.core.io import append_jsonl, to_jsonable
from paperzoo.core.progress import track

__all__ = ["UnitContext"]

_PROCESS_CACHE: dict[Any, Any] = {}


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
        return _checkpoint_path(self.path, self.unit.key, name)

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
