"""Client means (MAFL payload) and client partitions."""

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
