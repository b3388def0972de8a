"""FedMix / NaiveMix / global-mixup losses: reductions, Taylor accuracy, finite differences."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperzoo.federated import (
    fedmix_loss,
    fedmix_taylor_term,
    global_mixup_loss,
    naive_mix_loss,
    soft_cross_entropy,
)

D = torch.float64


def _data(n=6, d=5, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=D)
    y = torch.randint(0, c, (n,), generator=g)
    mx = torch.randn(n, d, generator=g, dtype=D)
    my = torch.softmax(torch.randn(n, c, generator=g, dtype=D), 1)
    return x, y, mx, my


def _linear(d=5, c=3, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(d, c).double()


def _smooth_mlp(d=5, c=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 7), nn.Tanh(), nn.Linear(7, c)).double()


def test_soft_ce_with_one_hot_equals_ce():
    x, y, _, _ = _data()
    logits = _linear()(x)
    assert torch.allclose(
        soft_cross_entropy(logits, F.one_hot(y, 3).double()), F.cross_entropy(logits, y)
    )


@pytest.mark.parametrize("loss_fn", [fedmix_loss, naive_mix_loss, global_mixup_loss])
def test_lambda_zero_is_plain_cross_entropy(loss_fn):
    x, y, mx, my = _data()
    model = _smooth_mlp()
    assert torch.allclose(loss_fn(model, x, y, mx, my, 0.0), F.cross_entropy(model(x), y))


def test_fedmix_matches_global_mixup_to_second_order_on_linear_model():
    # Client i's batch, client j's raw samples; global mixup averaged over j's samples vs FedMix
    # with j's means. The gap must shrink like lambda^2 (ratio ~4 when lambda halves).
    g = torch.Generator().manual_seed(1)
    xi, yi = torch.randn(8, 5, generator=g, dtype=D), torch.randint(0, 3, (8,), generator=g)
    xj, yj = torch.randn(12, 5, generator=g, dtype=D), torch.randint(0, 3, (12,), generator=g)
    yj1 = F.one_hot(yj, 3).double()
    model = _linear()

    def gap(lam):
        mix = torch.stack(
            [
                global_mixup_loss(model, xi, yi, xj[k].expand_as(xi), yj1[k].expand(8, 3), lam)
                for k in range(12)
            ]
        ).mean()
        fm = fedmix_loss(model, xi, yi, xj.mean(0).expand_as(xi), yj1.mean(0).expand(8, 3), lam)
        return float((mix - fm).abs().detach())

    gaps = [gap(lam) for lam in (0.04, 0.02, 0.01)]
    for a, b in itertools.pairwise(gaps):
        assert 3.0 < a / b < 5.0, gaps
    assert gaps[-1] / 0.01**2 < 10.0
    # the first-order term matters: without it the gap is O(lambda), far larger
    xbar, ybar = xj.mean(0).expand_as(xi), yj1.mean(0).expand(8, 3)
    lam = 0.01
    fm = fedmix_loss(model, xi, yi, xbar, ybar, lam)
    no_taylor = fm - fedmix_taylor_term(model, xi, yi, xbar, lam).mean()
    mix = torch.stack(
        [
            global_mixup_loss(model, xi, yi, xj[k].expand_as(xi), yj1[k].expand(8, 3), lam)
            for k in range(12)
        ]
    ).mean()
    assert gaps[-1] < 0.1 * float((mix - no_taylor).abs().detach())


def test_taylor_term_equals_finite_difference_per_sample():
    x, y, mx, _ = _data(n=5)
    model = _smooth_mlp()
    lam, eps = 0.2, 1e-6
    term = fedmix_taylor_term(model, x, y, mx, lam)
    with torch.no_grad():
        plus = F.cross_entropy(model((1 - lam) * x + eps * mx), y, reduction="none")
        minus = F.cross_entropy(model((1 - lam) * x - eps * mx), y, reduction="none")
    fd = lam * (1 - lam) * (plus - minus) / (2 * eps)
    assert torch.allclose(term, fd, rtol=1e-6, atol=1e-9)


def test_taylor_term_is_per_sample_not_scaled_by_batch_size():
    # The Flower port differentiates the batch mean (1/B too small); ours must not depend on B.
    x, y, mx, _ = _data(n=10)
    model = _smooth_mlp()
    batch = fedmix_taylor_term(model, x, y, mx, 0.1)
    single = torch.cat(
        [
            fedmix_taylor_term(model, x[i : i + 1], y[i : i + 1], mx[i : i + 1], 0.1)
            for i in range(10)
        ]
    )
    assert torch.allclose(batch, single)


def test_fedmix_loss_decomposes_into_its_three_terms():
    x, y, mx, my = _data()
    model = _smooth_mlp()
    lam = 0.3
    logits = model((1 - lam) * x)
    expected = (
        (1 - lam) * F.cross_entropy(logits, y)
        + lam * soft_cross_entropy(logits, my)
        + fedmix_taylor_term(model, x, y, mx, lam).mean()
    )
    assert torch.allclose(fedmix_loss(model, x, y, mx, my, lam), expected)


def test_fedmix_parameter_gradient_matches_finite_difference():
    # Double backprop: d(loss)/d(weights) through the input gradient, checked by gradcheck.
    x, y, mx, my = _data(n=4, d=3, c=2)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    w = model[0].weight

    def f(weight):
        def fwd(inp):
            return model[2](torch.tanh(F.linear(inp, weight, model[0].bias)))

        return fedmix_loss(fwd, x, y, mx, my, 0.25)

    assert torch.autograd.gradcheck(f, (w.detach().clone().requires_grad_(True),))


def test_fedmix_loss_works_under_no_grad():
    x, y, mx, my = _data()
    model = _smooth_mlp()
    with torch.no_grad():
        v = fedmix_loss(model, x, y, mx, my, 0.1)
    assert torch.isfinite(v) and not v.requires_grad


def test_naive_mix_is_global_mixup_with_means():
    x, y, mx, my = _data()
    model = _smooth_mlp()
    xt = 0.8 * x + 0.2 * mx
    want = 0.8 * F.cross_entropy(model(xt), y) + 0.2 * soft_cross_entropy(model(xt), my)
    assert torch.allclose(naive_mix_loss(model, x, y, mx, my, 0.2), want)


def test_bad_inputs_raise():
    x, y, mx, my = _data()
    model = _smooth_mlp()
    with pytest.raises(ValueError, match="lam"):
        fedmix_loss(model, x, y, mx, my, 1.5)
    with pytest.raises(ValueError, match="shape"):
        fedmix_loss(model, x, y, mx[:2], my, 0.1)
    with pytest.raises(ValueError, match="empty"):
        naive_mix_loss(model, x[:0], y[:0], mx[:0], my[:0], 0.1)


def test_fedmix_loss_is_unbounded_below_where_global_mixup_is_not():
    """Why FedMix can collapse (README, λ sensitivity): its first-order term is linear in the
    input gradient, so scaling a direction of the weights drives the loss to -inf, while global
    mixup (and NaiveMix) are cross-entropies with non-negative labels, >= 0 for any weights.

    Linear model, one sample: W x_i = 0 (uniform prediction) and W x̄_j = e_y, so the term is
    λ(1-λ) c (1/K - 1) < 0 for weights scaled by c, and the CE terms stay at log K."""
    k, lam = 3, 0.2
    x = torch.tensor([[1.0, 0.0]], dtype=D)
    mean_x = torch.tensor([[0.0, 1.0]], dtype=D)
    y, mean_y = torch.tensor([1]), torch.full((1, k), 1.0 / k, dtype=D)
    losses = {}
    for c in (1.0, 100.0, 1000.0):
        model = nn.Linear(2, k, bias=False).double()
        with torch.no_grad():
            model.weight.zero_()
            model.weight[1, 1] = c  # W x = 0, W x̄ = c e_y
        losses[c] = float(fedmix_loss(model, x, y, mean_x, mean_y, lam).detach())
        expected = math.log(k) + lam * (1 - lam) * c * (1 / k - 1)
        assert losses[c] == pytest.approx(expected)
        assert float(global_mixup_loss(model, x, y, mean_x, mean_y, lam).detach()) >= 0.0
    assert losses[1000.0] < losses[100.0] < 0.0 < losses[1.0]
