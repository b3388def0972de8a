"""Coverage and quantiles of Normal and mixture predictions, context/target log-likelihood."""

import pytest
import torch
from torch.distributions import Independent, Normal

from paperzoo.neural_processes import (
    CNP,
    context_target_log_likelihood,
    interval_coverage,
    mixture_distribution,
    predictive_cdf,
    predictive_quantile,
)


def test_coverage_by_hand():
    dist = Independent(Normal(torch.zeros(1, 4, 1), torch.ones(1, 4, 1)), 1)
    # Offsets of 0, 0.5, 1, 3 standard deviations: F = 0.5, 0.69, 0.84, 0.9987.
    y = torch.tensor([0.0, 0.5, 1.0, 3.0]).view(1, 4, 1)
    cov = interval_coverage(dist, y, levels=(0.5, 0.8, 0.95))
    assert cov == {0.5: 0.5, 0.8: 0.75, 0.95: 0.75}


def test_mixture_quantile_inverts_cdf():
    comp = Normal(
        torch.tensor([-1.0, 2.0, 0.5]).view(3, 1, 1, 1),
        torch.tensor([0.3, 1.0, 0.5]).view(3, 1, 1, 1),
    )
    dist = mixture_distribution(comp)
    for q in (0.025, 0.5, 0.9):
        xq = predictive_quantile(dist, q)
        assert float(predictive_cdf(dist, xq)) == pytest.approx(q, abs=1e-5)
    single = Independent(Normal(torch.zeros(1, 1, 1), 2 * torch.ones(1, 1, 1)), 1)
    assert float(predictive_quantile(single, 0.975)) == pytest.approx(2 * 1.959964, rel=1e-5)
    with pytest.raises(ValueError):
        predictive_quantile(single, 1.0)


def test_context_target_split():
    torch.manual_seed(0)
    model = CNP(hidden_dim=8)
    x, y = torch.randn(2, 9, 1), torch.randn(2, 9, 1)
    out = context_target_log_likelihood(model, x, y, 4, levels=(0.5,))
    ll = model.predict(x[:, :4], y[:, :4], x).log_prob(y)
    assert out["ctx_ll"] == pytest.approx(float(ll[:, :4].mean().detach()), rel=1e-6)
    assert out["tar_ll"] == pytest.approx(float(ll[:, 4:].mean().detach()), rel=1e-6)
    assert 0.0 <= out["tar_cov@0.5"] <= 1.0
