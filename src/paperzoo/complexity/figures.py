"""Figures and tables of the Neural Complexity reproduction: predicted vs true gaps, held-out
test-MSE curves per regulariser, the gap-prediction and test-MSE tables."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import learning_curves, new_figure, save_figure
from paperzoo.core.results import ci95

__all__ = ["figures", "tables"]


def _fmt(values: list[float]) -> str:
    ci = ci95(values)
    return f"{np.mean(values):.3g}" + ("" if ci is None else f" ± {ci:.2g}")


def figures(results: Results, run_dir: RunDir) -> None:
    cfg = results.config
    seed0 = cfg.seeds[0]
    fig, axes = new_figure(1, len(cfg.regimes), size=(4.5, 4.0))
    for ax, regime in zip(axes[0], cfg.regimes):
        u = results.unit(regime, seed0)
        pred, gap = (
            np.asarray(u.artifacts["scatter"]["pred"]),
            np.asarray(u.artifacts["scatter"]["gap"]),
        )
        ax.scatter(gap, pred, s=4, alpha=0.4)
        lo, hi = float(min(gap.min(), pred.min())), float(max(gap.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        r = u.arm_metrics[f"{regime}/predict:nc"]["gap/R"]
        ax.set(
            xlabel="true gap",
            ylabel="NC predicted gap",
            title=f"{regime} (seed {seed0}, R={r:.2f})",
        )
        ax.grid(alpha=0.3)
    save_figure(fig, run_dir.figure("gap_scatter"))
    for regime in cfg.regimes:
        recs = results.of_arm(regime)
        curves = {}
        for arm in recs[0].artifacts["curves"]:
            vals = np.array([r.artifacts["curves"][arm] for r in recs])
            curves[arm] = (list(range(vals.shape[1])), vals)
        learning_curves(
            run_dir.figure(f"test_loss_{regime}"),
            curves,
            xlabel="learner SGD step",
            ylabel="held-out test MSE (mean over tasks)",
            title=f"{regime} regime",
        )


def tables(results: Results) -> dict[str, str]:
    cfg, arms = results.config, results.arms
    regs = list(cfg.regimes)
    head = "| predictor | " + " | ".join(f"{r} R | {r} R (final) | {r} MAE" for r in regs) + " |"
    lines = [head, "|---" * (1 + 3 * len(regs)) + "|"]
    preds = [a.split("predict:")[1] for a in arms if a.startswith(f"{regs[0]}/predict:")]
    for pred in preds:
        cells = []
        for r in regs:
            a = arms.get(f"{r}/predict:{pred}", {})
            cells += [_fmt(a[k]) if k in a else "" for k in ("gap/R", "gap/R_final", "gap/mae")]
        lines.append(f"| {pred} | " + " | ".join(cells) + " |")
    out = {
        "Gap prediction on held-out learner trajectories (mean ± 95% CI over seeds)": "\n".join(
            lines
        )
    }
    lines = ["| arm | " + " | ".join(f"{r} test MSE | {r} chosen strength" for r in regs) + " |"]
    lines.append("|---" * (1 + 2 * len(regs)) + "|")
    for arm in results.of_arm(regs[0])[0].artifacts["hyper"]:
        cells = []
        for r in regs:
            cells.append(_fmt(arms[f"{r}/{arm}"]["test/mse"]))
            hp = [u.artifacts["hyper"][arm] for u in results.of_arm(r)]
            cells.append(", ".join("-" if h is None else f"{h:g}" for h in hp))
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    out["Test MSE after training held-out learners (mean ± 95% CI over seeds)"] = "\n".join(lines)
    return out
