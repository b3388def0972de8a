"""MQL / MaPER critic loss and priorities as pure functions (no SB3 needed).

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022; first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866).

For a sampled transition ``(s, a, r, s', d)`` and critic ``k`` with heads ``Q_k, R_k, S_k``:

* target (Q-learning on the *estimated* reward, the paper's model-augmented target)::

    y = mean_k R_k(s, a) + gamma (1 - d) [min_k Qbar_k(s', a') - alpha log pi(a'|s')]   (SAC)

  with ``R_k`` evaluated without gradient;
* squared errors ``dQ_k = (Q_k - y)^2``, ``dR_k = (R_k - r)^2``, ``dS_k = mean_j (S_kj - s'_j)^2``;
* per-sample loss ``L_i = w_i * sum_k 1/2 [dQ_k + lambda_R dR_k + lambda_S dS_k]`` (``w_i`` the
  importance weight; averaged over the batch);
* priority error ``e_i = mean_k [dQ_k + lambda_R dR_k + lambda_S dS_k]``, turned into
  ``p_i = (e_i + eps)^alpha`` by the buffer.

Scale balancing: ``lambda_R = mean(dQ) / mean(dR)`` and ``lambda_S = mean(dQ) / mean(dS)``, taken
once, on the batch of the last warm-up update (the agents use 1 before; the MaPER copy sets them
at the end of its first call of 64 gradient steps), so each model error enters the loss and the
priority on the TD error's scale.

Deviations from the MaPER copy (h-yamani/RD-PER-baselines, MAPER/): it averages critic 1's
reward head with itself (here: the twin average, as intended); it sets both lambdas to the
state-error ratio (here: each to its own error's ratio); it weights the actor and entropy losses
by ``w_i`` too (here: only the critic loss, as PER prescribes, so PER and MaPER arms differ only
in the critic).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["balanced_lambdas", "model_augmented_errors", "stacked_model_errors", "td_errors"]


def td_errors(q_values: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Squared TD errors of every critic, stacked.

    Shape:
        q_values: ``n_critics`` x (batch, 1); target: (batch, 1); returns (n_critics, batch, 1).
    """
    return torch.stack([(q - target) ** 2 for q in q_values])


def model_augmented_errors(
    heads: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    target: torch.Tensor,
    rewards: torch.Tensor,
    next_obs: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Squared errors ``(dQ, dR, dS)`` of every critic's three heads.

    Shape:
        heads: ``n_critics`` x ``(q (batch, 1), r_hat (batch, 1), s_hat (batch, obs_dim))``;
        target, rewards: (batch, 1); next_obs: (batch, obs_dim) flattened.
        Returns three (n_critics, batch, 1) tensors.
    """
    dq = torch.stack([(q - target) ** 2 for q, _, _ in heads])
    dr = torch.stack([(r - rewards) ** 2 for _, r, _ in heads])
    ds = torch.stack([((s - next_obs) ** 2).mean(dim=-1, keepdim=True) for _, _, s in heads])
    return dq, dr, ds


def stacked_model_errors(
    outputs: torch.Tensor, target: torch.Tensor, rewards: torch.Tensor, next_obs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`model_augmented_errors` of all critics at once, from their stacked outputs.

    One subtraction and one square over ``C - [y, r, s']`` replace the per-critic, per-head
    ones (about 20 small autograd nodes become 4, which is what costs at small batches); the
    values are the same elementwise operations on the same numbers, so ``dQ``, ``dR``, ``dS``
    and their gradients equal :func:`model_augmented_errors`'s bit for bit (tested).

    Shape:
        outputs: (n_critics, batch, 2 + obs_dim), each critic's ``[Q, r_hat, s'_hat]``
        (:meth:`~.networks.ModelAugmentedCritic.stacked_heads`); target, rewards: (batch, 1);
        next_obs: (batch, obs_dim) flattened. Returns three (n_critics, batch, 1) tensors;
        ``dQ`` and ``dR`` are strided views of one squared error (no copies): elementwise
        they are :func:`model_augmented_errors`'s, but a mean over a strided view may sum in
        another order, so take ``.contiguous()`` first where a mean must match bit for bit.
    """
    sq = (outputs - torch.cat([target, rewards, next_obs], dim=1)) ** 2
    # One split, not three slices: its backward concatenates the three gradients, where each
    # slice's would write its gradient into a zero tensor of the full shape and then add them.
    dq, dr, s = sq.split([1, 1, sq.shape[-1] - 2], dim=-1)
    return dq, dr, s.mean(dim=-1, keepdim=True)


def balanced_lambdas(
    dq: torch.Tensor, dr: torch.Tensor, ds: torch.Tensor, floor: float = 1e-8
) -> tuple[float, float]:
    """``(lambda_R, lambda_S) = (mean dQ / mean dR, mean dQ / mean dS)`` (scale balancing).

    ``floor`` keeps a model error that is exactly 0 (a reward-free task) from dividing by 0.
    """
    q = float(dq.detach().mean())
    return q / max(float(dr.detach().mean()), floor), q / max(float(ds.detach().mean()), floor)
