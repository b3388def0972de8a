"""``paperzoo report``: copy the newest result per (method, preset) into a folder (``--out``,
or the tracked ``docs/results/`` with ``--update-docs``) and write its claims table.

**Provenance.** Every unit record carries the git commit and dirty flag of the session that
computed it (:func:`paperzoo.core.runs.git_state`). :func:`dirty_units` lists the units of a
run computed from a tree with uncommitted changes to tracked files (a record written before
units kept the flag counts as dirty when the run's ``meta.json`` ``git_sha`` ends in
``+dirty``). ``collect_reports(refuse_dirty=True)`` (``--update-docs`` without
``--allow-dirty``) refuses such a run before anything is copied; otherwise the copied
``meta.json`` records ``"allow_dirty": true`` and ``"dirty_units"``, and the index marks the
run.

**Counting.** The index (:func:`write_index`) lists each method's claims headline first, then
secondary, then checks (``role`` in ``results.json``; a claim without one, from a run judged
before roles existed, is a check). :func:`verdict_counts` counts each claim id **once per
method**, from its *primary* preset: ``quick`` (the CPU reproduction every method has) when
the id is judged there, else the first preset in alphabetical order that judges it; the same id
judged by another preset (a dedicated or larger replication) is listed but not counted again.
Smoke runs are pipeline checks and never counted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from paperzoo.core.errors import UsageError
from paperzoo.core.io import atomic_write_json, atomic_write_text

__all__ = ["collect_reports", "dirty_units", "verdict_counts", "write_index"]

ROLE_ORDER = ("headline", "secondary", "check")
PRIMARY_PRESET = "quick"


def _newest_results(runs_root: Path) -> dict[tuple[str, str], Path]:
    newest: dict[tuple[str, str], Path] = {}
    for res in sorted(runs_root.glob("*/*/*/results.json")):
        run = res.parent
        key = (run.parent.parent.name, run.parent.name)
        if key not in newest or run.name > newest[key].name:
            newest[key] = run
    return newest


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def dirty_units(run: str | Path) -> list[str]:
    """Keys of the run's units computed from a tree with uncommitted changes to tracked files.

    A unit record says so with ``"dirty": true``. A record without the field (written before
    records kept it) counts as dirty when the run's first session was (``meta.json``'s
    ``git_sha`` ends in ``+dirty``); a record with ``"dirty": null`` (no git) does not.
    """
    run = Path(run)
    meta = _read_json(run / "meta.json") or {}
    legacy_dirty = str(meta.get("git_sha", "")).endswith("+dirty")
    out = []
    for p in sorted((run / "units").glob("*.json")):
        rec = _read_json(p)
        if not isinstance(rec, dict):
            continue
        flag = rec.get("dirty", legacy_dirty)
        if flag:
            out.append(str(rec.get("key", p.stem)))
    return out


def _dirty_message(dirty: dict[Path, list[str]]) -> str:
    parts = []
    for run, keys in dirty.items():
        shown = ", ".join(keys[:5]) + (f", ... (+{len(keys) - 5} more)" if len(keys) > 5 else "")
        parts.append(f"{run}: {len(keys)} unit(s) ({shown})")
    return (
        "; ".join(parts)
        + " computed from a git tree with uncommitted changes; commit and rerun them, or pass "
        "--allow-dirty to publish them marked as such"
    )


def collect_reports(
    runs_root: str | Path = "runs",
    docs_root: str | Path = "docs/results",
    presets: tuple[str, ...] | None = None,
    methods: tuple[str, ...] | None = None,
    *,
    refuse_dirty: bool = False,
) -> Path:
    """Copy results.json, report.md and figures of each newest run; rewrite the claims index.

    Args:
        presets: only these presets (default: all found).
        methods: only these methods (default: all found).
        refuse_dirty: raise :class:`UsageError` naming every selected run with units computed
            from a dirty tree (:func:`dirty_units`), before anything is copied. Without it such
            a run is copied with ``"allow_dirty": true`` and its ``"dirty_units"`` in the
            copied ``meta.json``, and the index marks it.

    Returns the path of ``docs/results/README.md``.
    """
    runs_root, docs_root = Path(runs_root), Path(docs_root)
    chosen = [
        (method, preset, run)
        for (method, preset), run in sorted(_newest_results(runs_root).items())
        if not ((presets and preset not in presets) or (methods and method not in methods))
    ]
    dirty = {run: keys for _, _, run in chosen if (keys := dirty_units(run))}
    if refuse_dirty and dirty:
        raise UsageError(_dirty_message(dirty))
    for method, preset, run in chosen:
        dest = docs_root / method / preset
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        # the ledger travels with the run: its verdicts are judged against it ever after
        for name in (
            "results.json",
            "report.md",
            "config.toml",
            "meta.json",
            "preregistration.json",
        ):
            if (run / name).is_file():
                shutil.copy2(run / name, dest / name)
        if run in dirty:  # published although computed from uncommitted code: say so
            meta = _read_json(dest / "meta.json") or {}
            meta.update({"allow_dirty": True, "dirty_units": dirty[run]})
            atomic_write_json(dest / "meta.json", meta)
        if (run / "figures").is_dir():
            shutil.copytree(run / "figures", dest / "figures")
    return write_index(docs_root)


_MARK = {"holds": "holds", "fails": "**fails**", "inconclusive": "*inconclusive*"}


def _cell(text: Any) -> str:
    """Text safe inside a markdown table cell: ``|`` escaped, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _role(claim: dict[str, Any]) -> str:
    role = claim.get("role") or "check"
    return role if role in ROLE_ORDER else "check"


