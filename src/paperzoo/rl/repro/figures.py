"""Figures and tables of the MQL / MaPER reproduction: learning curves with bands, paired
differences to SAC, the Q-estimation bias over training and the priority distributions."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import learning_curves, new_figure, paired_difference, save_figure

from .config import Config

__all__ = ["figures", "notes", "tables"]


def _curves(results: Results, key: str, step_key: str) -> dict[str, tuple[list, list]]:
    out = {}
    for arm in results.arms:
        recs = results.of_arm(arm)
        out[arm] = (recs[0].artifacts["curve"][step_key], [r.artifacts["curve"][key] for r in recs])
    return out


def figures(results: Results, run_dir: RunDir) -> None:
    """Learning curves, their paired difference to SAC, Q bias and priority histograms."""
    cfg: Config = results.config
    curves = _curves(results, "return", "step")
    learning_curves(
        run_dir.figure("learning_curves"),
        curves,
        xlabel="environment steps",
        ylabel="evaluation return (deterministic policy)",
        title=f"{cfg.env.env_id}: mean over {len(cfg.seeds)} seeds, band min..max",
    )
    if "SAC" in curves and len(curves) > 1:
        paired_difference(
            run_dir.figure("learning_curves_minus_sac"),
            curves["SAC"][0],
            {a: c[1] for a, c in curves.items()},
            "SAC",
            xlabel="environment steps",
            ylabel="evaluation return",
            title="paired difference to SAC (same seed, same start states): mean, CI95",
        )
    bias = {}
    for arm in results.arms:
        recs = results.of_arm(arm)
        steps = recs[0].artifacts["curve"]["bias_step"]
        bias[arm] = (steps, [[b["bias"] for b in r.artifacts["curve"]["bias"]] for r in recs])
    learning_curves(
        run_dir.figure("q_bias"),
        bias,
        xlabel="environment steps",
        ylabel="mean Q(s,a) - soft Monte Carlo return",
        title="Q-estimation bias on evaluation rollouts (0 = unbiased)",
    )
    _priorities(results, run_dir)


def _priorities(results: Results, run_dir: RunDir) -> None:
    arms = [a for a in results.arms if "priorities" in results.of_arm(a)[0].artifacts]
    if not arms:
        return
    fig, axes = new_figure(1, 2, size=(5.0, 3.4))
    for i, arm in enumerate(arms):
        p = results.of_arm(arm)[0].artifacts["priorities"]
        edges = np.asarray(p["log10_relative_edges"])
        counts = np.asarray(p["log10_relative_counts"], dtype=float)
        centers = (edges[1:] + edges[:-1]) / 2
        axes[0, 0].step(centers, counts / counts.sum(), where="mid", label=arm, color=f"C{i}")
        age = np.linspace(0, 1, len(p["mean_by_age"]))
        axes[0, 1].plot(age, p["mean_by_age"], label=arm, color=f"C{i}")
    axes[0, 0].set(
        xlabel="log10(priority / mean priority)",
        ylabel="fraction of the buffer",
        title="priorities at the end (first seed)",
    )
    axes[0, 1].set(
        xlabel="position in the buffer (0 = oldest)",
        ylabel="mean priority",
        title="priority by transition age",
    )
    for ax in axes.flat:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    save_figure(fig, run_dir.figure("priorities"))


def tables(results: Results) -> dict[str, str]:
    """Per-arm model-head errors and priority spread (means over seeds)."""
    keys = [
        ("model/reward_error_first", "reward err first"),
        ("model/reward_error_last", "reward err last"),
        ("model/state_error_last", "state err last"),
        ("replay/priority_ess", "priority ESS"),
    ]
    rows = ["| arm | " + " | ".join(k[1] for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for arm, m in results.arms.items():
        cells = [f"{np.mean(m[k]):.4g}" if k in m else "-" for k, _ in keys]
        rows.append(f"| {arm} | " + " | ".join(cells) + " |")
    return {"Model heads and priorities": "\n".join(rows)}


def notes(results: Results) -> str:
    cfg: Config = results.config
    a, e = cfg.agent, cfg.env
    return (
        f"{e.env_id}, {e.total_timesteps:,} environment steps, seeds {cfg.seeds}; every arm: "
        f"SAC with {a.net_arch} networks, lr {a.learning_rate:g}, gamma {a.gamma:g}, tau "
        f"{a.tau:g}, batch {a.batch_size}, {a.learning_starts} random steps, {a.gradient_steps} "
        f"gradient steps every {a.train_freq} environment steps. Evaluation: "
        f"{e.eval_episodes} deterministic episodes every {e.eval_every:,} steps from fixed start "
        "states. `eval/auc` = trapezoid mean of the evaluation return over training; "
        "`bias/magnitude_mean` = |mean(Q - soft Monte Carlo return)| on stochastic-policy "
        f"rollouts, averaged over the checkpoints (every {cfg.bias.every:,} steps); "
        "`replay/priority_ess` = Kish effective sample size of the final priorities as a "
        "fraction of the buffer (1 = uniform); `model/reward_error_ratio` = the reward head's "
        "squared error at the end over its first logged value."
    )
