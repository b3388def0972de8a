"""The categorical grid distribution, the multi-class straight-through estimator, DropBits, and the
baseline quantizers (fixed-range STE, LSQ, Relaxed Quantization) behind one interface.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100. Builds on Relaxed Quantization
(Louizos et al., ICLR 2019, https://arxiv.org/abs/1810.01875); LSQ is Esser et al., ICLR 2020,
https://arxiv.org/abs/1902.08153.

CPQ puts logistic noise ``eps ~ Logistic(0, sigma)`` on ``x``; the probability that ``x + eps``
falls in the bin of grid point ``g_i = step * n_i`` is (Eq. RQ-2)

    pi_i(x) = Sigm((g_i + step/2 - x) / sigma) - Sigm((g_i - step/2 - x) / sigma),

with the two edge bins extended to infinity so ``sum_i pi_i = 1``. The forward pass is the mode,
``x_hat = g_{argmax pi}`` (= nearest-grid rounding clipped to the range, so training and inference
quantize identically; see the deviations below); the backward pass is the multi-class STE
``dL/dpi := dL/dr`` for the one-hot ``r``, i.e. gradients flow through the surrogate
``sum_i pi_i g_i``. By telescoping,

    sum_i g_i pi_i = step * qmax - step * sum_j Sigm((b_j - x) / sigma),  b_j = step (n_j + 1/2),

whose slope in ``x`` is a sum of logistic bumps at the bin boundaries: large near a boundary,
~0 at grid points (the cluster-promoting effect).

Deviations from the paper (its text could not be checked; reconstruction):

* The STE surrogate uses ``pi`` normalised by its sum (a no-op without DropBits) by default;
  ``ste_normalization="max"`` uses ``pi / max pi`` instead. Both are offered and tested.
* DropBits masks grid points per element (``dropbits_per_element=True``) or per tensor; the forward
  is the argmax over the surviving points, the backward goes through the renormalised masked
  ``pi``.
* The forward is computed as nearest rounding ``clamp(floor(x/step + 1/2))``. It equals
  ``argmax pi`` except in a thin band (width shrinking like ``exp(-step/sigma)``) next to the two
  boundaries of the edge bins, whose infinite tails give them slightly more mass; we keep nearest
  rounding there so that training and test quantize identically.
* Steps are initialised as in LSQ (``2 mean|x| / sqrt(qmax)``) for every learnable quantizer, and
  ``sigma = step / 3``; the fixed-range STE uses ``max|x| / qmax`` from the first batch.
* Without masks the CPQ backward is computed in closed form, in row chunks and over a local
  window of bin boundaries, so activations never materialise a ``(..., 2^b)`` tensor (memory
  stays ``O(numel)`` at 8 bits). Relaxed Quantization
  uses a local window of grid points around ``x`` (as in the RQ paper) when the grid is larger.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from .bitwidth import LevelGates
from .grids import (
    bit_levels,
    integer_range,
    kept_level_mask,
    nearest_codes,
    sample_dropped_bits,
)

__all__ = [
    "ClusterPromotingQuantizer",
    "GridQuantizer",
    "LearnedStepQuantizer",
    "RelaxedQuantizer",
    "StraightThroughQuantizer",
    "categorical_probabilities",
    "compiled_backward",
    "concrete_quantize",
    "expected_grid_value",
    "masked_multiclass_ste",
    "multiclass_ste",
    "nested_mask_ste",
    "slope_contrast",
    "surrogate_slope",
    "window_probabilities",
]


# --- the categorical distribution over the grid -------------------------------------------------


def window_probabilities(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    qmin: int,
    qmax: int,
    radius: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grid codes and categorical probabilities of ``x`` (Eq. RQ-2), on the full grid or a window.

    With ``radius`` the grid is restricted to the ``2 radius + 1`` codes around the nearest one
    (shifted to stay inside ``[qmin, qmax]``); probabilities then sum to at most 1.

    Shape:
        ``x`` ``(N,)``; returns codes ``(N, W)`` float and probabilities ``(N, W)``.
    """
    if x.dim() != 1:
        raise ValueError(
            f"window_probabilities expects a flat x of shape (N,), got {tuple(x.shape)}"
        )
    num_codes = qmax - qmin + 1
    offsets = torch.arange(num_codes, device=x.device, dtype=x.dtype)
    if radius is None or 2 * radius + 1 >= num_codes:
        codes = (offsets + qmin).expand(x.shape[0], num_codes)
    else:
        width = 2 * radius + 1
        center = nearest_codes(x.detach(), step.detach(), qmin, qmax)
        start = torch.clamp(center - radius, qmin, qmax - width + 1)
        codes = start[:, None] + offsets[None, :width]
    # CDF of x + eps at the W + 1 bin edges, then differences (Eq. RQ-2); the outer edges of the
    # first and last grid points are -inf / +inf, so their CDF is exactly 0 / 1.
    edges = torch.cat([codes - 0.5, codes[:, -1:] + 0.5], dim=1)  # (N, W + 1)
    cdf = torch.sigmoid((step * edges - x[:, None]) / noise)
    lo = torch.where(codes[:, :1] == qmin, torch.zeros_like(cdf[:, :1]), cdf[:, :1])
    hi = torch.where(codes[:, -1:] == qmax, torch.ones_like(cdf[:, -1:]), cdf[:, -1:])
    cdf = torch.cat([lo, cdf[:, 1:-1], hi], dim=1)
    return codes, (cdf[:, 1:] - cdf[:, :-1]).clamp_min(0.0)


