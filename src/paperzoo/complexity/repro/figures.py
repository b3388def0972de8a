"""Figures and tables of the Neural Complexity reproduction: predicted vs true gaps, held-out
test-MSE curves per regulariser, the gap-prediction and test-MSE tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import learning_curves, new_figure, save_figure
from paperzoo.core.results import ci95

from .config import Config

__all__ = ["figures", "notes", "tables"]


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
    r_curves = {}
    for regime in cfg.regimes:
        recs = results.of_arm(regime)
        vals = [r.artifacts.get("val_gap_R", []) for r in recs]
        if vals and all(len(v) == len(vals[0]) > 1 for v in vals):
            steps = [
                min(cfg.meta.log_every * (i + 1), cfg.meta.steps_for(regime))
                for i in range(len(vals[0]))
            ]
            r_curves[regime] = (steps, np.array(vals))
    if r_curves:
        learning_curves(
            run_dir.figure("validation_gap_r"),
            r_curves,
            xlabel="NC meta-training step",
            ylabel="gap R on fixed validation learners",
            title="NC gap R while meta-training (seed mean, band min..max)",
        )
    _r_by_step_figure(results, run_dir)
    for regime in cfg.regimes:
        recs = results.of_arm(regime)
        curves = {}
        for arm in recs[0].artifacts["curves"]:
            vals = np.array([r.artifacts["curves"][arm] for r in recs])
            curves[arm] = (list(range(vals.shape[1])), vals)
        what = "cross-entropy" if regime == "classification" else "MSE"
        learning_curves(
            run_dir.figure(f"test_loss_{regime}"),
            curves,
            xlabel="learner SGD step",
            ylabel=f"held-out test {what} (mean over tasks)",
            title=f"{regime} regime",
        )


def _r_by_step_figure(results: Results, run_dir: RunDir) -> None:
    """Gap R within each inner step, per regime: NC against the best simple predictor.

    R over all snapshots rewards a predictor that tracks how long a learner has trained; R
    within a step shows whether NC ranks learners at the same point of training, which its
    gradient as a regulariser relies on (the diagnostic for classification, where NC hurts).
    Runs stored before the artifact existed are skipped.
    """
    cfg = results.config
    curves: dict[str, tuple[list[int], np.ndarray]] = {}
    for regime in cfg.regimes:
        recs = [r.artifacts.get("gap_R_by_step") for r in results.of_arm(regime)]
        if not recs or any(r is None for r in recs):
            continue
        steps = recs[0]["steps"]
        curves[f"{regime}: NC"] = (steps, np.array([r["nc"] for r in recs]))
        simple = [k for k in recs[0] if k not in ("steps", "nc")]
        if simple:  # the simple predictor with the highest mean R at the last step
            best = max(simple, key=lambda k: float(np.mean([r[k][-1] for r in recs])))
            curves[f"{regime}: {best}"] = (steps, np.array([r[best] for r in recs]))
    if curves:
        learning_curves(
            run_dir.figure("gap_r_by_step"),
            curves,
            xlabel="learner SGD step of the snapshots",
            ylabel="gap R among snapshots of that step",
            title="Gap R within one learner step (seed mean, min..max)",
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
    lines = [
        "| regime | arm | test loss | test accuracy | diverged | chosen strength per seed |",
        "|---|---|---|---|---|---|",
    ]
    for r in regs:
        for arm in results.of_arm(r)[0].artifacts["hyper"]:
            m = arms[f"{r}/{arm}"]
            loss = m.get("test/loss", m.get("test/mse"))
            hp = [u.artifacts["hyper"][arm] for u in results.of_arm(r)]
            cells = [
                _fmt(loss),
                _fmt(m["test/accuracy"]) if "test/accuracy" in m else "",
                _fmt(m["test/diverged"]) if "test/diverged" in m else "",
                ", ".join("-" if h is None else f"{h:g}" for h in hp),
            ]
            lines.append(f"| {r} | {arm} | " + " | ".join(cells) + " |")
    out[
        "Held-out learners after training: test loss (MSE; cross-entropy for classification), "
        "mean ± 95% CI over seeds"
    ] = "\n".join(lines)
    rows = [
        "| regime | family | NC R | NC R (final) | NC MAE | test MSE none | test MSE NC "
        "| NC diverged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in arms:
        if "/transfer:" not in a or not a.endswith(":nc"):
            continue
        regime, family = a.split("/transfer:")[0], a.split("/transfer:")[1][: -len(":nc")]
        nc, none = arms[a], arms[a[: -len(":nc")] + ":none"]
        cells = [nc["gap/R"], nc["gap/R_final"], nc["gap/mae"], none["test/mse"], nc["test/mse"]]
        cells.append(nc["test/diverged"])
        rows.append(f"| {regime} | {family} | " + " | ".join(_fmt(c) for c in cells) + " |")
    if len(rows) > 2:
        out["Transfer: NC applied to task families it was not meta-trained on"] = "\n".join(rows)
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    o, v, m, n = cfg.official, cfg.overfit, cfg.meta, cfg.nc
    lines: list[Any] = [
        f"- NC: width {n.hidden_dim}, encoder depth {n.encoder_depth}, decoder depth "
        f"{n.decoder_depth}, {n.num_heads} heads, {n.pool} pooling; {m.num_steps} NC steps of "
        f"batch {m.batch_size}"
        + "".join(f" ({r} regime: {k})" for r, k in m.regime_steps.items() if r in cfg.regimes)
        + f", {m.populate_batches} seed batches of {m.task_batch_size} tasks, "
        f"warm-up {m.warmup_steps} steps (official: width 512, 500k steps, 100 seed batches, "
        f"warm-up 1000): {m.num_steps / 500_000:.2%} of the official meta-training steps.",
        f"- Test losses relative to no regularisation (`test/loss_rel`, the claims' scale): "
        f"each arm's final test loss divided by the unregularised learners' of the same seed; "
        f"`test/loss_rel_early` the same after {cfg.eval.early_fraction:g} of the inner steps "
        "(the acceleration claim).",
        f"- Regimes: official = {o.num_train} train / {o.num_test} test points, "
        f"{o.inner_steps} SGD steps at lr {o.inner_learning_rate}; overfit (ours, not in the "
        f"paper) = {v.num_train} / {v.num_test} points, {v.inner_steps} steps at lr "
        f"{v.inner_learning_rate}, learner batch every {v.learn_every} NC steps.",
        f"- Held-out: {cfg.eval.num_test_tasks} test tasks and {cfg.eval.num_val_tasks} "
        "validation tasks per seed; L2, dropout and the hand-designed measures are tuned on the "
        f"validation tasks, NC uses the official weight {cfg.eval.nc_weight} untuned.",
        "- Simple gap predictors are affinely calibrated on validation snapshots before their "
        f"MAE is measured; NC's MAE is raw. R is over snapshots every {cfg.eval.snapshot_every} "
        "inner steps of unregularised learners; 'R (final)' uses only the trained learners.",
        "- Transfer (not in the paper): NC meta-trained on a regime's tasks is applied to "
        f"{', '.join(cfg.eval.transfer_families) or 'no'} tasks: polynomial = random cubics, "
        f"shifted = sinusoids with amplitude in {cfg.tasks.shifted_amplitude_range} and phase "
        f"in ({cfg.tasks.shifted_phase_range[0]:.2f}, {cfg.tasks.shifted_phase_range[1]:.2f}) "
        "(outside the training ranges). The regulariser floors NC's prediction at the smallest "
        "gap it was regressed on; learners that still diverge are frozen and counted.",
        "- NC kept: the one with the highest gap R on fixed validation learners during "
        f"meta-training (`meta.select_best` = {cfg.meta.select_best}; its step is "
        "`meta/selected_step`). `meta/val_R_new_high`: how far R rose in the last 20% of "
        "meta-training above its earlier best (the convergence gate); `meta/val_R_change`: "
        "the window-mean change over the last 20% (reported); `meta/loss_change`: relative "
        "change of the bank regression loss (reported only: it keeps falling after R has "
        "plateaued).",
        "- The paper's numbers were not retrieved (tables inaccessible); none are compared.",
    ]
    if "mixture" in cfg.regimes:
        w = cfg.tasks.mixture_weights
        lines.append(
            f"- mixture: the overfit sizes, NC meta-trained on sinusoids ({w[0]:g}) and cubic "
            f"polynomials ({w[1]:g}), the remedy for transfer."
        )
    if "classification" in cfg.regimes:
        c = cfg.classification
        lines.append(
            f"- classification: {c.num_ways}-way {c.num_shots}-shot tasks ({c.num_queries} test "
            f"examples per class) on {c.dataset}, {c.feature_dim} PCA components (fitted on the "
            f"meta-training classes {c.train_classes}), held-out classes {c.test_classes}; "
            f"learners {c.feature_dim}-{c.hidden_dim}-{c.hidden_dim}-{c.num_ways}, "
            f"{c.inner_steps} SGD steps at lr {c.inner_learning_rate} on the cross-entropy; NC "
            "sees class probabilities and label x probability products (our choice)."
        )
    return "\n".join(lines)
