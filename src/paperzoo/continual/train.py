"""Reproduction runner: every (setting, arm, seed) trains one strategy through the task stream,
records the task-accuracy matrix and memory statistics, and the claims are computed from them."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from paperzoo.core import Claim, Outcome, RunDir, seed_everything, summarize
from paperzoo.core.device import torch_threads
from paperzoo.core.results import compare_claim

from .config import ARMS, SETTINGS, Config
from .metrics import average_accuracy, forgetting, noise_share
from .models import OfficialMLP
from .scenarios import Task, rotated_stream
from .strategies import AGEM, OCS, ContinualStrategy, ERReservoir, Finetune, Uniform

__all__ = ["make_strategy", "run"]

NUM_CLASSES = 10


# --- building blocks ----------------------------------------------------------------------------
def _load_source(config: Config, run_dir: RunDir) -> tuple[Any, Any, Any, Any, float]:
    if config.stream.source == "mnist":
        from paperzoo.datasets import load_mnist

        tr, te = load_mnist(run_dir.data_root)
        return tr.x, tr.y, te.x, te.y, 255.0
    from paperzoo.datasets import load_digits

    tr, te = load_digits(seed=0)
    return tr.x, tr.y, te.x, te.y, 16.0


def _stream(config: Config, source: tuple, setting: str, seed: int) -> list[Task]:
    s = config.stream
    xtr, ytr, xte, yte, scale = source
    return rotated_stream(
        xtr,
        ytr,
        xte,
        yte,
        num_tasks=s.num_tasks,
        angle_step=s.angle_step,
        variant=setting,  # type: ignore[arg-type]
        train_per_task=s.train_per_task or None,
        test_per_task=s.test_per_task or None,
        noise_fraction=s.noise_fraction,
        noise_style=s.noise_style,
        majority_classes=s.majority_classes,
        minority_fraction=s.minority_fraction,
        pixel_scale=scale,
        seed=seed,
    )


def make_strategy(arm: str, model: torch.nn.Module, config: Config, setting: str, seed: int):
    """The strategy called ``arm`` with the config's hyperparameters (imbalanced overrides)."""
    t = config.train
    imbalanced = setting == "imbalanced"
    common: dict[str, Any] = dict(
        lr=t.lr,
        momentum=t.momentum,
        lr_decay=t.imbalanced_lr_decay if imbalanced else t.lr_decay,
        stream_size=t.stream_size,
        pick_size=t.pick_size,
        num_passes=t.num_passes,
        memory_size=t.memory_size,
        replay_batch_size=t.replay_batch_size,
        replay_weight=t.imbalanced_replay_weight if imbalanced else t.replay_weight,
        seed=seed,
    )
    if arm == "Finetune":
        return Finetune(model, **common)
    if arm == "ER-Reservoir":
        return ERReservoir(model, **common)
    if arm == "A-GEM":
        return AGEM(model, candidate_size=t.candidate_size, agem_ref_size=t.agem_ref_size, **common)
    if arm == "Uniform":
        return Uniform(model, candidate_size=t.candidate_size, **common)
    if arm == "OCS":
        return OCS(
            model,
            tau=t.tau,
            warm_start_iters=t.warm_start_iters,
            grad_method=t.grad_method,
            candidate_size=t.candidate_size,
            **common,
        )
    raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")


@torch.no_grad()
def _per_class_accuracy(model: torch.nn.Module, tasks: list[Task]) -> list[float]:
    """Accuracy per class over all tasks' test sets (final model)."""
    model.eval()
    x = torch.cat([t.x_test for t in tasks])
    y = torch.cat([t.y_test for t in tasks])
    pred = torch.cat([model(xb).argmax(1) for xb in x.split(4000)])
    return [float((pred[y == c] == c).float().mean()) for c in range(NUM_CLASSES)]


def _memory_stats(strategy: ContinualStrategy, tasks: list[Task]) -> dict[str, Any]:
    buf = strategy.buffer
    if buf is None or len(buf) == 0:
        return {"memory_noise_share": None, "memory_hist": None}
    flags = torch.stack(
        [tasks[t].is_noise[s] for t, s in zip(buf.task_ids.tolist(), buf.sample_ids.tolist())]
    )
    return {
        "memory_noise_share": noise_share(flags),
        "memory_hist": buf.class_histogram(NUM_CLASSES).tolist(),
    }


