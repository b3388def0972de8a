"""Attribution-preserving compression units: a teacher per seed, then KD and magnitude-pruning
students with plain / +AT / +WCAM / +WCAM-stochastic objectives (each a unit that loads its
seed's teacher), evaluated for accuracy and localisation on cluttered digits; the claims,
declared.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import torch
from torch import nn

from paperzoo.core import Unit, UnitContext, make_generator
from paperzoo.core import seed_everything as _seed
from paperzoo.datasets import make_loader

from ..distill import DistillationObjective, fit
from ..matching import AttributionMatchingLoss
from ..models import SmallVGG
from ..prune import FineTuneObjective, iterative_magnitude_pruning, l1_filter_prune, sparsity
from .config import Config
from .recipe import LAYER, evaluate, gradcam_maps, load_data

__all__ = [
    "ARM_LABEL",
    "preflight",
    "run_unit",
    "units",
]

ARM_LABEL = {"plain": "", "at": "+at", "wcam": "+wcam", "wcam_stochastic": "+wcam_stoch"}


# --- training --------------------------------------------------------------------------------
def _build(cfg: Config, width_divisor: int) -> SmallVGG:
    t = cfg.teacher
    return SmallVGG(
        widths=t.conv_dims,
        width_divisor=width_divisor,
        num_pooled=t.num_pooled,
        image_size=cfg.data.canvas_size,
        hidden_dim=t.hidden_dim,
    )


def _matching(cfg: Config, arm: str, teacher: nn.Module, student: nn.Module, seed: int):
    if arm == "plain":
        return None
    m = cfg.matching
    return AttributionMatchingLoss(
        teacher,
        student,
        LAYER,
        LAYER,
        kind="at" if arm == "at" else "wcam",
        beta=m.beta,
        stochastic_drop=m.stochastic_drop if arm == "wcam_stochastic" else 0.0,
        reduction=m.reduction,
        generator=make_generator(seed + 7919),
    )


def _epochs(
    ctx: UnitContext,
    objective: Any,
    opt: Any,
    train: tuple,
    num: int,
    batch: int,
    seed_base: int,
    name: str,
) -> None:
    """``num`` resumable epochs of ``objective`` with a per-epoch cosine decay of the learning
    rate to 0 (the model, optimiser and schedule are checkpointed). A pilot with a constant
    Adam rate left the teacher's test accuracy swinging between 74 and 90 % from epoch to
    epoch; the decay ends training on a plateau."""
    model = objective.student
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=num)
    state = {"model": model, "opt": opt, "sched": sched}
    for epoch in ctx.steps(num, state, name=name, every=1):
        loader = make_loader(train[0], train[1], batch, seed=seed_base + epoch - 1)
        parts = fit(objective, opt, loader, name=f"{ctx.unit.key} epoch {epoch}")
        sched.step()
        ctx.log({"epoch": epoch - 1, **{f"train/{k}": v for k, v in parts.items()}})


def _teacher(cfg: Config, train: tuple, seed: int, ctx: UnitContext) -> nn.Module:
    t = cfg.teacher
    model = _build(cfg, 1)
    opt = torch.optim.Adam(model.parameters(), lr=t.learning_rate)
    _epochs(
        ctx,
        FineTuneObjective(model),
        opt,
        train,
        t.num_epochs,
        t.batch_size,
        seed * 1000,
        "teacher",
    )
    torch.save({"model": model.state_dict()}, ctx.file("teacher.pt"))
    return model


def _distill(cfg: Config, arm: str, teacher: nn.Module, train: tuple, ctx: UnitContext):
    seed = ctx.unit.seed
    _seed(seed + 1)
    d = cfg.distill
    student = _build(cfg, d.width_divisor)
    objective = DistillationObjective(
        teacher,
        student,
        _matching(cfg, arm, teacher, student, seed),
        temperature=d.temperature,
        alpha=d.alpha,
    )
    opt = torch.optim.Adam(student.parameters(), lr=d.learning_rate)
    _epochs(ctx, objective, opt, train, d.num_epochs, d.batch_size, seed * 1000 + 100, "kd")
    return student


def _stage_lr(cfg: Config, opt: torch.optim.Optimizer, total: int, done: int = 0) -> Any:
    """Set the fine-tuning rate for step ``done`` of a stage of ``total`` steps, and return the
    ``on_step`` callback of :func:`fit` that sets it for each following step (``None`` for a
    constant rate).

    ``cosine``: ``lr_s = learning_rate * (1 + cos(pi * s / total)) / 2`` for s = 0..total-1,
    restarted at every pruning iteration. The rate is a function of the step index alone, so a
    resumed structured fine-tuning (checkpointed by epoch) continues the same curve.
    """
    p = cfg.prune
    if p.lr_schedule == "constant":
        return None

    def set_lr(step: int) -> None:
        lr = 0.5 * p.learning_rate * (1.0 + math.cos(math.pi * min(step, total) / total))
        for group in opt.param_groups:
            group["lr"] = lr

    set_lr(done)
    # fit calls on_step(i, out) after its i-th update: the next update is step done + i + 1.
    return lambda i, _out: set_lr(done + i + 1)


def _batches(train: tuple, batch_size: int, steps: int, seed: int) -> Any:
    """Exactly ``steps`` mini-batches, drawing as many reshuffled epochs as that takes.

    ``make_loader`` yields one epoch; slicing it capped every pruning iteration at one epoch
    whatever ``epochs_per_iteration`` said (the bug behind the first `quick` run's pruning
    numbers).
    """
    done = 0
    for epoch in itertools.count():
        for batch in make_loader(train[0], train[1], batch_size, seed=seed + 7919 * epoch):
            if done == steps:
                return
            yield batch
            done += 1


def _prune(cfg: Config, arm: str, teacher: nn.Module, train: tuple, ctx: UnitContext):
    seed = ctx.unit.seed
    _seed(seed + 2)
    p = cfg.prune
    # Pruning starts from the trained teacher's weights; the copy learns in train mode (``fit``
    # switches it), the teacher stays frozen in eval mode.
    student = copy.deepcopy(teacher).train()
    objective = FineTuneObjective(student, _matching(cfg, arm, teacher, student, seed))
    opt = torch.optim.Adam(student.parameters(), lr=p.learning_rate)
    steps = max(1, math.ceil(p.epochs_per_iteration * len(train[1]) / p.batch_size))

    def fine_tune(iteration: int) -> None:
        batches = _batches(train, p.batch_size, steps, seed * 1000 + 200 + iteration)
        parts = fit(
            objective,
            opt,
            batches,
            name=f"{ctx.unit.key} iteration {iteration}",
            on_step=_stage_lr(cfg, opt, steps),
        )
        ctx.log(
            {
                "iteration": iteration,
                "sparsity": sparsity(student),
                **{f"train/{k}": v for k, v in parts.items()},
            }
        )

    iterative_magnitude_pruning(student, p.final_sparsity, p.num_iterations, fine_tune)
    return student


def _prune_structured(cfg: Config, arm: str, teacher: nn.Module, train: tuple, ctx: UnitContext):
    """One-shot L1 filter pruning of every conv layer, then fine-tuning (official structure/)."""
    seed = ctx.unit.seed
    _seed(seed + 3)
    p = cfg.prune
    student = copy.deepcopy(teacher).train()
    l1_filter_prune(student, p.filter_fraction)
    objective = FineTuneObjective(student, _matching(cfg, arm, teacher, student, seed))
    opt = torch.optim.Adam(student.parameters(), lr=p.learning_rate)
    steps = max(1, math.ceil(p.structured_epochs * len(train[1]) / p.batch_size))
    per_epoch = math.ceil(len(train[1]) / p.batch_size)
    epochs = math.ceil(steps / per_epoch)
    for epoch in ctx.steps(epochs, {"model": student, "opt": opt}, name="finetune", every=1):
        loader = make_loader(train[0], train[1], p.batch_size, seed=seed * 1000 + 300 + epoch)
        last = min(per_epoch, steps - (epoch - 1) * per_epoch)
        parts = fit(
            objective,
            opt,
            itertools.islice(loader, last),
            name=f"{ctx.unit.key} {epoch}",
            on_step=_stage_lr(cfg, opt, steps, done=(epoch - 1) * per_epoch),
        )
        ctx.log({"epoch": epoch - 1, **{f"train/{k}": v for k, v in parts.items()}})
    return student


# --- units -----------------------------------------------------------------------------------
def preflight(cfg: Config, data_root: Any) -> None:
    """Load the digit pool once, so a missing data set fails before any unit runs."""
    from paperzoo.datasets import load_images

    load_images(cfg.data.source, data_root)


def units(cfg: Config) -> list[Unit]:
    """A teacher per seed, then every enabled compression x matching arm, loading it."""
    comps = [
        c
        for c, on in (
            ("kd", cfg.distill.enabled),
            ("prune", cfg.prune.enabled),
            ("struct", cfg.prune.enabled and cfg.prune.structured),
        )
        if on
    ]
    unknown = [a for a in cfg.arms if a not in ARM_LABEL]
    if unknown:
        raise ValueError(f"unknown arms {unknown}; choose from {list(ARM_LABEL)}")
    out = []
    for s in cfg.seeds:
        teacher = f"teacher/seed{s}"
        out.append(Unit(teacher, "teacher", s, {"comp": "teacher"}))
        out += [
            Unit(
                f"{c}{ARM_LABEL[a]}/seed{s}",
                f"{c}{ARM_LABEL[a]}",
                s,
                {"comp": c, "arm": a},
                deps=(teacher,),
            )
            for c in comps
            for a in cfg.arms
        ]
    return out


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    key = ("compression", repr(cfg.data), str(ctx.data_root))
    train, test = ctx.cache(key, lambda: load_data(cfg, ctx.data_root))
    _seed(unit.seed)  # the same state whether the data were built or cached
    if unit.params["comp"] == "teacher":
        return evaluate(cfg, _teacher(cfg, train, unit.seed, ctx), test, None, ctx)
    teacher = _build(cfg, 1)
    path = ctx.file("teacher.pt", unit.deps[0])
    teacher.load_state_dict(torch.load(path, weights_only=True)["model"])
    teacher.eval()
    teacher_maps, teacher_logits = gradcam_maps(teacher, test[0], test[1], cfg.matching.reduction)
    common = teacher_logits.argmax(1) == test[1]
    build = {"kd": _distill, "prune": _prune, "struct": _prune_structured}[unit.params["comp"]]
    student = build(cfg, unit.params["arm"], teacher, train, ctx)
    metrics = evaluate(cfg, student, test, (teacher_maps, common), ctx)
    # What compression cost in accuracy (gated: a student that never learned says nothing).
    metrics["eval/accuracy_gap"] = 100.0 * float(common.float().mean()) - metrics["eval/accuracy"]
    metrics["eval/sparsity"] = 100.0 * sparsity(student)
    return metrics
