"""``paperzoo report``: copy the newest result per (method, preset) into a folder (``--out``,
or the tracked ``docs/results/`` with ``--update-docs``) and write its claims table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from paperzoo.core.io import atomic_write_text

__all__ = ["collect_reports", "verdict_counts", "write_index"]


def _newest_results(runs_root: Path) -> dict[tuple[str, str], Path]:
    newest: dict[tuple[str, str], Path] = {}
    for res in sorted(runs_root.glob("*/*/*/results.json")):
        run = res.parent
        key = (run.parent.parent.name, run.parent.name)
        if key not in newest or run.name > newest[key].name:
            newest[key] = run
    return newest


def collect_reports(
    runs_root: str | Path = "runs",
    docs_root: str | Path = "docs/results",
    presets: tuple[str, ...] | None = None,
    methods: tuple[str, ...] | None = None,
) -> Path:
    """Copy results.json, report.md and figures of each newest run; rewrite the claims index.

    Args:
        presets: only these presets (default: all found).
        methods: only these methods (default: all found).

    Returns the path of ``docs/results/README.md``.
    """
    runs_root, docs_root = Path(runs_root), Path(docs_root)
    for (method, preset), run in sorted(_newest_results(runs_root).items()):
        if (presets and preset not in presets) or (methods and method not in methods):
            continue
        dest = docs_root / method / preset
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for name in ("results.json", "report.md", "config.toml", "meta.json"):
            if (run / name).is_file():
                shutil.copy2(run / name, dest / name)
        if (run / "figures").is_dir():
            shutil.copytree(run / "figures", dest / "figures")
    return write_index(docs_root)


_MARK = {"holds": "holds", "fails": "**fails**", "inconclusive": "*inconclusive*"}


def verdict_counts(docs_root: str | Path = "docs/results") -> dict[str, dict[str, int]]:
    """``{method: {"holds", "fails", "inconclusive"}}`` over the non-smoke reports."""
    out: dict[str, dict[str, int]] = {}
    for res_path in sorted(Path(docs_root).glob("*/*/results.json")):
        res = json.loads(res_path.read_text())
        if res["preset"] == "smoke":
            continue
        c = out.setdefault(res["method"], dict.fromkeys(_MARK, 0))
        for claim in res["claims"]:
            c[claim["verdict"]] += 1
    return out


def write_index(docs_root: str | Path = "docs/results") -> Path:
    """Rewrite ``docs/results/README.md``: every claim's verdict, effect and gates."""
    docs_root = Path(docs_root)
    rows, smoke_rows = [], []
    for res_path in sorted(docs_root.glob("*/*/results.json")):
        res = json.loads(res_path.read_text())
        rel = res_path.parent.relative_to(docs_root).as_posix()
        link = f"[{res['method']}/{res['preset']}]({rel}/report.md)"
        n = len(res["seeds"])
        if res["preset"] == "smoke":
            counts = {v: sum(c["verdict"] == v for c in res["claims"]) for v in _MARK}
            smoke_rows.append(
                f"| {link} | {counts['holds']} / {counts['fails']} / {counts['inconclusive']} "
                f"| {n} | {res['runtime_s']:.0f} |"
            )
            continue
        for c in res["claims"]:
            e = c["effect"]
            ci = f"[{e['low']:+.3g}, {e['high']:+.3g}]" if e["low"] is not None else "(n=1)"
            why = f": {c['reason']}" if c["reason"] else ""
            rows.append(
                f"| {link} | {c['id']} | {c['statement']} | {_MARK[c['verdict']]}{why} | "
                f"{e['mean']:+.4g} {ci} | {c['threshold']:g} | {n} |"
            )
        if not res["claims"]:
            rows.append(f"| {link} | - | (no claims checked in this preset) | - | - | - | {n} |")
    totals = dict.fromkeys(_MARK, 0)
    for counts in verdict_counts(docs_root).values():
        for k, v in counts.items():
            totals[k] += v
    text = "\n".join(
        [
            "# Reproduction results",
            "",
            "Written by `paperzoo report` from the newest run of each method and preset. Each",
            "verdict is computed by `paperzoo.core.claims` from paired per-seed differences d",
            "(positive favours the claim): *holds* when the whole CI95 of mean d lies above the",
            "pre-registered threshold, *fails* when it lies below, otherwise *inconclusive*; a",
            "failed validity gate (baseline below its reference level, mechanism not engaged,",
            "training not converged) or a single seed also makes it *inconclusive*.",
            "",
            f"Totals over the non-smoke runs: {totals['holds']} hold, {totals['fails']} fail, "
            f"{totals['inconclusive']} inconclusive.",
            "",
            "| run | claim | statement | verdict | mean d [CI95] | threshold | seeds |",
            "|---|---|---|---|---|---|---|",
            *rows,
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
