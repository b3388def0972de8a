"""Figures and tables of the OCS reproduction: accuracy matrices, accuracy/forgetting bars, the
noise share of coresets and the memory's class histogram."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import bar_ci, new_figure, save_figure
from paperzoo.core.results import summarize

from .config import Config

__all__ = ["figures", "notes", "tables"]

NUM_CLASSES = 10


def _heatmaps(results: Results, run_dir: RunDir) -> None:
    """Mean task-accuracy matrix per arm (columns) and setting (rows)."""
    cfg = results.config
    rows, cols = len(cfg.settings), len(cfg.arms)
    fig, axes = new_figure(rows, cols, size=(2.6, 2.6))
    for r, setting in enumerate(cfg.settings):
        for c, arm in enumerate(cfg.arms):
            ax = axes[r, c]
            m = 100 * np.mean([u.artifacts["acc"] for u in results.of_arm(f"{setting}/{arm}")], 0)
            ax.imshow(m, vmin=0, vmax=100, cmap="viridis")
            if m.shape[0] <= 6:
                for i in range(m.shape[0]):
                    for j in range(m.shape[1]):
                        ax.text(
                            j,
                            i,
                            f"{m[i, j]:.0f}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color="w" if m[i, j] < 60 else "k",
                        )
            ax.set_title(f"{setting} / {arm}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("after training task (down)", fontsize=7)
            if r == rows - 1:
                ax.set_xlabel("evaluated task (right)", fontsize=7)
    fig.suptitle(f"Test accuracy (%) matrix, mean over {len(cfg.seeds)} seed(s)")
    bar = fig.colorbar(axes[0, 0].images[0], ax=list(axes.flat), fraction=0.02, pad=0.02)
    bar.set_label("test accuracy (%)", fontsize=8)
    save_figure(fig, run_dir.figure("acc_matrix"))


def _bars(results: Results, run_dir: RunDir) -> None:
    """Average accuracy and forgetting (mean and 95% CI over seeds), one row per setting."""
    cfg = results.config
    summary = summarize(results.arms)
    fig, axes = new_figure(len(cfg.settings), 2, size=(0.7 * len(cfg.arms) + 1.5, 2.8))
    for r, setting in enumerate(cfg.settings):
        for ax, metric in zip(axes[r], ["eval/avg_acc", "eval/forgetting"]):
            s = [summary[f"{setting}/{a}"][metric] for a in cfg.arms]
            ax.bar(
                range(len(s)),
                [v["mean"] for v in s],
                yerr=[v["ci95"] or 0 for v in s],
                capsize=3,
                color=[f"C{i}" for i in range(len(s))],
                alpha=0.85,
            )
            ax.set_xticks(range(len(s)), cfg.arms, rotation=30, ha="right", fontsize=7)
            ax.set_title(f"{setting}: {metric}", fontsize=8)
            ax.set_xlabel("strategy", fontsize=7)
            ax.set_ylabel(f"{metric.split('/')[-1]} (mean, CI95)", fontsize=7)
            ax.grid(axis="y", alpha=0.3)
    save_figure(fig, run_dir.figure("avg_acc_forgetting"))


def _with_memory(results: Results) -> list[str]:
    cfg = results.config
    return [
        s
        for s in cfg.settings
        if any(results.unit(f"{s}/{a}", cfg.seeds[0]).artifacts["memory_hist"] for a in cfg.arms)
    ]


def _histograms(results: Results) -> dict[str, dict[str, np.ndarray]]:
    cfg = results.config
    out = {}
    for s in _with_memory(results):
        arms = [
            a for a in cfg.arms if results.unit(f"{s}/{a}", cfg.seeds[0]).artifacts["memory_hist"]
        ]
        out[s] = {
            a: np.mean([u.artifacts["memory_hist"] for u in results.of_arm(f"{s}/{a}")], 0)
            for a in arms
        }
    return out


def figures(results: Results, run_dir: RunDir) -> None:
    cfg = results.config
    _heatmaps(results, run_dir)
    _bars(results, run_dir)
    if "noisy" in cfg.settings:
        names = [
            f"noisy/{a}" for a in cfg.arms if "memory/noise_share" in results.arms[f"noisy/{a}"]
        ]
        if names:
            bar_ci(
                run_dir.figure("noise_share_noisy"),
                summarize(results.arms),
                ["memory/noise_share", "train/selected_noise_share"],
                arms=names,
                title=f"noisy: share of noise images ({cfg.stream.noise_fraction:.0%} "
                "of the stream)",
            )
    hists = _histograms(results)
    if hists:
        fig, axes = new_figure(1, len(hists), size=(5.0, 3.0))
        for ax, (setting, per_arm) in zip(axes[0], hists.items()):
            width = 0.8 / max(1, len(per_arm))
            for k, (arm, h) in enumerate(per_arm.items()):
                ax.bar(np.arange(NUM_CLASSES) + k * width, h, width, label=arm)
            ax.set(xlabel="class", ylabel="samples in memory", title=setting)
            ax.set_xticks(np.arange(NUM_CLASSES) + 0.4 - width / 2, [str(c) for c in range(10)])
            ax.legend(fontsize=7)
        save_figure(fig, run_dir.figure("memory_class_histogram"))


def tables(results: Results) -> dict[str, str]:
    """The memory's class histogram after the last task, per setting (mean over seeds)."""
    out = {}
    for setting, per_arm in _histograms(results).items():
        rows = [
            "| arm | " + " | ".join(str(c) for c in range(NUM_CLASSES)) + " |",
            "|---" * (NUM_CLASSES + 1) + "|",
        ]
        rows += [f"| {a} | " + " | ".join(f"{v:.1f}" for v in h) + " |" for a, h in per_arm.items()]
        out[f"Memory class histogram after the last task ({setting}, mean over seeds)"] = "\n".join(
            rows
        )
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    s, t = cfg.stream, cfg.train
    return (
        f"Stream: {s.source}, {s.num_tasks} tasks, +{s.angle_step:g} deg per task, "
        f"{s.train_per_task or 'all'} training / {s.test_per_task or 'all'} test images per "
        f"task; memory {t.memory_size}, stream batch {t.stream_size} -> kappa {t.pick_size}, "
        f"{t.num_passes} passes per task, tau {t.tau:g}, warm start {t.warm_start_iters} "
        "batches. Accuracy in %, forgetting as a fraction (as the paper's tables).\n\n"
        "Deviations (see the package README): replay batches drawn uniformly from the whole "
        "memory; effective replay weight stated directly (official ref_hyp / 10); class-balanced "
        "fill of leftover seats by rank; per-task random training subsets; Uniform and A-GEM "
        "share the random class-balanced per-task memory; ER-Reservoir offers each streamed "
        "sample once."
    )
