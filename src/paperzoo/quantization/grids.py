"""Uniform quantization grids and their bit levels.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100 (earlier: "Semi-Relaxed
Quantization with DropBits", https://arxiv.org/abs/1911.12990).

A ``b``-bit grid is ``step * n`` for the integer codes ``n`` in ``[qmin, qmax]``: signed
``[-2^(b-1), 2^(b-1) - 1]`` for weights, unsigned ``[0, 2^b - 1]`` for post-ReLU activations.
The codes are split into *bit levels*: level ``k`` holds the codes that first appear at ``k``-bit
resolution, so keeping levels ``0..k`` of a ``b``-bit grid leaves exactly a ``k``-bit grid with
step ``step * 2^(b-k)``. DropBits drops whole levels.

DropBits: which grid points a dropped bit removes. The paper describes DropBits as dropping
*bits* instead of neurons, at rates that decay exponentially. A ``b``-bit code written in binary
loses its least significant bit first: dropping ``d`` bits leaves the codes whose ``d`` lowest
bits are zero, i.e. the multiples of ``2^d``, which is the coarser ``(b - d)``-bit grid with step
``step * 2^d`` (levels ``0..b-d`` kept, levels ``b-d+1..b`` removed). So one draw removes a
*contiguous block of the finest levels*, never a coarse level while a finer one survives, and
the surviving points always form a uniform grid (the same grid a ``(b - d)``-bit quantizer
would use). The number of dropped bits ``d`` follows the exponential decay: each further bit is
dropped with probability ``p`` given that the previous one was, ``P(d >= j) = p^j`` for
``j = 1..b-1``. Level ``k`` is therefore removed with marginal probability ``p^(b-k+1)``
(:func:`level_drop_probabilities`): the finest level with ``p``, the next with ``p^2``, ...
Levels 0 and 1 (code 0 and the 1-bit grid ``{qmin or 2^(b-1), 0}``) are never dropped, so at
most ``b - 1`` bits go. The quantizers draw this law sparsely (:func:`sample_dropbits_picks`:
the rows that drop at least ``j`` bits, found by geometric gaps, in ``O(p N)`` work);
:func:`sample_dropped_bits` (``b - 1`` uniforms per row) draws it densely.

Deviations from the paper (its text could not be checked; reconstruction from the abstract and
Relaxed Quantization):

* The level of code ``n != 0`` is ``b - v2(n)`` (``v2`` = 2-adic valuation); code 0 is level 0.
* The nesting above (a dropped bit takes every finer bit with it) and the rate ``p`` per
  further bit are our reading of "drop bits ... exponentially"; the marginal rates
  ``p, p^2, ...`` are what the earlier version of this package used with independent levels.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "bernoulli_rows",
    "bit_levels",
    "dropped_bits_to_picks",
    "grid_codes",
    "integer_range",
    "kept_level_mask",
    "level_drop_probabilities",
    "nearest_codes",
    "picks_to_dropped_bits",
    "picks_to_rows",
    "sample_dropbits_picks",
    "sample_dropped_bits",
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


def sample_dropped_bits(
    num_bits: int,
    drop_rate: float,
    num_rows: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """DropBits draw: the number of least significant bits ``d`` dropped, one per row.

    ``P(d >= j) = drop_rate^j`` for ``j = 1..num_bits-1`` (each further bit is dropped with
    ``drop_rate`` given the previous one was); ``d <= num_bits - 1`` so the 1-bit grid survives.
    The row then quantizes on the ``(num_bits - d)``-bit grid with step ``step * 2^d``.

    Shape:
        returns ``(num_rows,)`` int64 in ``0..num_bits-1``.
    """
    if not 0.0 <= drop_rate < 1.0:
        raise ValueError(f"drop_rate must be in [0, 1), got {drop_rate}")
    u = torch.rand(num_rows, max(num_bits - 1, 0), generator=generator)
    return torch.cumprod((u < drop_rate).to(torch.int64), 1).sum(1).to(device)


_DENSE_BERNOULLI_ROWS = 8192
"""Up to this many trials :func:`bernoulli_rows` draws one uniform each (fewer torch calls than
the geometric gaps, which pay off for the large activation tensors)."""


def bernoulli_rows(
    num_rows: int,
    prob: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """The successes of ``num_rows`` independent Bernoulli(``prob``) trials, in ``O(prob N)``
    work: ascending row indices.

    The gaps between consecutive successes of a Bernoulli process are i.i.d. geometric on
    ``{1, 2, ...}``:

        P(gap > k) = (1 - q)^k,   gap = floor(log(1 - v) / log(1 - q)) + 1,  v ~ U[0, 1)

    (``P(gap > k) = P(1 - v <= (1 - q)^k) = (1 - q)^k`` with ``q = prob``), so the successes
    are the partial sums of the gaps minus one, below ``num_rows``. Gaps are drawn in float64
    (positions exact up to 2^53 rows) on the generator's device (CPU by default), in batches of
    the expected count plus six standard deviations, so a second batch is rare. Up to 8,192
    rows one uniform per row (``v < q``) is drawn instead: the same law in fewer operations.

    Shape:
        returns ``(R,)`` int64 on ``device``, ``R ~ Binomial(num_rows, prob)``.
    """
    if not 0.0 <= prob < 1.0:
        raise ValueError(f"prob must be in [0, 1), got {prob}")
    if prob == 0.0 or num_rows == 0:
        return torch.zeros(0, dtype=torch.int64, device=device)
    gen_device = "cpu" if generator is None else generator.device
    if num_rows <= _DENSE_BERNOULLI_ROWS:  # a dense draw costs fewer operations here
        v = torch.rand(num_rows, dtype=torch.float64, generator=generator, device=gen_device)
        return torch.nonzero(v < prob).reshape(-1).to(device)
    log_keep = math.log1p(-prob)
    mean = num_rows * prob
    batch = int(mean + 6.0 * math.sqrt(mean * (1.0 - prob))) + 16
    found, start = [], 0.0
    while start < num_rows:
        v = torch.rand(batch, dtype=torch.float64, generator=generator, device=gen_device)
        # in place: log(1 - v) / log(1 - q), floored, + 1, partial sums, shifted to 0-based rows
        pos = v.neg_().log1p_().mul_(1.0 / log_keep).floor_().add_(1.0).cumsum_(0)
        found.append(pos.add_(start - 1.0))
        start = float(pos[-1]) + 1.0
    pos = torch.cat(found) if len(found) > 1 else found[0]
    # ascending: the rows below num_rows are a prefix
    return pos[: int(torch.searchsorted(pos, float(num_rows)))].to(torch.int64).to(device)


def sample_dropbits_picks(
    num_rows: int,
    num_bits: int,
    drop_rate: float,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> list[torch.Tensor]:
    """Sparse DropBits draw (the quantizers'), as nested picks: ``picks[0]`` are the rows that
    drop at least one bit and ``picks[j]`` the positions, within the rows that drop at least
    ``j`` bits, of those that drop one more (all ascending).

    The same law as :func:`sample_dropped_bits` (independent rows, ``P(d >= j) = p^j``) in
    ``O(p N)`` work instead of ``O((b - 1) N)``: a row drops a first bit with ``p``
    (:func:`bernoulli_rows` over all rows) and, given it dropped ``j`` bits, one more with
    ``p`` (:func:`bernoulli_rows` over the previous rows). :func:`picks_to_rows` gives the row
    indices of each tier, :func:`picks_to_dropped_bits` the dense draw.

    Shape:
        returns ``b - 1`` int64 tensors on ``device`` (none for ``b = 1``).
    """
    if not 0.0 <= drop_rate < 1.0:
        raise ValueError(f"drop_rate must be in [0, 1), got {drop_rate}")
    picks: list[torch.Tensor] = []
    prev = num_rows
    for _ in range(1, num_bits):
        picks.append(bernoulli_rows(prev, drop_rate, generator=generator, device=device))
        prev = picks[-1].numel()
    return picks


def picks_to_rows(picks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Row indices of each tier of :func:`sample_dropbits_picks`' draw: ``rows[j - 1]`` are the
    rows that drop at least ``j`` bits, ``rows[j] = rows[j - 1][picks[j]]`` (ascending, nested).

    Shape:
        returns one int64 tensor per pick, ``rows[j]`` of ``picks[j]``'s shape.
    """
    rows: list[torch.Tensor] = []
    for pick in picks:
        rows.append(pick if not rows else torch.index_select(rows[-1], 0, pick))
    return rows


def picks_to_dropped_bits(picks: list[torch.Tensor], num_rows: int) -> torch.Tensor:
    """Dense dropped bits of a :func:`sample_dropbits_picks` draw: ``d_r`` = the number of
    tiers holding row ``r``.

    Shape:
        returns ``(num_rows,)`` int64 on the picks' device (CPU without picks).
    """
    d = torch.zeros(num_rows, dtype=torch.int64, device=picks[0].device if picks else "cpu")
    for rows in picks_to_rows(picks):
        d.index_add_(0, rows, torch.ones_like(rows))
    return d


def dropped_bits_to_picks(dropped: torch.Tensor, num_bits: int) -> list[torch.Tensor]:
    """The inverse of :func:`picks_to_dropped_bits`, for a dense draw such as
    :func:`sample_dropped_bits`'.

    Shape:
        ``dropped`` any shape (flattened row-major), int64; returns ``b - 1`` int64 tensors.
    """
    flat = dropped.reshape(-1)
    picks: list[torch.Tensor] = []
    for j in range(1, num_bits):
        if not picks:
            picks.append(torch.nonzero(flat >= j).reshape(-1))
        else:  # positions, within the rows that drop >= j - 1 bits, of those that drop >= j
            picks.append(torch.nonzero(flat[picks_to_rows(picks)[-1]] >= j).reshape(-1))
    return picks


def sample_level_mask(
    num_bits: int,
    signed: bool,
    drop_rate: float,
    num_rows: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """DropBits mask over the grid codes: the points that survive :func:`sample_dropped_bits`.

    A row that drops ``d`` bits keeps the codes of levels ``<= num_bits - d`` (the multiples of
    ``2^d``); level ``k`` is dropped with marginal probability :func:`level_drop_probabilities`.

    Shape:
        returns ``(num_rows, 2^num_bits)`` bool, True = grid point kept.
    """
    d = sample_dropped_bits(num_bits, drop_rate, num_rows, generator=generator, device=device)
    return kept_level_mask(bit_levels(num_bits, signed).to(device), num_bits - d)


def kept_level_mask(levels: torch.Tensor, kept_bits: torch.Tensor) -> torch.Tensor:
    """Which grid points a row keeps when it keeps ``kept_bits`` bits: ``level_i <= kept_r``.

    Shape:
        ``levels`` ``(K,)`` (:func:`bit_levels`); ``kept_bits`` ``(N,)``; returns ``(N, K)`` bool.
    """
    return levels[None, :] <= kept_bits[:, None]


def nearest_codes(x: torch.Tensor, step: torch.Tensor, qmin: int, qmax: int) -> torch.Tensor:
    """Nearest grid code of ``x`` clipped to the range, i.e. ``clamp(floor(x/step + 1/2))``.

    Ties (``x`` exactly on a bin boundary) go up, matching the categorical argmax of
    :func:`~paperzoo.quantization.estimators.categorical_probabilities` up to that measure-zero
    set.

    Shape:
        ``x`` any shape; returns the same shape (float codes).
    """
    return torch.clamp(torch.floor(x / step + 0.5), qmin, qmax)