# --- one unit: one arm, one setting, one seed ---------------------------------------------------
def _run_unit(
    config: Config, run_dir: RunDir, key: str, arm: str, setting: str, seed: int, tasks: list[Task]
) -> dict[str, Any]:
    t0 = time.time()
    seed_everything(seed)
    model = OfficialMLP(tasks[0].in_dim, config.train.hidden, NUM_CLASSES, config.train.dropout)
    model.to(run_dir.device)
    strategy = make_strategy(arm, model, config, setting, seed)
    acc_rows: list[list[float]] = []
    ck = run_dir.load_checkpoint(key) if config.checkpoint_every_task else None
    if ck is not None:  # resume at the last finished task
        strategy.load_state_dict(ck["strategy"])
        acc_rows = [list(map(float, r)) for r in ck["acc"]]
    for t in range(len(acc_rows), len(tasks)):
        strategy.train(tasks[t])
        acc_rows.append(strategy.evaluate(tasks))
        run_dir.log({"unit": key, "task": t, "acc_seen": float(np.mean(acc_rows[-1][: t + 1]))})
        if config.checkpoint_every_task and t < len(tasks) - 1:
            run_dir.save_checkpoint(key, {"strategy": strategy.state_dict(), "acc": acc_rows})
    acc = np.array(acc_rows)
    per_class = _per_class_accuracy(model, tasks)
    minority = [c for c in range(NUM_CLASSES) if c not in config.stream.majority_classes]
    out = {
        "acc": acc.tolist(),
        "avg_acc": 100.0 * average_accuracy(acc),
        "forgetting": forgetting(acc),
        "selected_noise_share": strategy.selected_noise / max(1, strategy.selected_total),
        "minority_acc": 100.0 * float(np.mean([per_class[c] for c in minority])),
        "per_class_acc": per_class,
        "wall_s": time.time() - t0,
        **_memory_stats(strategy, tasks),
    }
    run_dir.drop_checkpoint(key)
    return out


