"""``paperzoo reproduce``: resolve a preset, run its units through the engine, judge the claims,
draw the figures and write ``results.json`` + ``report.md``.

:func:`finalize` does the last three steps from the unit records already in a run directory,
so a change to the claims or figures code re-judges a finished run without retraining.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from paperzoo.core.claims import Claim, judge_all
from paperzoo.core.config import config_from_dict, validate
from paperzoo.core.data import OWN_DATA_ENV, clear_data_reads, data_reads, resolve_data_root
from paperzoo.core.device import resolve_device
from paperzoo.core.engine import Results, UnitRecord, check_units, record_path, run_units
from paperzoo.core.errors import UsageError
from paperzoo.core.io import atomic_write_json, atomic_write_text
from paperzoo.core.presets import build_config
from paperzoo.core.registry import Experiment, get_experiment, measured_minutes
from paperzoo.core.results import summarize, validate_results
from paperzoo.core.runs import RunDir, new_session, package_versions

from .ledger import post_hoc, read_ledger, write_ledger

__all__ = [
    "build_config",
    "finalize",
    "judge_results",
    "refinalize",
    "rejudge_stored",
    "render_claims",
    "render_report",
    "reproduce",
]


def _fmt(mean: float, ci: float | None) -> str:
    return f"{mean:.4g}" if ci is None else f"{mean:.4g} ± {ci:.2g}"


_MARK = {"holds": "holds", "fails": "**fails**", "inconclusive": "*inconclusive*"}


_ROLE_ORDER = {"headline": 0, "secondary": 1, "check": 2}


def _cell(text: str) -> str:
    """Table-safe text: a ``|`` would end the cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_claims(claims: list[dict[str, Any]]) -> list[str]:
    """The report's "## Claims" section: the headline claims' verdicts first, then every claim
    by role (headline, secondary, check) with its verdict, effect, threshold and why, the
    paper's number, gates and evidence; post-hoc changes and second looks are marked."""
    lines: list[str] = []
    ordered = sorted(claims, key=lambda c: _ROLE_ORDER.get(c.get("role", "check"), 2))

    def count(cs: list[dict[str, Any]]) -> str:
        n = {v: sum(c["verdict"] == v for c in cs) for v in _MARK}
        return f"{n['holds']} hold, {n['fails']} fail, {n['inconclusive']} inconclusive"

    heads = [c for c in claims if c.get("role") == "headline"]
    secondary = [c for c in claims if c.get("role") == "secondary"]
    checks = [c for c in claims if c.get("role", "check") not in ("headline", "secondary")]
    marked = [c for c in claims if c.get("post_hoc")]
    lines += [
        "## Claims",
        "",
        f"Headline claims: {count(heads) if heads else 'none declared'}. Secondary claims: "
        f"{count(secondary) if secondary else 'none declared'}. Checks (not claims of the "
        f"paper, counted apart): {count(checks) if checks else 'none'}"
        + (f"; {len(marked)} marked post hoc (changed after pre-registration)" if marked else "")
        + ". Verdicts come from paired per-seed differences d (positive favours the claim): "
        "*holds* when the whole CI95 of mean d is above the threshold, *fails* when it is below, "
        "otherwise (or when a validity gate fails on any seed, with one seed, or a headline with "
        "fewer than 4 seeds) *inconclusive*.",
        "",
        "| role | id | claim (paper) | verdict | mean d [CI95] | threshold (why) | gates "
        "| evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in ordered:
        e = c["effect"]
        ci = (
            "not measured"
            if e["mean"] is None
            else f"{e['mean']:+.4g} [{e['low']:+.4g}, {e['high']:+.4g}]"
            if e["low"] is not None
            else f"{e['mean']:+.4g} (n=1)"
        )
        gates = ", ".join(
            f"{g['name']} {'ok' if g['passed'] else 'FAILED'}"
            + ("" if g["value"] is None else f" ({g['value']:.4g} vs {g['reference']:g})")
            for g in c["gates"]
        )
        verdict = _MARK[c["verdict"]] + (f": {c['reason']}" if c["reason"] else "")
        if c.get("post_hoc"):
            verdict += " — **post hoc**: " + "; ".join(c["post_hoc"])
        if c.get("second_look"):
            verdict += f" — second look at {c['second_look']}"
        claim = c["statement"] + (f" (paper: {c['paper']})" if c.get("paper") else "")
        threshold = f"{c['threshold']:g}" + (
            f" ({c['threshold_reason']})" if c.get("threshold_reason") else ""
        )
        row = [c.get("role", "check"), c["id"], claim, verdict, ci, threshold, gates or "-",
               c["evidence"]]  # fmt: skip
        lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return lines


def render_report(
    results: dict[str, Any],
    run: RunDir,
    tables: dict[str, str] | None = None,
    notes: str = "",
) -> str:
    """Markdown: verdicts with effects and gates, the summary table, extra tables, figures."""
    lines = [f"# {results['method']} / {results['preset']}", ""]
    lines += [
        f"Seeds: {results['seeds']} · runtime {results['runtime_s']:.0f} s wall, "
        f"{results['cpu_s']:.0f} s CPU · {results['workers']} worker(s), executor "
        f"{results['executor']} · device {run.device} · torch "
        f"{results['versions'].get('torch', '?')}",
        "",
    ]
    lines += render_claims(results["claims"])
    metrics = sorted({m for arm in results["summary"].values() for m in arm})
    lines += ["", "## Results (mean ± 95% CI over seeds)", ""]
    lines += ["| arm | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for arm, s in results["summary"].items():
        cells = [_fmt(s[m]["mean"], s[m]["ci95"]) if m in s else "" for m in metrics]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    for title, table in (tables or {}).items():
        lines += ["", f"## {title}", "", table.strip()]
    figs = sorted((run.path / "figures").glob("*.png")) if (run.path / "figures").is_dir() else []
    if figs:
        lines += ["", "## Figures", ""]
        lines += [f"![{f.stem}](figures/{f.name})" for f in figs]
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    return "\n".join(lines) + "\n"


def _figures_module(exp: Experiment) -> ModuleType | None:
    """The method's ``figures`` module: a sibling of its train module (``repro/figures.py``);
    None for a train module outside a package (such a method draws no figures)."""
    package = exp.module.rpartition(".")[0]
    if not package:
        return None
    name = f"{package}.figures"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):  # the method has no figures module
            return None
        raise


def judge_results(
    exp: Experiment,
    results: Results,
    ledger: dict[str, Any] | None = None,
    *,
    marked: bool = False,
    stored: bool = False,
) -> list[Claim]:
    """The method's declared claims, judged from the results' per-seed arms; with
    ``marked``, each verdict also says what changed since the run's pre-registration
    (``post_hoc``) and which earlier judged runs this one is a second look at. ``stored``: a
    finished run re-judged with today's claims, where a claim that reads an arm or metric the
    run never recorded is *inconclusive* ("declared after this run") instead of an error."""
    specs = exp.load_claims()(results)
    if stored:  # claims declared after a stored run may read what it never recorded
        from paperzoo.core.claims import missing_measurement, unmeasured

        ids = [s.id for s in specs]
        if len(set(ids)) != len(ids):
            judge_all(specs, {})  # raises on the duplicate ids
        claims = [
            unmeasured(s, miss)
            if (miss := missing_measurement(s, results.arms))
            else judge_all([s], results.arms)[0]
            for s in specs
        ]
    else:
        claims = judge_all(specs, results.arms)
    if marked:
        changes = post_hoc(ledger, specs, results.config)
        second = ", ".join(ledger.get("second_look_of", [])) if ledger else ""
        for c in claims:
            c.post_hoc, c.second_look = changes[c.id], second
    return claims


def _sessions(run: RunDir) -> list[dict[str, Any]]:
    p = run.path / "engine.json"
    return json.loads(p.read_text())["sessions"] if p.is_file() else []


def finalize(
    run: RunDir,
    exp: Experiment,
    config: Any,
    records: list[UnitRecord],
    *,
    workers: int,
    executor: str,
) -> dict[str, Any]:
    """Judge the claims, draw the figures and write ``results.json`` and ``report.md``."""
    module = exp.load_module()
    results = Results.from_records(config, config.seeds, records)
    claims = judge_results(exp, results, read_ledger(run.path), marked=True)
    fig_mod = _figures_module(exp)
    tables: dict[str, str] = {}
    if fig_mod is not None:
        fig_mod.figures(results, run)
        if hasattr(fig_mod, "tables"):
            tables = fig_mod.tables(results)
    notes_fn = getattr(fig_mod, "notes", None) or getattr(module, "notes", None)
    notes = notes_fn(results) if notes_fn else ""
    out = {
        "method": exp.method,
        "preset": exp.preset,
        "seeds": list(config.seeds),
        "arms": results.arms,
        "summary": summarize(results.arms),
        "claims": [dataclasses.asdict(c) for c in claims],
        # Wall time of every session of this run (a resumed run adds its earlier sessions).
        "runtime_s": round(sum(s["wall_s"] for s in _sessions(run)), 2),
        "cpu_s": round(sum(r.cpu_s for r in records), 2),
        "workers": workers,
        "executor": executor,
        "versions": package_versions(),
    }
    validate_results(out)
    atomic_write_json(run.path / "results.json", out)
    atomic_write_text(run.path / "report.md", render_report(out, run, tables, notes))
    return out


def reproduce(
    method: str,
    preset: str = "quick",
    *,
    seeds: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path = "runs",
    device: str = "auto",
    data_root: str | Path | None = None,
    resume: bool = False,
    workers: int = 1,
    threads: int | None = None,
    executor: str = "local",
    address: str | None = None,
    config: Any = None,
    own_data: bool = False,
) -> Path:
    """Run one preset end to end and return its run directory.

    Every data file read is checked against the catalog's checksum before any unit runs (a
    mismatch is refused) and recorded in ``meta.json``.

    Args:
        own_data: accept data files whose checksum differs from the catalog's (a user's own
            version); their checksums are recorded instead.
        config: a ready config object to run instead of the preset's (``seeds`` and
            ``overrides`` are then ignored); the preset still names the run directory.
        workers: local worker processes (1: in this process); see :func:`run_units`.
        threads: torch threads per unit (default: cores // workers).
        executor: ``"local"`` or ``"ray"`` (``address`` of an existing Ray cluster).
    """
    exp = get_experiment(method, preset)
    cfg = config if config is not None else build_config(method, preset, seeds, overrides)
    if config is not None:
        validate(cfg)
    dev = resolve_device(device)
    root = resolve_data_root(data_root)
    module = exp.load_module()
    try:  # a config the method rejects (unknown arm, bad value) is the user's to fix
        units = module.units(cfg)
    except ValueError as e:
        raise UsageError(f"{method}/{preset}: {e}") from e
    check_units(units, cfg.seeds)
    if own_data:  # unit processes inherit it
        os.environ[OWN_DATA_ENV] = "1"
    clear_data_reads()
    if hasattr(module, "preflight"):  # missing or wrong data fail here, before any unit runs
        module.preflight(cfg, root)
    # Nothing is created on disk before the config and the data were accepted.
    run = RunDir.create(
        out, method, preset, cfg, device=dev, data_root=root, resume=resume, data=data_reads()
    )
    run.lock()
    try:
        return _run(exp, cfg, units, run, dev, root, workers, threads, executor, address)
    finally:
        run.unlock()


def _run(
    exp: Experiment,
    cfg: Any,
    units: list[Any],
    run: RunDir,
    dev: Any,
    root: Path,
    workers: int,
    threads: int | None,
    executor: str,
    address: str | None,
) -> Path:
    method, preset = exp.method, exp.preset
    measured = measured_minutes(method, preset, config=exp.make_config())
    when = (
        f"the committed run took {measured[0]:.0f} min with {measured[1]} worker(s)"
        if measured
        else f"the preset's estimate: ~{exp.cpu_minutes:g} min on 2 cores"
    )
    print(
        f"paperzoo: {method}/{preset} -> {run.path} ({len(units)} units; {when})", file=sys.stderr
    )

    # Pre-registration: the claims as declared now, before any unit (a resume keeps the first).
    write_ledger(run.path, exp, cfg, run.path.parents[2])
    sessions = _sessions(run)
    session = new_session(workers=workers, executor=executor)  # with its git commit, dirty
    sessions.append(session)
    t0 = time.perf_counter()

    def note_time(record: dict[str, Any] | None = None) -> None:
        # Kept current after every unit so a killed session still counts in runtime_s.
        session["wall_s"] = round(time.perf_counter() - t0, 2)
        session["ended"] = time.time()
        atomic_write_json(run.path / "engine.json", {"sessions": sessions})
        if record is not None:
            run.log(record)

    try:
        records = run_units(
            exp.module,
            cfg,
            units,
            run.path,
            device=dev,
            data_root=root,
            workers=workers,
            threads=threads,
            executor=executor,
            address=address,
            log=note_time,
            provenance={k: session[k] for k in ("commit", "dirty")},
        )
    finally:
        note_time()  # results.json and report.md read runtime_s from engine.json
    res = finalize(run, exp, cfg, records, workers=workers, executor=executor)
    run.log({"event": "finished", "runtime_s": res["runtime_s"], "cpu_s": res["cpu_s"]})
    counts = {v: sum(c["verdict"] == v for c in res["claims"]) for v in _MARK}
    print(
        f"paperzoo: {counts['holds']} hold, {counts['fails']} fail, "
        f"{counts['inconclusive']} inconclusive; wrote {run.path / 'report.md'}",
        file=sys.stderr,
    )
    return run.path


def refinalize(run_path: str | Path) -> dict[str, Any]:
    """Re-judge and redraw a finished or interrupted run from its stored unit records."""
    path = Path(run_path)
    meta = json.loads((path / "meta.json").read_text())
    exp = get_experiment(meta["method"], meta["preset"])
    cls = type(exp.make_config())
    cfg = config_from_dict(cls, json.loads((path / "config.json").read_text()))
    run = RunDir(path, method=exp.method, preset=exp.preset, device=meta.get("device", "cpu"))
    module = exp.load_module()
    records = []
    for u in module.units(cfg):
        p = record_path(path, u.key)
        if not p.is_file():
            raise FileNotFoundError(f"unit {u.key} has no record in {path}; run --resume first")
        records.append(UnitRecord.from_dict(json.loads(p.read_text())))
    s = _sessions(run)
    return finalize(
        run,
        exp,
        cfg,
        records,
        workers=int(s[-1]["workers"]) if s else 1,
        executor=s[-1]["executor"] if s else "local",
    )


def rejudge_stored(run_path: str | Path) -> dict[str, Any]:
    """Re-judge a run from the per-seed numbers in its ``results.json`` (no unit records needed:
    committed runs keep none) with today's claims code and the run's ledger; rewrites the
    claims in ``results.json`` and the report's "## Claims" section, nothing else."""
    path = Path(run_path)
    stored = json.loads((path / "results.json").read_text())
    exp = get_experiment(stored["method"], stored["preset"])
    cls = type(exp.make_config())
    if (path / "config.json").is_file():
        raw = json.loads((path / "config.json").read_text())
    else:
        import tomllib

        raw = tomllib.loads((path / "config.toml").read_text())
    cfg = config_from_dict(cls, raw)
    results = Results(cfg, list(stored["seeds"]), stored["arms"])
    claims = judge_results(exp, results, read_ledger(path), marked=True, stored=True)
    stored["claims"] = [dataclasses.asdict(c) for c in claims]
    validate_results(stored)
    atomic_write_json(path / "results.json", stored)
    report = path / "report.md"
    if report.is_file():
        text = report.read_text()
        start = text.find("## Claims")
        if start >= 0:
            end = text.find("\n## ", start + 1)
            rest = text[end:] if end >= 0 else "\n"
            text = text[:start] + "\n".join(render_claims(stored["claims"])) + "\n" + rest
            atomic_write_text(report, text)
    return stored
