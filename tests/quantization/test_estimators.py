import math

import pytest
import torch

from paperzoo.quantization import (
    ClusterPromotingQuantizer,
    LearnedStepQuantizer,
    RelaxedQuantizer,
    StraightThroughQuantizer,
    categorical_probabilities,
    expected_grid_value,
    masked_multiclass_ste,
    multiclass_ste,
    nearest_codes,
    window_probabilities,
)

D = torch.float64


def _scalars(step=0.7, noise=0.2):
    return (
        torch.tensor(step, dtype=D, requires_grad=True),
        torch.tensor(noise, dtype=D, requires_grad=True),
    )


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False), (8, False)])
def test_probabilities_sum_to_one(bits, signed):
    qmin, qmax = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    x = torch.linspace(qmin - 3, qmax + 3, 301, dtype=D) * 0.5
    p = categorical_probabilities(
        x, torch.tensor(0.5, dtype=D), torch.tensor(0.3, dtype=D), qmin, qmax
    )
    assert p.shape == (301, qmax - qmin + 1)
    assert torch.allclose(p.sum(-1), torch.ones(301, dtype=D), atol=1e-12)
    assert (p >= 0).all()


def test_probability_by_hand():
    # grid {-1, 0} (1-bit signed, step 1), sigma 1, x = 0: P(bin of 0) = 1 - Sigm(-0.5)
    p = categorical_probabilities(torch.tensor([0.0], dtype=D), torch.tensor(1.0, dtype=D),
                                  torch.tensor(1.0, dtype=D), -1, 0)  # fmt: skip
    assert p[0, 1].item() == pytest.approx(1 - 1 / (1 + math.exp(0.5)))


def test_argmax_is_nearest_rounding_away_from_the_edge_band():
    step, noise = torch.tensor(0.7, dtype=D), torch.tensor(0.7 / 3, dtype=D)
    x = torch.linspace(-3, 3, 2001, dtype=D)
    codes = nearest_codes(x, step, -4, 3)
    am = categorical_probabilities(x, step, noise, -4, 3).argmax(-1) - 4
    # only the thin band next to the boundaries of the two (infinite) edge bins may differ
    band = ((x / step + 3.5).abs() < 0.2) | ((x / step - 2.5).abs() < 0.2)
    assert (am[~band] == codes[~band]).all()
    assert (am != codes).float().mean() < 0.02


def test_window_probabilities_match_the_full_grid():
    step, noise = torch.tensor(0.1, dtype=D), torch.tensor(0.03, dtype=D)
    x = torch.randn(200, dtype=D, generator=torch.Generator().manual_seed(0)) * 3
    codes, p = window_probabilities(x, step, noise, 0, 255, radius=3)
    full = categorical_probabilities(x, step, noise, 0, 255)
    idx = (codes - 0).long()
    assert torch.allclose(p, full.gather(1, idx), atol=1e-9)
    assert codes.shape == (200, 7) and (codes >= 0).all() and (codes <= 255).all()


@pytest.mark.parametrize(
    "quantizer",
    [
        ClusterPromotingQuantizer(3, True),
        StraightThroughQuantizer(3, True),
        LearnedStepQuantizer(3, True),
        ClusterPromotingQuantizer(3, True, ste_normalization="max"),
    ],
)
def test_training_forward_is_nearest_grid_rounding(quantizer):
    x = torch.randn(500, generator=torch.Generator().manual_seed(1))
    quantizer.train()
    out = quantizer(x)
    s = quantizer.positive_step().detach()
    expected = nearest_codes(x, s, quantizer.qmin, quantizer.qmax) * s
    assert torch.allclose(out, expected, atol=1e-6)
    quantizer.eval()
    assert torch.allclose(quantizer(x), expected, atol=1e-6)


def test_ste_gradient_matches_closed_form_by_hand():
    # 2-bit signed grid, step a, noise s: dx_hat/dx = (a/s) sum_j F'((a(n_j+1/2) - x)/s)
    a, s = 0.7, 0.2
    step, noise = _scalars(a, s)
    x = torch.tensor([0.1, 0.33, -0.9], dtype=D, requires_grad=True)
    multiclass_ste(x, step, noise, -2, 1).sum().backward()
    for xi, gi in zip(x.tolist(), x.grad.tolist()):
        expected = 0.0
        for n in (-2, -1, 0):
            f = 1 / (1 + math.exp(-(a * (n + 0.5) - xi) / s))
            expected += (a / s) * f * (1 - f)
        assert gi == pytest.approx(expected, rel=1e-10)


