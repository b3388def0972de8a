"""Learned heterogeneous bit-widths: learnable bit-level gates and the bit-cost regularizer.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100.

The paper learns per-layer bit-widths by putting a regularizer on DropBits. Here each quantizer
gets one gate per droppable bit level (levels ``2..b``); a level is used only when it and every
coarser level are on, exactly the nested structure of a DropBits draw (``grids.py``), so the
surviving grid is always a uniform ``k``-bit grid and ``1 - P(gate on)`` is the level's learned
bit-drop rate. The regulariser is ``lambda * E[parameter-weighted average bits]``
(:func:`expected_average_bits` with each layer's weight count), so a large layer's bits cost
more; :func:`bit_cost` is the hinge variant ``relu(E[avg] - budget)``.

Deviations from the paper (reconstruction; details could not be checked):

* Hard-concrete gates (Louizos, Welling, Kingma 2018; ``beta=2/3, gamma=-0.1, zeta=1.1``) stand in
  for the paper's learnable DropBits probabilities.
* Read-out: :meth:`LevelGates.learned_bits` keeps a level while ``P(z > 0) >= 0.5`` (the
  contiguous levels still on); :func:`allocate_bits` instead adds levels in the order of their
  learned cumulative keep probabilities while the (parameter-weighted) average stays within a
  budget. The reproduction uses the budget read-out by default (``bitwidth.readout``) because
  the threshold read-out was bistable in pilots (every level kept, or the largest layer at 1 bit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["LevelGates", "allocate_bits", "bit_cost", "expected_average_bits"]

_BETA, _GAMMA, _ZETA = 2.0 / 3.0, -0.1, 1.1


class LevelGates(nn.Module):
    """Hard-concrete gates for the droppable bit levels ``2..num_bits`` of one quantizer.

    Args:
        num_bits: the maximal bit-width (the quantizer's grid).
        init_keep: initial probability that a gate is non-zero.

    The gate of level ``k`` multiplies the probabilities of that level's grid points; the
    *effective* gate is the cumulative product over levels ``2..k`` so a finer level can only be
    used together with every coarser one (Eq. for contiguous levels, Step 7 of the spec).
    """

    def __init__(self, num_bits: int, init_keep: float = 0.95) -> None:
        super().__init__()
        if num_bits < 2:
            raise ValueError(
                f"LevelGates needs num_bits >= 2 (levels 0, 1 are fixed), got {num_bits}"
            )
        if not 0.0 < init_keep < 1.0:
            raise ValueError(f"init_keep must be in (0, 1), got {init_keep}")
        self.num_bits = num_bits
        # log_alpha such that P(z > 0) = init_keep
        shift = _BETA * math.log(-_GAMMA / _ZETA)
        init = math.log(init_keep / (1 - init_keep)) + shift
        self.log_alpha = nn.Parameter(torch.full((num_bits - 1,), float(init)))

    def keep_probability(self) -> torch.Tensor:
        """``P(z_k > 0)`` per level (before the cumulative product). Shape ``(num_bits - 1,)``."""
        return torch.sigmoid(self.log_alpha - _BETA * math.log(-_GAMMA / _ZETA))

    def expected_bits(self) -> torch.Tensor:
        """``1 + sum_k prod_{j<=k} P(z_j > 0)``: the expected bit-width (a scalar tensor)."""
        return 1.0 + torch.cumprod(self.keep_probability(), 0).sum()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Cumulative gate values ``in [0, 1]`` for levels ``0..num_bits`` (levels 0, 1 are 1).

        In training the gates are reparameterised hard-concrete samples; in eval mode a level is
        on when ``P(z_k > 0) >= 0.5`` (the same probabilities the bit cost uses).

        Shape:
            returns ``(num_bits + 1,)``.
        """
        if self.training:
            u = torch.rand(self.log_alpha.shape, generator=generator).to(self.log_alpha)
            u = u.clamp(1e-6, 1 - 1e-6)
            s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + self.log_alpha) / _BETA)
            z = torch.clamp(s * (_ZETA - _GAMMA) + _GAMMA, 0.0, 1.0)
        else:
            z = (self.keep_probability() >= 0.5).to(self.log_alpha)
        z = torch.cumprod(z, 0)  # contiguous levels: level k needs levels 2..k-1
        return torch.cat([z.new_ones(2), z])

    def set_bits(self, bits: int) -> None:
        """Harden the gates to exactly ``bits`` (levels ``2..bits`` on, the rest off)."""
        if not 1 <= bits <= self.num_bits:
            raise ValueError(f"bits must be in 1..{self.num_bits}, got {bits}")
        with torch.no_grad():
            on = torch.arange(2, self.num_bits + 1, device=self.log_alpha.device) <= bits
            self.log_alpha.copy_(torch.where(on, 20.0, -20.0))

    def learned_bits(self) -> int:
        """Bit-width after training: 1 + the number of contiguous levels whose gate is on."""
        with torch.no_grad():
            on = torch.cumprod((self.keep_probability() >= 0.5).to(torch.int64), 0)
        return 1 + int(on.sum())


def expected_average_bits(
    gates: Sequence[LevelGates], weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Weighted mean of the layers' expected bit-widths (weights default to equal)."""
    if not gates:
        raise ValueError("expected_average_bits needs at least one LevelGates")
    w = torch.ones(len(gates)) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if w.shape != (len(gates),) or bool((w < 0).any()) or float(w.sum()) <= 0:
        raise ValueError(f"weights must be {len(gates)} non-negative numbers with a positive sum")
    bits = torch.stack([g.expected_bits() for g in gates])
    return (bits * w.to(bits)).sum() / w.sum()


def bit_cost(
    gates: Sequence[LevelGates],
    target_bits: float,
    weights: Sequence[float] | None = None,
) -> torch.Tensor:
    """Bit-cost regularizer ``relu(E[average bits] - target_bits)``.

    Non-decreasing in every gate's keep probability (so in every ``log_alpha``); zero once the
    expected average is within the budget. Multiply by the regularization strength in the loss.
    """
    return torch.relu(expected_average_bits(gates, weights) - target_bits)


def allocate_bits(
    gates: Sequence[LevelGates], target_bits: float, weights: Sequence[float] | None = None
) -> list[int]:
    """Budget projection: per-layer bit-widths whose (weighted) average is at most ``target_bits``,
    keeping the levels with the highest learned keep probabilities.

    Starting from 1 bit everywhere, the next level of the layer whose cumulative keep probability
    ``prod_{j<=k} P(z_j > 0)`` is highest is added while the average stays within the budget
    (ties go to the earlier layer). Layers whose finer levels the task loss kept more probable get
    more bits.
    """
    if not gates:
        raise ValueError("allocate_bits needs at least one LevelGates")
    w = [1.0] * len(gates) if weights is None else [float(v) for v in weights]
    total = sum(w)
    with torch.no_grad():
        probs = [torch.cumprod(g.keep_probability(), 0).tolist() for g in gates]
    bits = [1] * len(gates)
    while True:
        best, best_p = -1, -1.0
        for i, g in enumerate(gates):
            if bits[i] >= g.num_bits:
                continue
            new_avg = (sum(b * wi for b, wi in zip(bits, w)) + w[i]) / total
            p = probs[i][bits[i] - 1]  # keep probability of level bits[i] + 1
            if new_avg <= target_bits + 1e-9 and p > best_p:
                best, best_p = i, p
        if best < 0:
            return bits
        bits[best] += 1
