"""Figures and tables of the neural-process reproduction, drawn from the unit records:
predictions with 95% bands (1-D) or image completions, calibration curves, learning curves and
the target log-likelihood bars."""

from __future__ import annotations

from typing import Any

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import (
    bar_ci,
    learning_curves,
    new_figure,
    paired_difference,
    save_figure,
)
from paperzoo.core.results import summarize

from .claims import clean_and_shifts
from .config import Config

__all__ = ["figures", "notes", "tables"]

_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # the calibration grid of train.py


def _predictions_1d(
    path: Any, preds: dict[str, dict[str, Any]], arms: list[str], kind: str = "gp"
) -> None:
    names = list(preds[arms[0]])
    n_tasks = len(preds[arms[0]][names[0]]["mean"])
    fig, axes = new_figure(len(arms), len(names) * n_tasks, size=(2.8, 2.1), sharey="col")
    xlabel, ylabel = ("time (standardised)", "prey") if kind == "lotka_volterra" else ("x", "y")
    for i, arm in enumerate(arms):
        for j, name in enumerate(names):
            p = preds[arm][name]
            xq = np.asarray(p.get("xq", np.linspace(-2, 2, 120)))
            x, y, nc = np.asarray(p["x"])[..., 0], np.asarray(p["y"])[..., 0], p["num_context"]
            for b in range(n_tasks):
                ax = axes[i, j * n_tasks + b]
                ax.fill_between(xq, p["lower"][b], p["upper"][b], color="C0", alpha=0.25, lw=0)
                ax.plot(xq, p["mean"][b], color="C0", lw=1.2)
                ax.scatter(x[b, nc:], y[b, nc:], s=6, color="C3", label="target")
                ax.scatter(x[b, :nc], y[b, :nc], s=10, color="k", label="context")
                ax.set_ylim(-3, 3)
                if i == 0:
                    ax.set_title(f"{name} task {b + 1}", fontsize=9)
                if j == 0 and b == 0:
                    ax.set_ylabel(f"{arm}: {ylabel}", fontsize=8)
                if i == len(arms) - 1:
                    ax.set_xlabel(xlabel, fontsize=8)
                ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=6, loc="lower left")
    if kind == "lotka_volterra":
        title = (
            "Predictive mean and central 95% interval of the first population (first seed); "
            "left: the training simulator, right: the mismatched one"
        )
    else:
        title = (
            "Predictive mean and central 95% interval (first seed); right: the same functions "
            "with Student-t noise on the outputs"
        )
    fig.suptitle(title, fontsize=9)
    save_figure(fig, path)


