"""Figures and tables of the OCS reproduction: accuracy matrices, accuracy/forgetting bars,
forgetting per task, the noise share of the memory and of each task's coreset, and the memory's
class histogram."""

from __future__ import annotations

import numpy as np

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import bar_ci, new_figure, save_figure
from paperzoo.core.results import summarize

from ..metrics import forgetting_per_task
from .config import Config

__all__ = ["figures", "notes", "tables"]


def _forgetting_figure(results: Results, run_dir: RunDir) -> None:
    """Forgetting of every earlier task (mean and CI95 over seeds), per setting and arm."""
    cfg = results.config
    fig, axes = new_figure(len(cfg.settings), 1, size=(7.0, 2.6))
    for r, setting in enumerate(cfg.settings):
        ax = axes[r, 0]
        width = 0.8 / len(cfg.arms)
        for k, arm in enumerate(cfg.arms):
            per_seed = np.array(
                [
                    100 * forgetting_per_task(np.asarray(u.artifacts["acc"]))
                    for u in results.of_arm(f"{setting}/{arm}")
                ]
            )
            if per_seed.shape[1] == 0:
                continue
            mean = per_seed.mean(0)
            ci = (
                1.96 * per_seed.std(0, ddof=1) / np.sqrt(len(per_seed))
                if len(per_seed) > 1
                else np.zeros_like(mean)
            )
            x = np.arange(len(mean)) + k * width
            ax.bar(x, mean, width, yerr=ci, capsize=2, label=arm, color=f"C{k}")
        first = results.unit(f"{setting}/{cfg.arms[0]}", cfg.seeds[0]).artifacts
        n = len(first["acc"]) - 1
        names = first.get("task_names")
        labels = (
            names[:n] if names and cfg.stream.kind == "datasets" else [str(j) for j in range(n)]
        )
        ax.set_xticks(np.arange(n) + 0.4 - width / 2, labels, fontsize=7)
        ax.set(xlabel="task (in stream order)", ylabel="forgetting (points)", title=setting)
        ax.axhline(0, color="k", lw=0.5)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=6, ncol=3)
    save_figure(fig, run_dir.figure("forgetting_per_task"))


def _coreset_noise_figure(results: Results, run_dir: RunDir) -> None:
    """noisy: noise share of each task's coreset in the final memory (mean over seeds)."""
    cfg = results.config
    arms = [
        a
        for a in cfg.arms
        if results.unit(f"noisy/{a}", cfg.seeds[0]).artifacts.get("memory_noise_per_task")
    ]
    if not arms:
        return
    fig, axes = new_figure(1, 1, size=(6.0, 2.8))
    ax = axes[0, 0]
    width = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        rows = [
            [np.nan if v is None else v for v in u.artifacts["memory_noise_per_task"]]
            for u in results.of_arm(f"noisy/{arm}")
        ]
        mean = np.nanmean(np.array(rows, dtype=float), 0)
        ax.bar(np.arange(len(mean)) + k * width, mean, width, label=arm, color=f"C{k}")
    ax.axhline(cfg.stream.noise_fraction, color="k", ls="--", lw=0.8, label="stream's share")
    ax.set(xlabel="task's coreset", ylabel="share of noise images", ylim=(0, 1))
    ax.set_xticks(np.arange(len(mean)) + 0.4 - width / 2, [str(j) for j in range(len(mean))])
    ax.set_title("noisy: noise in each task's coreset after the last task", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    save_figure(fig, run_dir.figure("coreset_noise_per_task"))


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
    _forgetting_figure(results, run_dir)
    if "noisy" in cfg.settings:
        _coreset_noise_figure(results, run_dir)
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
        fig, axes = new_figure(len(hists), 1, size=(7.0, 2.6))
        for ax, (setting, per_arm) in zip(axes[:, 0], hists.items()):
            width = 0.8 / max(1, len(per_arm))
            num = len(next(iter(per_arm.values())))
            for k, (arm, h) in enumerate(per_arm.items()):
                ax.bar(np.arange(num) + k * width, h, width, label=arm)
            ax.set(xlabel="class", ylabel="samples in memory", title=setting)
            ax.set_xticks(
                np.arange(num) + 0.4 - width / 2, [str(c) for c in range(num)], fontsize=6
            )
            ax.legend(fontsize=6, ncol=2)
        save_figure(fig, run_dir.figure("memory_class_histogram"))


def tables(results: Results) -> dict[str, str]:
    """The memory's class histogram after the last task, per setting (mean over seeds)."""
    out = {}
    for setting, per_arm in _histograms(results).items():
        num = len(next(iter(per_arm.values())))
        rows = [
            "| arm | " + " | ".join(str(c) for c in range(num)) + " |",
            "|---" * (num + 1) + "|",
        ]
        rows += [f"| {a} | " + " | ".join(f"{v:.1f}" for v in h) + " |" for a, h in per_arm.items()]
        out[f"Memory class histogram after the last task ({setting}, mean over seeds)"] = "\n".join(
            rows
        )
    return out


def notes(results: Results) -> str:
    cfg: Config = results.config
    s, t = cfg.stream, cfg.train
    if s.kind == "datasets":
        what = (
            f"Stream: one task per data set ({', '.join(s.sources)}; order shuffled by the seed: "
            f"{s.shuffle_order}), images resized to {s.image_size}x{s.image_size}, one masked "
            "head per data set (task-incremental)"
        )
    else:
        what = f"Stream: {s.source}, {s.num_tasks} tasks, +{s.angle_step:g} deg per task"
    return (
        f"{what}, "
        f"{s.train_per_task or 'all'} training / {s.test_per_task or 'all'} test images per "
        f"task; memory {t.memory_size}, stream batch {t.stream_size} -> kappa {t.pick_size}, "
        f"{t.num_passes} passes per task, tau {t.tau:g}, warm start {t.warm_start_iters} "
        "batches. Accuracy in %, forgetting as a fraction (as the paper's tables).\n\n"
        "Deviations (see the package README): replay batches drawn uniformly from the whole "
        "memory; effective replay weight stated directly (official ref_hyp / 10); class-balanced "
        "fill of leftover seats by rank; per-task random training subsets; Uniform and A-GEM "
        "keep random per-task coresets as the official Uniform (Uniform-balanced: random, "
        "class-balanced); ER-Reservoir offers each streamed sample once."
    )
