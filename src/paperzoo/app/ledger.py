"""The pre-registration ledger: what a run declared before any result existed, and what changed.

At a run's start (before its first unit) :func:`write_ledger` stores ``preregistration.json``
in the run directory: every claim's id, role, metric, arms, direction, threshold, reference,
bounds and gates with their rules; the seeds; the config's ``claims`` section; a sha256 of the
method's claims code; the git commit and whether the tree was dirty; and the earlier judged runs
of the same method and preset (a rerun after a verdict was known is a *second look*). A resumed
run keeps its ledger.

The declaration is computed from the config alone: the method's ``claims(results)`` is called
on placeholder results with every arm the units will fill (or the train module's
``declared_arms(config)``) and no numbers, so the same code that judges later declares now.

When a run is judged (``reproduce``, ``finalize``, ``--resume``), :func:`post_hoc` compares
the current declaration with the ledger: a claim whose metric, arms, direction, threshold,
reference, bounds, role or gates differ, a claim that was not in the ledger, and every claim
when the config's claims section or the seeds changed, is marked ``post hoc`` with what changed.
A change of the claims code that leaves every declaration the same is not a post-hoc change,
and neither is a gate made stricter (reading every seed instead of the seed mean) or a claims
setting added later with its default.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import inspect
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from paperzoo.core.claims import ClaimSpec
from paperzoo.core.engine import Results
from paperzoo.core.io import atomic_write_json
from paperzoo.core.registry import Experiment
from paperzoo.core.runs import git_state

__all__ = [
    "LEDGER_FILE",
    "NoNumbers",
    "arm_names",
    "build_ledger",
    "declare",
    "post_hoc",
    "read_ledger",
    "spec_record",
    "write_ledger",
]

LEDGER_FILE = "preregistration.json"

#: the declaration fields whose change after pre-registration makes a verdict post hoc
MATERIAL = (
    "role",
    "metric",
    "arm",
    "baselines",
    "direction",
    "threshold",
    "reference",
    "bounds",
    "gates",
)


class NoNumbers(Mapping[str, list[float]]):
    """An arm's metrics before the run: every metric is there, every value NaN."""

    def __init__(self, seeds: int) -> None:
        self.seeds = seeds

    def __getitem__(self, key: str) -> list[float]:
        return [math.nan] * self.seeds

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def arm_names(exp: Experiment, config: Any) -> list[str]:
    """The arms the units of ``config`` will report (the train module's ``declared_arms``
    when a unit measures several)."""
    module = exp.load_module()
    if hasattr(module, "declared_arms"):  # units that measure several arms each
        return list(module.declared_arms(config))
    return list(dict.fromkeys(u.arm for u in module.units(config) if u.role == "arm"))


def declare(exp: Experiment, config: Any) -> list[ClaimSpec]:
    """The claims ``exp`` declares for ``config``, before any number exists."""
    arms = {a: NoNumbers(len(config.seeds)) for a in arm_names(exp, config)}
    return list(exp.load_claims()(Results(config, list(config.seeds), arms)))


def spec_record(spec: ClaimSpec) -> dict[str, Any]:
    """A claim's declaration as plain JSON (statement and reasons included, for the reader)."""
    return {
        "id": spec.id,
        "statement": spec.statement,
        "role": spec.role,
        "metric": spec.metric,
        "arm": spec.arm,
        "baselines": list(spec.baselines),
        "direction": "higher" if spec.higher_is_better else "lower",
        "threshold": float(spec.threshold),
        "reference": spec.reference,
        "bounds": list(spec.bounds) if spec.bounds is not None else None,
        "gates": [
            {
                "name": g.name,
                "metric": g.metric,
                "reference": None if g.reference is None else float(g.reference),
                "dataset": g.dataset,
                "kind": g.kind,
                "arms": list(g.arms),
                "per_seed": g.per_seed,
            }
            for g in spec.gates
        ],
        "paper": spec.paper,
        "threshold_reason": spec.threshold_reason,
    }


def _claims_section(config: Any) -> dict[str, Any] | None:
    section = getattr(config, "claims", None)
    return dataclasses.asdict(section) if dataclasses.is_dataclass(section) else None


def _code_hash(exp: Experiment) -> str:
    """sha256 of the method's claims code (``repro/claims.py``, else the train module)."""
    package = exp.module.rpartition(".")[0]
    name = f"{package}.claims" if package else exp.module
    try:
        import importlib

        source = inspect.getsource(importlib.import_module(name))
    except (ModuleNotFoundError, OSError, TypeError):
        source = inspect.getsource(exp.load_module())
    return hashlib.sha256(source.encode()).hexdigest()