def test_closed_form_backward_equals_autograd_of_the_materialised_ste():
    x0 = torch.randn(300, dtype=D, generator=torch.Generator().manual_seed(2))
    w = torch.randn(300, dtype=D, generator=torch.Generator().manual_seed(3))
    grads = []
    for fn in (multiclass_ste, lambda *a: masked_multiclass_ste(*a, None, "sum")):
        step, noise = _scalars()
        x = x0.clone().requires_grad_(True)
        out = fn(x, step, noise, -4, 3)
        (out * w).sum().backward()
        grads.append((out.detach(), x.grad, step.grad, noise.grad))
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-10)


def test_ste_input_gradient_is_the_slope_of_the_expected_grid_value():
    step, noise = torch.tensor(0.5, dtype=D), torch.tensor(0.2, dtype=D)
    x = torch.linspace(-1.2, 0.9, 50, dtype=D, requires_grad=True)
    multiclass_ste(x, step, noise, -2, 1).sum().backward()
    h = 1e-6
    fd = (expected_grid_value(x.detach() + h, step, noise, -2, 1)
          - expected_grid_value(x.detach() - h, step, noise, -2, 1)) / (2 * h)  # fmt: skip
    assert torch.allclose(x.grad, fd, atol=1e-6)


def test_surrogate_slope_is_large_at_boundaries_small_at_grid_points():
    step, noise = torch.tensor(1.0, dtype=D), torch.tensor(0.05, dtype=D)
    x = torch.tensor([0.0, 0.5], dtype=D, requires_grad=True)  # grid point, boundary
    multiclass_ste(x, step, noise, -2, 1).sum().backward()
    assert x.grad[0] < 0.01 * x.grad[1] and x.grad[1] > 1.0


def test_chunked_backward_is_chunk_size_independent():
    step, noise = torch.tensor(0.05), torch.tensor(0.02)
    x0 = torch.rand(1000, generator=torch.Generator().manual_seed(4)) * 5
    grads = []
    for chunk in (255, 1 << 20):
        x = x0.clone().requires_grad_(True)
        multiclass_ste(x, step, noise, 0, 255, chunk).sum().backward()
        grads.append(x.grad)
    assert torch.allclose(grads[0], grads[1])


def test_eight_bit_activation_memory_is_linear_in_numel():
    """The CPQ quantizer keeps O(numel) tensors for backward, never (numel, 2^b)."""
    q = ClusterPromotingQuantizer(8, signed=False).train()
    x = torch.rand(64, 16, 16, 16, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        q(x).sum().backward()
    assert max(saved) <= x.numel()
    assert sum(saved) <= 3 * x.numel()


def test_dropbits_is_off_in_eval_mode_and_on_in_training():
    q = ClusterPromotingQuantizer(3, True, drop_rate=0.9)
    x = torch.randn(2000, generator=torch.Generator().manual_seed(5))
    q.train()
    q.generator = torch.Generator().manual_seed(0)
    train_out = q(x)
    s = q.positive_step().detach()
    exact = nearest_codes(x, s, -4, 3) * s
    assert not torch.allclose(train_out, exact)  # some finest-level points were dropped
    # surviving points: every output is a grid point, and 0 / the 1-bit grid are never dropped
    assert torch.allclose(train_out / s, torch.round(train_out / s), atol=1e-5)
    small = x.abs() < 0.4 * s
    assert (train_out[small] == 0).all()
    q.eval()
    assert torch.equal(q(x), exact)


def test_dropbits_gradients_are_finite_and_reach_all_parameters():
    q = ClusterPromotingQuantizer(2, True, drop_rate=0.5).train()
    x = torch.randn(100, requires_grad=True)
    q(x).pow(2).sum().backward()
    assert torch.isfinite(x.grad).all() and q.step.grad is not None and q.noise.grad is not None


def test_lsq_step_gradient_matches_the_paper_formula():
    q = LearnedStepQuantizer(2, True).train()
    q.initialize(torch.ones(4))
    with torch.no_grad():
        q.step.fill_(0.5)
    x = torch.tensor([0.3, -0.6, 2.0, -3.0])  # v = 0.6, -1.2 (inside), 4, -6 (clipped)
    q(x).sum().backward()
    g = 1 / math.sqrt(4 * 1)
    expected = ((1 - 0.6) + (-1 + 1.2) + 1 + (-2)) * g
    assert q.step.grad.item() == pytest.approx(expected, rel=1e-5)


def test_fixed_range_ste_has_no_learned_step_and_clips_gradients():
    q = StraightThroughQuantizer(2, True).train()
    x = torch.tensor([0.1, 0.5, -1.0, 3.0], requires_grad=True)
    q.initialize(torch.tensor([1.0]))  # step = max|x| / qmax = 1
    q(x).sum().backward()
    assert not q.step.requires_grad
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 0.0]  # 3.0 is beyond qmax * step = 1