def categorical_probabilities(
    x: torch.Tensor, step: torch.Tensor, noise: torch.Tensor, qmin: int, qmax: int
) -> torch.Tensor:
    """``pi_i(x)`` over the full grid ``step * [qmin..qmax]`` (Eq. RQ-2); rows sum to 1.

    Shape:
        ``x`` any shape ``S``; returns ``S + (qmax - qmin + 1,)``.
    """
    _, probs = window_probabilities(x.reshape(-1), step, noise, qmin, qmax)
    return probs.reshape(*x.shape, qmax - qmin + 1)


def expected_grid_value(
    x: torch.Tensor, step: torch.Tensor, noise: torch.Tensor, qmin: int, qmax: int
) -> torch.Tensor:
    """``E_pi[g] = step qmax - step sum_j Sigm((b_j - x)/sigma)`` (telescoped; shape of ``x``)."""
    bounds = torch.arange(qmin, qmax, device=x.device, dtype=x.dtype) + 0.5
    u = (step * bounds - x[..., None]) / noise
    return step * qmax - step * torch.sigmoid(u).sum(-1)


def surrogate_slope(x_over_step: float, noise_ratio: float, terms: int = 40) -> float:
    """Slope ``d/dx sum_i g_i pi_i`` of the multi-class STE surrogate on an unbounded grid, at
    ``x = x_over_step * step``: ``(1/r) sum_j F'((j + 1/2 - x/step) / r)`` with ``r = sigma/step``
    and ``F'`` the logistic density. At ``r = 1/3`` it is 0.96 at a grid point and 1.04 at a bin
    edge (almost a plain STE); at ``r = 0.1``, 0.13 and 2.5 (cluster-promoting)."""
    if noise_ratio <= 0:
        raise ValueError(f"noise_ratio must be positive, got {noise_ratio}")
    j = torch.arange(-terms, terms + 1, dtype=torch.float64) + 0.5
    f = torch.sigmoid((j - x_over_step) / noise_ratio)
    return float((f * (1 - f)).sum() / noise_ratio)


def slope_contrast(noise_ratio: float) -> float:
    """How much harder the STE pushes at a bin edge than at a grid point:
    ``surrogate_slope(1/2, r) / surrogate_slope(0, r)`` (1 = plain STE, no clustering force),
    capped at 1e6."""
    # at sigma/step < ~0.03 the slope at a grid point underflows to 0: report a large finite cap
    return min(
        1e6, surrogate_slope(0.5, noise_ratio) / max(surrogate_slope(0.0, noise_ratio), 1e-300)
    )


# --- the multi-class STE (closed form, chunked) -------------------------------------------------


def _boundary_sums(xs_s: torch.Tensor, scaled: torch.Tensor, bounds: torch.Tensor):
    """``sum_j F'(u_j)`` and ``sum_j F'(u_j) b_j`` with ``u_j = scaled_j - xs_s`` (pure:
    compilable). Shape: ``xs_s`` (R,), ``scaled``, ``bounds`` (W,); returns two (R,)."""
    f = torch.sigmoid(scaled - xs_s[:, None])  # (R, W)
    fp = f * (1.0 - f)  # the logistic density F'(u_j)
    return fp.sum(1), (fp * bounds).sum(1)