def earlier_judged_runs(out_root: Path, method: str, preset: str, this: Path) -> list[str]:
    """Judged runs of the same method and preset under ``out_root``, older than ``this``."""
    found = []
    for res in sorted((out_root / method / preset).glob("*/results.json")):
        if res.parent.resolve() != this.resolve() and res.parent.name < this.name:
            found.append(str(res.parent))
    return found


def build_ledger(
    exp: Experiment, config: Any, *, earlier: list[str] | None = None
) -> dict[str, Any]:
    """The ledger of a run of ``exp`` with ``config`` (written before any unit runs)."""
    return {
        "method": exp.method,
        "preset": exp.preset,
        "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "git": git_state(),
        "seeds": list(config.seeds),
        "config_claims": _claims_section(config),
        "claims_code_sha256": _code_hash(exp),
        "claims": [spec_record(s) for s in declare(exp, config)],
        "second_look_of": list(earlier or []),
        "reconstructed": False,
    }


def read_ledger(run: Path) -> dict[str, Any] | None:
    p = Path(run) / LEDGER_FILE
    return json.loads(p.read_text()) if p.is_file() else None


def write_ledger(run: Path, exp: Experiment, config: Any, out_root: Path) -> dict[str, Any]:
    """Write the run's ledger unless it has one (a resumed run keeps its pre-registration)."""
    old = read_ledger(run)
    if old is not None:
        return old
    earlier = earlier_judged_runs(out_root, exp.method, exp.preset, run)
    ledger = build_ledger(exp, config, earlier=earlier)
    atomic_write_json(Path(run) / LEDGER_FILE, ledger)
    return ledger


def _diff(old: Any, new: Any, where: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            if k not in new:
                out.append(f"{where}{k} removed")
            elif k not in old:
                out.append(f"{where}{k} added ({new[k]!r})")
            else:
                out += _diff(old[k], new[k], f"{where}{k}.")
        return out
    return [] if old == new else [f"{where.rstrip('.')}: {old!r} -> {new!r}"]


def _gate_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {g["name"]: g for g in old}
    after = {g["name"]: g for g in new}
    out = [f"gate {n} added after pre-registration" for n in after if n not in before]
    out += [f"gate {n} removed after pre-registration" for n in before if n not in after]
    for n in after.keys() & before.keys():
        was, now = dict(before[n]), dict(after[n])
        # Reading every seed instead of the seed mean only makes a gate stricter: no verdict
        # can gain from it, so it is not a post-hoc change (ledgers from before per-seed gates
        # have no ``per_seed``: their gates read the mean).
        if not was.get("per_seed", False) and now.get("per_seed", True):
            was.pop("per_seed", None)
            now.pop("per_seed", None)
        elif "per_seed" not in was:
            now.pop("per_seed", None)
        if "dataset" not in was:  # ledgers from before per-data-set levels: a label, no rule
            now.pop("dataset", None)
        out += [f"gate {c}" for c in _diff(was, now, f"{n}.")]
    return out


def post_hoc(
    ledger: dict[str, Any] | None, specs: list[ClaimSpec], config: Any
) -> dict[str, list[str]]:
    """``{claim id: [what changed since pre-registration]}`` (empty lists: as registered).

    Without a ledger every claim is marked: nothing shows it was declared before the run.
    """
    if ledger is None:
        return {s.id: ["no pre-registration ledger for this run"] for s in specs}
    prefix = "(reconstructed ledger) " if ledger.get("reconstructed") else ""
    registered = {c["id"]: c for c in ledger.get("claims", [])}
    common: list[str] = []
    if ledger.get("config_claims") is not None:
        # a key added to the claims section later (with its default) changes nothing the run
        # declared; a changed or removed value does
        common += [f"claims config {d}" for d in
                   _diff(ledger["config_claims"], _claims_section(config), "")
                   if " added (" not in d]  # fmt: skip
    if list(ledger.get("seeds", [])) != list(config.seeds):
        common.append(f"seeds {ledger.get('seeds')} -> {list(config.seeds)}")
    known = ledger.get("known_post_hoc", {})
    out: dict[str, list[str]] = {}
    for s in specs:
        now = spec_record(s)
        if s.id not in registered:
            changes = ["not in the pre-registration: declared after the run began"]
        else:
            was = registered[s.id]
            changes = []
            for f in MATERIAL:
                if f == "gates":
                    changes += _gate_changes(was.get("gates", []), now["gates"])
                elif f in was and was[f] != now[f]:
                    changes.append(f"{f}: {was[f]!r} -> {now[f]!r}")
        changes += common + list(known.get(s.id, [])) + list(known.get("*", []))
        out[s.id] = [prefix + c for c in changes]
    return out
