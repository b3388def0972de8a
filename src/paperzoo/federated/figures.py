"""Figures and tables of the FedMix reproduction: accuracy per round and the λ sweep."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import learning_curves

__all__ = ["figures", "tables"]


def figures(results: Results, run_dir: RunDir) -> None:
    """Test accuracy per round, one panel per data set (mean over seeds, band min..max)."""
    cfg = results.config
    for ds in cfg.datasets:
        arms = [a for a in cfg.arms if f"{ds}/{a}" in results.arms]
        x = list(range(1, cfg.fl.num_rounds + 1))
        learning_curves(
            run_dir.figure(f"accuracy_vs_round_{ds}"),
            {
                a: (x, np.array([r.artifacts["acc"] for r in results.of_arm(f"{ds}/{a}")]))
                for a in arms
            },
            xlabel="round",
            ylabel="test accuracy",
            title=f"{ds}: mean over {len(cfg.seeds)} seeds, band = min..max",
        )


def tables(results: Results) -> dict[str, str]:
    """The FedMix λ sweep against the main arms (same seeds), when the preset has one."""
    cfg = results.config
    sweep = [r for r in results.units.values() if r.role == "aux"]
    if not sweep:
        return {}
    ds, n = cfg.datasets[0], cfg.lam_sweep_seeds
    main = {
        a: float(np.mean(results.arms[f"{ds}/{a}"]["test/final_acc"][:n]))
        for a in ("fedavg", "naivemix")
        if f"{ds}/{a}" in results.arms
    }
    rows = [
        "| FedMix λ | final acc (per seed) | mean | vs FedAvg | vs NaiveMix |",
        "|---|---|---|---|---|",
    ]
    for lam in cfg.lam_sweep:
        finals = [r.metrics["test/final_acc"] for r in sweep if r.params["lam"] == float(lam)]
        mu = float(np.mean(finals))
        vs = [f"{mu - main[a]:+.4f}" if a in main else "-" for a in ("fedavg", "naivemix")]
        per_seed = ", ".join(f"{v:.4f}" for v in finals)
        rows.append(f"| {lam:g} | {per_seed} | {mu:.4f} | {vs[0]} | {vs[1]} |")
    return {f"FedMix λ sweep on {ds} ({n} seed(s))": "\n".join(rows)}
