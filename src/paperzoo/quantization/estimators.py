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
  ``pi``. The quantizer draws the elements that drop bits sparsely
  (:func:`~paperzoo.quantization.grids.sample_dropbits_picks`, same law as one draw per element)
  and :func:`dropbits_ste` evaluates the masked backward only for them, over the edges of the
  one-bit-dropped grid's bins; every other element takes the unmasked closed form.
* The forward is computed as nearest rounding ``clamp(floor(x/step + 1/2))``. It equals
  ``argmax pi`` except in a thin band (width shrinking like ``exp(-step/sigma)``) next to the two
  boundaries of the edge bins, whose infinite tails give them slightly more mass; we keep nearest
  rounding there so that training and test quantize identically.
* Steps are initialised as in LSQ (``2 mean|x| / sqrt(qmax)``) for every learnable quantizer, and
  ``sigma = step / 3``; the fixed-range STE uses ``max|x| / qmax`` from the first batch.
* Without masks the CPQ backward is computed in closed form, in row chunks and over a local
  window of bin boundaries, so activations never materialise a ``(..., 2^b)`` tensor (memory
  stays ``O(numel)`` at 8 bits); its per-boundary tensors are laid out ``(boundaries, elements)``
  so the sums over the few boundaries are vector adds. Relaxed Quantization
  uses a local window of grid points around ``x`` (as in the RQ paper) when the grid is larger.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from .bitwidth import LevelGates
