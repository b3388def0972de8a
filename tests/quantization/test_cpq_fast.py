"""The fast CPQ paths against the implementations they replace.

* ``multiclass_ste`` (closed form over ``(W, R)`` tensors) against ``_ReferenceMultiClassSTE``,
  the old ``(R, W)`` kernel copied below verbatim;
* ``dropbits_ste`` (sparse draw, plain closed form for rows that kept every bit, masked closed
  form for the others) against ``nested_mask_ste`` (the old fused DropBits kernel, still the
  learned-gates path) and the materialised masked categorical, on the same draws;
* both against finite differences of the surrogate written out by hand;
* the new random stream (``sample_dropbits_picks``: geometric gaps between the rows that drop
  a bit, then between those that drop another) by its distribution: drop counts, per-row rates,
  pairwise independence and the expected forward against their closed forms, tolerances 5
  standard errors of the sample size.

Tolerances (``allclose``): against the old kernels in float64, forward values bit-identical
and gradients (x, step, sigma) ``rtol 1e-9, atol 1e-12 * max|grad|`` (the same sums in another
order, at every bit width 2, 3, 4, 8, signed and unsigned, sigma/step 1/3, 0.1, 0.02, bin edges,
grid points, clipping bounds and far outside the range); in float32 (the training dtype, 20,000
elements) forward bit-identical, ``dL/dx`` ``rtol 1e-5, atol 2e-6 * max|dL/dx|`` and the step /
sigma sums ``rtol 1e-4``; against the materialised categorical values ``atol 1e-12`` and
gradients ``rtol 1e-9``; against fourth-order central differences (h = 1e-4) ``rtol 1e-6``; a
hand-computed gradient ``rel 1e-12``; distributions within 5 standard errors.
"""

import math

import pytest
import torch

from paperzoo.quantization import (
    ClusterPromotingQuantizer,
    bit_levels,
    categorical_probabilities,
    dropbits_ste,
    dropped_bits_to_picks,
    integer_range,
    masked_multiclass_ste,
    multiclass_ste,
    nearest_codes,
    nested_mask_ste,
    picks_to_dropped_bits,
    picks_to_rows,
    sample_dropbits_picks,
    sample_dropped_bits,
)

D = torch.float64
BITS = [(2, True), (2, False), (3, True), (3, False), (4, True), (8, False)]


# --- the old implementation (reference) --------------------------------------------------------


def _boundary_sums(xs_s: torch.Tensor, scaled: torch.Tensor, bounds: torch.Tensor):
    """``sum_j F'(u_j)`` and ``sum_j F'(u_j) b_j`` with ``u_j = scaled_j - xs_s`` (pure:
    compilable). Shape: ``xs_s`` (R,), ``scaled``, ``bounds`` (W,); returns two (R,)."""
    f = torch.sigmoid(scaled - xs_s[:, None])  # (R, W)
    fp = f * (1.0 - f)  # the logistic density F'(u_j)
    return fp.sum(1), (fp * bounds).sum(1)


class _ReferenceMultiClassSTE(torch.autograd.Function):
    """The multi-class STE as it was before the (W, R) layout (git b7baf28, verbatim but for
    the name and the compile switch): forward nearest rounding, backward over (R, W) tensors."""

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
                s0, s1 = _boundary_sums(xs_s, scaled, bounds_all)
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


def reference_multiclass_ste(x, step, noise, qmin, qmax, chunk_elems=1 << 20):
    return _ReferenceMultiClassSTE.apply(x, step, noise, qmin, qmax, chunk_elems)


def reference_dropbits(x, step, noise, bits, signed, kept_bits, chunk_elems=1 << 20):
    """The old DropBits path of ``ClusterPromotingQuantizer`` given the per-element kept bits
    (its draw came from ``sample_dropped_bits``): ``nested_mask_ste`` without gates."""
    return nested_mask_ste(x, step, noise, bits, signed, kept_bits, None, chunk_elems)


# --- helpers ------------------------------------------------------------------------------------