def test_relaxed_quantizer_samples_stay_in_range_and_train():
    q = RelaxedQuantizer(2, True, temperature=0.5).train()
    q.generator = torch.Generator().manual_seed(0)
    x = torch.randn(1000, requires_grad=True)
    out = q(x)
    s = q.positive_step().detach()
    assert (out >= -2 * s - 1e-6).all() and (out <= s + 1e-6).all()
    out.pow(2).sum().backward()
    assert q.step.grad is not None and q.noise.grad is not None
    q.eval()
    assert torch.allclose(q(x.detach()), nearest_codes(x.detach(), s, -2, 1) * s)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        ClusterPromotingQuantizer(2, True, drop_rate=1.5)
    with pytest.raises(ValueError):
        ClusterPromotingQuantizer(2, True, ste_normalization="mean")
    with pytest.raises(ValueError):
        RelaxedQuantizer(2, True, temperature=0.0)
    with pytest.raises(ValueError):
        ClusterPromotingQuantizer(2, True).initialize(torch.empty(0))


def test_windowed_backward_at_eight_bits_equals_the_materialised_ste():
    x0 = torch.rand(200, dtype=D, generator=torch.Generator().manual_seed(6)) * 30 - 2
    w = torch.randn(200, dtype=D, generator=torch.Generator().manual_seed(7))
    grads = []
    for fn in (multiclass_ste, lambda *a: masked_multiclass_ste(*a, None, "sum")):
        step, noise = _scalars(0.1, 0.03)
        x = x0.clone().requires_grad_(True)
        (fn(x, step, noise, 0, 255) * w).sum().backward()
        grads.append((x.grad, step.grad, noise.grad))
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("bits,signed", [(2, True), (3, False), (4, True)])
def test_fused_nested_mask_ste_equals_the_materialised_one(bits, signed):
    """Values and every gradient (x, step, sigma, gates) of the fused DropBits/gates STE equal
    autograd through the materialised masked categorical."""
    from paperzoo.quantization import bit_levels, integer_range, nested_mask_ste
    from paperzoo.quantization.grids import sample_dropped_bits

    g = torch.Generator().manual_seed(bits)
    qmin, qmax = integer_range(bits, signed)
    x = (torch.rand(300, generator=g, dtype=D) * (qmax - qmin + 3) + qmin - 1.5) * 0.3
    levels = bit_levels(bits, signed)
    keep = torch.rand(bits - 1, generator=g, dtype=D) * 0.5 + 0.5
    if bits == 4:
        keep[-1] = 0.0  # a closed gate: its sub-grid caps the forward
    gate = torch.cat([torch.ones(2, dtype=D), torch.cumprod(keep, 0)])[levels]
    kept = bits - sample_dropped_bits(bits, 0.5, 300, generator=g)
    grads, outs = [], []
    for fused in (True, False):
        xs = x.clone().requires_grad_()
        step, noise = _scalars(0.3, 0.07)
        gt = gate.clone().requires_grad_()
        if fused:
            out = nested_mask_ste(xs, step, noise, bits, signed, kept, gt, chunk_elems=200)
        else:
            w = (levels[None, :] <= kept[:, None]).to(D) * gt
            out = masked_multiclass_ste(xs, step, noise, qmin, qmax, w, "sum")
        (out * torch.linspace(-1, 1, 300, dtype=D)).sum().backward()
        outs.append(out.detach())
        grads.append((xs.grad, step.grad, noise.grad, gt.grad))
    assert torch.allclose(outs[0], outs[1], rtol=0, atol=1e-12)
    for a, b in zip(*grads):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("qmin,qmax,radius", [(-2, 1, None), (0, 7, None), (0, 7, 2), (-8, 7, 3)])
