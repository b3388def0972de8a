"""OCS reproduction units: one strategy trained through one rotated task stream (setting x arm x
seed), with its task-accuracy matrix and memory statistics; the paper's claims, declared.

Every arm of a (setting, seed) sees the same task stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything

from .config import ARMS, SETTINGS, Config
from .metrics import average_accuracy, forgetting, noise_share
from .models import OfficialMLP
from .scenarios import Task, rotated_stream
from .strategies import AGEM, OCS, ContinualStrategy, ERReservoir, Finetune, Uniform

__all__ = [
    "make_strategy",
    "preflight",
    "run_unit",
    "units",
]

NUM_CLASSES = 10
_COST = {"OCS": 4.0, "A-GEM": 2.0}  # per-sample gradients and reference gradients cost more


def _stream(cfg: Config, setting: str, seed: int, data_root: Any) -> list[Task]:
    from paperzoo.datasets import load_images

    s = cfg.stream
    train, test = load_images(s.source, data_root)
    if train.image_shape[0] != 1:
        raise ValueError(
            f"{s.source}: rotated streams need grayscale images, got "
            f"{train.image_shape[0]} channels"
        )
    return rotated_stream(
        train.x[:, 0],
        train.y,
        test.x[:, 0],
        test.y,
        num_tasks=s.num_tasks,
        angle_step=s.angle_step,
        variant=setting,  # type: ignore[arg-type]
        train_per_task=s.train_per_task or None,
        test_per_task=s.test_per_task or None,
        noise_fraction=s.noise_fraction,
        noise_style=s.noise_style,
        majority_classes=s.majority_classes,
        minority_fraction=s.minority_fraction,
        pixel_scale=1.0,
        seed=seed,
    )


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


def _memory_noise(strategy: ContinualStrategy, tasks: list[Task]) -> float | None:
    buf = strategy.buffer
    if buf is None or len(buf) == 0:
        return None
    flags = torch.stack(
        [tasks[t].is_noise[s] for t, s in zip(buf.task_ids.tolist(), buf.sample_ids.tolist())]
    )
    return noise_share(flags)


def preflight(cfg: Config, data_root: Any) -> None:
    """Load the images once, so a missing data set fails before any unit runs."""
    from paperzoo.datasets import load_images

    load_images(cfg.stream.source, data_root)


def units(cfg: Config) -> list[Unit]:
    """Setting x arm x seed."""
    for s in cfg.settings:
        if s not in SETTINGS:
            raise ValueError(f"unknown setting {s!r}; choose from {', '.join(SETTINGS)}")
    for a in cfg.arms:
        if a not in ARMS:
            raise ValueError(f"unknown arm {a!r}; choose from {', '.join(ARMS)}")
    return [
        Unit(f"{st}/{a}/seed{s}", f"{st}/{a}", s, {"setting": st, "arm": a}, cost=_COST.get(a, 1.0))
        for st in cfg.settings
        for s in cfg.seeds
        for a in cfg.arms
    ]


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    """Train the arm through every task; evaluate all tasks after each one."""
    setting, arm = unit.params["setting"], unit.params["arm"]
    key = ("continual", setting, unit.seed, repr(cfg.stream), str(ctx.data_root))
    tasks = ctx.cache(key, lambda: _stream(cfg, setting, unit.seed, ctx.data_root))
    seed_everything(unit.seed)  # the same state whether the stream was built or cached
    model = OfficialMLP(tasks[0].in_dim, cfg.train.hidden, NUM_CLASSES, cfg.train.dropout)
    model.to(ctx.device)
    strategy = make_strategy(arm, model, cfg, setting, unit.seed)
    acc_rows: list[list[float]] = []
    every = 1 if cfg.checkpoint_every_task else len(tasks)
    for t in ctx.steps(
        len(tasks), {"strategy": strategy, "acc": acc_rows}, every=every, desc="tasks"
    ):
        strategy.train(tasks[t - 1])
        acc_rows.append(strategy.evaluate(tasks))
        ctx.log({"task": t - 1, "acc_seen": float(np.mean(acc_rows[-1][:t]))})
    acc = np.array(acc_rows)
    per_class = _per_class_accuracy(model, tasks)
    minority = [c for c in range(NUM_CLASSES) if c not in cfg.stream.majority_classes]
    metrics = {"eval/avg_acc": 100.0 * average_accuracy(acc), "eval/forgetting": forgetting(acc)}
    mem_noise = _memory_noise(strategy, tasks)
    if setting == "noisy":
        metrics["train/selected_noise_share"] = strategy.selected_noise / max(
            1, strategy.selected_total
        )
        if mem_noise is not None:
            metrics["memory/noise_share"] = mem_noise
    if setting == "imbalanced":
        metrics["eval/minority_acc"] = 100.0 * float(np.mean([per_class[c] for c in minority]))
    ctx.artifact("acc", acc.tolist())
    ctx.artifact("per_class_acc", per_class)
    buf = strategy.buffer
    hist = buf.class_histogram(NUM_CLASSES).tolist() if buf is not None and len(buf) else None
    ctx.artifact("memory_hist", hist)
    return metrics
