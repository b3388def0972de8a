"""Neural Complexity reproduction units: per (regime, seed), meta-train NC on sinusoid learners,
then evaluate it on held-out tasks (gap prediction, and test MSE of learners it regularises
against tuned baselines); the claims, declared.

Regimes: official (10 points, 16 steps) and overfit (ours: 5 points, 48 steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from paperzoo.core import (
    Unit,
    UnitContext,
    make_generator,
    relative_change,
    seed_everything,
)

from .config import Config, RegimeConfig
from .evaluation import compare_regularisers, gap_prediction, nc_predict
from .learners import LearnerMLP, init_learner_params
from .model import NeuralComplexity
from .tasks import PolynomialTasks, SinusoidTasks
from .trainer import NeuralComplexityTrainer, collect_snapshots, gap_prediction_metrics

__all__ = ["run_unit", "units"]

_REGIME_INDEX = {"official": 0, "overfit": 1}


def units(cfg: Config) -> list[Unit]:
    """One unit per regime and seed; it measures every regulariser and predictor arm."""
    for regime in cfg.regimes:
        if regime not in _REGIME_INDEX:
            raise ValueError(f"unknown regime {regime!r}; known: {sorted(_REGIME_INDEX)}")
    return [Unit(f"{r}/seed{s}", r, s, {"regime": r}) for r in cfg.regimes for s in cfg.seeds]


def _meta_train(cfg: Config, regime: str, seed: int, ctx: UnitContext):
    rc: RegimeConfig = getattr(cfg, regime)
    mc, ncc, lc, tc = cfg.meta, cfg.nc, cfg.learner, cfg.tasks
    nc = NeuralComplexity(
        ncc.hidden_dim, ncc.encoder_depth, ncc.decoder_depth, ncc.num_heads, ncc.pool
    )
    learner = LearnerMLP(lc.hidden_dim, lc.num_layers, lc.activation)
    dist = SinusoidTasks(
        rc.num_train,
        rc.num_test,
        amplitude_range=tc.amplitude_range,
        phase_range=tc.phase_range,
        x_range=tc.x_range,
    )
    trainer = NeuralComplexityTrainer(
        nc,
        dist,
        learner,
        batch_size=mc.batch_size,
        task_batch_size=mc.task_batch_size,
        learning_rate=mc.learning_rate,
        inner_steps=rc.inner_steps,
        inner_learning_rate=rc.inner_learning_rate,
        nc_weight=mc.nc_weight,
        learn_every=rc.learn_every,
        warmup_steps=mc.warmup_steps,
        memory_capacity=mc.memory_capacity,
        generator=make_generator(seed * 100 + _REGIME_INDEX[regime]),
    )
    if ctx.load_checkpoint("meta") is None:  # a resumed unit restores the filled memory instead
        trainer.populate(mc.populate_batches)
    losses: list[float] = []
    curve: list[float] = []
    for step in ctx.steps(
        mc.num_steps,
        {"trainer": trainer, "curve": curve},
        name="meta",
        every=mc.checkpoint_every,
        desc=f"NC {regime}",
    ):
        losses.append(trainer.step()["loss"])
        if step % mc.log_every == 0 or step == mc.num_steps:
            curve.append(float(np.mean(losses)))
            ctx.log({"step": step, "nc/loss": curve[-1], "memory": len(trainer.memory)})
            losses = []
    nc.eval()
    for p in nc.parameters():  # from here on NC is a fixed regulariser / predictor
        p.requires_grad_(False)
    return nc, learner, dist, curve


def _polynomial_transfer(cfg: Config, rc: RegimeConfig, nc: Any, learner: Any, g: Any):
    """NC (meta-trained on sinusoids) predicting gaps of learners on cubic polynomials."""
    ptasks = PolynomialTasks(rc.num_train, rc.num_test).sample(cfg.eval.num_val_tasks, g)
    pinit = init_learner_params(learner, cfg.eval.num_val_tasks, g)
    sp, _ = collect_snapshots(
        learner,
        pinit,
        ptasks,
        num_steps=rc.inner_steps,
        learning_rate=rc.inner_learning_rate,
        every=cfg.eval.snapshot_every,
    )
    return gap_prediction_metrics(nc_predict(nc, sp), sp["gap"])


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, dict[str, float]]:
    """Meta-train NC, then measure every gap predictor and every regulariser on held-out tasks."""
    regime = unit.params["regime"]
    rc: RegimeConfig = getattr(cfg, regime)
    ec = cfg.eval
    # NC's initialisation uses the global RNG (nn.Linear defaults).
    seed_everything(unit.seed, deterministic=ctx.device.type != "cpu")
    nc, learner, dist, curve = _meta_train(cfg, regime, unit.seed, ctx)
    # --- held-out tasks: their own generator, so they do not depend on meta-training length ---
    g = make_generator(10_000 + unit.seed * 100 + _REGIME_INDEX[regime])
    val_tasks = dist.sample(ec.num_val_tasks, g)
    val = (val_tasks, init_learner_params(learner, ec.num_val_tasks, g))
    test_tasks = dist.sample(ec.num_test_tasks, g)
    test = (test_tasks, init_learner_params(learner, ec.num_test_tasks, g))
    inner = dict(inner_steps=rc.inner_steps, inner_learning_rate=rc.inner_learning_rate)
    gaps, scatter = gap_prediction(
        nc, learner, val, test, snapshot_every=ec.snapshot_every, predictors=ec.predictors, **inner
    )
    if ec.transfer_family == "polynomial":
        gaps["nc@polynomial"] = _polynomial_transfer(cfg, rc, nc, learner, g)
    regs = compare_regularisers(
        nc,
        learner,
        val,
        test,
        seed=unit.seed,
        l2_grid=ec.l2_grid,
        dropout_grid=ec.dropout_grid,
        measures=ec.measures,
        measure_grid=ec.measure_grid,
        nc_weight=ec.nc_weight,
        **inner,
    )
    ctx.artifact("scatter", scatter)
    ctx.artifact("nc_loss", curve)
    ctx.artifact("curves", {a: r["curve"] for a, r in regs.items()})
    ctx.artifact("hyper", {a: r["hyper"] for a, r in regs.items()})
    change = relative_change(curve)
    out: dict[str, dict[str, float]] = {
        f"{regime}/{a}": {
            "test/mse": r["test_mse"],
            "train/mse": r["train_mse"],
            "test/gap": r["gap"],
            "test/diverged": r["diverged"],
            "meta/loss_change": change,
        }
        for a, r in regs.items()
    }
    for pred, m in gaps.items():
        out[f"{regime}/predict:{pred}"] = {f"gap/{k}": v for k, v in m.items()}
        out[f"{regime}/predict:{pred}"]["meta/loss_change"] = change
    return out