class _MultiClassSTE(torch.autograd.Function):
    """Forward: nearest-grid rounding. Backward: gradients of the surrogate ``sum_i pi_i g_i``
    through ``pi`` plus the direct ``step``-dependence of the chosen grid point."""

    @staticmethod
    def forward(ctx, x, step, noise, qmin, qmax, chunk_elems):  # type: ignore[override]
        codes = nearest_codes(x, step, qmin, qmax)
        ctx.save_for_backward(x, step, noise, codes)
        ctx.qmin, ctx.qmax, ctx.chunk_elems = qmin, qmax, chunk_elems
        return codes * step

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, step, noise, codes = ctx.saved_tensors
        qmin, qmax = ctx.qmin, ctx.qmax
        flat_x, flat_g, flat_c = x.reshape(-1), grad_out.reshape(-1), codes.reshape(-1)
        # F'(u) < 1e-12 for |u| > 28: only boundaries within `radius` codes of x's grid point
        # contribute, so large grids use a local window of boundaries (exact to that precision).
        radius = math.ceil(28.0 * float(noise / step)) + 1
        window = 2 * radius + 2 < qmax - qmin
        if window:
            offsets = torch.arange(-radius - 1, radius + 1, device=x.device, dtype=x.dtype)
            width = offsets.numel()
        else:
            bounds_all = torch.arange(qmin, qmax, device=x.device, dtype=x.dtype) + 0.5  # (K-1,)
            width = bounds_all.numel()
        rows = max(1, ctx.chunk_elems // max(1, width))
        grad_x = torch.empty_like(flat_x)
        sum_fp_b = x.new_zeros(())  # sum over elements of dL/dx_hat * sum_j F'(u_j) (n_j + 1/2)
        sum_fp_u = x.new_zeros(())  # sum over elements of dL/dx_hat * sum_j F'(u_j) u_j
        ratio = step / noise
        if not window:
            scaled = ratio * bounds_all  # (W,)
        for lo in range(0, flat_x.numel(), rows):
            xs, gs = flat_x[lo : lo + rows], flat_g[lo : lo + rows]
            xs_s = xs / noise
            if window:
                n = flat_c[lo : lo + rows, None] + offsets  # (rows, W) boundary codes n_j
                bounds = n + 0.5
                u = ratio * bounds - xs_s[:, None]
                fp = torch.sigmoid(u)
                fp.mul_(1.0 - fp)
                fp.mul_((n >= qmin) & (n <= qmax - 1))
                s0, s1 = fp.sum(1), (fp * bounds).sum(1)
            else:
                s0, s1 = _kernel(_boundary_sums)(xs_s, scaled, bounds_all)
            # d/dx sum_i g_i pi_i = (step / sigma) sum_j F'(u_j): logistic bumps at boundaries
            grad_x[lo : lo + rows] = gs * ratio * s0
            sum_fp_b = sum_fp_b + (gs * s1).sum()
            # sum_j F'(u_j) u_j = (step / sigma) sum_j F'(u_j) b_j - (x / sigma) sum_j F'(u_j)
            sum_fp_u = sum_fp_u + (gs * (ratio * s1 - xs_s * s0)).sum()
        # step: the chosen point moves with step (codes), plus the surrogate's dependence via pi
        # (sum_i g_i dpi_i/dstep = -(step / sigma) sum_j F'(u_j) (n_j + 1/2)).
        grad_step = (grad_out * codes).sum() - (step / noise) * sum_fp_b
        # noise: sum_i g_i dpi_i/dsigma = (step / sigma) sum_j F'(u_j) u_j
        grad_noise = (step / noise) * sum_fp_u
        return grad_x.reshape(x.shape), grad_step, grad_noise, None, None, None


def multiclass_ste(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    qmin: int,
    qmax: int,
    chunk_elems: int = 1 << 20,
) -> torch.Tensor:
    """CPQ forward/backward without masks: ``step * clamp(round(x/step))`` with multi-class STE
    gradients for ``x``, ``step`` and ``noise`` computed in closed form.

    Memory: the backward walks over ``x`` in chunks of ``chunk_elems / W`` elements, where ``W``
    is the number of bin boundaries used (all ``2^b - 1``, or for large grids the window within
    ``28 sigma`` of ``x``, outside of which the logistic density is below 1e-12), so no
    ``(..., 2^b)`` tensor is kept for backward.

    Shape:
        ``x`` any shape; ``step``, ``noise`` scalars; returns the shape of ``x``.
    """
    return _MultiClassSTE.apply(x, step, noise, qmin, qmax, chunk_elems)


def masked_multiclass_ste(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    qmin: int,
    qmax: int,
    point_weights: torch.Tensor | None,
    normalization: Literal["sum", "max"],
) -> torch.Tensor:
    """Multi-class STE on the materialised categorical, with optional per-point weights
    (DropBits masks times level gates): forward argmax over points with weight > 0, backward
    through the (re)normalised weighted ``pi``.

    Shape:
        ``x`` ``(N,)``; ``point_weights`` ``(N, K)`` or ``(K,)`` or None; returns ``(N,)``.
    """
    codes, pi = window_probabilities(x, step, noise, qmin, qmax)  # (N, K)
    weighted = pi if point_weights is None else pi * point_weights
    alive = torch.ones_like(pi, dtype=torch.bool) if point_weights is None else point_weights > 0
    # the argmax of pi among surviving points; ties/underflow broken by distance to x
    dist = (codes * step.detach() - x.detach()[:, None]).abs()
    score = torch.where(alive, -dist, torch.full_like(dist, -math.inf))
    one_hot = torch.zeros_like(pi).scatter_(1, score.argmax(1, keepdim=True), 1.0)
    if normalization == "sum":
        surrogate = weighted / weighted.sum(1, keepdim=True).clamp_min(1e-12)
    else:
        surrogate = weighted / weighted.amax(1, keepdim=True).clamp_min(1e-12)
    r = one_hot + surrogate - surrogate.detach()  # forward one-hot, backward dL/dpi := dL/dr
    return (r * codes * step).sum(1)


_COMPILE: dict = {"enabled": False, "fns": {}}


def compiled_backward(enabled: bool = True) -> None:
    """Run the CPQ / DropBits backward kernels through ``torch.compile`` (inductor).

    Off by default: the first backward in a process compiles for about 30 s, and inductor needs
    a C++ compiler on CPU. On the 2-core CPU box it makes these kernels several times faster
    (see the benchmark). Values and gradients are the eager kernels' (tested).
    """
    _COMPILE["enabled"] = bool(enabled)


def _kernel(fn):
    """``fn`` itself, or its compiled version when :func:`compiled_backward` is on."""
    if not _COMPILE["enabled"]:
        return fn
    if fn not in _COMPILE["fns"]:
        _COMPILE["fns"][fn] = torch.compile(fn, dynamic=True)
    return _COMPILE["fns"][fn]


def _edge_sums(coef: torch.Tensor, fp: torch.Tensor, edges: torch.Tensor):
    """``sum_j P_j`` and ``sum_j P_j e_j`` for ``P_j = (c_{j-1} - c_j) F'(u_j)``.

    ``sum_i c_i (h_{i+1} - h_i) = sum_j h_j (c_{j-1} - c_j)``: every ``dpi_i/dtheta`` is a
    difference of edge terms ``h_j``, so with ``c_i = dL/dpi_i`` these two sums give
    ``dL/dx = -sum_j P_j / sigma``, ``dL/dstep|_pi = sum_j P_j e_j / sigma`` and
    ``dL/dsigma = -(step sum_j P_j e_j - x sum_j P_j) / sigma^2`` (pure: compilable).

    Shape: ``coef`` ``(R, K)``; ``fp`` ``(R, K + 1)``; ``edges`` ``(K + 1,)`` or
    ``(R, K + 1)``; returns two ``(R,)``.
    """
    zero = coef.new_zeros(coef.shape[0], 1)
    p_mat = (torch.cat([zero, coef], 1) - torch.cat([coef, zero], 1)) * fp
    return p_mat.sum(1), (p_mat * edges).sum(1)


def _nested_mask_chunk(xs, gs, kept, step, noise, gate, levels, g, edges, want_gate, gate_is_one):
    """Backward of :class:`_NestedMaskSTE` on a chunk of rows (pure: compilable); the edge
    identity is :func:`_edge_sums`.

    Returns ``(dL/dx (R,), dL/dstep part, dL/dsigma, dL/dgate (K,))``.
    """
    u = (step * edges - xs[:, None]) / noise  # (R, K + 1)
    f = torch.sigmoid(u)
    fp = f * (1.0 - f)
    # the outer edges are -inf / +inf: CDF exactly 0 / 1, density 0
    last = edges.shape[0] - 1
    col = torch.arange(edges.shape[0], device=xs.device)
    f = torch.where(col == 0, 0.0, torch.where(col == last, 1.0, f))
    fp = torch.where((col == 0) | (col == last), 0.0, fp)
    pi = (f[:, 1:] - f[:, :-1]).clamp_min(0.0)  # (R, K)
    w = kept_level_mask(levels, kept).to(xs.dtype)  # DropBits survivors
    alive = w if gate_is_one else w * gate
    wpi = alive * pi
    z = wpi.sum(1, keepdim=True).clamp_min(1e-12)
    g_minus_s = g - (wpi * g).sum(1, keepdim=True) / z  # (R, K): g_i - S
    coef = alive * g_minus_s / z
    s0, s1 = _edge_sums(coef, fp, edges)
    grad_x = gs * s0 * (-1.0 / noise)
    a_step = (gs * s1).sum() / noise
    a_noise = -(gs * (step * s1 - xs * s0)).sum() / noise**2
    if want_gate:
        a_gate = ((gs / z[:, 0])[:, None] * w * g_minus_s * pi).sum(0)
    else:
        a_gate = g.new_zeros(g.shape)
    return grad_x, a_step, a_noise, a_gate


class _NestedMaskSTE(torch.autograd.Function):
    """Fused multi-class STE on nested masks (DropBits draws and/or contiguous level gates).

    Forward: row ``r`` keeps the levels ``<= k_r`` (a ``k_r``-bit sub-grid with step
    ``step 2^(b-k_r)``) and takes its nearest point. Backward: the gradient of the
    sum-normalised weighted surrogate ``S = sum_i w_i g_i pi_i / sum_i w_i pi_i``
    (``w_i = [level_i <= k_r] gate_i``), with every ``dpi_i/d(x, step, sigma)`` in closed form
    from the logistic CDF ``F`` at the bin edges, in row chunks (no autograd graph over
    ``(N, K)`` tensors)::

        dS/dtheta = sum_i w_i (g_i - S) dpi_i/dtheta / Z,   dS/dgate_i = [alive] (g_i - S) pi_i / Z
    """

    @staticmethod
    def forward(ctx, x, step, noise, gate, kept, levels, num_bits, gate_bits, qmin, qmax, chunk):  # type: ignore[override]
        # the gates' own sub-grid caps the DropBits draw (kept stays unclamped for the gradients)
        scale = torch.exp2(
            (num_bits - kept.clamp_max(gate_bits)).to(x.dtype)
        )  # (N,) sub-grid step / step
        lo = qmin / scale  # -2^(k-1) (signed) or 0
        hi = (qmax + 1) / scale - 1.0  # 2^(k-1) - 1 (signed) or 2^k - 1
        codes = torch.minimum(torch.maximum(torch.floor(x / (step * scale) + 0.5), lo), hi)
        codes = codes * scale
        ctx.save_for_backward(x, step, noise, gate, kept, levels, codes)
        ctx.qmin, ctx.qmax, ctx.chunk = qmin, qmax, chunk
        return codes * step

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, step, noise, gate, kept, levels, codes = ctx.saved_tensors
        qmin, qmax = ctx.qmin, ctx.qmax
        gate_is_one = not ctx.needs_input_grad[3] and bool((gate == 1).all())
        n = torch.arange(qmin, qmax + 1, device=x.device, dtype=x.dtype)  # (K,)
        edges = torch.cat([n - 0.5, n[-1:] + 0.5])  # (K + 1,)
        k_num = n.numel()
        g = step * n  # grid values (K,); the chunk kernel's docstring has the maths
        rows = max(1, ctx.chunk // (k_num + 1))
        grad_x = torch.empty_like(x)
        acc = x.new_zeros(3)  # step, noise terms; gate below
        acc_gate = x.new_zeros(k_num)
        want_gate = bool(ctx.needs_input_grad[3])
        kernel = _kernel(_nested_mask_chunk)
        for a in range(0, x.numel(), rows):
            gx, a_step, a_noise, a_gate = kernel(
                x[a : a + rows], grad_out[a : a + rows], kept[a : a + rows], step, noise,
                gate, levels, g, edges, want_gate, gate_is_one,
            )  # fmt: skip
            grad_x[a : a + rows] = gx
            acc[0] += a_step
            acc[1] += a_noise
            if want_gate:
                acc_gate += a_gate
        acc_step, acc_noise = acc[0], acc[1]
        grad_step = (grad_out * codes).sum() + acc_step  # the chosen point moves with step
        grad_gate = acc_gate if ctx.needs_input_grad[3] else None
        return grad_x, grad_step, acc_noise, grad_gate, None, None, None, None, None, None, None


def nested_mask_ste(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    num_bits: int,
    signed: bool,
    kept_bits: torch.Tensor | None = None,
    gate: torch.Tensor | None = None,
    chunk_elems: int = 1 << 20,
) -> torch.Tensor:
    """CPQ with DropBits and/or learned level gates, fused: equal (values and gradients) to
    :func:`masked_multiclass_ste` with ``normalization="sum"`` and point weights
    ``[level_i <= kept_bits_r] * gate_i``, without materialising an autograd graph.

    Args:
        kept_bits: bits each row keeps after DropBits (``num_bits - d``); None = all.
        gate: per-grid-point gate values in ``[0, 1]`` (cumulative over levels, so the points
            with a non-zero gate are the levels ``0..k_g``); receives gradients.

    Shape:
        ``x`` ``(N,)``; ``kept_bits`` ``(N,)`` int64; ``gate`` ``(2^b,)``; returns ``(N,)``.
    """
    qmin, qmax = integer_range(num_bits, signed)
    levels = bit_levels(num_bits, signed).to(x.device)
    kept = (
        torch.full(x.shape, num_bits, dtype=torch.int64, device=x.device)
        if kept_bits is None
        else kept_bits.to(torch.int64)
    )
    if gate is None:
        g, gate_bits = torch.ones(levels.numel(), dtype=x.dtype, device=x.device), num_bits
    else:
        g, gate_bits = gate, int(levels[gate.detach() > 0].max())  # contiguous: levels 0..k_g
    return _NestedMaskSTE.apply(
        x, step, noise, g, kept, levels, num_bits, gate_bits, qmin, qmax, chunk_elems
    )


def concrete_quantize(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    qmin: int,
    qmax: int,
    temperature: float,
    window_radius: int | None = 3,
    *,
    generator: torch.Generator | None = None,
    fused: bool = True,
) -> torch.Tensor:
    """Relaxed Quantization forward: ``sum_i r_i g_i`` with a concrete sample
    ``r = softmax((log pi + Gumbel) / temperature)`` over a local window of grid points.

    With ``fused`` (default) the backward is computed in closed form (no autograd graph over
    ``(N, W)`` tensors); ``fused=False`` builds the autograd graph (the reference in tests).

    Shape:
        ``x`` ``(N,)``; returns ``(N,)``.
    """
    if fused:  # closed-form backward (same values and gradients as the graph below)
        codes = _window_codes(x, step, qmin, qmax, window_radius)
        u = torch.rand(codes.shape, generator=generator).to(x)
        return _Concrete.apply(x, step, noise, u, codes, qmin, qmax, temperature)
    codes, pi = window_probabilities(x, step, noise, qmin, qmax, window_radius)
    u = torch.rand(pi.shape, generator=generator).to(pi).clamp(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(u))
    r = torch.softmax((torch.log(pi.clamp_min(1e-20)) + gumbel) / temperature, dim=1)
    return (r * codes * step).sum(1)


def _window_codes(
    x: torch.Tensor, step: torch.Tensor, qmin: int, qmax: int, radius: int | None
) -> torch.Tensor:
    """The grid codes :func:`window_probabilities` uses for each ``x``: ``(N, W)`` float."""
    num_codes = qmax - qmin + 1
    offsets = torch.arange(num_codes, device=x.device, dtype=x.dtype)
    if radius is None or 2 * radius + 1 >= num_codes:
        return (offsets + qmin).expand(x.shape[0], num_codes)
    width = 2 * radius + 1
    center = nearest_codes(x.detach(), step.detach(), qmin, qmax)
    start = torch.clamp(center - radius, qmin, qmax - width + 1)
    return start[:, None] + offsets[None, :width]


class _Concrete(torch.autograd.Function):
    """Relaxed Quantization on a (window of the) grid with a closed-form backward.

    ``r = softmax((log pi + G) / tau)``, ``y = sum_i r_i g_i``. With ``dL/dy = gy``:
    ``dL/dlog pi_i = gy r_i (g_i - y) / tau``, so ``c_i = dL/dpi_i`` and :func:`_edge_sums`
    give the ``x``, ``step`` and ``sigma`` gradients; ``step`` also moves
    every ``g_i`` (``dy/dstep |_r = y / step``). ``pi_i < 1e-20`` is clamped (no gradient). The
    outer edge of a window is infinite only where the window reaches the end of the grid.
    """

    @staticmethod
    def _edges(x, step, noise, codes, qmin, qmax):
        edges = torch.cat([codes - 0.5, codes[:, -1:] + 0.5], dim=1)  # (N, W + 1)
        u = (step * edges - x[:, None]) / noise
        f = torch.sigmoid(u)
        lo, hi = codes[:, 0] == qmin, codes[:, -1] == qmax
        f[:, 0] = torch.where(lo, 0.0, f[:, 0])
        f[:, -1] = torch.where(hi, 1.0, f[:, -1])
        return edges, u, f, lo, hi

    @staticmethod
    def forward(ctx, x, step, noise, uniform, codes, qmin, qmax, temperature):  # type: ignore[override]
        _, _, f, _, _ = _Concrete._edges(x, step, noise, codes, qmin, qmax)
        pi = (f[:, 1:] - f[:, :-1]).clamp_min_(0.0)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1 - 1e-10)))
        logits = (torch.log(pi.clamp_min(1e-20)) + gumbel) / temperature
        # a hand-written softmax: torch.softmax over a last dimension of 4-8 is ~10x slower
        r = torch.exp(logits - logits.amax(1, keepdim=True))
        r /= r.sum(1, keepdim=True)
        y = (r * codes).sum(1) * step
        ctx.save_for_backward(x, step, noise, codes, r, y)
        ctx.qmin, ctx.qmax, ctx.temperature = qmin, qmax, temperature
        return y

    @staticmethod
    def backward(ctx, gy):  # type: ignore[override]
        x, step, noise, codes, r, y = ctx.saved_tensors
        edges, _, f, lo, hi = _Concrete._edges(x, step, noise, codes, ctx.qmin, ctx.qmax)
        fp = f * (1.0 - f)
        fp[:, 0] = torch.where(lo, 0.0, fp[:, 0])
        fp[:, -1] = torch.where(hi, 0.0, fp[:, -1])
        pi = (f[:, 1:] - f[:, :-1]).clamp_min_(0.0)
        dlogpi = gy[:, None] * r * (codes * step - y[:, None]) / ctx.temperature
        coef = torch.where(pi > 1e-20, dlogpi / pi.clamp_min(1e-20), torch.zeros_like(pi))
        s0, s1 = _edge_sums(coef, fp, edges)
        grad_x = s0 * (-1.0 / noise)
        grad_step = s1.sum() / noise + (gy * y).sum() / step
        # sum_j P_j u_j = (step sum_j P_j e_j - x sum_j P_j) / sigma
        grad_noise = -(step * s1 - x * s0).sum() / noise**2
        return grad_x, grad_step, grad_noise, None, None, None, None, None


