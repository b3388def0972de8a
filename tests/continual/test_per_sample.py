"""Per-sample gradients: vmap(grad) vs a loop, the Linear Gram trick vs vmap, BN policy."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperzoo.continual import (
    GradientGram,
    OfficialMLP,
    flatten_per_sample,
    gradient_gram,
    linear_gradient_gram,
    per_sample_grads,
    supports_linear_gram,
)


def _loop_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    rows = []
    for i in range(len(y)):
        model.zero_grad()
        F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    return torch.stack(rows)


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(7, 12, generator=g), torch.randint(0, 4, (7,), generator=g)


def test_vmap_matches_loop_linear_model(batch):
    torch.manual_seed(0)
    x, y = batch
    model = nn.Linear(12, 4)
    got = flatten_per_sample(per_sample_grads(model, x, y))
    assert got.shape == (7, 12 * 4 + 4)
    torch.testing.assert_close(got, _loop_grads(model, x, y), rtol=1e-5, atol=1e-6)


def test_vmap_matches_loop_mlp_eval(batch):
    torch.manual_seed(0)
    x, y = batch
    model = OfficialMLP(in_dim=12, hidden=8, num_classes=4).eval()
    got = flatten_per_sample(per_sample_grads(model, x, y))
    torch.testing.assert_close(got, _loop_grads(model, x, y), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("train_mode", [False, True])
def test_linear_gram_matches_vmap(batch, train_mode):
    torch.manual_seed(0)
    x, y = batch
    model = OfficialMLP(in_dim=12, hidden=8, num_classes=4, dropout=0.0).train(train_mode)
    assert supports_linear_gram(model)
    grads = flatten_per_sample(per_sample_grads(model, x, y))
    ref = torch.randn(grads.shape[1])
    want = GradientGram.from_per_sample(grads, ref)
    got = linear_gradient_gram(model, x, y, ref)
    torch.testing.assert_close(got.gram, want.gram, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(got.ref_dots, want.ref_dots, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(got.ref_norm, want.ref_norm)
    # .grad is untouched by both routes
    assert all(p.grad is None for p in model.parameters())


def _bn_model() -> nn.Module:
    return nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 4))


def test_batch_norm_eval_policy_works_and_restores_mode(batch):
    torch.manual_seed(0)
    x, y = batch
    model = _bn_model().train()
    assert not supports_linear_gram(model)
    got = flatten_per_sample(per_sample_grads(model, x, y, batch_norm="eval"))
    assert model[1].training  # mode restored
    want = _loop_grads(model.eval(), x, y)  # per-sample = running-statistics gradients
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    # the high-level entry point falls back to vmap for BN models
    gram = gradient_gram(model.train(), x, y)
    torch.testing.assert_close(gram.gram, want @ want.T, rtol=1e-4, atol=1e-5)


def test_batch_norm_error_policy_is_clear(batch):
    x, y = batch
    with pytest.raises(ValueError, match="batch norm"):
        per_sample_grads(_bn_model().train(), x, y, batch_norm="error")
    # in eval mode there is nothing to refuse
    per_sample_grads(_bn_model().eval(), x, y, batch_norm="error")


def test_bad_inputs_raise():
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="samples"):
        per_sample_grads(model, torch.zeros(4, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"nn\.Linear"):
        linear_gradient_gram(_bn_model(), torch.zeros(4, 12), torch.zeros(4, dtype=torch.long))
