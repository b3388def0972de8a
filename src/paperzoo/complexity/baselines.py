"""Hand-designed complexity measures and the baseline regularisers NC is compared with.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

The official ``model/nn_learner.py`` scores each learner with norm-based measures taken from
Neyshabur et al.'s generalisation-bound code, and uses them (times a weight) as regularisers.
For a learner with weight matrices W_1..W_L (out x in) and biases b_1..b_L:

* ``L1`` = sum over all W and b of sum |.|;  ``L2`` = sum over all W and b of sum (.)^2
* ``L_{p,q}`` = prod_l || ( ||W_l[r, :]||_p )_r ||_q  (row p-norms, then a q-norm over rows):
  ``L_{1,inf}`` (p=1, q=inf), ``Frobenius`` (p=q=2), ``L_{3,1.5}``
* ``Spectral`` = prod_l sigma_max(W_l); ``Trace`` = prod_l sum of singular values of W_l.

Every function here works on stacked parameters {name: (tasks, *shape)} and returns one value
per task, so it can be used as a ``penalty`` in :func:`~paperzoo.complexity.train_learners`.

Deviations from the paper:
    * The orthogonality measure and the variational/Gaussian dropout variants are left out.
"""

from __future__ import annotations

import torch

from .learners import Params, Penalty
from .tasks import RegressionTasks

__all__ = [
    "MEASURES",
    "complexity_measure",
    "measure_penalty",
    "param_norm",
]

MEASURES = ("L1", "L2", "L_{1,inf}", "Frobenius", "L_{3,1.5}", "Spectral", "Trace")


def _weights(params: Params) -> list[torch.Tensor]:
    return [v for k, v in params.items() if k.endswith("weight")]


def _pq_norm(w: torch.Tensor, p: float, q: float) -> torch.Tensor:
    # w: (tasks, out, in) -> (tasks,): p-norm of each row, then q-norm over rows
    return torch.linalg.vector_norm(torch.linalg.vector_norm(w, ord=p, dim=2), ord=q, dim=1)


def complexity_measure(params: Params, name: str) -> torch.Tensor:
    """One hand-designed measure of each learner.

    Shape:
        params: {name: (tasks, *shape)} -> (tasks,)
    """
    inf = float("inf")
    ws = _weights(params)
    if not ws:
        raise ValueError("params hold no '*weight' tensors")
    flat = [v.reshape(v.shape[0], -1) for v in params.values()]
    if name == "L1":
        return torch.stack([f.abs().sum(-1) for f in flat]).sum(0)
    if name == "L2":
        return torch.stack([f.pow(2).sum(-1) for f in flat]).sum(0)
    if name == "L_{1,inf}":
        return torch.stack([_pq_norm(w, 1, inf) for w in ws]).prod(0)
    if name == "Frobenius":
        return torch.stack([_pq_norm(w, 2, 2) for w in ws]).prod(0)
    if name == "L_{3,1.5}":
        return torch.stack([_pq_norm(w, 3, 1.5) for w in ws]).prod(0)
    if name == "Spectral":
        return torch.stack([torch.linalg.matrix_norm(w, ord=2) for w in ws]).prod(0)
    if name == "Trace":
        return torch.stack([torch.linalg.matrix_norm(w, ord="nuc") for w in ws]).prod(0)
    raise ValueError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}")


def param_norm(params: Params) -> torch.Tensor:
    """||theta||_2 of each learner (all weights and biases). Shape: -> (tasks,)."""
    return complexity_measure(params, "L2").sqrt()


def measure_penalty(name: str, weight: float) -> Penalty:
    """A ``penalty`` for :func:`train_learners`: ``weight * measure(theta)`` per task.

    ``measure_penalty("L2", lam)`` is ordinary weight decay (lam * ||theta||^2).
    """
    if name not in MEASURES:
        raise ValueError(f"unknown measure {name!r}; known: {', '.join(MEASURES)}")
    if weight < 0:
        raise ValueError(f"weight must be >= 0, got {weight}")

    def penalty(
        params: Params, tasks: RegressionTasks, pred_train: torch.Tensor, pred_test: torch.Tensor
    ) -> torch.Tensor:
        return weight * complexity_measure(params, name)

    return penalty