def _inputs(bits, signed, n=2000, seed=0, dtype=D, step=0.3):
    """Random values over the clipped range and beyond, plus every bin edge, every grid point
    and points far outside the range."""
    qmin, qmax = integer_range(bits, signed)
    g = torch.Generator().manual_seed(seed)
    rand = (torch.rand(n, generator=g, dtype=D) * (qmax - qmin + 6) + qmin - 3) * step
    codes = torch.arange(qmin, qmax + 1, dtype=D)
    edges = (torch.arange(qmin - 1, qmax + 1, dtype=D) + 0.5) * step  # incl. the clip bounds
    far = torch.tensor([qmin - 40.0, qmax + 40.0], dtype=D) * step
    return torch.cat([rand, codes * step, edges, far]).to(dtype)


def _run(fn, x0, step, noise, w):
    x = x0.clone().requires_grad_(True)
    s = torch.tensor(step, dtype=x0.dtype, requires_grad=True)
    sg = torch.tensor(noise, dtype=x0.dtype, requires_grad=True)
    out = fn(x, s, sg)
    (out * w).sum().backward()
    return out.detach(), x.grad, s.grad, sg.grad


def _weights(n, dtype=D, seed=1):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=D).to(dtype)


def _sparse(d, bits):
    """Dense per-element dropped bits -> the sparse draw ``dropbits_ste`` takes."""
    return dropped_bits_to_picks(d, bits)


def _close(a, b, rtol, atol_scale=0.0):
    atol = atol_scale * float(b.abs().max()) if atol_scale else 0.0
    assert torch.allclose(a, b, rtol=rtol, atol=atol), float((a - b).abs().max())


# --- multiclass_ste: the (W, R) kernel equals the old (R, W) one --------------------------------


@pytest.mark.parametrize("bits,signed", BITS)
@pytest.mark.parametrize("ratio", [1 / 3, 0.1, 0.02])
@pytest.mark.parametrize("chunk", [1 << 20, 257])
def test_multiclass_ste_equals_the_old_kernel(bits, signed, ratio, chunk):
    """Values bit-identical, gradients (x, step, sigma) to 1e-9, for every bit width, sigma/step
    (0.02 exercises the boundary window at 4 and 8 bits) and chunking."""
    x0 = _inputs(bits, signed)
    w = _weights(x0.numel())
    qmin, qmax = integer_range(bits, signed)
    new = _run(lambda x, s, n: multiclass_ste(x, s, n, qmin, qmax, chunk), x0, 0.3, 0.3 * ratio, w)
    old = _run(
        lambda x, s, n: reference_multiclass_ste(x, s, n, qmin, qmax, chunk),
        x0, 0.3, 0.3 * ratio, w,
    )  # fmt: skip
    assert torch.equal(new[0], old[0])
    for a, b in zip(new[1:], old[1:]):
        _close(a, b, rtol=1e-9, atol_scale=1e-12)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False)])
def test_multiclass_ste_float32_equals_the_old_kernel(bits, signed):
    """The training dtype: float32 sums over 20,000 elements in another order."""
    x0 = _inputs(bits, signed, n=20000, dtype=torch.float32)
    w = _weights(x0.numel(), torch.float32)
    qmin, qmax = integer_range(bits, signed)
    new = _run(lambda x, s, n: multiclass_ste(x, s, n, qmin, qmax), x0, 0.3, 0.1, w)
    old = _run(lambda x, s, n: reference_multiclass_ste(x, s, n, qmin, qmax), x0, 0.3, 0.1, w)
    assert torch.equal(new[0], old[0])
    _close(new[1], old[1], rtol=1e-5, atol_scale=2e-6)
    for a, b in zip(new[2:], old[2:]):
        _close(a, b, rtol=1e-4)


def test_multiclass_ste_with_an_expanded_upstream_gradient():
    """A ``.sum()`` loss hands back a stride-0 gradient: same result as a materialised one."""
    x0 = _inputs(3, True)
    a = _run(lambda x, s, n: multiclass_ste(x, s, n, -4, 3), x0, 0.3, 0.1, 1.0)
    b = _run(lambda x, s, n: multiclass_ste(x, s, n, -4, 3), x0, 0.3, 0.1, torch.ones_like(x0))
    for u, v in zip(a, b):
        assert torch.equal(u, v)


# --- dropbits_ste: equals the old fused kernel and the materialised categorical ------------------


