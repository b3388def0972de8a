"""Client means (MAFL payload) and client partitions."""

import math

import numpy as np
import pytest
import torch

from paperzoo.federated import (
    classes_per_client_partition,
    client_means,
    dirichlet_partition,
    iid_partition,
    sample_partners,
)


def test_all_samples_mean_is_the_plain_mean():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(7, 1, 4, 4, generator=g), torch.tensor([0, 1, 1, 2, 2, 2, 0])
    xm, ym = client_means(x, y, num_classes=4)
    assert xm.shape == (1, 1, 4, 4) and ym.shape == (1, 4)
    assert torch.allclose(xm[0], x.mean(0))
    assert torch.allclose(ym[0], torch.tensor([2, 2, 3, 0]) / 7)


def test_each_mean_averages_exactly_mk_distinct_samples():
    n, mk = 10, 3
    x = torch.eye(n)  # sample k is the k-th basis vector: a mean shows which samples it used
    y = torch.arange(n) % 2
    xm, ym = client_means(x, y, 2, mean_batch_size=mk, generator=torch.Generator().manual_seed(0))
    assert xm.shape == (n // mk, n) and ym.shape == (n // mk, 2)
    used = (xm > 0).sum(1)
    assert torch.all(used == mk) and torch.allclose(xm[xm > 0], torch.full((9,), 1 / mk))
    assert (xm > 0).sum(0).max() == 1  # groups are disjoint
    assert torch.allclose(ym.sum(1), torch.ones(3))


def test_means_errors():
    with pytest.raises(ValueError, match="no samples"):
        client_means(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="labels"):
        client_means(torch.zeros(2, 3), torch.tensor([0, 5]), 2)
    with pytest.raises(ValueError, match="empty"):
        sample_partners(torch.zeros(0, 3), torch.zeros(0, 2), 4)


def test_sample_partners_shapes():
    px, py = sample_partners(
        torch.rand(5, 3), torch.rand(5, 2), 7, torch.Generator().manual_seed(0)
    )
    assert px.shape == (7, 3) and py.shape == (7, 2)


def _check_cover(parts, n):
    allidx = np.concatenate(parts)
    assert len(allidx) == n and len(np.unique(allidx)) == n


def test_iid_partition_is_balanced_and_covers():
    labels = np.arange(103) % 10
    parts = iid_partition(labels, 10, seed=0)
    _check_cover(parts, 103)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_classes_per_client_partition_limits_classes():
    labels = np.repeat(np.arange(10), 60)
    parts = classes_per_client_partition(labels, 20, 2, seed=0)
    _check_cover(parts, 600)
    assert all(len(np.unique(labels[p])) <= 2 for p in parts)
    again = classes_per_client_partition(labels, 20, 2, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_dirichlet_partition_skew_depends_on_alpha():
    labels = np.repeat(np.arange(10), 100)
    skewed = dirichlet_partition(labels, 10, 0.1, seed=0)
    flat = dirichlet_partition(labels, 10, 100.0, seed=0)
    _check_cover(skewed, 1000)
    _check_cover(flat, 1000)

    def classes(parts):
        return np.mean([(np.bincount(labels[p], minlength=10) > 5).sum() for p in parts])

    assert classes(skewed) < classes(flat)


def test_partition_errors():
    with pytest.raises(ValueError):
        iid_partition(np.arange(3), 5)
    with pytest.raises(ValueError, match="alpha"):
        dirichlet_partition(np.arange(30) % 3, 3, 0.0)


def test_local_sgd_step_equals_torch_sgd():
    from paperzoo.federated import MLP, CrossEntropyObjective, local_sgd

    torch.manual_seed(0)
    a, b = MLP(6, 3, hidden=8), MLP(6, 3, hidden=8)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
    local_sgd(
        a,
        x,
        y,
        CrossEntropyObjective(),
        learning_rate=0.05,
        batch_size=5,
        local_epochs=1,
        generator=torch.Generator().manual_seed(1),
    )
    opt = torch.optim.SGD(b.parameters(), lr=0.05)
    for idx in torch.randperm(20, generator=torch.Generator().manual_seed(1)).split(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(b(x[idx]), y[idx]).backward()
        opt.step()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# --- differentially private means -----------------------------------------------------------


def test_mean_sensitivity_is_attained_by_the_worst_replacement():
    from paperzoo.federated.means import mean_sensitivity

    m, d = 4, 3
    assert mean_sensitivity(m, d) == pytest.approx(math.sqrt(d + 2) / m)  # hand: sqrt(5)/4
    assert mean_sensitivity(m, d, (-1.0, 1.0)) == pytest.approx(math.sqrt(4 * d + 2) / m)
    # replacing an all-zeros sample of class 0 by an all-ones sample of class 1 moves the
    # (input, label) mean by exactly the bound; random replacements never by more
    g = torch.Generator().manual_seed(0)
    x = torch.rand(m, d, generator=g)
    y = torch.tensor([0, 2, 1, 2])
    x[0], y[0] = 0.0, 0
    base = torch.cat(client_means(x, y, 3), 1)
    x2, y2 = x.clone(), y.clone()
    x2[0], y2[0] = 1.0, 1
    worst = torch.cat(client_means(x2, y2, 3), 1)
    assert (worst - base).norm().item() == pytest.approx(mean_sensitivity(m, d))
    for _ in range(50):
        x3, y3 = x.clone(), y.clone()
        i = int(torch.randint(m, (1,), generator=g))
        x3[i], y3[i] = torch.rand(d, generator=g), int(torch.randint(3, (1,), generator=g))
        moved = (torch.cat(client_means(x3, y3, 3), 1) - base).norm().item()
        assert moved <= mean_sensitivity(m, d) + 1e-7


def test_analytic_gaussian_sigma_meets_delta_and_beats_the_classical_bound():
    from paperzoo.federated.means import analytic_gaussian_sigma, gaussian_mechanism_delta

    for eps in (0.1, 0.5, 0.9):
        s = analytic_gaussian_sigma(eps, 1e-5, 1.0)
        assert gaussian_mechanism_delta(s, eps, 1.0) <= 1e-5
        assert gaussian_mechanism_delta(0.999 * s, eps, 1.0) > 1e-5  # the smallest such σ
        classical = math.sqrt(2 * math.log(1.25 / 1e-5)) / eps  # Dwork & Roth, valid for ε < 1
        assert s < classical
    # σ scales linearly with the sensitivity and falls as ε grows
    assert analytic_gaussian_sigma(2.0, 1e-5, 3.0) == pytest.approx(
        3 * analytic_gaussian_sigma(2.0, 1e-5, 1.0), rel=1e-6
    )
    sig = [analytic_gaussian_sigma(e, 1e-5, 1.0) for e in (0.5, 1, 2, 8)]
    assert sig == sorted(sig, reverse=True)
    # δ(σ) by Monte Carlo of the privacy-loss random variable for a 1-D Gaussian mechanism:
    # δ = E[(1 - e^{ε - L})_+], L = Δ²/(2σ²) + (Δ/σ) Z
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    s, eps = 1.3, 1.0
    loss = 1 / (2 * s**2) + z / s
    mc = (1 - torch.exp(eps - loss)).clamp_min(0).mean().item()
    assert mc == pytest.approx(gaussian_mechanism_delta(s, eps, 1.0), rel=0.02)
    with pytest.raises(ValueError, match="epsilon"):
        analytic_gaussian_sigma(0.0, 1e-5, 1.0)


def test_privatize_means_noise_level_and_domain():
    from paperzoo.federated.means import (
        analytic_gaussian_sigma,
        mean_sensitivity,
        privatize_means,
    )

    g = torch.Generator().manual_seed(0)
    xm = torch.full((400, 1, 5, 5), 0.5)
    ym = torch.full((400, 4), 0.25)
    x, y, sigma = privatize_means(xm, ym, 100, 20.0, 1e-5, g)
    assert sigma == pytest.approx(analytic_gaussian_sigma(20.0, 1e-5, mean_sensitivity(100, 25)))
    assert (x - 0.5).std().item() == pytest.approx(sigma, rel=0.05)  # σ << 0.5: no clipping
    x, y, sigma = privatize_means(xm, ym, 2, 0.5, 1e-5, g)  # σ >> 1: heavy clipping
    assert sigma > 1 and x.min() >= 0 and x.max() <= 1
    assert (y >= 0).all() and torch.allclose(y.sum(1), torch.ones(400))


def test_client_shares_noisy_means_only_when_asked():
    from paperzoo.federated.client import make_client
    from paperzoo.federated.models import MLP

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(50, 1, 4, 4, generator=g), torch.randint(0, 3, (50,), generator=g)
    fn = lambda: MLP(16, 3, 8)  # noqa: E731
    exact = make_client("fedmix", fn, x, y, 3).fit([], {"task": "means"})
    noisy = make_client("fedmix", fn, x, y, 3, mean_dp=(1.0, 1e-5)).fit([], {"task": "means"})
    assert torch.allclose(torch.as_tensor(exact[0][0]), x.mean(0, keepdim=True))
    assert "dp_sigma" not in exact[2] and noisy[2]["dp_sigma"] > 0
    assert not np.allclose(noisy[0][0], exact[0][0])
    assert noisy[2]["dp_epsilon"] == 1.0 and noisy[2]["samples_per_mean"] == 50
