"""Many small task learners trained in parallel with ``torch.func``.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

Neural Complexity (NC) is meta-trained on snapshots of many task learners h_i (one small MLP per
regression task). The official code runs them together with a hand-written ``ParallelLinear``
(einsum over a stacked weight). Here a single :class:`LearnerMLP` defines one learner, the
parameters of ``tasks`` learners are stacked along a leading dimension (as
``torch.func.stack_module_state`` does) and :func:`batched_forward` maps
``torch.func.functional_call`` over that dimension with ``vmap``. Because the tasks' losses are
summed, one backward pass gives every learner its own gradient, and plain SGD on the stacked
tensors equals SGD on each learner alone (tested).

Deviations from the paper:
    * Dropout masks are sampled outside ``vmap`` from an explicit generator (reproducible), with
      inverted scaling 1 / (1 - p) as ``nn.Dropout`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .tasks import RegressionTasks

__all__ = [
    "LearnerMLP",
    "LearnerTrajectory",
    "Penalty",
    "StepHook",
    "batched_forward",
    "init_learner_params",
    "stack_learners",
    "task_accuracy",
    "task_loss",
    "task_mse",
    "train_learners",
]

_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "none": nn.Identity,
}

Params = dict[str, torch.Tensor]
#: penalty(params, tasks, pred_train, pred_test) -> per-task penalty of shape (tasks,)
Penalty = Callable[[Params, RegressionTasks, torch.Tensor, torch.Tensor], torch.Tensor]
#: hook(step, params, pred_train, pred_test) called before each update with detached tensors
StepHook = Callable[[int, Params, torch.Tensor, torch.Tensor], None]


class LearnerMLP(nn.Module):
    """One task learner: in -> hidden -> ... -> hidden -> out (official: 1-40-40-1, ReLU).

    ``num_layers`` counts hidden layers. As in the official ``ParallelNeuralNetwork``, dropout
    (when used) follows every hidden-to-hidden linear layer, before its activation. For
    classification ``out_dim`` is the number of classes (logits).
    """

    def __init__(
        self,
        hidden_dim: int = 40,
        num_layers: int = 2,
        activation: str = "relu",
        in_dim: int = 1,
        out_dim: int = 1,
    ):
        super().__init__()
        if in_dim < 1 or out_dim < 1:
            raise ValueError(f"in_dim and out_dim must be >= 1, got {in_dim}, {out_dim}")
        if hidden_dim < 1 or num_layers < 1:
            raise ValueError(
                f"hidden_dim and num_layers must be >= 1, got {hidden_dim}, {num_layers}"
            )
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        self.hidden_dim, self.num_layers = hidden_dim, num_layers
        self.in_dim, self.out_dim = in_dim, out_dim
        self.inp = nn.Linear(in_dim, hidden_dim)
        self.hidden = nn.ModuleList(
            nn.Linear(hidden_dim, hidden_dim) for _ in range(num_layers - 1)
        )
        self.out = nn.Linear(hidden_dim, out_dim)
        self.act = _ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor, dropout_masks: torch.Tensor | None = None) -> torch.Tensor:
        """Predictions for one task.

        Shape:
            x: (points, in_dim) -> (points, out_dim)
            dropout_masks: (num_layers - 1, points, hidden_dim), already scaled by 1 / (1 - p)
        """
        h = self.act(self.inp(x))
        for i, layer in enumerate(self.hidden):
            h = layer(h)
            if dropout_masks is not None:
                h = h * dropout_masks[i]
            h = self.act(h)
        return self.out(h)


def init_learner_params(
    module: LearnerMLP, num_tasks: int, generator: torch.Generator | None = None
) -> Params:
    """Stacked parameters of ``num_tasks`` independently initialised learners.

    Each tensor is drawn from ``nn.Linear``'s default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (for
    weights and biases alike), so this equals stacking ``num_tasks`` fresh modules, but the
    randomness comes from ``generator`` instead of the global RNG.

    Shape:
        returns {name: (num_tasks, *param.shape)}
    """
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
    params = {}
    for name, p in module.named_parameters():
        layer = module.get_submodule(name.rsplit(".", 1)[0])
        bound = 1.0 / math.sqrt(layer.in_features)
        u = torch.rand((num_tasks, *p.shape), generator=generator, dtype=p.dtype)
        params[name] = ((2 * u - 1) * bound).requires_grad_(True)
    return params


def stack_learners(modules: list[nn.Module]) -> Params:
    """Stack existing learner modules' parameters (``torch.func.stack_module_state``)."""
    if not modules:
        raise ValueError("stack_learners needs at least one module")
    params, _ = stack_module_state(modules)
    return {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}