@pytest.mark.parametrize("bits,signed", BITS)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropbits_ste_equals_the_old_kernel_on_the_same_draws(bits, signed, p):
    """The old draw (``sample_dropped_bits``) fed to both: values bit-identical to
    ``nested_mask_ste`` (the old DropBits path), gradients to 1e-9; small chunks exercise the
    chunked paths."""
    x0 = _inputs(bits, signed, n=1500)
    w = _weights(x0.numel())
    d = sample_dropped_bits(bits, p, x0.numel(), generator=torch.Generator().manual_seed(bits))
    kept = bits - d
    picks = _sparse(d, bits)
    assert 0 < picks[0].numel() < x0.numel()
    for chunk in (1 << 20, 300):
        new = _run(
            lambda x, s, n, c=chunk: dropbits_ste(x, s, n, bits, signed, picks, c),
            x0, 0.3, 0.07, w,
        )  # fmt: skip
        old = _run(
            lambda x, s, n, c=chunk: reference_dropbits(x, s, n, bits, signed, kept, c),
            x0, 0.3, 0.07, w,
        )  # fmt: skip
        assert torch.equal(new[0], old[0])
        for a, b in zip(new[1:], old[1:]):
            _close(a, b, rtol=1e-9, atol_scale=1e-12)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False), (3, True)])
def test_dropbits_ste_equals_autograd_through_the_materialised_categorical(bits, signed):
    """Random inputs only: the materialised argmax breaks exact ties (bin edges) downwards."""
    x0 = _inputs(bits, signed, n=600)[:600]
    w = _weights(x0.numel())
    qmin, qmax = integer_range(bits, signed)
    d = sample_dropped_bits(bits, 0.5, x0.numel(), generator=torch.Generator().manual_seed(7))
    mask = (bit_levels(bits, signed)[None, :] <= (bits - d)[:, None]).to(D)
    picks = _sparse(d, bits)
    new = _run(lambda x, s, n: dropbits_ste(x, s, n, bits, signed, picks), x0, 0.3, 0.1, w)
    ref = _run(
        lambda x, s, n: masked_multiclass_ste(x, s, n, qmin, qmax, mask, "sum"), x0, 0.3, 0.1, w
    )
    assert torch.allclose(new[0], ref[0], rtol=0, atol=1e-12)
    for a, b in zip(new[1:], ref[1:]):
        _close(a, b, rtol=1e-9, atol_scale=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_dropbits_one_draw_for_the_whole_tensor(d):
    """``dropbits_per_element=False`` hands every element the same dropped bits."""
    x0 = _inputs(3, True, n=500)
    w = _weights(x0.numel())
    dense = torch.full(x0.shape, d)
    picks = _sparse(dense, 3)
    new = _run(lambda x, s, n: dropbits_ste(x, s, n, 3, True, picks), x0, 0.3, 0.07, w)
    old = _run(lambda x, s, n: reference_dropbits(x, s, n, 3, True, 3 - dense), x0, 0.3, 0.07, w)
    assert torch.equal(new[0], old[0])
    for a, b in zip(new[1:], old[1:]):
        _close(a, b, rtol=1e-9, atol_scale=1e-12)


def test_dropbits_ste_float32_equals_the_old_kernel():
    x0 = _inputs(3, False, n=20000, dtype=torch.float32)
    w = _weights(x0.numel(), torch.float32)
    d = sample_dropped_bits(3, 0.1, x0.numel(), generator=torch.Generator().manual_seed(3))
    picks = _sparse(d, 3)
    new = _run(lambda x, s, n: dropbits_ste(x, s, n, 3, False, picks), x0, 0.3, 0.1, w)
    old = _run(lambda x, s, n: reference_dropbits(x, s, n, 3, False, 3 - d), x0, 0.3, 0.1, w)
    assert torch.equal(new[0], old[0])
    _close(new[1], old[1], rtol=1e-5, atol_scale=2e-6)
    for a, b in zip(new[2:], old[2:]):
        _close(a, b, rtol=1e-4)


def test_dropbits_with_no_dropped_row_is_plain_cpq():
    x0 = _inputs(2, True)
    w = _weights(x0.numel())
    none = [torch.zeros(0, dtype=torch.int64)]
    a = _run(lambda x, s, n: dropbits_ste(x, s, n, 2, True, none), x0, 0.3, 0.1, w)
    b = _run(lambda x, s, n: multiclass_ste(x, s, n, -2, 1), x0, 0.3, 0.1, w)
    for u_, v in zip(a, b):
        assert torch.equal(u_, v)


# --- finite differences of the surrogate, written out by hand -----------------------------------


def _surrogate(x, step, noise, bits, signed, kept, grid_step):
    """``sum_{i alive} g_i pi_i / sum_{i alive} pi_i`` with the grid values ``g_i = grid_step n_i``
    held fixed (the STE's ``pi``-dependence only), from Eq. RQ-2 directly."""
    qmin, qmax = integer_range(bits, signed)
    pi = categorical_probabilities(x, step, noise, qmin, qmax)  # (N, K)
    alive = (bit_levels(bits, signed)[None, :] <= kept[:, None]).to(x.dtype)
    g = grid_step * torch.arange(qmin, qmax + 1, dtype=x.dtype)
    return (alive * pi * g).sum(1) / (alive * pi).sum(1)


def _fd(f, h):
    """Fourth-order central difference ``(-f(2h) + 8 f(h) - 8 f(-h) + f(-2h)) / 12h``: error
    ``O(h^4)`` (the masked surrogate is steep where both surviving bins are unlikely)."""
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False), (4, True)])
def test_custom_backwards_match_finite_differences(bits, signed):
    """``dL/dx = gy dS/dx``, ``dL/dsigma = sum gy dS/dsigma`` and
    ``dL/dstep = sum gy code + sum gy dS/dstep|_g`` against central differences (h = 1e-6) of the
    surrogate ``S`` (fourth-order, h = 1e-4) for rows that kept every bit (multiclass_ste) and
    rows that dropped bits."""
    x0 = _inputs(bits, signed, n=400)[:400]
    gy = _weights(x0.numel())
    step, noise, h = 0.3, 0.08, 1e-4
    for p in (0.0, 0.6):
        d = sample_dropped_bits(bits, p, 400, generator=torch.Generator().manual_seed(11))
        kept, picks = bits - d, _sparse(d, bits)
        out, gx, gs, gn = _run(
            lambda x, s, n, t=picks: dropbits_ste(x, s, n, bits, signed, t),
            x0, step, noise, gy,
        )  # fmt: skip

        def loss(x=x0, s=step, n=noise, kept=kept):
            return _surrogate(x, torch.tensor(s, dtype=D), torch.tensor(n, dtype=D), bits,
                              signed, kept, step)  # fmt: skip

        fd_x = _fd(lambda e: loss(x=x0 + e), h) * gy
        fd_s = (_fd(lambda e: loss(s=step + e), h) * gy).sum()
        fd_n = (_fd(lambda e: loss(n=noise + e), h) * gy).sum()
        assert torch.allclose(gx, fd_x, rtol=1e-6, atol=1e-7)
        assert float(gn) == pytest.approx(float(fd_n), rel=1e-6)
        assert float(gs - (gy * out / step).sum()) == pytest.approx(float(fd_s), rel=1e-6)
        if p == 0.0:  # the unmasked path is multiclass_ste's
            b = _run(lambda x, s, n: multiclass_ste(x, s, n, *integer_range(bits, signed)),
                     x0, step, noise, gy)  # fmt: skip
            assert torch.allclose(gx, b[1], rtol=1e-12)


