"""OCS reproduction units: one strategy trained through one task stream (setting x arm x seed),
with its task-accuracy matrix, a convergence probe and memory statistics.

Every arm of a (setting, seed) sees the same task stream. Streams: rotated images (one head) or a
sequence of different data sets (one masked head per data set, :func:`.scenarios.dataset_sequence`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything
from paperzoo.core.errors import UsageError

from ..metrics import average_accuracy, forgetting, noise_share
from ..models import OfficialMLP
from ..scenarios import Task
from ..strategies import (
    AGEM,
    OCS,
    ContinualStrategy,
    ERReservoir,
    Finetune,
    Uniform,
    UniformBalanced,
)
from .config import ARMS, OFFICIAL_ARM, SETTINGS, Config
from .recipe import build_stream, cached_stream, stream_sources

__all__ = [
    "make_strategy",
    "preflight",
    "run_unit",
    "units",
]

_COST = {"OCS": 4.0, "A-GEM": 2.0}  # per-sample gradients and reference gradients cost more


def make_strategy(arm: str, model: torch.nn.Module, config: Config, setting: str, seed: int):
    """The strategy called ``arm`` with the config's hyperparameters (imbalanced overrides)."""
    t = config.train
    imbalanced = setting == "imbalanced"
    common: dict[str, Any] = dict(
        lr=t.learning_rate,
        momentum=t.momentum,
        lr_decay=(t.imbalanced_learning_rate_decay if imbalanced else t.learning_rate_decay),
        stream_size=t.stream_size,
        pick_size=t.pick_size,
        num_passes=t.num_passes,
        min_steps=t.min_steps_per_task,
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
    if arm == "Uniform-balanced":
        return UniformBalanced(model, candidate_size=t.candidate_size, **common)
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


def num_outputs(tasks: list[Task]) -> int:
    """Logits the model needs: every task's classes (masked heads) or every label seen."""
    top = [int(t.classes.max()) if t.classes is not None else int(t.y_train.max()) for t in tasks]
    return max(max(top), max(int(t.y_test.max()) for t in tasks if len(t.y_test))) + 1


@torch.no_grad()
def _per_class_accuracy(
    strategy: ContinualStrategy, tasks: list[Task], classes: int
) -> list[float]:
    """Accuracy per class over all tasks' test sets (final model; each task on its head)."""
    strategy.model.eval()
    preds, ys = [], []
    for t in tasks:
        preds += [strategy.logits(xb, t.task_id).argmax(1) for xb in t.x_test.split(4000)]
        ys.append(t.y_test)
    pred, y = torch.cat(preds), torch.cat(ys)
    return [
        float((pred[y == c] == c).float().mean()) if (y == c).any() else float("nan")
        for c in range(classes)
    ]


def _minority_classes(cfg: Config, tasks: list[Task], classes: int) -> list[int]:
    """Labels outside ``majority_classes`` (per data set, before its label shift)."""
    majority = set(cfg.stream.majority_classes)
    out: set[int] = set()
    for t in tasks:
        own = t.classes.tolist() if t.classes is not None else list(range(classes))
        base = min(own)
        out |= {c for c in own if c - base not in majority}
    return sorted(out)


def _memory_noise(strategy: ContinualStrategy, tasks: list[Task]) -> tuple[float, list] | None:
    """Noise share of the whole memory and of each task's coreset (None: no such task)."""
    buf = strategy.buffer
    if buf is None or len(buf) == 0:
        return None
    tids = buf.task_ids.tolist()
    flags = torch.stack([tasks[t].is_noise[s] for t, s in zip(tids, buf.sample_ids.tolist())])
    per_task = [
        noise_share(flags[buf.task_ids == t]) if (buf.task_ids == t).any() else None
        for t in range(len(tasks))
    ]
    return noise_share(flags), per_task


def preflight(cfg: Config, data_root: Any) -> None:
    """Load the images once, so a missing data set fails before any unit runs; refuse a
    comparison with the official code whose per-seed results are not entered yet."""
    from paperzoo.datasets import load_images

    if cfg.claims.official_required and not cfg.official_seeds():
        raise UsageError(
            "this preset compares our OCS with the official code's per-seed results: enter "
            "them first, --set 'claims.official_avg_acc={4 = ..., 5 = ...}' or in the preset "
            "(README: how to produce them)"
        )

    for name in stream_sources(cfg):
        load_images(name, data_root)


def units(cfg: Config) -> list[Unit]:
    """Setting x arm x seed, plus the official code's entered per-seed results (one unit per
    seed, ``OFFICIAL_ARM``) when ``claims.official_avg_acc`` holds them."""
    for s in cfg.settings:
        if s not in SETTINGS:
            raise ValueError(f"unknown setting {s!r}; choose from {', '.join(SETTINGS)}")
    for a in cfg.arms:
        if a not in ARMS:
            raise ValueError(f"unknown arm {a!r}; choose from {', '.join(ARMS)}")
    out = [
        Unit(f"{st}/{a}/seed{s}", f"{st}/{a}", s, {"setting": st, "arm": a}, cost=_COST.get(a, 1.0))
        for st in cfg.settings
        for s in cfg.seeds
        for a in cfg.arms
    ]
    if cfg.official_seeds() and "balanced" in cfg.settings and "OCS" in cfg.arms:
        out += [
            Unit(f"{OFFICIAL_ARM}/seed{s}", OFFICIAL_ARM, s, {"official": True}, cost=0.01)
            for s in cfg.seeds
        ]
    return out


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train the arm through every task; evaluate all tasks after each one (the official arm:
    report the number entered for this seed, so that the claims pair it with ours)."""
    if unit.params.get("official"):
        official = cfg.official_seeds()
        return {"eval/avg_acc": official[unit.seed], "official/seeds": float(len(official))}
    setting, arm = unit.params["setting"], unit.params["arm"]
    key = ("continual", setting, unit.seed, repr(cfg.stream), str(ctx.data_root))
    tasks = cached_stream(key, lambda: build_stream(cfg, setting, unit.seed, ctx.data_root))
    seed_everything(unit.seed)  # the same state whether the stream was built or cached
    classes = num_outputs(tasks)
    model = OfficialMLP(tasks[0].in_dim, cfg.train.hidden_dim, classes, cfg.train.dropout)
    model.to(ctx.device)
    strategy = make_strategy(arm, model, cfg, setting, unit.seed)
    acc_rows: list[list[float]] = []
    plateau: list[list[float]] = []  # per task: [current-task acc at 80 % of its steps, at 100 %]
    every = 1 if cfg.checkpoint_every_task else len(tasks)
    for t in ctx.steps(
        len(tasks),
        {"strategy": strategy, "acc": acc_rows, "plateau": plateau},
        every=every,
        desc="tasks",
    ):
        task = tasks[t - 1]
        probe = _probe(task, cfg.train.plateau_eval_size)
        mid: list[float] = []
        if probe is not None:
            strategy.step_callback = _at_fraction(
                0.8, lambda p=probe, m=mid: m.extend(strategy.evaluate([p]))
            )
        strategy.train(task)
        strategy.step_callback = None
        acc_rows.append(strategy.evaluate(tasks))
        if probe is not None:
            end = strategy.evaluate([probe])[0]
            plateau.append([mid[0] if mid else end, end])
        ctx.log({"task": t - 1, "acc_seen": float(np.mean(acc_rows[-1][:t]))})
    acc = np.array(acc_rows)
    per_class = _per_class_accuracy(strategy, tasks, classes)
    metrics = {
        "eval/avg_acc": 100.0 * average_accuracy(acc),
        "eval/forgetting": forgetting(acc),
        "eval/learn_acc": 100.0 * float(np.mean(np.diag(acc))),
    }
    if plateau:
        metrics["train/plateau_gain"] = 100.0 * float(np.mean([b - a for a, b in plateau]))
    mem = _memory_noise(strategy, tasks)
    if setting == "noisy":
        metrics["train/selected_noise_share"] = strategy.selected_noise / max(
            1, strategy.selected_total
        )
        if mem is not None:
            metrics["memory/noise_share"] = mem[0]
            ctx.artifact("memory_noise_per_task", mem[1])
    if setting == "imbalanced":
        minority = _minority_classes(cfg, tasks, classes)
        metrics["eval/minority_acc"] = 100.0 * float(np.nanmean([per_class[c] for c in minority]))
    ctx.artifact("acc", acc.tolist())
    ctx.artifact("plateau", plateau)
    ctx.artifact("per_class_acc", per_class)
    buf = strategy.buffer
    hist = buf.class_histogram(classes).tolist() if buf is not None and len(buf) else None
    ctx.artifact("memory_hist", hist)
    ctx.artifact("task_names", [t.name for t in tasks])
    return metrics


def _probe(task: Task, size: int) -> Task | None:
    """The task with its test split cut to ``size`` images (the convergence probe)."""
    if size == 0 or len(task.y_test) == 0:
        return None
    return Task(
        task.task_id,
        task.x_train[:1],
        task.y_train[:1],
        task.x_test[:size],
        task.y_test[:size],
        name=task.name,
        classes=task.classes,
    )


def _at_fraction(frac: float, fn):
    """A step callback that calls ``fn()`` once, at step ``ceil(frac * total)``."""

    def callback(step: int, total: int) -> None:
        if step == max(1, int(np.ceil(frac * total))) and step < total:
            fn()

    return callback
