"""``paperzoo reproduce``: resolve a preset, run it, and write ``results.json`` + ``report.md``."""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any

from paperzoo.core.config import ConfigError, apply_overrides, config_to_dict
from paperzoo.core.data import resolve_data_root
from paperzoo.core.device import resolve_device
from paperzoo.core.io import atomic_write_json, atomic_write_text
from paperzoo.core.registry import get_experiment
from paperzoo.core.results import Outcome, summarize, validate_results
from paperzoo.core.runs import RunDir, package_versions

__all__ = ["build_config", "render_report", "reproduce"]


def build_config(
    method: str, preset: str, seeds: int | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> Any:
    """The preset's config with ``--seeds N`` (seeds 0..N-1) and ``--set`` overrides applied."""
    exp = get_experiment(method, preset)
    cfg = exp.make_config()
    if "seeds" not in {f.name for f in dataclasses.fields(cfg)}:
        raise TypeError(f"{method}/{preset}: the config must have a 'seeds' field")
    if seeds is not None:
        if seeds < 1:
            raise ConfigError("--seeds must be at least 1")
        cfg = dataclasses.replace(cfg, seeds=list(range(seeds)))
    cfg = apply_overrides(cfg, list(overrides))
    if not cfg.seeds:
        raise ConfigError("seeds is empty: give at least one seed")
    return cfg


def _fmt(mean: float, ci: float | None) -> str:
    return f"{mean:.4g}" if ci is None else f"{mean:.4g} ± {ci:.2g}"


def render_report(results: dict[str, Any], run: RunDir, outcome: Outcome) -> str:
    """Markdown: claims, the summary table (mean ± 95% CI over seeds), extra tables, figures."""
    lines = [f"# {results['method']} / {results['preset']}", ""]
    lines += [
        f"Seeds: {results['seeds']} · runtime {results['runtime_s']:.0f} s · device "
        f"{run.device} · torch {results['versions'].get('torch', '?')}",
        "",
    ]
    lines += ["## Claims", "", "| id | claim | holds | evidence |", "|---|---|---|---|"]
    for c in results["claims"]:
        lines.append(
            f"| {c['id']} | {c['statement']} | {'yes' if c['holds'] else '**no**'} "
            f"| {c['evidence']} |"
        )
    metrics = sorted({m for arm in results["summary"].values() for m in arm})
    lines += ["", "## Results (mean ± 95% CI over seeds)", ""]
    lines += ["| arm | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for arm, s in results["summary"].items():
        cells = [_fmt(s[m]["mean"], s[m]["ci95"]) if m in s else "" for m in metrics]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    for title, table in outcome.tables.items():
        lines += ["", f"## {title}", "", table.strip()]
    figs = sorted((run.path / "figures").glob("*.png")) if (run.path / "figures").is_dir() else []
    if figs:
        lines += ["", "## Figures", ""]
        lines += [f"![{f.stem}](figures/{f.name})" for f in figs]
    if outcome.notes:
        lines += ["", "## Notes", "", outcome.notes.strip()]
    return "\n".join(lines) + "\n"


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
) -> Path:
    """Run one preset end to end and return its run directory."""
    exp = get_experiment(method, preset)
    cfg = build_config(method, preset, seeds, overrides)
    dev = resolve_device(device)
    root = resolve_data_root(data_root)
    run = RunDir.create(out, method, preset, cfg, device=dev, data_root=root, resume=resume)
    print(f"paperzoo: {method}/{preset} -> {run.path}", file=sys.stderr)
    t0 = time.time()
    outcome: Outcome = exp.load_runner()(cfg, run)
    if not isinstance(outcome, Outcome):
        raise TypeError(f"{exp.runner} must return paperzoo.core.Outcome, got {type(outcome)}")
    for arm, metrics in outcome.arms.items():
        for m, vals in metrics.items():
            bad = [v for v in vals if not math.isfinite(float(v))]
            if bad:
                raise FloatingPointError(f"{method}/{preset}: arm {arm} metric {m} is not finite")
    results = {
        "method": method,
        "preset": preset,
        "seeds": list(cfg.seeds),
        "arms": {
            a: {m: [float(v) for v in vs] for m, vs in ms.items()} for a, ms in outcome.arms.items()
        },
        "summary": summarize(outcome.arms),
        "claims": [dataclasses.asdict(c) for c in outcome.claims],
        "runtime_s": round(time.time() - t0, 2),
        "versions": package_versions(),
    }
    validate_results(results)
    atomic_write_json(run.path / "results.json", results)
    atomic_write_text(run.path / "report.md", render_report(results, run, outcome))
    run.log({"event": "finished", "runtime_s": results["runtime_s"], "config": config_to_dict(cfg)})
    print(f"paperzoo: wrote {run.path / 'report.md'} and results.json", file=sys.stderr)
    return run.path