# --- figures (one file per kind, panels per setting: savefig dominates the smoke preset) -------
def _heatmaps(run_dir: RunDir, units: dict, config: Config) -> None:
    """Mean task-accuracy matrix per arm (columns) and setting (rows)."""
    from paperzoo.core.plots import new_figure, save_figure

    rows, cols = len(config.settings), len(config.arms)
    fig, axes = new_figure(rows, cols, size=(2.6, 2.6))
    for r, setting in enumerate(config.settings):
        for c, arm in enumerate(config.arms):
            ax = axes[r, c]
            mats = [units[(setting, arm, s)]["acc"] for s in config.seeds]
            m = 100 * np.mean(np.array(mats), axis=0)
            ax.imshow(m, vmin=0, vmax=100, cmap="viridis")
            if m.shape[0] <= 6:
                for i in range(m.shape[0]):
                    for j in range(m.shape[1]):
                        color = "w" if m[i, j] < 60 else "k"
                        ax.text(
                            j,
                            i,
                            f"{m[i, j]:.0f}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color=color,
                        )
            ax.set_title(f"{setting} / {arm}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("after training task (down)", fontsize=7)
            if r == rows - 1:
                ax.set_xlabel("evaluated task (right)", fontsize=7)
    fig.suptitle(f"Test accuracy (%) matrix, mean over {len(config.seeds)} seed(s)")
    save_figure(fig, run_dir.figure("acc_matrix"))


def _bars(run_dir: RunDir, summary: dict, config: Config) -> None:
    """Average accuracy and forgetting (mean and 95% CI over seeds), one row per setting."""
    from paperzoo.core.plots import new_figure, save_figure

    metrics = ["eval/avg_acc", "eval/forgetting"]
    fig, axes = new_figure(len(config.settings), 2, size=(0.7 * len(config.arms) + 1.5, 2.8))
    for r, setting in enumerate(config.settings):
        for ax, metric in zip(axes[r], metrics):
            s = [summary[f"{setting}/{a}"][metric] for a in config.arms]
            ax.bar(
                range(len(s)),
                [v["mean"] for v in s],
                yerr=[v["ci95"] or 0 for v in s],
                capsize=3,
                color=[f"C{i}" for i in range(len(s))],
                alpha=0.85,
            )
            ax.set_xticks(range(len(s)), config.arms, rotation=30, ha="right", fontsize=7)
            ax.set_title(f"{setting}: {metric}", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
    save_figure(fig, run_dir.figure("avg_acc_forgetting"))


def _class_hist(run_dir: RunDir, units: dict, config: Config, settings: list[str]) -> dict:
    """Memory class histogram after the last task (figure panels + markdown tables)."""
    from paperzoo.core.plots import new_figure, save_figure

    fig, axes = new_figure(1, len(settings), size=(5.0, 3.0))
    tables = {}
    for ax, setting in zip(axes[0], settings):
        arms = [a for a in config.arms if units[(setting, a, config.seeds[0])]["memory_hist"]]
        rows = [
            "| arm | " + " | ".join(str(c) for c in range(NUM_CLASSES)) + " |",
            "|---" * (NUM_CLASSES + 1) + "|",
        ]
        width = 0.8 / max(1, len(arms))
        for k, arm in enumerate(arms):
            h = np.mean([units[(setting, arm, s)]["memory_hist"] for s in config.seeds], axis=0)
            ax.bar(np.arange(NUM_CLASSES) + k * width, h, width, label=arm)
            rows.append(f"| {arm} | " + " | ".join(f"{v:.1f}" for v in h) + " |")
        ax.set(xlabel="class", ylabel="samples in memory", title=setting)
        ax.set_xticks(np.arange(NUM_CLASSES) + 0.4 - width / 2, [str(c) for c in range(10)])
        ax.legend(fontsize=7)
        tables[f"Memory class histogram after the last task ({setting}, mean over seeds)"] = (
            "\n".join(rows)
        )
    save_figure(fig, run_dir.figure("memory_class_histogram"))
    return tables


# --- the run ------------------------------------------------------------------------------------
def run(config: Config, run_dir: RunDir) -> Outcome:
    """Run the preset with ``config.num_threads`` torch threads (restored afterwards)."""
    with torch_threads(config.num_threads):
        return _run(config, run_dir)


def _run(config: Config, run_dir: RunDir) -> Outcome:
    """Train every arm on every setting and seed; compute metrics, figures and claims."""
    from paperzoo.core.plots import bar_ci

    for s in config.settings:
        if s not in SETTINGS:
            raise ValueError(f"unknown setting {s!r}; choose from {', '.join(SETTINGS)}")
    for a in config.arms:
        if a not in ARMS:
            raise ValueError(f"unknown arm {a!r}; choose from {', '.join(ARMS)}")
    source = _load_source(config, run_dir)

    # --- units ---
    units: dict[tuple[str, str, int], dict[str, Any]] = {}
    for setting in config.settings:
        for seed in config.seeds:
            cache: list[list[Task]] = []

            def tasks(setting: str = setting, seed: int = seed, cache: list = cache) -> list[Task]:
                if not cache:  # built only when a unit of this (setting, seed) must run
                    cache.append(_stream(config, source, setting, seed))
                return cache[0]

            for arm in config.arms:
                key = f"{setting}/{arm}/seed{seed}"
                units[(setting, arm, seed)] = run_dir.unit(
                    key,
                    lambda key=key, arm=arm, setting=setting, seed=seed, tasks=tasks: _run_unit(
                        config, run_dir, key, arm, setting, seed, tasks()
                    ),
                )
                u = units[(setting, arm, seed)]
                print(
                    f"  {key}: avg acc {u['avg_acc']:.1f} %, forgetting {u['forgetting']:.3f}, "
                    f"{u['wall_s']:.0f} s",
                    flush=True,
                )

    # --- per-seed metrics per arm ---
    arms: dict[str, dict[str, list[float]]] = {}
    for setting in config.settings:
        for arm in config.arms:
            us = [units[(setting, arm, s)] for s in config.seeds]
            m = {
                "eval/avg_acc": [u["avg_acc"] for u in us],
                "eval/forgetting": [u["forgetting"] for u in us],
            }
            if setting == "noisy":
                m["train/selected_noise_share"] = [u["selected_noise_share"] for u in us]
                if us[0]["memory_noise_share"] is not None:
                    m["memory/noise_share"] = [u["memory_noise_share"] for u in us]
            if setting == "imbalanced":
                m["eval/minority_acc"] = [u["minority_acc"] for u in us]
            arms[f"{setting}/{arm}"] = m
    summary = summarize(arms)

    # --- claims ---
    claims: list[Claim] = []
    for setting in config.settings:
        worse = [f"{setting}/{a}" for a in ("Uniform", "ER-Reservoir") if a in config.arms]
        if "OCS" in config.arms and worse:
            claims.append(
                compare_claim(
                    f"ocs_accuracy_{setting}",
                    f"{setting}: OCS has a higher average accuracy than "
                    + " and ".join(w.split("/")[1] for w in worse),
                    arms,
                    "eval/avg_acc",
                    f"{setting}/OCS",
                    worse,
                )
            )
    if "noisy" in config.settings and {"OCS", "Uniform"} <= set(config.arms):
        claims.append(
            compare_claim(
                "ocs_cleaner_coreset_noisy",
                "noisy: OCS's coreset holds a smaller share of noise images than Uniform's",
                arms,
                "memory/noise_share",
                "noisy/OCS",
                "noisy/Uniform",
                higher_is_better=False,
            )
        )
    if "balanced" in config.settings and {"OCS", "Finetune"} <= set(config.arms):
        claims.append(
            compare_claim(
                "finetune_forgets_balanced",
                "balanced: Finetune forgets more than OCS (the rotation step makes tasks conflict)",
                arms,
                "eval/forgetting",
                "balanced/OCS",
                "balanced/Finetune",
                higher_is_better=False,
            )
        )

    # --- figures and tables ---
    _heatmaps(run_dir, units, config)
    _bars(run_dir, summary, config)
    if "noisy" in config.settings:
        names = [f"noisy/{a}" for a in config.arms if "memory/noise_share" in arms[f"noisy/{a}"]]
        if names:
            bar_ci(
                run_dir.figure("noise_share_noisy"),
                summary,
                ["memory/noise_share", "train/selected_noise_share"],
                arms=names,
                title=f"noisy: share of noise images ({config.stream.noise_fraction:.0%} "
                "of the stream)",
            )
    with_memory = [
        s
        for s in config.settings
        if any(units[(s, a, config.seeds[0])]["memory_hist"] for a in config.arms)
    ]
    tables = _class_hist(run_dir, units, config, with_memory) if with_memory else {}
    wall = sum(u["wall_s"] for u in units.values())
    notes = (
        f"Stream: {config.stream.source}, {config.stream.num_tasks} tasks, "
        f"+{config.stream.angle_step:g} deg per task, "
        f"{config.stream.train_per_task or 'all'} training / "
        f"{config.stream.test_per_task or 'all'} test images per task; memory "
        f"{config.train.memory_size}, stream batch {config.train.stream_size} -> kappa "
        f"{config.train.pick_size}, {config.train.num_passes} passes per task, tau "
        f"{config.train.tau:g}, warm start {config.train.warm_start_iters} batches. Accuracy in %, "
        f"forgetting as a fraction (as the paper's tables). Sum of unit wall times {wall:.0f} s "
        f"with {config.num_threads} torch thread(s).\n\n"
        "Deviations (see the package README): replay batches drawn uniformly from the whole "
        "memory; effective replay weight stated directly (official ref_hyp / 10); class-balanced "
        "fill of leftover seats by rank; per-task random training subsets; Uniform and A-GEM "
        "share the random class-balanced per-task memory; ER-Reservoir offers each streamed "
        "sample once."
    )
    return Outcome(arms=arms, claims=claims, notes=notes, tables=tables)