def test_dropped_rows_backward_by_hand():
    """One 2-bit signed row with its finest bit dropped (survivors -2, 0), by hand: with
    ``A = F(u_0)`` (bin of -2), ``B = F(u_2) - F(u_1)`` (bin of 0), ``S = step (-2A) / (A + B)``,
    ``dS/dx = step (-2 A' (A + B) + 2A (A' + B')) / (A + B)^2`` with ``A' = -F'(u_0)/sigma``,
    ``B' = -(F'(u_2) - F'(u_1))/sigma``."""
    step, noise, xv = 0.5, 0.2, 0.1

    def sig(v):
        return 1 / (1 + math.exp(-v))

    u = [(step * (n + 0.5) - xv) / noise for n in (-2, -1, 0)]
    f = [sig(v) for v in u]
    fp = [v * (1 - v) for v in f]
    a, b = f[0], f[2] - f[1]
    da, db = -fp[0] / noise, -(fp[2] - fp[1]) / noise
    expected = step * (-2 * da * (a + b) + 2 * a * (da + db)) / (a + b) ** 2
    x = torch.tensor([xv], dtype=D, requires_grad=True)
    out = dropbits_ste(x, torch.tensor(step, dtype=D), torch.tensor(noise, dtype=D), 2, True,
                       [torch.tensor([0])])  # fmt: skip
    out.sum().backward()
    assert float(out.detach()) == 0.0  # the nearest survivor of 0.1 / 0.5 = 0.2 codes is 0
    assert float(x.grad) == pytest.approx(expected, rel=1e-12)


