"""Uniform quantization grids and their bit levels.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100 (earlier: "Semi-Relaxed
Quantization with DropBits", https://arxiv.org/abs/1911.12990).

A ``b``-bit grid is ``step * n`` for the integer codes ``n`` in ``[qmin, qmax]``: signed
``[-2^(b-1), 2^(b-1) - 1]`` for weights, unsigned ``[0, 2^b - 1]`` for post-ReLU activations.
The codes are split into *bit levels*: level ``k`` holds the codes that first appear at ``k``-bit
resolution, so keeping levels ``0..k`` of a ``b``-bit grid leaves exactly a ``k``-bit grid with
step ``step * 2^(b-k)``. DropBits drops whole levels.

Deviations from the paper (its text could not be checked; reconstruction from the abstract and
Relaxed Quantization):

* The level of code ``n != 0`` is ``b - v2(n)`` (``v2`` = 2-adic valuation); code 0 is level 0.
  Levels 0 and 1 (the 1-bit grid ``{qmin or 2^(b-1), 0}``) are never dropped.
* Drop probabilities decay exponentially towards coarser levels: the finest level ``b`` is dropped
  with probability ``p``, level ``b-1`` with ``p^2``, ..., level 2 with ``p^(b-1)``.
"""

from __future__ import annotations

import torch

__all__ = [
    "bit_levels",
    "grid_codes",
    "integer_range",
    "level_drop_probabilities",
    "nearest_codes",
    "sample_level_mask",
]


def integer_range(num_bits: int, signed: bool) -> tuple[int, int]:
    """``(qmin, qmax)`` of a ``num_bits`` grid.

    >>> integer_range(2, True), integer_range(2, False)
    ((-2, 1), (0, 3))
    """
    if not isinstance(num_bits, int) or num_bits < 1:
        raise ValueError(f"num_bits must be a positive integer, got {num_bits!r}")
    if signed:
        return -(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1
    return 0, 2**num_bits - 1


def grid_codes(num_bits: int, signed: bool) -> torch.Tensor:
    """All integer codes of the grid, ascending.

    Shape:
        returns ``(2^num_bits,)`` int64.
    """
    qmin, qmax = integer_range(num_bits, signed)
    return torch.arange(qmin, qmax + 1, dtype=torch.int64)


def bit_levels(num_bits: int, signed: bool) -> torch.Tensor:
    """Bit level of every grid code (same order as :func:`grid_codes`).

    Level 0 is the code 0; code ``n != 0`` has level ``num_bits - v2(n)``, so the codes of levels
    ``<= k`` are the multiples of ``2^(num_bits - k)``, i.e. a ``k``-bit grid.

    Shape:
        returns ``(2^num_bits,)`` int64 with values in ``0..num_bits``.
    """
    codes = grid_codes(num_bits, signed)
    levels = torch.zeros_like(codes)
    for i, n in enumerate(codes.tolist()):
        if n == 0:
            continue
        v2 = (abs(n) & -abs(n)).bit_length() - 1  # 2-adic valuation of n
        levels[i] = num_bits - v2
    return levels


def level_drop_probabilities(num_bits: int, drop_rate: float) -> torch.Tensor:
    """Drop probability of each level ``0..num_bits``: 0 for levels 0, 1; ``drop_rate^(b-k+1)``.

    Finer levels are dropped more often (the finest with ``drop_rate``), coarser ones
    exponentially less often.

    Shape:
        returns ``(num_bits + 1,)`` float32.
    """
    if not 0.0 <= drop_rate < 1.0:
        raise ValueError(f"drop_rate must be in [0, 1), got {drop_rate}")
    probs = torch.zeros(num_bits + 1)
    for k in range(2, num_bits + 1):
        probs[k] = drop_rate ** (num_bits - k + 1)
    return probs


def sample_level_mask(
    num_bits: int,
    signed: bool,
    drop_rate: float,
    num_rows: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """DropBits mask: one independent draw of the kept levels per row, expanded to grid codes.

    Levels are dropped independently with :func:`level_drop_probabilities`; levels 0 and 1 are
    always kept, so every row keeps at least the codes 0 and the 1-bit grid.

    Shape:
        returns ``(num_rows, 2^num_bits)`` bool, True = grid point kept.
    """
    drop = level_drop_probabilities(num_bits, drop_rate).to(device)
    u = torch.rand(num_rows, num_bits + 1, generator=generator, device=device)
    keep_level = u >= drop  # (rows, levels); drop prob 0 -> always kept
    levels = bit_levels(num_bits, signed).to(device)
    return keep_level[:, levels]


def nearest_codes(x: torch.Tensor, step: torch.Tensor, qmin: int, qmax: int) -> torch.Tensor:
    """Nearest grid code of ``x`` clipped to the range, i.e. ``clamp(floor(x/step + 1/2))``.

    Ties (``x`` exactly on a bin boundary) go up, matching the categorical argmax of
    :func:`~paperzoo.quantization.estimators.categorical_probabilities` up to that measure-zero
    set.

    Shape:
        ``x`` any shape; returns the same shape (float codes).
    """
    return torch.clamp(torch.floor(x / step + 0.5), qmin, qmax)