from .grids import (
    bit_levels,
    integer_range,
    kept_level_mask,
    nearest_codes,
    picks_to_dropped_bits,
    sample_dropbits_picks,
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
    "dropbits_ste",
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
#
# Layout: every backward kernel below builds its per-boundary tensors as ``(W, R)``, boundaries
# outermost and elements contiguous. The sums over the few (3-15) boundaries are then adds of
# contiguous rows and the sums over elements one matrix-vector product; the earlier ``(R, W)``
# layout reduced over a last dimension of 3-9, which torch does one row at a time (the largest
# cost of a CPQ step in the profile, see README.md "Profile").


def _grid_slopes(xs: torch.Tensor, gy: torch.Tensor, scaled: torch.Tensor):
    """Logistic bumps at every interior bin boundary of the full grid (pure: compilable).

    With ``u_j = scaled_j - xs`` (``scaled_j = (step / sigma) b_j``, ``xs = x / sigma``) and the
    logistic density ``F'(u) = F(u)(1 - F(u)) = F(u) - F(u)^2``, returns

        t_r = gy_r sum_j F'(u_jr)        and        v_j = sum_r gy_r F'(u_jr),

    from which :func:`_slope_terms` gets ``dL/dx = (step / sigma) t`` and
    ``sum_r gy_r sum_j F'(u_jr) b_j = v . b``.

    Shape: ``xs``, ``gy`` ``(R,)``; ``scaled`` ``(W,)``; returns ``(R,)`` and ``(W,)``.
    """
    fp = torch.sub(scaled[:, None], xs[None, :])  # u_j (W, R)
    fp = fp.sigmoid_()
    fp = fp.addcmul_(fp, fp, value=-1.0)  # F - F^2 = F': one pass, no (1 - F) temporary
    return fp.sum(0).mul_(gy), torch.mv(fp, gy)


@functools.lru_cache(maxsize=64)
def _boundary_codes(qmin: int, qmax: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The interior bin boundaries ``n + 1/2``, ``n = qmin .. qmax - 1``, cached (one per grid,
    device and dtype; never modified in place). Shape ``(qmax - qmin,)``."""
    return torch.arange(qmin, qmax, device=device, dtype=dtype) + 0.5


def _slope_terms(
    x: torch.Tensor,
    gy: torch.Tensor,
    codes: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    qmin: int,
    qmax: int,
    chunk_elems: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The multi-class STE backward without masks, in closed form (the telescoped surrogate).

    ``sum_i g_i pi_i = step qmax - step sum_j F(u_j)`` with ``u_j = (step b_j - x) / sigma`` over
    the interior boundaries ``b_j = n_j + 1/2``, so with ``rho = step / sigma``

        dL/dx = gy rho sum_j F'(u_j),
        dL/dstep |_pi = -rho sum_r gy_r sum_j F'(u_jr) b_j = -rho s1,
        dL/dsigma = rho sum_r gy_r sum_j F'(u_jr) u_jr = rho (rho s1 - sum_r (x_r / sigma) t_r),

    where ``t_r = gy_r sum_j F'(u_jr)``. Returns ``(dL/dx, s1, sum_r (x_r / sigma) t_r)``; the
    caller adds the chosen point's own ``step``-dependence.

    ``F'(u) < 1e-12`` for ``|u| > 28``, so grids with more boundaries than the window within
    ``28 sigma`` of ``x`` (``W = 2 radius + 2`` boundaries around its code) use that window
    (exact to this precision); 2- and 3-bit grids use all ``2^b - 1`` boundaries. A window is
    ``b_j = start_r + o_j`` with ``o_j = j + 1/2`` and ``start_r`` its first boundary code,
    clamped so the window stays inside the grid (at the ends it is shifted inwards and only
    gains boundaries), hence ``u_jr = rho o_j - (x_r / sigma - rho start_r)``: the full-grid
    kernel on shifted inputs, and ``s1 = sum_r t_r start_r + v . o``. Elements go in chunks of
    ``chunk_elems / W`` (memory bound).

    Shape: ``x``, ``gy``, ``codes`` ``(N,)``; returns ``(N,)`` and two scalars.
    """
    ratio = step / noise
    # a window has at least 6 boundaries (radius >= 2), so grids with <= 6 boundaries use all
    # of them without reading sigma / step on the host
    radius = math.ceil(28.0 * float(noise / step)) + 1 if qmax - qmin > 6 else qmax - qmin
    width = 2 * radius + 2
    window = width < qmax - qmin
    if window:
        offsets = torch.arange(width, device=x.device, dtype=x.dtype) + 0.5
    else:
        width = qmax - qmin
        offsets = _boundary_codes(qmin, qmax, x.device, x.dtype)  # all b_j
    scaled = ratio * offsets
    rows = max(1, chunk_elems // max(1, width))
    # several chunks write dL/dx into one buffer; a single chunk returns its own, no copy
    grad_x = torch.empty_like(x) if x.numel() > rows else None
    s1 = xt = None
    for lo in range(0, max(1, x.numel()), rows):
        xs, gs = x[lo : lo + rows] / noise, gy[lo : lo + rows]
        if window:
            start = (codes[lo : lo + rows] - (radius + 1)).clamp_(qmin, qmax - width)
            t, v = _kernel(_grid_slopes)(xs - ratio * start, gs, scaled)
            part = torch.dot(v, offsets) + torch.dot(t, start)
        else:
            t, v = _kernel(_grid_slopes)(xs, gs, scaled)
            part = torch.dot(v, offsets)
        s1 = part if s1 is None else s1 + part
        xt = torch.dot(t, xs) if xt is None else xt + torch.dot(t, xs)
        if grad_x is None:
            grad_x = t.mul_(ratio)
        else:
            torch.mul(t, ratio, out=grad_x[lo : lo + rows])
    assert grad_x is not None and s1 is not None and xt is not None  # the loop ran
    return grad_x, s1, xt


class _MultiClassSTE(torch.autograd.Function):
    """Forward: nearest-grid rounding. Backward: gradients of the surrogate ``sum_i pi_i g_i``
    through ``pi`` (:func:`_slope_terms`) plus the direct ``step``-dependence of the chosen grid
    point, ``d(code * step)/dstep = code``."""

    @staticmethod
    def forward(ctx, x, step, noise, qmin, qmax, chunk_elems):  # type: ignore[override]
        codes = nearest_codes(x, step, qmin, qmax)
        ctx.save_for_backward(x, step, noise, codes)
        ctx.qmin, ctx.qmax, ctx.chunk_elems = qmin, qmax, chunk_elems
        return codes * step

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, step, noise, codes = ctx.saved_tensors
        # contiguous: a .sum() loss hands back an expanded (stride-0) gradient
        flat_g, flat_c = grad_out.contiguous().reshape(-1), codes.reshape(-1)
        grad_x, s1, xt = _slope_terms(
            x.reshape(-1), flat_g, flat_c, step, noise, ctx.qmin, ctx.qmax, ctx.chunk_elems
        )
        ratio = step / noise
        grad_step = torch.dot(flat_g, flat_c) - ratio * s1
        grad_noise = ratio * (ratio * s1 - xt)
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
    gradients for ``x``, ``step`` and ``noise`` computed in closed form (:func:`_slope_terms`).

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


# --- DropBits (sparse draw, closed-form backward) ------------------------------------------------


@functools.lru_cache(maxsize=64)
def _sub_grid_constants(
    num_bits: int, signed: bool, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The points that survive dropping one bit, ``n_a = 2m`` (the ``(b - 1)``-bit grid), the
    edges of their bins stacked as ``e = (n_a + 1/2 for every a; n_a - 1/2 for a >= 1)`` (the
    first bin's lower edge is ``-inf``) with the sign ``+1`` (upper edge) / ``-1`` (lower edge)
    of each and the survivor ``n_a(e)`` it bounds, and for ``d = 2..b-1`` which of these bins
    (row ``d - 2`` of the last tensor; its edges follow) survive dropping ``d`` bits: those with
    ``n_a`` a multiple of ``2^d``. Every sub-grid's bins are bins of this one (a bin is
    ``(n - 1/2, n + 1/2)`` whatever the grid, the first one ``(-inf, qmin + 1/2)``), so one
    layout serves every ``d``. Cached; never modified in place.

    The last survivor ``qmax - 1`` is below ``qmax`` (``qmax`` is odd), so every upper edge is
    finite. Shape: returns ``(A,)``, three ``(2A - 1,)`` and ``(b - 2, A)`` with
    ``A = 2^(b - 1)``.
    """
    qmin, qmax = integer_range(num_bits, signed)
    if num_bits < 2:
        raise ValueError(f"DropBits needs at least 2 bits, got {num_bits}")
    n = torch.arange(qmin, qmax + 1, 2, device=device, dtype=dtype)
    edges = torch.cat([n + 0.5, n[1:] - 0.5])
    sign = torch.cat([torch.ones_like(n), -torch.ones_like(n[1:])])
    d = torch.arange(2, num_bits, device=device, dtype=dtype)[:, None]  # (b - 2, 1)
    alive = (torch.remainder(n[None, :], torch.exp2(d)) == 0).to(dtype)
    return n, edges, sign, torch.cat([n, n[1:]]), alive


def _sub_grid_rows(
    xs: torch.Tensor,
    gy: torch.Tensor,
    ratio: torch.Tensor,
    n: torch.Tensor,
    edges: torch.Tensor,
    sign: torch.Tensor,
    edge_n: torch.Tensor,
    masks: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
):
    """Backward of the renormalised masked surrogate for rows that dropped bits (pure:
    compilable).

    The points that survive dropping one bit, ``n_a`` (code units, ``g_a = step n_a``), are
    non-adjacent, so each has its own bin ``(l_a, h_a)`` and
    ``pi_a = F(u(h_a)) - F(u(l_a))`` with ``u(e) = (step e - x) / sigma``
    (``F(u(l_0)) = 0``: the first bin is infinite). With the row's survivors ``w_a`` (all of
    these bins for ``d = 1``; ``masks`` holds, per deeper ``d``, the rows' positions and which
    bins survive)

        Z = sum_a w_a pi_a,   S = sum_a w_a n_a pi_a / Z,   c_a = w_a (n_a - S) / Z,

    the sum-normalised surrogate has ``dS/dtheta = step sum_a c_a dpi_a/dtheta``, and
    ``dpi_a/dtheta = F'(u(h_a)) du(h_a)/dtheta - F'(u(l_a)) du(l_a)/dtheta`` with
    ``du/dx = -1/sigma``, ``du/dstep = e/sigma``, ``du/dsigma = -u/sigma``. Over the stacked
    edges ``e`` (sign ``s_e = +1`` for ``h_a``, ``-1`` for ``l_a``) and
    ``q_e = F'(u_e) s_e w_a(e) (S - n_a(e)) / Z = -F'(u_e) s_e c_a(e)``, the terms of
    :func:`_slope_terms` are

        t_r = gy_r sum_a c_a (F'(u(l_a)) - F'(u(h_a))) = gy_r sum_e q_e,
        s1 = sum_r gy_r sum_a c_a (F'(u(l_a)) l_a - F'(u(h_a)) h_a) = sum_r gy_r sum_e q_e e,

    (without a mask every bin survives, ``c_a - c_{a+1} = -1/Z = -1`` and both reduce to
    :func:`_grid_slopes`' bumps). Only the ``2^b - 1`` edges of the one-bit-dropped bins are
    evaluated, against ``2^b + 1`` for a mask over the full grid, and with no ``(R, 2^b)`` mask
    for the rows that drop exactly one bit (90 % of them at ``p = 0.1``).

    Returns ``(t (R,), s1, sum_r xs_r t_r)``.

    Shape: ``xs``, ``gy`` ``(R,)``; ``n`` ``(A,)``; ``edges``, ``sign``, ``edge_n``
    ``(2A - 1,)`` (:func:`_sub_grid_constants`); ``masks``: pairs of ``(R_d,)`` int64 positions
    and ``(A,)`` float survivors.
    """
    a = n.shape[0]
    f = torch.sub((ratio * edges)[:, None], xs[None, :]).sigmoid_()  # F(u_e) (2A - 1, R)
    pi = f[:a].clone()
    pi[1:].sub_(f[a:])  # (not `pi[1:] -= ...`: Python would copy the slice back)
    pi = pi.clamp_min_(0.0)  # (A, R)
    for rows, alive in masks:  # rows that dropped more bits: their dead bins get no mass
        pi.index_copy_(1, rows, pi.index_select(1, rows).mul_(alive[:, None]))
    z = pi.sum(0).clamp_min_(1e-12)
    s = torch.mv(pi.t(), n).div_(z)  # S / step
    # s_e (S - n_a(e)); the 1 / Z goes on gy (an (R,) op). Not one addcmul: torch's broadcast
    # addcmul over (E, 1), (E, 1), (1, R) is ~4x slower than this sub and mul
    coef = torch.sub(s[None, :], edge_n[:, None]).mul_(sign[:, None])
    for rows, alive in masks:  # ... and their edges no gradient
        keep = torch.cat([alive, alive[1:]])[:, None]
        coef.index_copy_(1, rows, coef.index_select(1, rows).mul_(keep))
    q = f.addcmul_(f, f, value=-1.0).mul_(coef)  # q_e Z = F'(u_e) s_e w_a(e) (S - n_a(e))
    gz = gy / z
    t = q.sum(0).mul_(gz)
    return t, torch.dot(torch.mv(q, gz), edges), torch.dot(t, xs)


def _positions_in_rows(pos: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Positions, within the dropping rows, of the rows that drop at least ``j + 2`` bits, from
    the nested picks ``pos[j]`` (each within the previous tier); stops at the first empty tier.
    Shape: one int64 tensor per non-empty tier."""
    out: list[torch.Tensor] = []
    for p in pos:
        if not p.numel():
            break
        out.append(p if not out else torch.index_select(out[-1], 0, p))
    return out


def _sub_grid_codes(
    x: torch.Tensor, step: torch.Tensor, dropped: int, qmin: int, qmax: int
) -> torch.Tensor:
    """Nearest point of the ``(b - d)``-bit sub-grid ``{D m}`` (``D = 2^d``), in codes:
    ``D floor(x / (D step) + 1/2)`` clipped to ``[qmin, qmax + 1 - D]`` (``qmin`` and
    ``qmax + 1`` are multiples of ``D``, so clipping after the multiplication equals clipping
    ``m`` to ``[qmin / D, (qmax + 1) / D - 1]``). ``x / step * 2^-d`` is ``x / (D step)``
    exactly (scaling by a power of two is exact). Shape: that of ``x``."""
    big = 2.0**dropped
    sub = (x / step).mul_(1.0 / big).add_(0.5).floor_().mul_(big)
    return sub.clamp_(qmin, qmax + 1 - big)


class _DropBitsSTE(torch.autograd.Function):
    """CPQ + DropBits (sum-normalised STE, no gates), fused.

    ``rows`` are the flat indices of the elements that drop at least one bit and ``pos[j]``
    (``j >= 1``) the positions, among them, of those that drop at least ``j + 1`` (nested; see
    :func:`~paperzoo.quantization.grids.sample_dropbits_picks`). Forward: the dropping elements
    are gathered once and rounded tier by tier to the ``(b - j)``-bit sub-grid, so each ends on
    the sub-grid of its own ``d``; every other element is plain nearest rounding. Backward: the
    elements that kept every bit see an unmasked categorical (``Z = 1``), i.e. exactly
    :func:`multiclass_ste`'s closed form (:func:`_slope_terms`, with the dropping elements'
    upstream gradient zeroed); the dropping ones go through one :func:`_sub_grid_rows` call on
    the one-bit-dropped grid's bins, masked for those that drop more. One gather and one scatter
    over the whole tensor each way.
    """

    @staticmethod
    def forward(ctx, x, step, noise, bits, signed, chunk, rows, *pos):  # type: ignore[override]
        qmin, qmax = integer_range(bits, signed)
        codes = nearest_codes(x, step, qmin, qmax)
        xd = torch.index_select(x, 0, rows)  # the dropping elements (R,)
        if rows.numel():
            sub = _sub_grid_codes(xd, step, 1, qmin, qmax)
            for d, local in enumerate(_positions_in_rows(pos), start=2):
                xl = torch.index_select(xd, 0, local)
                sub.index_copy_(0, local, _sub_grid_codes(xl, step, d, qmin, qmax))
            codes.index_copy_(0, rows, sub)
        ctx.save_for_backward(x, step, noise, codes, xd, rows, *pos)
        ctx.num_bits, ctx.signed, ctx.chunk = bits, signed, chunk
        return codes * step

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, step, noise, codes, xd, rows, *pos = ctx.saved_tensors
        num_bits, signed, chunk = ctx.num_bits, ctx.signed, ctx.chunk
        qmin, qmax = integer_range(num_bits, signed)
        grad_out = grad_out.contiguous()  # a .sum() loss hands back a stride-0 gradient
        dropping = rows.numel() > 0
        # the dropping rows get their gradient below: zero their share of the main path
        gy_main = grad_out.index_fill(0, rows, 0.0) if dropping else grad_out
        grad_x, s1, xt = _slope_terms(x, gy_main, codes, step, noise, qmin, qmax, chunk)
        if not dropping:
            ratio = step / noise
            grad_step = torch.dot(grad_out, codes) - ratio * s1
            return (grad_x, grad_step, ratio * (ratio * s1 - xt)) + (None,) * (4 + len(pos))
        ratio = step / noise
        xsd, gyd = xd / noise, torch.index_select(grad_out, 0, rows)
        *consts, alive = _sub_grid_constants(num_bits, signed, x.device, x.dtype)
        deeper = _positions_in_rows(pos)  # rows (positions within `rows`) dropping d >= 2 bits
        size = max(1, chunk // (2 * consts[0].numel()))
        parts = []
        for a in range(0, rows.numel(), size):
            masks = []
            for d, where in enumerate(deeper, start=2):
                if rows.numel() > size:  # this chunk's share, as positions within the chunk
                    lo, hi = torch.searchsorted(where, torch.tensor([a, a + size], device=x.device))
                    where = where[int(lo) : int(hi)] - a
                if where.numel():
                    masks.append((where, alive[d - 2]))
            t, a_s1, a_xt = _kernel(_sub_grid_rows)(
                xsd[a : a + size], gyd[a : a + size], ratio, *consts, masks
            )
            s1, xt = s1 + a_s1, xt + a_xt
            parts.append(t)
        t_all = torch.cat(parts) if len(parts) > 1 else parts[0]
        grad_x.index_copy_(0, rows, t_all.mul_(ratio))
        grad_step = torch.dot(grad_out, codes) - ratio * s1  # + the chosen point's own step
        grad_noise = ratio * (ratio * s1 - xt)
        return (grad_x, grad_step, grad_noise) + (None,) * (4 + len(pos))


def dropbits_ste(
    x: torch.Tensor,
    step: torch.Tensor,
    noise: torch.Tensor,
    num_bits: int,
    signed: bool,
    picks: Sequence[torch.Tensor],
    chunk_elems: int = 1 << 20,
) -> torch.Tensor:
    """CPQ with DropBits (sum-normalised multi-class STE, no level gates), fast path.

    Equal in values and gradients to :func:`nested_mask_ste` with ``kept_bits = num_bits - d``
    (``d = picks_to_dropped_bits(picks)``), which in turn equals autograd through the
    materialised masked categorical (both tested). The draw is sparse, as
    :func:`~paperzoo.quantization.grids.sample_dropbits_picks` returns it (``picks[0]``: the
    flat indices of the elements that drop a bit; ``picks[j]``: the positions among the
    elements that drop ``j`` bits of those that drop another;
    :func:`~paperzoo.quantization.grids.dropped_bits_to_picks` converts a dense draw). An
    element that drops ``d`` bits takes the nearest point of the surviving ``(b - d)``-bit
    sub-grid, every other element is rounded to the full grid. The backward costs about
    :func:`multiclass_ste`'s plus, for the dropping elements (a fraction ``p``), the closed
    form over the ``2^b - 1`` edges of the one-bit-dropped grid's bins, masked for the fraction
    ``p^2`` that drop more (:func:`_sub_grid_rows`); nothing of size ``(numel, 2^b)`` is kept
    for backward.

    Shape:
        ``x`` any shape (flattened row-major for the picks); ``step``, ``noise`` scalars;
        ``picks``: at most ``b - 1`` int64 tensors; returns the shape of ``x``.
    """
    if len(picks) >= num_bits:
        raise ValueError(f"at most {num_bits - 1} bits of {num_bits} can drop, got {len(picks)}")
    picks = [p.to(x.device) for p in picks]
    rows = picks[0] if picks else torch.zeros(0, dtype=torch.int64, device=x.device)
    out = _DropBitsSTE.apply(
        x.reshape(-1), step, noise, num_bits, signed, chunk_elems, rows, *picks[1:]
    )
    return out.reshape(x.shape)


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

    def dropbits_draw(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The DropBits draw of one training forward, sparse
        (:func:`~paperzoo.quantization.grids.sample_dropbits_picks` over the flat elements),
        from ``self.generator`` when set. With ``dropbits_per_element=False`` one draw
        (:func:`~paperzoo.quantization.grids.sample_dropped_bits`) covers the whole tensor.

        Shape:
            returns ``b - 1`` int64 tensors on ``x``'s device.
        """
        n = x.numel()
        if self.dropbits_per_element:
            return sample_dropbits_picks(
                n, self.num_bits, self.drop_rate, generator=self.generator, device=x.device
            )
        d = int(sample_dropped_bits(self.num_bits, self.drop_rate, 1, generator=self.generator))
        every, none = torch.arange(n, device=x.device), torch.zeros(0, dtype=torch.int64)
        return [every if j <= d else none.to(x.device) for j in range(1, self.num_bits)]

    def train_forward(self, x: torch.Tensor) -> torch.Tensor:
        step, noise = self.positive_step(), self.positive_noise()
        if self.gates is None and self.ste_normalization == "sum":
            if self.drop_rate == 0.0:
                return multiclass_ste(x, step, noise, self.qmin, self.qmax, self.chunk_elems)
            picks = self.dropbits_draw(x)
            return dropbits_ste(x, step, noise, self.num_bits, self.signed, picks, self.chunk_elems)
        flat = x.reshape(-1)
        kept: torch.Tensor | None = None
        if self.drop_rate > 0.0:
            kept = self.num_bits - picks_to_dropped_bits(self.dropbits_draw(x), flat.numel())
        gate = None if self.gates is None else self.gates.sample(self.generator)[self._levels]
        if self.ste_normalization == "sum":  # fused closed-form backward (learned gates)
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
