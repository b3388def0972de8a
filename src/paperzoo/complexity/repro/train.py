"""Neural Complexity reproduction units: per (regime, seed), meta-train NC on learners of the
regime's tasks, then evaluate it on held-out tasks (gap prediction, and the test loss of learners
it regularises against tuned baselines), on other task families (transfer); the claims, declared.

Regimes: sinusoid regression ``official`` (10 points, 16 steps) and ``overfit`` (ours: 5 points,
48 steps); ``mixture`` (overfit sizes, meta-trained on sinusoids and cubics); few-shot image
``classification`` (held-out classes).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from paperzoo.core import (
    Unit,
    UnitContext,
    absolute_change,
    late_new_high,
    make_generator,
    relative_change,
    seed_everything,
)

from ..evaluation import compare_regularisers, gap_prediction, nc_predict, transfer
from ..learners import LearnerMLP, init_learner_params
from ..model import NeuralComplexity
from ..tasks import MixtureTasks
from ..trainer import NeuralComplexityTrainer, collect_snapshots, gap_prediction_metrics
from .config import Config, RegimeConfig
from .recipe import classification_data, inner_schedule, regression_family

__all__ = ["declared_arms", "preflight", "run_unit", "units"]

_REGIME_INDEX = {"official": 0, "overfit": 1, "mixture": 2, "classification": 3}
NC_FILE = "nc.pt"
"""The meta-trained NC of each unit, kept in the run (``NeuralComplexity.load``)."""


def units(cfg: Config) -> list[Unit]:
    """One unit per regime and seed; it measures every regulariser and predictor arm."""
    for regime in cfg.regimes:
        if regime not in _REGIME_INDEX:
            raise ValueError(f"unknown regime {regime!r}; known: {sorted(_REGIME_INDEX)}")
    return [Unit(f"{r}/seed{s}", r, s, {"regime": r}) for r in cfg.regimes for s in cfg.seeds]


def declared_arms(cfg: Config) -> list[str]:
    """Every arm the units will report (a unit measures many), for the pre-registration ledger:
    per regime the regularisers (none, L2, dropout, each measure, NC), the gap predictors and,
    for regression, NC and no regulariser on each transfer family."""
    ec, out = cfg.eval, []
    for r in cfg.regimes:
        out += [f"{r}/{a}" for a in ("none", "l2", "dropout", *ec.measures, "nc")]
        preds = ("nc", "train_loss", "param_norm", *ec.predictors, "mean_gap")
        out += [f"{r}/predict:{p}" for p in dict.fromkeys(preds)]
        if r != "classification":
            out += [f"{r}/transfer:{f}:{a}" for f in ec.transfer_families for a in ("nc", "none")]
    return out


def preflight(cfg: Config, data_root: Path | None) -> None:
    """Load the classification images once, so missing data fail before any unit runs."""
    if "classification" in cfg.regimes:
        from paperzoo.datasets import load_images

        load_images(cfg.classification.dataset, data_root)


def _meta_train(cfg: Config, regime: str, seed: int, ctx: UnitContext, dist: Any, val_dist: Any):
    mc, ncc, lc = cfg.meta, cfg.nc, cfg.learner
    if regime == "classification":
        cc = cfg.classification
        nc = NeuralComplexity(
            ncc.hidden_dim,
            ncc.encoder_depth,
            ncc.decoder_depth,
            ncc.num_heads,
            ncc.pool,
            x_dim=cc.feature_dim,
            y_dim=cc.num_ways,
            pred_transform="softmax",
            interaction=True,
        )
        learner = LearnerMLP(cc.hidden_dim, 2, lc.activation, cc.feature_dim, cc.num_ways)
        learn_every = cc.learn_every
    else:
        nc = NeuralComplexity(
            ncc.hidden_dim, ncc.encoder_depth, ncc.decoder_depth, ncc.num_heads, ncc.pool
        )
        learner = LearnerMLP(lc.hidden_dim, lc.num_layers, lc.activation)
        learn_every = getattr(cfg, regime).learn_every
    trainer = NeuralComplexityTrainer(
        nc,
        dist,
        learner,
        batch_size=mc.batch_size,
        task_batch_size=mc.task_batch_size,
        learning_rate=mc.learning_rate,
        nc_weight=mc.nc_weight,
        nc_grad_clip=mc.nc_grad_clip,
        learn_every=learn_every,
        warmup_steps=mc.warmup_steps,
        memory_capacity=mc.memory_capacity,
        generator=make_generator(seed * 100 + _REGIME_INDEX[regime]),
        **inner_schedule(cfg, regime),
    )
    if ctx.load_checkpoint("meta") is None:  # a resumed unit restores the filled memory instead
        trainer.populate(mc.populate_batches)
    # Fixed validation snapshots (unregularised learners of their own tasks) on which NC's gap
    # R is tracked during meta-training: the learning curve that sizes the preset.
    vg = make_generator(20_000 + seed * 100 + _REGIME_INDEX[regime])
    val_tasks = val_dist.sample(mc.num_val_tasks, vg)
    val_snaps, _ = collect_snapshots(
        learner,
        init_learner_params(learner, mc.num_val_tasks, vg),
        val_tasks,
        every=cfg.eval.snapshot_every,
        nc=nc,
        on_diverge="freeze",
        num_steps=inner_schedule(cfg, regime)["inner_steps"],
        learning_rate=inner_schedule(cfg, regime)["inner_learning_rate"],
    )
    losses: list[float] = []
    curve: list[float] = []
    r_curve: list[float] = []
    # The NC with the highest validation R so far (``meta.select_best``) and [R, step] of it;
    # checkpointed with the rest, so a resumed unit selects from the whole curve.
    best_nc, best = copy.deepcopy(nc), [-math.inf, 0]
    for step in ctx.steps(
        mc.steps_for(regime),
        {"trainer": trainer, "curve": curve, "r_curve": r_curve, "best_nc": best_nc, "best": best},
        name="meta",
        every=mc.checkpoint_every,
        desc=f"NC {regime}",
    ):
        losses.append(trainer.step()["loss"])
        if step % mc.log_every == 0 or step == mc.steps_for(regime):
            curve.append(float(np.mean(losses)))
            nc.eval()
            r_curve.append(gap_prediction_metrics(nc_predict(nc, val_snaps), val_snaps["gap"])["R"])
            if r_curve[-1] > best[0]:
                best[:] = [r_curve[-1], step]
                best_nc.load_state_dict(nc.state_dict())
            nc.train()
            ctx.log(
                {
                    "step": step,
                    "nc/loss": curve[-1],
                    "val/gap_R": r_curve[-1],
                    "memory": len(trainer.memory),
                }
            )
            losses = []
    if mc.select_best and r_curve:
        nc.load_state_dict(best_nc.state_dict())
    nc.eval()
    for p in nc.parameters():  # from here on NC is a fixed regulariser / predictor
        p.requires_grad_(False)
    return nc, learner, curve, r_curve, (best[1] if mc.select_best else mc.steps_for(regime))


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, dict[str, float]]:
    """Meta-train NC, then measure every gap predictor and every regulariser on held-out tasks."""
    regime = unit.params["regime"]
    ec = cfg.eval
    # NC's initialisation uses the global RNG (nn.Linear defaults).
    seed_everything(unit.seed, deterministic=ctx.device.type != "cpu")
    if regime == "classification":
        meta_dist, val_dist, test_dist = classification_data(cfg, ctx)
    else:
        rc: RegimeConfig = getattr(cfg, regime)
        sinusoid = regression_family(cfg, rc, "sinusoid")
        meta_dist = val_dist = test_dist = sinusoid
        if regime == "mixture":
            poly = regression_family(cfg, rc, "polynomial")
            meta_dist = MixtureTasks([sinusoid, poly], list(cfg.tasks.mixture_weights))
    nc, learner, curve, r_curve, chosen = _meta_train(
        cfg, regime, unit.seed, ctx, meta_dist, val_dist
    )
    nc.save(ctx.file(NC_FILE))
    # --- held-out tasks: their own generator, so they do not depend on meta-training length ---
    g = make_generator(10_000 + unit.seed * 100 + _REGIME_INDEX[regime])
    val = (val_dist.sample(ec.num_val_tasks, g), init_learner_params(learner, ec.num_val_tasks, g))
    test = (
        test_dist.sample(ec.num_test_tasks, g),
        init_learner_params(learner, ec.num_test_tasks, g),
    )
    inner = inner_schedule(cfg, regime)
    gaps, scatter = gap_prediction(
        nc, learner, val, test, snapshot_every=ec.snapshot_every, predictors=ec.predictors, **inner
    )
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
        nc_grad_clip=ec.nc_grad_clip,
        **inner,
    )
    ctx.artifact("scatter", {k: scatter[k] for k in ("pred", "gap")})
    ctx.artifact("gap_R_by_step", {"steps": scatter["steps"], **scatter["R_by_step"]})
    ctx.artifact("nc_loss", curve)
    ctx.artifact("val_gap_R", r_curve)
    ctx.artifact("curves", {a: r["curve"] for a, r in regs.items()})
    ctx.artifact("hyper", {a: r["hyper"] for a, r in regs.items()})
    change = relative_change(curve)
    # Did gap prediction still improve at the end? The gate reads the new high of validation R
    # in the last 20% of meta-training (a fall after a peak is not "still improving" when the
    # best NC is kept); the window-mean change is reported beside it.
    r_change = (
        {
            "meta/val_R_new_high": late_new_high(r_curve),
            "meta/val_R_change": absolute_change(r_curve),
            "meta/selected_step": float(chosen),
        }
        if len(r_curve) >= 5
        else {}
    )
    loss_key = "test/loss" if regime == "classification" else "test/mse"
    # Relative to the unregularised learners of the same seed (same tasks, same inits): the
    # claims' effects in units of "no regularisation's loss", which reads alike for an MSE of
    # 0.5 or 50 and for a cross-entropy. ``early``: the inner step at which acceleration is read.
    early = cfg.early_step(regime)
    base_curve = regs["none"]["curve"]
    out: dict[str, dict[str, float]] = {}
    for a, r in regs.items():
        out[f"{regime}/{a}"] = {
            loss_key: r["test_mse"],
            "test/loss_rel": r["test_mse"] / base_curve[-1],
            "test/loss_rel_early": r["curve"][early] / base_curve[early],
            "train/loss": r["train_mse"],
            "test/gap": r["gap"],
            "test/diverged": r["diverged"],
            "meta/loss_change": change,
            **r_change,
        }
        if "accuracy" in r:
            out[f"{regime}/{a}"]["test/accuracy"] = r["accuracy"]
    for pred, m in gaps.items():
        out[f"{regime}/predict:{pred}"] = {f"gap/{k}": v for k, v in m.items()}
        out[f"{regime}/predict:{pred}"].update({"meta/loss_change": change, **r_change})
    if regime != "classification":
        for family in ec.transfer_families:
            dist = regression_family(cfg, getattr(cfg, regime), family)
            res = transfer(
                nc,
                learner,
                dist.sample(ec.num_test_tasks, g),
                init_learner_params(learner, ec.num_test_tasks, g),
                nc_weight=ec.nc_weight,
                nc_grad_clip=ec.nc_grad_clip,
                snapshot_every=ec.snapshot_every,
                **inner,
            )
            for arm, metrics in res.items():
                out[f"{regime}/transfer:{family}:{arm}"] = {
                    **metrics,
                    "test/loss_rel": metrics["test/mse"] / res["none"]["test/mse"],
                    "meta/loss_change": change,
                    **r_change,
                }
    return out