# --- quantizer modules --------------------------------------------------------------------------


class GridQuantizer(nn.Module):
    """Common interface: a ``num_bits`` uniform grid with a step, data-driven initialisation, and
    exact nearest-grid rounding in eval mode.

    Args:
        num_bits: bit-width ``b``.
        signed: signed grid ``[-2^(b-1), 2^(b-1)-1]`` (weights) or unsigned ``[0, 2^b - 1]``.
        learn_step: whether ``step`` is a trainable parameter.

    The step is initialised from the first tensor seen (see :meth:`init_step`); the
    ``initialized`` buffer makes this survive ``state_dict`` round trips.
    """

    def __init__(self, num_bits: int, signed: bool, learn_step: bool = True) -> None:
        super().__init__()
        self.num_bits, self.signed = num_bits, signed
        self.qmin, self.qmax = integer_range(num_bits, signed)
        self.step = nn.Parameter(torch.ones(()), requires_grad=learn_step)
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def extra_repr(self) -> str:
        return f"num_bits={self.num_bits}, signed={self.signed}"

    def init_step(self, x: torch.Tensor) -> torch.Tensor:
        """LSQ initialisation ``2 mean|x| / sqrt(qmax)``."""
        return 2.0 * x.abs().mean().clamp_min(1e-8) / math.sqrt(max(self.qmax, 1))

    def _after_init(self) -> None:
        """Hook for subclasses (e.g. set ``noise`` from the step)."""

    def initialize(self, x: torch.Tensor) -> None:
        """Set the step (and dependent parameters) from ``x`` once; no-op afterwards."""
        if bool(self.initialized):
            return
        if x.numel() == 0:
            raise ValueError("cannot initialise a quantizer from an empty tensor")
        with torch.no_grad():
            self.step.copy_(self.init_step(x.detach().float()))
            self._after_init()
            self.initialized.fill_(True)

    def positive_step(self) -> torch.Tensor:
        """The step used in the maths: ``|step|`` kept away from zero."""
        return self.step.abs().clamp_min(1e-8)

    # effective grid (learned bit-widths shrink it; plain quantizers use the full grid)
    def effective_bits(self) -> int:
        return self.num_bits

    def effective_step(self) -> torch.Tensor:
        return self.positive_step() * 2 ** (self.num_bits - self.effective_bits())

    def effective_range(self) -> tuple[int, int]:
        return integer_range(self.effective_bits(), self.signed)

    def quantize_codes(self, x: torch.Tensor) -> torch.Tensor:
        """Integer codes of ``x`` on the effective grid (the test-time quantizer), int64."""
        qmin, qmax = self.effective_range()
        return nearest_codes(x, self.effective_step(), qmin, qmax).to(torch.int64)

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantised ``x`` (same shape): the method's estimator in training, exact rounding
        on the effective grid in eval mode."""
        self.initialize(x)
        if self.training:
            return self.train_forward(x)
        qmin, qmax = self.effective_range()
        s = self.effective_step()
        return nearest_codes(x, s, qmin, qmax) * s


class StraightThroughQuantizer(GridQuantizer):
    """Plain STE with a fixed range: step ``max|x| / qmax`` from the first batch, not learned;
    backward is the identity inside the range and zero outside (clipped STE)."""

    def __init__(self, num_bits: int, signed: bool) -> None:
        super().__init__(num_bits, signed, learn_step=False)

    def init_step(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs().amax().clamp_min(1e-8) / max(self.qmax, 1)

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.positive_step().detach()
        v = torch.clamp(x / s, self.qmin, self.qmax)
        return (v + (torch.floor(v + 0.5) - v).detach()) * s


class LearnedStepQuantizer(GridQuantizer):
    """LSQ (Esser et al. 2020): round-STE on ``x / s`` with a learned step ``s`` whose gradient is
    scaled by ``1 / sqrt(numel * qmax)``."""

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        grad_scale = 1.0 / math.sqrt(x.numel() * max(self.qmax, 1))
        s = self.positive_step()
        s = (s - s * grad_scale).detach() + s * grad_scale
        v = torch.clamp(x / s, self.qmin, self.qmax)
        return (v + (torch.floor(v + 0.5) - v).detach()) * s


class _NoisyGridQuantizer(GridQuantizer):
    """A grid quantizer with learnable logistic noise scale ``noise`` (sigma)."""

    def __init__(self, num_bits: int, signed: bool, noise_ratio: float = 1.0 / 3.0) -> None:
        super().__init__(num_bits, signed)
        if noise_ratio <= 0:
            raise ValueError(f"noise_ratio must be positive, got {noise_ratio}")
        self.noise_ratio = noise_ratio
        self.noise = nn.Parameter(torch.full((), noise_ratio))

        # ceiling on sigma / step, lowered during training by a schedule (inf = none)
        self.register_buffer("noise_cap", torch.full((), math.inf))

    def _after_init(self) -> None:
        self.noise.copy_(self.step.abs() * self.noise_ratio)

    def set_noise_cap(self, ratio: float) -> None:
        """Cap ``sigma`` at ``ratio * step`` (the learned ``sigma`` still moves below the cap);
        ``math.inf`` removes the cap."""
        if not ratio > 0:
            raise ValueError(f"noise cap ratio must be positive, got {ratio}")
        self.noise_cap.fill_(ratio)

    def noise_to_step(self) -> float:
        """The ``sigma / step`` in use (after the cap), as a number."""
        return float((self.positive_noise() / self.positive_step()).detach())

    def positive_noise(self) -> torch.Tensor:
        noise = self.noise.abs().clamp_min(1e-8)
        if math.isinf(float(self.noise_cap)):
            return noise
        return torch.minimum(noise, self.noise_cap * self.positive_step())


class ClusterPromotingQuantizer(_NoisyGridQuantizer):
    """CPQ: argmax of the categorical grid distribution forward, multi-class STE backward,
    optional DropBits and learned level gates (heterogeneous bit-widths).

    Args:
        num_bits: grid bit-width (with ``learn_bits``: the maximal one).
        signed: signed (weights) or unsigned (post-ReLU activations) grid.
        noise_ratio: initial ``sigma / step``.
        drop_rate: DropBits rate ``p`` (finest level dropped with ``p``, the next with ``p^2`` ...);
            0 disables DropBits. Active in training only.
        dropbits_per_element: one level mask per element (True) or per tensor.
        learn_bits: attach :class:`~paperzoo.quantization.bitwidth.LevelGates`.
        ste_normalization: ``"sum"`` (default) or ``"max"`` normalisation of ``pi`` in the STE.
        chunk_elems: memory bound of the closed-form backward (elements per chunk).
    """

    def __init__(
        self,
        num_bits: int,
        signed: bool,
        noise_ratio: float = 1.0 / 3.0,
        drop_rate: float = 0.0,
        dropbits_per_element: bool = True,
        learn_bits: bool = False,
        ste_normalization: Literal["sum", "max"] = "sum",
        chunk_elems: int = 1 << 20,
    ) -> None:
        super().__init__(num_bits, signed, noise_ratio)
        if not 0.0 <= drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1), got {drop_rate}")
        if ste_normalization not in ("sum", "max"):
            raise ValueError(f"ste_normalization must be 'sum' or 'max', got {ste_normalization!r}")
        self.drop_rate = drop_rate
        self.dropbits_per_element = dropbits_per_element
        self.ste_normalization = ste_normalization
        self.chunk_elems = chunk_elems
        self.gates = LevelGates(num_bits) if learn_bits else None
        self.generator: torch.Generator | None = None
        self.register_buffer("_levels", bit_levels(num_bits, signed), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, drop_rate={self.drop_rate}, "
            f"learn_bits={self.gates is not None}, ste_normalization={self.ste_normalization!r}"
        )

    def effective_bits(self) -> int:
        return self.num_bits if self.gates is None else self.gates.learned_bits()

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        step, noise = self.positive_step(), self.positive_noise()
        if self.drop_rate == 0.0 and self.gates is None and self.ste_normalization == "sum":
            return multiclass_ste(x, step, noise, self.qmin, self.qmax, self.chunk_elems)
        flat = x.reshape(-1)
        kept: torch.Tensor | None = None
        if self.drop_rate > 0.0:
            rows = flat.numel() if self.dropbits_per_element else 1
            d = sample_dropped_bits(
                self.num_bits, self.drop_rate, rows, generator=self.generator, device=x.device
            )
            kept = (self.num_bits - d).expand(flat.shape)
        gate = None if self.gates is None else self.gates.sample(self.generator)[self._levels]
        if self.ste_normalization == "sum":  # fused closed-form backward
            out = nested_mask_ste(
                flat, step, noise, self.num_bits, self.signed, kept, gate, self.chunk_elems
            )
            return out.reshape(x.shape)
        weights: torch.Tensor | None = None
        if kept is not None:
            weights = kept_level_mask(self._levels, kept).to(x.dtype)  # (N, K)
        if gate is not None:
            weights = gate if weights is None else weights * gate
        out = masked_multiclass_ste(
            flat, step, noise, self.qmin, self.qmax, weights, self.ste_normalization
        )
        return out.reshape(x.shape)


class RelaxedQuantizer(_NoisyGridQuantizer):
    """Relaxed Quantization (Louizos et al. 2019): a concrete (Gumbel-softmax) sample ``r`` of the
    categorical over a local window of grid points, ``x_hat = sum_i r_i g_i``.

    Args:
        temperature: concrete temperature ``tau`` (anneal it with :meth:`set_temperature`).
        window_radius: grid points within this many codes of the nearest one are used.
    """

    def __init__(
        self,
        num_bits: int,
        signed: bool,
        noise_ratio: float = 1.0 / 3.0,
        temperature: float = 1.0,
        window_radius: int = 3,
    ) -> None:
        super().__init__(num_bits, signed, noise_ratio)
        self.window_radius = window_radius
        self.generator: torch.Generator | None = None
        self.set_temperature(temperature)

    def set_temperature(self, temperature: float) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        out = concrete_quantize(
            x.reshape(-1),
            self.positive_step(),
            self.positive_noise(),
            self.qmin,
            self.qmax,
            self.temperature,
            self.window_radius,
            generator=self.generator,
        )
        return out.reshape(x.shape)
