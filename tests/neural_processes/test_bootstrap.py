"""Residual bootstrap: centred residuals, resampled values, no gradient, clear errors."""

import pytest
import torch

from paperzoo.neural_processes import BNP, residual_bootstrap


def _affine_predict(xb, yb, xq):
    # A predictor that ignores the bootstrap context: mean 0.5 x, std 1 + x^2.
    return 0.5 * xq, 1.0 + xq**2


def test_residuals_are_centred_and_resampled():
    g = torch.Generator().manual_seed(0)
    xc = torch.rand(3, 7, 1, generator=g)
    yc = torch.randn(3, 7, 1, generator=g)
    xb, yb = residual_bootstrap(xc, yc, _affine_predict, num_samples=5, generator=g)
    assert xb.shape == yb.shape == (5, 3, 7, 1)
    assert torch.equal(xb, xc.expand(5, 3, 7, 1))  # bootstrap contexts keep the original x
    mean, std = _affine_predict(None, None, xb)
    eps_hat = (yb - mean) / std  # the resampled, centred standardised residuals
    torch.testing.assert_close(eps_hat.mean(-2), torch.zeros(5, 3, 1), atol=1e-6, rtol=0)
    # Un-centring gives values drawn from the task's own standardised residuals.
    eps = (yc - 0.5 * xc) / (1 + xc**2)  # (3, 7, 1)
    for k in range(5):
        for b in range(3):
            # eps_hat = e* - mean(e*) with every e* in eps: some shift c puts all of eps_hat + c
            # onto values of eps.
            e, h = eps[b, :, 0], eps_hat[k, b, :, 0]
            ok = any(all(((e - (hi + c)).abs() < 1e-5).any() for hi in h) for c in e - h[0])
            assert ok, "bootstrap values are not a resample of the task's residuals"


def test_no_gradient_through_bootstrap_samples():
    torch.manual_seed(0)
    model = BNP(hidden_dim=16)
    xc = torch.randn(2, 6, 1)
    yc = torch.randn(2, 6, 1, requires_grad=True)
    xb, yb = model.bootstrap_contexts(xc, yc, num_samples=4)
    assert not yb.requires_grad and yb.grad_fn is None
    assert not xb.requires_grad
    # The loss still trains the encoder through the bootstrap path (parameters get gradients)
    # but the bootstrap outputs themselves are constants.
    loss = model.loss(xc, yc, xc, yc.detach(), num_samples=4)
    loss.backward()
    assert model.decoder.adaptation.weight.grad is not None
    assert model.decoder.adaptation.weight.grad.abs().sum() > 0


def test_empty_and_malformed_contexts_raise():
    with pytest.raises(ValueError, match="empty"):
        residual_bootstrap(torch.zeros(2, 0, 1), torch.zeros(2, 0, 1), _affine_predict, 3)
    with pytest.raises(ValueError, match="batch, points"):
        residual_bootstrap(torch.zeros(2, 4, 1), torch.zeros(2, 5, 1), _affine_predict, 3)
    with pytest.raises(ValueError, match="num_samples"):
        residual_bootstrap(torch.zeros(2, 4, 1), torch.zeros(2, 4, 1), _affine_predict, 0)
