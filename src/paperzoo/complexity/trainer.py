"""Meta-training of Neural Complexity: learners feed a memory bank, NC regresses onto true gaps.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

The loop of the official ``run.py`` (Sec. 3, Fig. 2 of the paper):

1. Seed the memory bank with snapshots of unregularised learners (official: 100 task batches).
2. Every ``learn_every`` NC steps, train a fresh batch of task learners for ``inner_steps`` SGD
   steps; after ``warmup_steps`` NC steps NC's prediction is added to each learner's loss. Every
   inner step stores the snapshot and its true gap L_te - L_tr (measured with test labels).
3. Every NC step, regress NC onto a random minibatch of the bank with the MSE
   (NC(snapshot) - gap)^2 and Adam.

This is not bilevel: NC never differentiates through a learner's training.

Deviations from the paper:
    * The official loop counts epochs of 500 steps and tests every epoch; here steps are counted
      globally and evaluation is left to the caller.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
import torch

from .baselines import complexity_measure
from .learners import (
    LearnerMLP,
    LearnerTrajectory,
    Params,
    Penalty,
    batched_forward,
    init_learner_params,
    task_loss,
    train_learners,
)
from .memory import MemoryBank
from .model import NeuralComplexity, snapshot_inputs
from .tasks import RegressionTasks, TaskDistribution

__all__ = [
    "NeuralComplexityTrainer",
    "Snapshots",
    "collect_snapshots",
    "gap_prediction_metrics",
    "nc_penalty",
]


def nc_penalty(nc: NeuralComplexity, weight: float = 1.0, bounded: bool = True) -> Penalty:
    """A ``penalty`` for :func:`train_learners`: ``weight * NC(h, D_tr, X_te)`` per task.

    Gradients reach the learner through its predictions; NC's own parameters are not updated by
    the learner's optimiser (only the learner parameters are differentiated). ``bounded``
    floors the prediction at ``nc.gap_range[0]`` (see :class:`NeuralComplexityRegularizer`).
    """

    def penalty(
        params: Params, tasks: RegressionTasks, pred_train: torch.Tensor, pred_test: torch.Tensor
    ) -> torch.Tensor:
        gap = nc(tasks.x_train, tasks.y_train, pred_train, tasks.x_test, pred_test)
        return weight * (nc.bounded(gap) if bounded else gap)

    return penalty


class Snapshots(dict):
    """Snapshots gathered along learner trajectories (a dict of equally long tensors).

    Keys: ``te_xp`` (n, test_points, query_dim), ``tr_xyp`` (n, train_points, value_dim),
    ``gap`` (n,), ``train_mse`` (n,) (the tasks' loss: MSE or cross-entropy), ``step`` (n,), and
    one (n,) tensor per requested measure.
    """


def collect_snapshots(
    module: LearnerMLP,
    params: Params,
    tasks: RegressionTasks,
    *,
    num_steps: int,
    learning_rate: float,
    penalty: Penalty | None = None,
    measures: tuple[str, ...] = (),
    every: int = 1,
    nc: NeuralComplexity | None = None,
    on_diverge: Literal["raise", "freeze"] = "raise",
    penalty_grad_clip: float | None = None,
) -> tuple[Snapshots, LearnerTrajectory]:
    """Train learners and keep a snapshot every ``every`` inner steps (and after the last one).

    The snapshot at step s holds the predictions *before* update s and its gap (in the tasks'
    loss), as in the official code; the final row holds the trained learners. ``nc`` sets the
    snapshot layout (prediction transform, interaction columns); None: 1-D regression's.
    ``penalty_grad_clip`` as in :func:`train_learners`.
    """
    rows: dict[str, list[torch.Tensor]] = {}
    build = nc.snapshot if nc is not None else snapshot_inputs

    def add(step: int, p: Params, pred_tr: torch.Tensor, pred_te: torch.Tensor) -> None:
        te_xp, _, tr_xyp = build(tasks.x_train, tasks.y_train, pred_tr, tasks.x_test, pred_te)
        mse_tr = task_loss(pred_tr, tasks.y_train, tasks.loss)
        mse_te = task_loss(pred_te, tasks.y_test, tasks.loss)
        out = {
            "te_xp": te_xp,
            "tr_xyp": tr_xyp,
            "gap": mse_te - mse_tr,
            "train_mse": mse_tr,
            "step": torch.full_like(mse_tr, float(step)),
        }
        for m in measures:
            out[m] = complexity_measure(p, m)
        for k, v in out.items():
            rows.setdefault(k, []).append(v.detach())

    def hook(step: int, p: Params, pred_tr: torch.Tensor, pred_te: torch.Tensor) -> None:
        if step % every == 0:
            add(step, p, pred_tr, pred_te)

    traj = train_learners(
        module,
        params,
        tasks,
        num_steps=num_steps,
        learning_rate=learning_rate,
        penalty=penalty,
        hook=hook,
        on_diverge=on_diverge,
        penalty_grad_clip=penalty_grad_clip,
    )

    with torch.no_grad():
        add(
            num_steps,
            traj.params,
            batched_forward(module, traj.params, tasks.x_train),
            batched_forward(module, traj.params, tasks.x_test),
        )
    return Snapshots({k: torch.cat(v) for k, v in rows.items()}), traj


def gap_prediction_metrics(pred: torch.Tensor, gap: torch.Tensor) -> dict[str, float]:
    """Pearson R and mean absolute error of predicted vs true gaps (official test metrics)."""
    p = pred.detach().double().cpu().numpy().ravel()
    g = gap.detach().double().cpu().numpy().ravel()
    if p.shape != g.shape or p.size < 2:
        raise ValueError(f"need two equally long vectors of >= 2 values, got {p.shape}, {g.shape}")
    r = float(np.corrcoef(p, g)[0, 1]) if p.std() > 0 and g.std() > 0 else 0.0
    return {"R": r, "mae": float(np.abs(p - g).mean())}


class NeuralComplexityTrainer:
    """Owns NC, its optimiser, the memory bank and the task stream; one :meth:`step` per NC update.

    Args:
        nc: the network to meta-train.
        tasks: the task distribution learners are trained on (anything with ``sample``,
            ``num_train`` and ``num_test``: regression families, their mixture, few-shot
            classification).
        learner: defines one learner (official: 2 hidden layers of 40, ReLU).
        batch_size: snapshots per NC step (official 512).
        task_batch_size: learners per batch (official 64).
        learning_rate: Adam step size for NC (official 5e-4).
        inner_steps, inner_learning_rate: learner SGD (official 16 steps at 0.01).
        nc_weight: weight of NC in the learners' loss (official 1.0).
        learn_every: NC steps between learner batches (official ``learn_freq`` 10).
        warmup_steps: NC steps before NC regularises the learners (official 2 x 500 = 1000).
        memory_capacity: memory bank cap (official 1,000,000).
        generator: source of all randomness (tasks, learner inits, minibatches).
    """

    def __init__(
        self,
        nc: NeuralComplexity,
        tasks: TaskDistribution,
        learner: LearnerMLP,
        *,
        batch_size: int = 512,
        task_batch_size: int = 64,
        learning_rate: float = 5e-4,
        inner_steps: int = 16,
        inner_learning_rate: float = 1e-2,
        nc_weight: float = 1.0,
        learn_every: int = 10,
        warmup_steps: int = 1000,
        memory_capacity: int = 1_000_000,
        generator: torch.Generator | None = None,
        nc_grad_clip: float | None = None,
    ):
        if learn_every < 1:
            raise ValueError(f"learn_every must be >= 1, got {learn_every}")
        self.nc, self.tasks, self.learner = nc, tasks, learner
        self.batch_size, self.task_batch_size = batch_size, task_batch_size
        self.inner_steps, self.inner_learning_rate = inner_steps, inner_learning_rate
        self.nc_weight, self.learn_every, self.warmup_steps = nc_weight, learn_every, warmup_steps
        self.nc_grad_clip = nc_grad_clip
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.optimizer = torch.optim.Adam(nc.parameters(), lr=learning_rate)
        self.memory = MemoryBank(
            memory_capacity,
            tasks.num_train,
            tasks.num_test,
            nc.query_dim,
            nc.value_dim,
            nc.key_columns,
        )
        self.global_step = 0

    @property
    def regularizing(self) -> bool:
        """Whether learner batches are trained with NC in their loss (after the warm-up)."""
        return self.global_step > self.warmup_steps

    def run_learners(self, regularize: bool) -> LearnerTrajectory:
        """Train one fresh task batch and store every inner step's snapshot in the bank."""
        batch = self.tasks.sample(self.task_batch_size, self.generator)
        params = init_learner_params(self.learner, self.task_batch_size, self.generator)

        def store(step: int, p: Params, pred_tr: torch.Tensor, pred_te: torch.Tensor) -> None:
            te_xp, _, tr_xyp = self.nc.snapshot(
                batch.x_train, batch.y_train, pred_tr, batch.x_test, pred_te
            )
            gap = task_loss(pred_te, batch.y_test, batch.loss) - task_loss(
                pred_tr, batch.y_train, batch.loss
            )
            self.memory.add(te_xp, tr_xyp, gap)

        penalty = nc_penalty(self.nc, self.nc_weight) if regularize else None
        return train_learners(
            self.learner,
            params,
            batch,
            num_steps=self.inner_steps,
            learning_rate=self.inner_learning_rate,
            penalty=penalty,
            hook=store,
            name="meta-training learners",
            on_diverge="freeze",  # a learner NC drove to NaN is frozen; meta-training goes on
            penalty_grad_clip=self.nc_grad_clip,
        )

    def populate(self, num_batches: int) -> None:
        """Seed the bank with unregularised learners (official: 100 batches of 64 tasks)."""
        for _ in range(num_batches):
            self.run_learners(regularize=False)

    def step(self) -> dict[str, float]:
        """One NC update (and, every ``learn_every`` steps, one learner batch first)."""
        self.global_step += 1
        if self.global_step % self.learn_every == 0:
            self.run_learners(regularize=self.regularizing)
        if len(self.memory) == 0:
            raise ValueError("the memory bank is empty: call populate() first")
        te_xp, tr_xp, tr_xyp, gap = self.memory.sample(self.batch_size, self.generator)
        pred = self.nc.forward_snapshot(te_xp, tr_xp, tr_xyp)
        loss = (pred - gap).pow(2).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"NC regression loss is {loss.item()} at step {self.global_step}"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():  # the range the bounded penalty clamps NC's predictions to
            r = self.nc.gap_range
            r[0] = torch.minimum(r[0], gap.min().to(r))
            r[1] = torch.maximum(r[1], gap.max().to(r))
        return {"loss": loss.item(), "mae": (pred - gap).abs().mean().item()}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue meta-training exactly (a copy, for checkpoints)."""
        return copy.deepcopy(
            {
                "nc": self.nc.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "memory": self.memory.state_dict(),
                "generator": self.generator.get_state(),
                "global_step": self.global_step,
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.nc.load_state_dict(state["nc"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.memory.load_state_dict(state["memory"])
        self.generator.set_state(state["generator"])
        self.global_step = int(state["global_step"])