# --- the random stream changed: its distribution ------------------------------------------------


def _drop_law(bits, p):
    """``P(d = k) = p^k - p^(k+1)`` for ``k < b - 1`` and ``P(d = b - 1) = p^(b-1)``."""
    return [p ** (bits - 1) if k == bits - 1 else p**k - p ** (k + 1) for k in range(bits)]


def _within(freq, prob, m):
    """A frequency from ``m`` draws within 5 binomial standard errors of ``prob``."""
    return abs(freq - prob) <= 5 * math.sqrt(prob * (1 - prob) / m) + 1e-12


@pytest.mark.parametrize("bits,p", [(2, 0.1), (3, 0.1), (3, 0.5), (4, 0.6), (8, 0.9)])
def test_sparse_draw_has_the_dropbits_distribution(bits, p):
    """The quantizer's sparse draw (geometric gaps between the rows that drop a bit, then
    between those of them that drop another, ...) and the old ``b - 1``-uniform draw
    (``sample_dropped_bits``) both follow ``P(d = k)`` of :func:`_drop_law`, within 5 binomial
    standard errors of 200,000 rows; the sparse draw's tiers are ascending, unique and nested,
    convert to and from the dense draw, and its drop rate is the same in each quarter of the
    rows (no edge effect)."""
    m = 200_000
    picks = sample_dropbits_picks(m, bits, p, generator=torch.Generator().manual_seed(bits))
    tiers = picks_to_rows(picks)
    assert len(tiers) == bits - 1
    for j, rows in enumerate(tiers):
        assert bool((rows[1:] > rows[:-1]).all()) and int(rows.min()) >= 0 and int(rows.max()) < m
        if j:  # nested
            assert bool(torch.isin(rows, tiers[j - 1]).all())
    sparse = picks_to_dropped_bits(picks, m)
    assert all(torch.equal(a, b) for a, b in zip(dropped_bits_to_picks(sparse, bits), picks))
    old = sample_dropped_bits(bits, p, m, generator=torch.Generator().manual_seed(bits))
    for k, prob in enumerate(_drop_law(bits, p)):
        for d in (sparse, old):
            assert _within(float((d == k).double().mean()), prob, m)
    for quarter in sparse.chunk(4):
        assert _within(float((quarter > 0).double().mean()), p, quarter.numel())


@pytest.mark.parametrize("n,m", [(5, 20_000), (10_000, 3_000)])
def test_sparse_draw_rows_are_independent_bernoulli(n, m):
    """``m`` draws over ``n`` rows at p = 0.3 (5 rows: one uniform per row; 10,000 rows: the
    geometric gaps): the first and last rows each drop with p and adjacent pairs together with
    p^2 (5 standard errors), so neither draw favours nor couples positions, the ends included."""
    p = 0.3
    g = torch.Generator().manual_seed(0)
    watch = sorted({0, 1, 2, n - 3, n - 2, n - 1})
    hits = torch.zeros(m, len(watch))
    for i in range(m):
        (rows,) = sample_dropbits_picks(n, 2, p, generator=g)
        hits[i] = torch.isin(torch.tensor(watch), rows).float()
    for j in range(len(watch)):
        assert _within(float(hits[:, j].mean()), p, m)
        if j + 1 < len(watch) and watch[j + 1] == watch[j] + 1:
            assert _within(float((hits[:, j] * hits[:, j + 1]).mean()), p * p, m)


def test_sparse_draw_edge_cases():
    for args in ((0, 3, 0.5), (10, 3, 0.0)):
        assert all(rows.numel() == 0 for rows in sample_dropbits_picks(*args))
    assert sample_dropbits_picks(10, 1, 0.5) == []
    with pytest.raises(ValueError):
        sample_dropbits_picks(10, 3, 1.0)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False)])