def test_fused_relaxed_quantization_equals_autograd(qmin, qmax, radius):
    from paperzoo.quantization import concrete_quantize

    x = torch.linspace(qmin - 1.5, qmax + 1.5, 200, dtype=D) * 0.3
    res = []
    for fused in (True, False):
        xs = x.clone().requires_grad_()
        step, noise = _scalars(0.3, 0.1)
        g = torch.Generator().manual_seed(3)
        y = concrete_quantize(xs, step, noise, qmin, qmax, 0.5, radius, generator=g, fused=fused)
        (y * torch.linspace(-1, 1, 200, dtype=D)).sum().backward()
        res.append((y.detach(), xs.grad, step.grad, noise.grad))
    for a, b in zip(*res):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-9)


def test_surrogate_slope_by_hand_and_the_sigma_ceiling():
    from paperzoo.quantization import slope_contrast, surrogate_slope

    # r = 1/3: 2 * 3 * F'(1.5) + 2 * 3 * F'(4.5) + ... = 0.964 at a grid point
    assert surrogate_slope(0.0, 1 / 3) == pytest.approx(0.9644, abs=1e-3)
    assert surrogate_slope(0.5, 1 / 3) == pytest.approx(1.0366, abs=1e-3)
    assert surrogate_slope(0.5, 0.1) == pytest.approx(2.5, abs=1e-2)  # 10 * F'(0)
    assert slope_contrast(0.1) > 15 > 2 > slope_contrast(1 / 3)
    assert slope_contrast(0.005) == 1e6  # the grid-point slope underflows: capped
    q = ClusterPromotingQuantizer(2, True)
    q.train()
    q(torch.randn(100))
    assert float((q.positive_noise() / q.positive_step()).detach()) == pytest.approx(1 / 3)
    q.set_noise_cap(0.1)
    assert float((q.positive_noise() / q.positive_step()).detach()) == pytest.approx(0.1)
    q.set_noise_cap(0.5)  # above the learned sigma: the learned one is used
    assert float((q.positive_noise() / q.positive_step()).detach()) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        q.set_noise_cap(0.0)


def test_noise_cap_schedule():
    from paperzoo.quantization.recipes import noise_cap

    assert noise_cap(0, 100, 1 / 3, 0.1, 0.5) == pytest.approx(1 / 3)
    assert noise_cap(25, 100, 1 / 3, 0.1, 0.5) == pytest.approx((1 / 3 * 0.1) ** 0.5)
    assert noise_cap(50, 100, 1 / 3, 0.1, 0.5) == pytest.approx(0.1)
    assert noise_cap(99, 100, 1 / 3, 0.1, 0.5) == pytest.approx(0.1)


@pytest.mark.slow
def test_compiled_backward_equals_the_eager_kernels():
    """torch.compile'd CPQ / DropBits backward: the eager kernels' gradients (float32)."""
    from paperzoo.quantization import compiled_backward

    grads = []
    for compiled in (False, True):
        compiled_backward(compiled)
        try:
            torch.manual_seed(0)
            x = torch.randn(3000, requires_grad=True)
            out = 0
            for drop in (0.0, 0.3):
                q = ClusterPromotingQuantizer(3, True, drop_rate=drop)
                q.generator = torch.Generator().manual_seed(1)
                q.train()
                q.initialize(x)
                q.set_noise_cap(0.1)
                out = out + (q(x) * torch.linspace(-1, 1, 3000)).sum()
            out.backward()
            grads.append(x.grad.clone())
        finally:
            compiled_backward(False)
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-5)
