"""FedMix's tangent route (``federated/tangent.py``) against double backprop and brute force."""

import pytest
import torch
from torch import nn

from paperzoo.federated.local_training import FedMixObjective
from paperzoo.federated.mixup import fedmix_loss, fedmix_taylor_term
from paperzoo.federated.models import MLP, VGG, LeNet5
from paperzoo.federated.tangent import forward_with_tangent, supports_tangent

MODELS = [
    (lambda: LeNet5(10, 1, 3), (1, 28, 28)),
    (lambda: MLP(64, 10, 16), (1, 8, 8)),
    (lambda: VGG(10, 3, 4), (3, 32, 32)),
]


def _batch(shape, dtype, soft=False, seed=0, n=6):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=g, dtype=dtype)
    mx = torch.rand(n, *shape, generator=g, dtype=dtype)
    my = torch.softmax(torch.randn(n, 10, generator=g, dtype=dtype), 1)
    y = (
        2.0 * torch.softmax(torch.randn(n, 10, generator=g, dtype=dtype), 1)  # mass 2, not 1
        if soft
        else torch.randint(0, 10, (n,), generator=g)
    )
    return x, y, mx, my


def _loss_and_grads(model, batch, method, lam=0.2):
    model.zero_grad()
    loss = fedmix_loss(model, *batch, lam, method=method)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("make,shape", MODELS)
def test_tangent_equals_a_finite_difference_of_the_network(make, shape):
    """J_f(x) v against central differences of f itself (float64, h = 1e-6)."""
    torch.manual_seed(0)
    model = make().double()
    x, _, v, _ = _batch(shape, torch.float64)
    logits, tangent = forward_with_tangent(model, x, v)
    h = 1e-6
    fd = (model(x + h * v) - model(x - h * v)) / (2 * h)
    assert torch.allclose(logits, model(x), atol=1e-12)
    assert torch.allclose(tangent, fd, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("make,shape", MODELS)
def test_tangent_route_equals_double_backprop_float64(make, shape, soft):
    torch.manual_seed(1)
    model = make().double()
    batch = _batch(shape, torch.float64, soft=soft)
    loss_t, grads_t = _loss_and_grads(model, batch, "tangent")
    loss_d, grads_d = _loss_and_grads(model, batch, "double_backprop")
    assert abs(loss_t - loss_d) < 1e-12
    for gt, gd in zip(grads_t, grads_d, strict=True):
        assert torch.allclose(gt, gd, atol=1e-12, rtol=1e-9)
    x, y, mx, _ = batch
    term_t = fedmix_taylor_term(model, x, y, mx, 0.2, method="tangent")
    term_d = fedmix_taylor_term(model, x, y, mx, 0.2, method="double_backprop")
    assert torch.allclose(term_t, term_d, atol=1e-12)


def test_tangent_route_float32_tolerance():
    """The stated float32 tolerance: loss to 1e-5 relative, gradients to 1e-4 of their scale."""
    torch.manual_seed(2)
    model = LeNet5(10, 1, 6)
    batch = _batch((1, 28, 28), torch.float32, n=10)
    loss_t, grads_t = _loss_and_grads(model, batch, "tangent", lam=0.1)
    loss_d, grads_d = _loss_and_grads(model, batch, "double_backprop", lam=0.1)
    assert abs(loss_t - loss_d) <= 1e-5 * abs(loss_d)
    for gt, gd in zip(grads_t, grads_d, strict=True):
        assert (gt - gd).abs().max() <= 1e-4 * gd.abs().max()


def test_auto_picks_the_tangent_route_only_for_models_that_declare_their_layers():
    assert supports_tangent(LeNet5()) and supports_tangent(MLP(4))
    smooth = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 10))
    assert not supports_tangent(smooth)
    x, y, mx, my = _batch((4,), torch.float64)
    smooth = smooth.double()
    # "auto" falls back to double backprop (same value), "tangent" refuses with a reason.
    auto = fedmix_loss(smooth, x, y, mx, my, 0.1)
    assert torch.allclose(auto, fedmix_loss(smooth, x, y, mx, my, 0.1, method="double_backprop"))
    with pytest.raises(ValueError, match="no tangent rule"):
        fedmix_loss(smooth, x, y, mx, my, 0.1, method="tangent")
    with pytest.raises(ValueError, match="method must be"):
        fedmix_loss(smooth, x, y, mx, my, 0.1, method="jvp")


def test_unsupported_layer_in_declared_layers_is_refused():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())

        def forward(self, x):
            return self.body(x)

        def jvp_layers(self):
            return list(self.body)

    assert not supports_tangent(Odd())
    with pytest.raises(NotImplementedError, match="Sigmoid"):
        forward_with_tangent(Odd(), torch.zeros(2, 4), torch.zeros(2, 4))


def test_tangent_route_under_no_grad_matches_training_value():
    """Evaluation (no_grad) gives the training loss's value on both routes."""
    torch.manual_seed(3)
    model = MLP(64, 10, 16).double()
    batch = _batch((1, 8, 8), torch.float64)
    with torch.no_grad():
        ev_t = fedmix_loss(model, *batch, 0.1, method="tangent")
        ev_d = fedmix_loss(model, *batch, 0.1, method="double_backprop")
    assert abs(ev_t - ev_d) < 1e-12
    assert abs(ev_t - fedmix_loss(model, *batch, 0.1)) < 1e-12


def test_objective_carries_the_method():
    assert FedMixObjective(0.1).method == "auto"
    assert FedMixObjective(0.1, method="double_backprop").method == "double_backprop"