def test_expected_dropbits_forward_matches_the_closed_form(bits, signed):
    """Over many draws the quantizer's training forward averages to
    ``E[x_hat] = sum_d P(d) Q_d(x)`` with ``Q_d`` the nearest point of the ``(b - d)``-bit
    sub-grid; tolerance 5 standard errors from the closed-form variance."""
    p, m, step = 0.3, 20_000, 0.25
    qmin, qmax = integer_range(bits, signed)
    xs = torch.tensor([qmin - 0.7, qmin + 0.6, -0.3, 0.45, 1.2, qmax - 0.4, qmax + 2.0]) * step
    q = ClusterPromotingQuantizer(bits, signed, drop_rate=p).train()
    q.initialize(xs)
    with torch.no_grad():
        q.step.fill_(step)
    q.generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        draws = q(xs.repeat(m, 1))  # (m, 7)
    probs = _drop_law(bits, p)
    subs = []
    for d in range(bits):
        lo, hi = integer_range(bits - d, signed)
        subs.append(nearest_codes(xs / 2**d, torch.tensor(step), lo, hi) * 2**d * step)
    mean = sum(pr * s for pr, s in zip(probs, subs))
    var = sum(pr * s**2 for pr, s in zip(probs, subs)) - mean**2
    tol = 5 * (var / m).sqrt() + 1e-6
    assert ((draws.mean(0) - mean).abs() <= tol).all()
    # every draw is one of the sub-grid points
    assert all(bool(((draws[:, i : i + 1] - torch.stack(subs)[:, i]).abs() < 1e-6).any(1).all())
               for i in range(xs.numel()))  # fmt: skip


# --- the quantizer uses these paths --------------------------------------------------------------


@pytest.mark.parametrize("per_element", [True, False])
def test_quantizer_dropbits_is_dropbits_ste_on_its_generator_draws(per_element):
    x0 = torch.randn(4, 50, generator=torch.Generator().manual_seed(2), dtype=D)
    q = ClusterPromotingQuantizer(3, True, drop_rate=0.4, dropbits_per_element=per_element)
    q = q.to(D).train()
    q.initialize(x0)
    q.generator = torch.Generator().manual_seed(5)
    x = x0.clone().requires_grad_(True)
    q(x).pow(2).sum().backward()
    g = torch.Generator().manual_seed(5)
    if per_element:
        kept = 3 - picks_to_dropped_bits(sample_dropbits_picks(x0.numel(), 3, 0.4, generator=g),
                                         x0.numel())  # fmt: skip
    else:
        kept = (3 - sample_dropped_bits(3, 0.4, 1, generator=g)).expand(x0.numel())
    xr = x0.clone().reshape(-1).requires_grad_(True)
    s = q.positive_step().detach().clone().requires_grad_(True)
    n = q.positive_noise().detach().clone().requires_grad_(True)
    reference_dropbits(xr, s, n, 3, True, kept).pow(2).sum().backward()
    assert torch.allclose(x.grad.reshape(-1), xr.grad, rtol=1e-9, atol=1e-12)
    assert float(q.step.grad) == pytest.approx(float(s.grad), rel=1e-9)
    assert float(q.noise.grad) == pytest.approx(float(n.grad) * float(torch.sign(q.noise.detach())),
                                                rel=1e-9)  # fmt: skip


def test_dropbits_keeps_o_numel_tensors_for_backward():
    q = ClusterPromotingQuantizer(3, signed=False, drop_rate=0.1).train()
    x = torch.rand(32, 16, 16, 16, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        q(x).sum().backward()
    assert max(saved) <= x.numel()
    assert sum(saved) <= 2.5 * x.numel()  # x, codes and the ~10 % dropped rows' index/bits


def test_learned_gates_with_dropbits_use_the_sparse_draw():
    """The gates path (``nested_mask_ste``) takes its DropBits draw from the same sparse
    sampler, then samples the gates from the same generator."""
    x0 = torch.randn(300, generator=torch.Generator().manual_seed(3))
    q = ClusterPromotingQuantizer(4, True, drop_rate=0.5, learn_bits=True).train()
    q.initialize(x0)
    q.generator = torch.Generator().manual_seed(9)
    out = q(x0)
    g = torch.Generator().manual_seed(9)
    kept = 4 - picks_to_dropped_bits(sample_dropbits_picks(x0.numel(), 4, 0.5, generator=g), 300)
    gate = q.gates.sample(g)[bit_levels(4, True)]
    ref = nested_mask_ste(x0, q.positive_step(), q.positive_noise(), 4, True, kept, gate)
    assert torch.equal(out, ref)
