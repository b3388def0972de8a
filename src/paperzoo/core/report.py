"""``paperzoo report``: copy the newest result per (method, preset) into ``docs/results/``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from paperzoo.core.io import atomic_write_text

__all__ = ["collect_reports"]


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
    rows, smoke_rows = [], []
    for res_path in sorted(docs_root.glob("*/*/results.json")):
        res = json.loads(res_path.read_text())
        rel = res_path.parent.relative_to(docs_root).as_posix()
        link = f"[{res['method']}/{res['preset']}]({rel}/report.md)"
        if res["preset"] == "smoke":
            held = sum(c["holds"] for c in res["claims"])
            smoke_rows.append(
                f"| {link} | {held} of {len(res['claims'])} | "
                f"{len(res['seeds'])} | {res['runtime_s']:.0f} |"
            )
            continue
        for c in res["claims"]:
            verdict = "yes" if c["holds"] else "**no**"
            rows.append(
                f"| {link} | {c['id']} | {c['statement']} | {verdict} | "
                f"{c['evidence']} | {len(res['seeds'])} |"
            )
        if not res["claims"]:
            rows.append(
                f"| {link} | - | (no claims checked in this preset) | - | - | {len(res['seeds'])} |"
            )
    text = "\n".join(
        [
            "# Reproduction results",
            "",
            "Written by `paperzoo report` from the newest run of each method and preset; every",
            "verdict is computed from the run's per-seed numbers (see each report for details).",
            "",
            "| run | claim | statement | holds | evidence | seeds |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "## Smoke runs",
            "",
            "Pipeline checks with seconds of training: their verdicts are not evidence either way.",
            "",
            "| run | claims holding | seeds | runtime (s) |",
            "|---|---|---|---|",
            *smoke_rows,
            "",
        ]
    )
    out = docs_root / "README.md"
    atomic_write_text(out, text)
    return out