def _completions(
    path: Any, preds: dict[str, dict[str, Any]], arms: list[str], shape: tuple
) -> None:
    import matplotlib

    _, h, w = shape
    names = list(preds[arms[0]])
    n_img = len(preds[arms[0]][names[0]]["mean"])
    fig, axes = new_figure(2 + 2 * len(arms), len(names) * n_img, size=(1.2, 1.2))
    gray = matplotlib.colormaps["gray"].copy()
    gray.set_bad("#5b7db1")  # pixels outside the context/targets shown in blue, as officially

    def to_img(x: np.ndarray, vals: Any) -> np.ndarray:
        img = np.full((h, w), np.nan)
        r = np.round((x[:, 0] + 1) * (h - 1) / 2).astype(int)
        c = np.round((x[:, 1] + 1) * (w - 1) / 2).astype(int)
        img[r, c] = np.asarray(vals)
        return img

    widths: list[Any] = []
    for j, name in enumerate(names):
        t = preds[arms[0]][name]
        x, y, nc = np.asarray(t["x"]), np.asarray(t["y"])[..., 0] + 0.5, t["num_context"]
        for b in range(n_img):
            col = j * n_img + b
            axes[0, col].imshow(to_img(x[b], y[b]), cmap=gray, vmin=0, vmax=1)
            axes[1, col].imshow(to_img(x[b, :nc], y[b, :nc]), cmap=gray, vmin=0, vmax=1)
            axes[0, col].set_title(name, fontsize=7)
            for i, arm in enumerate(arms):
                p = preds[arm][name]
                mean = np.clip(np.asarray(p["mean"][b]) + 0.5, 0, 1)
                width = np.asarray(p["upper"][b]) - np.asarray(p["lower"][b])
                axes[2 + 2 * i, col].imshow(to_img(x[b], mean), cmap=gray, vmin=0, vmax=1)
                widths.append(
                    axes[3 + 2 * i, col].imshow(to_img(x[b], width), cmap="magma", vmin=0, vmax=1)
                )
    labels = ["image", "context"] + [f"{a} {k}" for a in arms for k in ("mean", "95% width")]
    for i, lab in enumerate(labels):
        axes[i, 0].set_ylabel(lab, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for i in range(len(arms)):  # one shared scale (pixel units) per row of interval widths
        bar = fig.colorbar(widths[0], ax=list(axes[3 + 2 * i]), fraction=0.02, pad=0.01)
        bar.ax.tick_params(labelsize=6)
        bar.set_label("width", fontsize=6)
    save_figure(fig, path)


def _calibration(path: Any, results: Results, arms: list[str]) -> None:
    sets = list(results.of_arm(arms[0])[0].artifacts["calibration"])
    fig, axes = new_figure(1, len(sets), size=(3.6, 3.4))
    for ax, s in zip(axes[0], sets):
        ax.plot([0, 1], [0, 1], color="gray", ls="--", lw=1)
        for arm in arms:
            cov = np.mean([r.artifacts["calibration"][s] for r in results.of_arm(arm)], 0)
            ax.plot(_GRID, cov, marker=".", label=arm)
        ax.set(
            title=f"{s}: target coverage",
            xlabel="nominal central interval",
            ylabel="empirical coverage",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, path)


def figures(results: Results, run_dir: RunDir) -> None:
    """Predictions (or completions), calibration, learning curves and log-likelihood bars."""
    cfg = results.config
    arms = list(results.arms)
    first = {a: results.unit(a, cfg.seeds[0]).artifacts["predictions"] for a in arms}
    if cfg.task.kind == "images":
        _completions(run_dir.figure("completions"), first, arms, _image_shape(first, arms))
    else:
        _predictions_1d(run_dir.figure("predictions"), first, arms, cfg.task.kind)
    _calibration(run_dir.figure("calibration"), results, arms)
    clean, shifts = clean_and_shifts(cfg)
    curves = {
        a: (
            results.of_arm(a)[0].artifacts["curve"]["step"],
            [r.artifacts["curve"]["val_tar_ll"] for r in results.of_arm(a)],
        )
        for a in arms
    }
    learning_curves(
        run_dir.figure("learning_curves"),
        curves,
        ylabel="validation target log-likelihood",
        title=f"{clean} validation tasks (mean over seeds, band min..max)",
    )
    base = next((a for a in ("CNP", "CANP") if a in arms), None)
    if base is not None and len(arms) > 1:
        paired_difference(
            run_dir.figure("learning_curves_minus_" + base.lower()),
            curves[base][0],
            {a: c[1] for a, c in curves.items()},
            base,
            ylabel="validation target LL",
            title=f"paired difference to {base} (same seed, same tasks): mean, CI95",
        )
    bar_ci(
        run_dir.figure("target_log_likelihood"),
        summarize(results.arms),
        [f"{clean}/tar_ll"]
        + [f"{s}/tar_ll" for s in shifts]
        + [f"{s}/tar_ll_drop" for s in shifts],
        arms=arms,
    )


def _image_shape(first: dict[str, Any], arms: list[str]) -> tuple[int, int, int]:
    """(1, H, W) of the completion figure from the pixel coordinates in [-1, 1]."""
    x = np.asarray(next(iter(first[arms[0]].values()))["x"])[0]
    rows = len(np.unique(np.round(x[:, 0], 6)))
    cols = len(np.unique(np.round(x[:, 1], 6)))
    return 1, rows, cols


def tables(results: Results) -> dict[str, str]:
    """Target coverage at the nominal 50/80/95% intervals, per arm and evaluation set."""
    rows = ["| arm | set | cov 50% | cov 80% | cov 95% |", "|---|---|---|---|---|"]
    for arm, m in results.arms.items():
        sets = sorted({k.split("/")[0] for k in m if k.endswith("/cov50")})
        for s in sets:
            cells = [f"{np.mean(m[f'{s}/cov{c}']):.3f}" for c in (50, 80, 95)]
            rows.append(f"| {arm} | {s} | " + " | ".join(cells) + " |")
    return {"Target coverage": "\n".join(rows)}


def notes(results: Results) -> str:
    cfg: Config = results.config
    tc, ec = cfg.train, cfg.eval
    clean, shifts = clean_and_shifts(cfg)
    drops = ", ".join(f"`{s}/tar_ll_drop`" for s in shifts)
    text = (
        f"Trained {', '.join(results.arms)} for {tc.num_steps} steps (batch {tc.batch_size}, "
        f"Adam {tc.learning_rate:g} with cosine annealing, K={tc.num_samples} in training), "
        f"hidden {cfg.model.hidden_dim}, seeds {cfg.seeds}, all arms on the same task stream per "
        f"seed. Evaluation: {ec.num_batches} fixed batches x {ec.batch_size} tasks per set "
        f"(seed {ec.seed}), K={ec.num_samples}. {drops} = {clean} minus the shifted set's "
        "target log-likelihood (smaller is more robust). Coverage = fraction of target outputs "
        "inside the central predictive interval (nominal 0.5/0.8/0.95). "
        "`val/tar_ll_change` = change (nats) of the validation log-likelihood over the last 20% "
        "of training (the convergence gate)."
    )
    steps, batch = _OFFICIAL_TRAINING[cfg.task.kind]
    if tc.num_steps * tc.batch_size < steps * batch:
        text += (
            f"\n\nScale: {tc.num_steps * tc.batch_size / (steps * batch):.1%} of the official "
            f"training tasks ({steps:,} steps x batch {batch}), so absolute log-likelihoods are "
            "below the paper's; arms are trained identically."
        )
    return text


# Official training length per task kind: GP 100k steps; EMNIST 200 epochs of the 24,000
# balanced-split digits in batches of 100; Lotka-Volterra 10k steps of 50 series.
_OFFICIAL_TRAINING = {"gp": (100_000, 100), "images": (48_000, 100), "lotka_volterra": (10_000, 50)}