def _preset_rank(preset: str) -> tuple[int, str]:
    return (0 if preset == PRIMARY_PRESET else 1, preset)


def _runs(docs_root: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """``{method: [(folder, results)]}`` of the non-smoke runs, primary preset first."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for res_path in sorted(docs_root.glob("*/*/results.json")):
        res = json.loads(res_path.read_text(encoding="utf-8"))
        if res["preset"] == "smoke":
            continue
        rel = res_path.parent.relative_to(docs_root).as_posix()
        out.setdefault(res["method"], []).append((rel, res))
    for runs in out.values():
        runs.sort(key=lambda r: _preset_rank(r[1]["preset"]))
    return out


def _claim_rows(
    runs: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any], dict[str, Any], str | None]]:
    """``(folder, results, claim, counted_in)`` of one method, headline first, then secondary,
    then checks (primary preset first within a role); ``counted_in`` is None for the row that
    counts the claim id, else the preset whose row counts it."""
    counted: dict[str, str] = {}
    rows = []
    for rel, res in runs:  # primary preset first: it counts the id
        for claim in res["claims"]:
            first = counted.setdefault(claim["id"], res["preset"])
            rows.append((rel, res, claim, None if first == res["preset"] else first))
    order = {r: i for i, r in enumerate(ROLE_ORDER)}
    rows.sort(key=lambda r: order[_role(r[2])])  # stable: preset and claim order kept
    return rows


def verdict_counts(
    docs_root: str | Path = "docs/results", role: str | None = None
) -> dict[str, dict[str, int]]:
    """``{method: {"holds", "fails", "inconclusive"}}`` over the non-smoke reports, each claim
    id counted once per method (from its primary preset, see the module docstring); with
    ``role``, only claims of that role."""
    out: dict[str, dict[str, int]] = {}
    for method, runs in _runs(Path(docs_root)).items():
        c = out.setdefault(method, dict.fromkeys(_MARK, 0))
        for _, _, claim, counted_in in _claim_rows(runs):
            if counted_in is None and (role is None or _role(claim) == role):
                c[claim["verdict"]] += 1
    return out


def _triple(counts: dict[str, int]) -> str:
    return f"{counts['holds']} / {counts['fails']} / {counts['inconclusive']}"


def _run_link(docs_root: Path, rel: str, res: dict[str, Any]) -> str:
    link = f"[{res['method']}/{res['preset']}]({rel}/report.md)"
    meta = _read_json(docs_root / rel / "meta.json") or {}
    if meta.get("dirty_units"):
        link += f" (uncommitted code: {len(meta['dirty_units'])} units)"
    return link


def write_index(docs_root: str | Path = "docs/results") -> Path:
    """Rewrite ``docs/results/README.md``: per method, every claim's verdict, effect and
    threshold, headline first; the counts take each claim id once per method."""
    docs_root = Path(docs_root)
    runs_by_method = _runs(docs_root)
    by_role = {r: verdict_counts(docs_root, r) for r in ROLE_ORDER}
    counts = verdict_counts(docs_root)
    totals = dict.fromkeys(_MARK, 0)
    for c in counts.values():
        for k, v in c.items():
            totals[k] += v
    summary = []
    sections: list[str] = []
    for method, runs in runs_by_method.items():
        presets = ", ".join(res["preset"] for _, res in runs)
        summary.append(
            f"| [{method}](#{method}) | {presets} | "
            + " | ".join(_triple(by_role[r][method]) for r in ROLE_ORDER)
            + f" | {_triple(counts[method])} |"
        )
        sections += [
            "",
            f"## {method}",
            "",
            "| run | role | claim | statement | verdict | mean d [CI95] | threshold | seeds |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for rel, res, c, counted_in in _claim_rows(runs):
            e = c["effect"]
            ci = f"[{e['low']:+.3g}, {e['high']:+.3g}]" if e["low"] is not None else "(n=1)"
            mean = "not measured" if e["mean"] is None else f"{e['mean']:+.4g} {ci}"
            why = f": {c['reason']}" if c["reason"] else ""
            if c.get("post_hoc"):  # changed after pre-registration: the reader must know
                why += " — **post hoc**: " + "; ".join(c["post_hoc"])
            claim_id = _cell(c["id"]) + (
                f" (repeat, counted in {counted_in})" if counted_in else ""
            )
            sections.append(
                f"| {_run_link(docs_root, rel, res)} | {_role(c)} | {claim_id} "
                f"| {_cell(c['statement'])} | {_MARK[c['verdict']]}{_cell(why)} "
                f"| {mean} | {c['threshold']:g} | {len(res['seeds'])} |"
            )
        for rel, res in runs:
            if not res["claims"]:
                sections.append(
                    f"| {_run_link(docs_root, rel, res)} | - | - | (no claims checked in this "
                    f"preset) | - | - | - | {len(res['seeds'])} |"
                )
    smoke_rows = []
    for res_path in sorted(docs_root.glob("*/*/results.json")):
        res = json.loads(res_path.read_text(encoding="utf-8"))
        if res["preset"] != "smoke":
            continue
        rel = res_path.parent.relative_to(docs_root).as_posix()
        c = {v: sum(x["verdict"] == v for x in res["claims"]) for v in _MARK}
        smoke_rows.append(
            f"| {_run_link(docs_root, rel, res)} | {_triple(c)} | {len(res['seeds'])} "
            f"| {res['runtime_s']:.0f} |"
        )
    text = "\n".join(
        [
            "# Reproduction results",
            "",
            "Written by `paperzoo report` from the newest run of each method and preset. Each",
            "verdict is computed by `paperzoo.core.claims` from paired per-seed differences d",
            "(positive favours the claim): *holds* when the whole CI95 of mean d lies above the",
            "pre-registered threshold, *fails* when it lies below, otherwise *inconclusive*; a",
            "failed validity gate on any seed (baseline below its reference level, mechanism",
            "not engaged, training not converged, a diverged arm), a single seed, or a headline",
            "claim with fewer than 4 paired seeds also makes it *inconclusive*.",
            "",
            "Every run has a pre-registration ledger (`preregistration.json`: its claims, gates,",
            "thresholds, seeds and commit as declared before the first unit; for runs made",
            "before ledgers existed it is reconstructed from git history by",
            "`scripts/reconstruct_ledgers.py`, with the changes git cannot show taken from the",
            "method READMEs). A verdict whose declaration changed after that is marked",
            "**post hoc** with what changed; a rerun of a judged preset is a *second look*.",
            "",
            "Each method lists its **headline** claims (the paper's abstract claim) first, then",
            "**secondary** claims (other claims of the paper), then **checks** (sanity checks,",
            "margins the paper does not state, context; a run judged before claims had roles",
            "lists all its claims as checks). Counts take each claim id **once per method**, from",
            "its primary preset: `quick` when the id is judged there, else the first preset in",
            "alphabetical order that judges it; a row marked *repeat* is the same claim judged",
            "again by another preset (shown, not counted). Smoke runs are never counted.",
            "",
            f"Totals over the non-smoke runs: {totals['holds']} hold, {totals['fails']} fail, "
            f"{totals['inconclusive']} inconclusive;",
            "per method and role (holds / fails / inconclusive, each claim id once):",
            "",
            "| method | runs | headline | secondary | check | all |",
            "|---|---|---|---|---|---|",
            *summary,
            *sections,
            "",
            "## Smoke runs",
            "",
            "Pipeline checks with seconds of training: their verdicts are not evidence either way.",
            "",
            "| run | holds / fails / inconclusive | seeds | runtime (s) |",
            "|---|---|---|---|",
            *smoke_rows,
            "",
        ]
    )
    out = docs_root / "README.md"
    atomic_write_text(out, text)
    return out