def batched_forward(
    module: LearnerMLP,
    params: Params,
    x: torch.Tensor,
    dropout_masks: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run learner i on task i's inputs for all i at once (vmap over the task dimension).

    Shape:
        params: {name: (tasks, *shape)}
        x: (tasks, points, in_dim) -> (tasks, points, out_dim)
        dropout_masks: (tasks, num_layers - 1, points, hidden_dim) or None
    """
    if dropout_masks is None:
        return vmap(lambda p, xi: functional_call(module, p, (xi,)))(params, x)
    return vmap(lambda p, xi, m: functional_call(module, p, (xi, m)))(params, x, dropout_masks)


def task_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each task. Shape: (tasks, points, dim) x2 -> (tasks,)."""
    return (pred - y).pow(2).mean(dim=(1, 2))


def task_loss(pred: torch.Tensor, y: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Each task's mean loss: ``"mse"``, or ``"cross_entropy"`` of logits against one-hot y,
    -sum_c y_c log softmax(pred)_c averaged over points.

    Shape: pred, y (tasks, points, dim) -> (tasks,)
    """
    if kind == "mse":
        return task_mse(pred, y)
    if kind == "cross_entropy":
        return -(y * torch.log_softmax(pred, dim=-1)).sum(-1).mean(1)
    raise ValueError(f"unknown loss {kind!r}; known: mse, cross_entropy")


def task_accuracy(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of points whose largest logit is the one-hot label.

    Shape: (tasks, points, N) x2 -> (tasks,)
    """
    return (pred.argmax(-1) == y.argmax(-1)).float().mean(1)


@dataclass
class LearnerTrajectory:
    """What :func:`train_learners` returns.

    Attributes:
        params: final stacked parameters (detached).
        train_mse, test_mse: (steps + 1, tasks) per-task MSE before each update, and after the
            last one (row ``steps``); measured without dropout noise on the test split and with
            the training-time forward pass on the train split.
    """

    params: Params
    train_mse: torch.Tensor
    test_mse: torch.Tensor
    penalties: list[float] = field(default_factory=list)
    diverged_at: torch.Tensor | None = None
    """(tasks,) the step at which each learner's objective stopped being finite, -1 for none
    (``on_diverge="freeze"``): such a learner keeps its last finite parameters."""

    @property
    def diverged(self) -> torch.Tensor:
        """(tasks,) bool: learners frozen because their objective became NaN or infinite."""
        if self.diverged_at is None:
            return torch.zeros(self.train_mse.shape[1], dtype=torch.bool)
        return self.diverged_at >= 0

    @property
    def final_test_mse(self) -> torch.Tensor:
        return self.test_mse[-1]

    @property
    def final_gap(self) -> torch.Tensor:
        """True generalisation gap L_te - L_tr of each final learner, (tasks,)."""
        return self.test_mse[-1] - self.train_mse[-1]


def _dropout_masks(
    num_tasks: int, module: LearnerMLP, points: int, p: float, generator: torch.Generator | None
) -> torch.Tensor:
    shape = (num_tasks, module.num_layers - 1, points, module.hidden_dim)
    keep = (torch.rand(shape, generator=generator) >= p).float()
    return keep / (1.0 - p)


def train_learners(
    module: LearnerMLP,
    params: Params,
    tasks: RegressionTasks,
    *,
    num_steps: int,
    learning_rate: float,
    penalty: Penalty | None = None,
    dropout: float = 0.0,
    generator: torch.Generator | None = None,
    hook: StepHook | None = None,
    name: str = "learners",
    on_diverge: Literal["raise", "freeze"] = "raise",
    penalty_grad_clip: float | None = None,
) -> LearnerTrajectory:
    """Full-batch SGD on every task's loss at once (official ``run_regression`` inner loop).

    The objective is sum_i [ L_i(h_i) + penalty_i(h_i) ] with L the task's loss (MSE for
    :class:`RegressionTasks`, cross-entropy for ``ClassificationTasks``; official: MSE mean over
    points, summed over tasks, NC output summed over tasks), so each learner gets its own
    gradient. The trajectory's ``train_mse``/``test_mse`` hold that loss.

    Args:
        params: stacked initial parameters (not modified).
        penalty: optional per-task regulariser (NC, L2, a hand-designed measure ...).
        dropout: drop probability for the hidden-to-hidden layers during training (0 = off).
        hook: called before each update with detached parameters and predictions, e.g. to store
            snapshots in a memory bank.
        name: used in the error message when the loss stops being finite.
        on_diverge: when a learner's objective becomes NaN or infinite: ``"raise"`` a
            :class:`FloatingPointError`, or ``"freeze"`` that learner at its last finite
            parameters, record the step in ``diverged_at`` and keep training the others (their
            updates are unaffected: the learners share no parameters).
        penalty_grad_clip: if set, each learner's penalty gradient g_pen (with respect to that
            learner's parameters, all tensors together) is rescaled to
            g_pen * min(1, c / ||g_pen||) before it is added to the task loss's gradient, which
            is left as it is (``clip_grad_norm_`` per learner, on the regulariser only). Ours,
            for NC: outside the tasks it was meta-trained on NC extrapolates linearly and a
            single large penalty step can throw a learner into a region where plain SGD on its
            own loss blows up (measured on shifted sinusoids; see ``experiments.py``).

    Raises:
        FloatingPointError: with ``on_diverge="raise"``, when the objective becomes NaN or
            infinite.
    """
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0, got {num_steps}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if on_diverge not in ("raise", "freeze"):
        raise ValueError(f"on_diverge must be 'raise' or 'freeze', got {on_diverge!r}")
    if penalty_grad_clip is not None and not penalty_grad_clip > 0:
        raise ValueError(f"penalty_grad_clip must be > 0 or None, got {penalty_grad_clip}")
    x_tr, y_tr, x_te, y_te = tasks.tensors()
    t = tasks.num_tasks
    for k, v in params.items():
        if v.shape[0] != t:
            raise ValueError(f"param {k} holds {v.shape[0]} learners for {t} tasks")
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    last_finite = {k: v.detach() for k, v in params.items()}
    diverged_at = torch.full((t,), -1, dtype=torch.long)
    train_curve, test_curve, penalties = [], [], []

    kind = tasks.loss

    def loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(pred, y, kind)

    def per_task(p: Params, masks: torch.Tensor | None):
        pred_tr, pred_te = batched_forward(module, p, x_tr, masks), batched_forward(module, p, x_te)
        mse_tr = loss(pred_tr, y_tr)
        pen = penalty(p, tasks, pred_tr, pred_te) if penalty is not None else None
        return pred_tr, pred_te, mse_tr, pen, mse_tr if pen is None else mse_tr + pen

    def freeze(bad: torch.Tensor, step: int) -> Params:
        """Mark ``bad`` learners diverged and put back their last finite parameters."""
        diverged_at[bad & (diverged_at < 0)] = step
        return {
            k: torch.where(_rows(bad, v), last_finite[k], v.detach()).requires_grad_(True)
            for k, v in params.items()
        }

    for step in range(num_steps):
        masks = None
        if dropout > 0:
            masks = _dropout_masks(t, module, x_tr.shape[1], dropout, generator)
        pred_tr, pred_te, mse_tr, pen, obj = per_task(params, masks)
        bad = ~torch.isfinite(obj.detach())
        if bad.any():
            if on_diverge == "raise":
                raise FloatingPointError(f"{name}: objective is {obj.sum().item()} at step {step}")
            params = freeze(bad, step)
            pred_tr, pred_te, mse_tr, pen, obj = per_task(params, masks)
        alive = diverged_at < 0
        if pen is not None:
            penalties.append(float(pen.detach()[alive].mean()) if alive.any() else float("nan"))
        with torch.no_grad():
            train_curve.append(mse_tr.detach())
            test_curve.append(loss(pred_te, y_te))
        if hook is not None:
            hook(
                step, {k: v.detach() for k, v in params.items()}, pred_tr.detach(), pred_te.detach()
            )
        last_finite = {k: v.detach() for k, v in params.items()}
        if not alive.any():
            continue  # every learner is frozen
        # Frozen learners are left out of the sum; torch.where also drops the NaN that
        # 0 * non-finite activations would put into their rows of the gradient.
        if pen is None or penalty_grad_clip is None:
            grads = torch.autograd.grad(obj[alive].sum(), list(params.values()), allow_unused=True)
        else:
            grads = _clipped_penalty_grads(
                mse_tr[alive].sum(), pen[alive].sum(), params, penalty_grad_clip
            )
        with torch.no_grad():
            params = {
                k: torch.where(_rows(alive, v), v - learning_rate * g, v).requires_grad_(True)
                if g is not None
                else v
                for (k, v), g in zip(params.items(), grads)
            }
    with torch.no_grad():
        final_tr = loss(batched_forward(module, params, x_tr), y_tr)
        bad = ~torch.isfinite(final_tr) | ~torch.isfinite(
            loss(batched_forward(module, params, x_te), y_te)
        )
    if bad.any():
        if on_diverge == "raise":
            raise FloatingPointError(f"{name}: objective is not finite after step {num_steps}")
        params = freeze(bad, num_steps)
    with torch.no_grad():
        train_curve.append(loss(batched_forward(module, params, x_tr), y_tr))
        test_curve.append(loss(batched_forward(module, params, x_te), y_te))
    return LearnerTrajectory(
        params={k: v.detach() for k, v in params.items()},
        train_mse=torch.stack(train_curve),
        test_mse=torch.stack(test_curve),
        penalties=penalties,
        diverged_at=diverged_at,
    )


def _clipped_penalty_grads(
    loss: torch.Tensor, pen: torch.Tensor, params: Params, max_norm: float
) -> list[torch.Tensor | None]:
    """grad(loss) + min(1, max_norm / ||grad_i(pen)||) grad_i(pen), the norm taken per learner i.

    Learners share no parameters, so row i of every stacked gradient belongs to learner i alone.
    """
    values = list(params.values())
    g_loss = torch.autograd.grad(loss, values, retain_graph=True, allow_unused=True)
    g_pen = torch.autograd.grad(pen, values, allow_unused=True)
    sq = sum(g.flatten(1).pow(2).sum(1) for g in g_pen if g is not None)
    if not isinstance(sq, torch.Tensor):  # the penalty does not depend on the parameters
        return list(g_loss)
    scale = torch.clamp(max_norm / sq.sqrt().clamp_min(1e-12), max=1.0)
    out: list[torch.Tensor | None] = []
    for gl, gp in zip(g_loss, g_pen):
        if gp is None:
            out.append(gl)
            continue
        gp = gp * _rows(scale, gp)
        out.append(gp if gl is None else gl + gp)
    return out


def _rows(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(tasks,) mask broadcast over a stacked parameter (tasks, *shape)."""
    return mask.view(-1, *([1] * (like.dim() - 1)))
