"""Held-out evaluation of a meta-trained Neural Complexity model: how well it predicts learners'
generalisation gaps, and how learners regularised by it compare with tuned baselines.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

:func:`gap_prediction` scores NC and simple predictors (train loss, parameter norm,
hand-designed measures) on snapshots of unregularised learners; :func:`compare_regularisers`
trains held-out learners with no regulariser, L2, dropout and hand-designed measures (each tuned
on validation tasks) and with NC at a fixed weight (as the official code does).

Deviations from the paper:
    * Simple predictors are affinely calibrated on validation snapshots before their MAE is
      measured (they are not in the gap's units); NC's MAE is raw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from paperzoo.core import make_generator

from .baselines import measure_penalty
from .learners import (
    LearnerMLP,
    Params,
    Penalty,
    batched_forward,
    task_accuracy,
    train_learners,
)
from .model import NeuralComplexity
from .tasks import RegressionTasks
from .trainer import collect_snapshots, gap_prediction_metrics, nc_penalty

__all__ = ["compare_regularisers", "gap_prediction", "gap_r_by_step", "nc_predict", "transfer"]

TasksAndInit = tuple[RegressionTasks, Params]


def nc_predict(nc: NeuralComplexity, snaps: dict[str, torch.Tensor], chunk: int = 2048):
    """NC's predicted gap for every snapshot.

    Shape: snaps["te_xp"] (snapshots, test, query_dim), snaps["tr_xyp"] (snapshots, train,
    value_dim) -> (snapshots,).
    """
    out = []
    with torch.no_grad():
        for i in range(0, snaps["gap"].shape[0], chunk):
            tr_xyp = snaps["tr_xyp"][i : i + chunk]
            out.append(nc.forward_snapshot(snaps["te_xp"][i : i + chunk], nc.keys(tr_xyp), tr_xyp))
    return torch.cat(out)


def _affine_mae(val_x: torch.Tensor, val_gap: torch.Tensor, x: torch.Tensor, gap: torch.Tensor):
    """MAE of a simple predictor after an affine fit gap ~ a x + b on the validation snapshots."""
    a, b = np.polyfit(val_x.double().numpy(), val_gap.double().numpy(), 1)
    return float(np.abs(a * x.double().numpy() + b - gap.double().numpy()).mean())


def gap_r_by_step(
    pred: torch.Tensor, gap: torch.Tensor, step: torch.Tensor
) -> tuple[list[int], list[float]]:
    """Pearson R between predicted and true gaps among the snapshots of each training step.

    R over all snapshots mixes steps: early snapshots have small gaps and late ones large,
    so a predictor that only tracks the step (how long a learner has trained) scores well.
    R within one step asks whether it ranks learners *at the same point of training*, which
    is what a regulariser needs to push the right learners.

    Shape: pred, gap, step (snapshots,) -> (steps in increasing order, R at each; 0 where a
    step's predictions or gaps are constant).
    """
    steps = sorted({int(s) for s in step.tolist()})
    rs = []
    for s in steps:
        at = step == s
        rs.append(gap_prediction_metrics(pred[at], gap[at])["R"] if int(at.sum()) >= 2 else 0.0)
    return steps, rs


def gap_prediction(
    nc: NeuralComplexity,
    learner: LearnerMLP,
    val: TasksAndInit,
    test: TasksAndInit,
    *,
    inner_steps: int,
    inner_learning_rate: float,
    snapshot_every: int,
    predictors: Sequence[str] = ("L2",),
    scatter_points: int = 800,
) -> tuple[dict[str, dict[str, float]], dict[str, list[float]]]:
    """Pearson R, R at the final step and MAE of NC and simple gap predictors on test snapshots.

    Returns ``({predictor: {"R", "R_final", "mae", ...}}, {"pred", "gap", "steps",
    "R_by_step"})``: the metrics; a subsample of NC's (prediction, true gap) pairs for a
    scatter plot; and, per predictor, R among the snapshots of each inner step
    (:func:`gap_r_by_step`) at the snapshot steps ``steps``.
    """
    measures = tuple(dict.fromkeys(["L2", *predictors]))
    kw = dict(num_steps=inner_steps, learning_rate=inner_learning_rate, every=snapshot_every, nc=nc)
    sv, _ = collect_snapshots(learner, val[1], val[0], measures=measures, **kw)
    st, _ = collect_snapshots(learner, test[1], test[0], measures=measures, **kw)
    pred = nc_predict(nc, st)
    final = st["step"] == inner_steps
    out = {"nc": gap_prediction_metrics(pred, st["gap"])}
    out["nc"]["R_final"] = gap_prediction_metrics(pred[final], st["gap"][final])["R"]
    # simple predictors: (validation, test) values; param_norm = ||theta||_2, "L2" = its square
    simple = {
        "train_loss": (sv["train_mse"], st["train_mse"]),
        "param_norm": (sv["L2"].sqrt(), st["L2"].sqrt()),
        **{m: (sv[m], st[m]) for m in predictors},
    }
    steps, r_nc = gap_r_by_step(pred, st["gap"], st["step"])
    by_step = {"nc": r_nc}
    for name, (xv, xt) in simple.items():
        by_step[name] = gap_r_by_step(xt, st["gap"], st["step"])[1]
        m = gap_prediction_metrics(xt, st["gap"])
        m["mae"] = _affine_mae(xv, sv["gap"], xt, st["gap"])
        m["R_final"] = gap_prediction_metrics(xt[final], st["gap"][final])["R"]
        out[name] = m
    out["mean_gap"] = {  # a constant predictor: the validation mean gap
        "R": 0.0,
        "mae": float((st["gap"] - sv["gap"].mean()).abs().mean()),
        "R_final": 0.0,
    }
    idx = torch.linspace(0, len(pred) - 1, min(scatter_points, len(pred))).long()
    return out, {
        "pred": pred[idx].tolist(),
        "gap": st["gap"][idx].tolist(),
        "steps": steps,
        "R_by_step": by_step,
    }


def compare_regularisers(
    nc: NeuralComplexity,
    learner: LearnerMLP,
    val: TasksAndInit,
    test: TasksAndInit,
    *,
    inner_steps: int,
    inner_learning_rate: float,
    seed: int,
    l2_grid: Sequence[float],
    dropout_grid: Sequence[float],
    measures: Sequence[str],
    measure_grid: Sequence[float],
    nc_weight: float,
    nc_grad_clip: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Final test MSE, train MSE, gap and test-MSE curve of held-out learners per regulariser.

    Baselines are tuned on ``val`` (the strength with the lowest mean final test MSE among those
    no learner diverges with); NC uses ``nc_weight`` untuned. Every candidate sees the same
    dropout masks (one generator seed). A learner whose objective stops being finite is frozen
    at its last finite parameters and counted in ``diverged`` (fraction of learners).
    ``nc_grad_clip`` bounds NC's gradient per learner (``train_learners``' ``penalty_grad_clip``).
    """

    def train(
        tp: TasksAndInit, penalty: Penalty | None, p: float, name: str, clip: float | None = None
    ):
        return train_learners(
            learner,
            tp[1],
            tp[0],
            num_steps=inner_steps,
            learning_rate=inner_learning_rate,
            penalty=penalty,
            dropout=p,
            generator=make_generator(seed + 7919),
            name=name,
            on_diverge="freeze",  # a diverged learner is recorded, never an abort
            penalty_grad_clip=clip,
        )

    def tuned(name: str, grid: Sequence[float], make: Callable[[float], tuple[Any, float]]):
        scores = []
        for v in grid:
            pen, p = make(v)
            traj = train(val, pen, p, f"{name}={v} (val)")
            # A strength that makes some learner diverge is unusable.
            scores.append(np.inf if traj.diverged.any() else float(traj.final_test_mse.mean()))
        if not np.isfinite(scores).any():
            raise FloatingPointError(f"{name}: every strength in {list(grid)} diverges")
        best = grid[int(np.argmin(scores))]
        pen, p = make(best)
        return train(test, pen, p, name), best

    runs: dict[str, tuple[Any, float | None]] = {"none": (train(test, None, 0.0, "none"), None)}
    runs["l2"] = tuned("l2", l2_grid, lambda v: (measure_penalty("L2", v), 0.0))
    runs["dropout"] = tuned("dropout", dropout_grid, lambda v: (None, v))
    for m in measures:
        runs[m] = tuned(m, measure_grid, lambda v, m=m: (measure_penalty(m, v), 0.0))
    runs["nc"] = (train(test, nc_penalty(nc, nc_weight), 0.0, "nc", nc_grad_clip), nc_weight)
    out = {
        arm: {
            "test_mse": float(traj.final_test_mse.mean()),
            "train_mse": float(traj.train_mse[-1].mean()),
            "gap": float(traj.final_gap.mean()),
            # learners frozen at their last finite parameters (their MSEs are in the means)
            "diverged": float(traj.diverged.float().mean()),
            "curve": traj.test_mse.mean(1).tolist(),
            "hyper": hp,
        }
        for arm, (traj, hp) in runs.items()
    }
    if test[0].loss == "cross_entropy":  # classification: also the test accuracy
        for arm, (traj, _) in runs.items():
            logits = batched_forward(learner, traj.params, test[0].x_test)
            out[arm]["accuracy"] = float(task_accuracy(logits, test[0].y_test).mean())
    return out


def transfer(
    nc: NeuralComplexity,
    learner: LearnerMLP,
    tasks: RegressionTasks,
    init: Params,
    *,
    inner_steps: int,
    inner_learning_rate: float,
    nc_weight: float,
    snapshot_every: int,
    nc_grad_clip: float | None = None,
) -> dict[str, dict[str, float]]:
    """NC applied to tasks of another family than it was meta-trained on.

    Returns ``{"nc": {...}, "none": {...}}``: for the NC-regularised learners the final test
    MSE, the fraction that diverged, and NC's gap-prediction R (all snapshots and final) and
    MAE on unregularised trajectories of the same tasks; for the unregularised learners (same
    initialisations) the final test MSE. ``nc_grad_clip`` as in :func:`compare_regularisers`.
    """
    kw = dict(num_steps=inner_steps, learning_rate=inner_learning_rate)
    snaps, plain = collect_snapshots(
        learner, init, tasks, every=snapshot_every, nc=nc, on_diverge="freeze", **kw
    )
    pred = nc_predict(nc, snaps)
    final = snaps["step"] == inner_steps
    gap = gap_prediction_metrics(pred, snaps["gap"])
    reg = train_learners(
        learner,
        init,
        tasks,
        penalty=nc_penalty(nc, nc_weight),
        on_diverge="freeze",
        penalty_grad_clip=nc_grad_clip,
        **kw,
    )
    return {
        "nc": {
            "test/mse": float(reg.final_test_mse.mean()),
            "test/diverged": float(reg.diverged.float().mean()),
            "gap/R": gap["R"],
            "gap/R_final": gap_prediction_metrics(pred[final], snaps["gap"][final])["R"],
            "gap/mae": gap["mae"],
        },
        "none": {
            "test/mse": float(plain.final_test_mse.mean()),
            "test/diverged": float(plain.diverged.float().mean()),
        },
    }
