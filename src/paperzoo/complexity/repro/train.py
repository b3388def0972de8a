"""Neural Complexity reproduction units: per (regime, seed), meta-train NC on learners of the
regime's tasks, then evaluate it on held-out tasks (gap prediction, and the test loss of learners
it regularises against tuned baselines), on other task families (transfer); the claims, declared.

Regimes: sinusoid regression ``official`` (10 points, 16 steps) and ``overfit`` (ours: 5 points,
48 steps); ``mixture`` (overfit sizes, meta-trained on sinusoids and cubics); few-shot image
``classification`` (held-out classes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from paperzoo.core import (
    Unit,
    UnitContext,
    absolute_change,
    make_generator,
    relative_change,
    seed_everything,
)

from ..evaluation import compare_regularisers, gap_prediction, nc_predict, transfer
from ..learners import LearnerMLP, init_learner_params
from ..model import NeuralComplexity
from ..tasks import (
    FewShotClassification,
    MixtureTasks,
    PolynomialTasks,
    SinusoidTasks,
    pca_features,
)
from ..trainer import NeuralComplexityTrainer, collect_snapshots, gap_prediction_metrics
from .config import Config, RegimeConfig

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


def _inner(cfg: Config, regime: str) -> dict[str, Any]:
    rc = cfg.classification if regime == "classification" else getattr(cfg, regime)
    return dict(inner_steps=rc.inner_steps, inner_learning_rate=rc.inner_learning_rate)


def _regression_family(cfg: Config, rc: RegimeConfig, family: str):
    tc = cfg.tasks
    if family == "sinusoid":
        return SinusoidTasks(
            rc.num_train, rc.num_test, tc.amplitude_range, tc.phase_range, tc.x_range
        )
    if family == "shifted":
        return SinusoidTasks(
            rc.num_train,
            rc.num_test,
            tc.shifted_amplitude_range,
            tc.shifted_phase_range,
            tc.x_range,
        )
    if family == "polynomial":
        return PolynomialTasks(rc.num_train, rc.num_test, x_range=tc.x_range)
    raise ValueError(f"unknown task family {family!r}")


def _classification_data(cfg: Config, ctx: UnitContext):
    """(meta-training, validation, test) few-shot samplers on PCA features of the images."""
    from paperzoo.datasets import load_images

    cc = cfg.classification
    train, test = load_images(cc.dataset, ctx.data_root)
    x = torch.cat([train.x.flatten(1), test.x.flatten(1)])
    y = torch.cat([train.y, test.y])
    n_tr = train.x.shape[0]
    in_train = torch.isin(train.y, torch.tensor(cc.train_classes))
    feats = pca_features(x, torch.nonzero(in_train).flatten(), cc.feature_dim)
    shape = dict(num_ways=cc.num_ways, num_shots=cc.num_shots, num_queries=cc.num_queries)

    def sampler(rows: slice, classes: list[int]) -> FewShotClassification:
        return FewShotClassification(feats[rows], y[rows], classes, **shape)

    return (
        sampler(slice(0, n_tr), cc.train_classes),
        sampler(slice(0, n_tr), cc.test_classes),
        sampler(slice(n_tr, None), cc.test_classes),
    )


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
        **_inner(cfg, regime),
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
        num_steps=_inner(cfg, regime)["inner_steps"],
        learning_rate=_inner(cfg, regime)["inner_learning_rate"],
    )
    losses: list[float] = []
    curve: list[float] = []
    r_curve: list[float] = []
    for step in ctx.steps(
        mc.num_steps,
        {"trainer": trainer, "curve": curve, "r_curve": r_curve},
        name="meta",
        every=mc.checkpoint_every,
        desc=f"NC {regime}",
    ):
        losses.append(trainer.step()["loss"])
        if step % mc.log_every == 0 or step == mc.num_steps:
            curve.append(float(np.mean(losses)))
            nc.eval()
            r_curve.append(gap_prediction_metrics(nc_predict(nc, val_snaps), val_snaps["gap"])["R"])
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
    nc.eval()
    for p in nc.parameters():  # from here on NC is a fixed regulariser / predictor
        p.requires_grad_(False)
    return nc, learner, curve, r_curve


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, dict[str, float]]:
    """Meta-train NC, then measure every gap predictor and every regulariser on held-out tasks."""
    regime = unit.params["regime"]
    ec = cfg.eval
    # NC's initialisation uses the global RNG (nn.Linear defaults).
    seed_everything(unit.seed, deterministic=ctx.device.type != "cpu")
    if regime == "classification":
        meta_dist, val_dist, test_dist = _classification_data(cfg, ctx)
    else:
        rc: RegimeConfig = getattr(cfg, regime)
        sinusoid = _regression_family(cfg, rc, "sinusoid")
        meta_dist = val_dist = test_dist = sinusoid
        if regime == "mixture":
            poly = _regression_family(cfg, rc, "polynomial")
            meta_dist = MixtureTasks([sinusoid, poly], list(cfg.tasks.mixture_weights))
    nc, learner, curve, r_curve = _meta_train(cfg, regime, unit.seed, ctx, meta_dist, val_dist)
    nc.save(ctx.file(NC_FILE))
    # --- held-out tasks: their own generator, so they do not depend on meta-training length ---
    g = make_generator(10_000 + unit.seed * 100 + _REGIME_INDEX[regime])
    val = (val_dist.sample(ec.num_val_tasks, g), init_learner_params(learner, ec.num_val_tasks, g))
    test = (
        test_dist.sample(ec.num_test_tasks, g),
        init_learner_params(learner, ec.num_test_tasks, g),
    )
    inner = _inner(cfg, regime)
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
    ctx.artifact("scatter", scatter)
    ctx.artifact("nc_loss", curve)
    ctx.artifact("val_gap_R", r_curve)
    ctx.artifact("curves", {a: r["curve"] for a, r in regs.items()})
    ctx.artifact("hyper", {a: r["hyper"] for a, r in regs.items()})
    change = relative_change(curve)
    # R's absolute change over the last 20% of meta-training (does gap prediction still improve?)
    r_change = {"meta/val_R_change": absolute_change(r_curve)} if len(r_curve) >= 5 else {}
    loss_key = "test/loss" if regime == "classification" else "test/mse"
    out: dict[str, dict[str, float]] = {}
    for a, r in regs.items():
        out[f"{regime}/{a}"] = {
            loss_key: r["test_mse"],
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
            dist = _regression_family(cfg, getattr(cfg, regime), family)
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
                    "meta/loss_change": change,
                    **r_change,
                }
    return out
