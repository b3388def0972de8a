"""NC is invariant to permuting train (and test) points; the regulariser's gradient reaches h."""

import pytest
import torch

from paperzoo.complexity import (
    LearnerMLP,
    NeuralComplexity,
    NeuralComplexityRegularizer,
    SinusoidTasks,
    init_learner_params,
    nc_penalty,
    train_learners,
)


def _inputs(t=3, n=6, m=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(t, k, 1, generator=g) for k in (n, n, n, m, m)]


@pytest.mark.parametrize("pool", ["mean", "pma"])
def test_nc_invariant_to_permuting_train_points(pool):
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=16, encoder_depth=2, decoder_depth=2, num_heads=4, pool=pool)
    x, y, p, xt, pt = _inputs()
    out = nc(x, y, p, xt, pt)
    assert out.shape == (3,)
    perm = torch.randperm(6)
    torch.testing.assert_close(nc(x[:, perm], y[:, perm], p[:, perm], xt, pt), out)
    perm_t = torch.randperm(7)
    torch.testing.assert_close(nc(x, y, p, xt[:, perm_t], pt[:, perm_t]), out)
    # but it does depend on which label goes with which input
    assert not torch.allclose(nc(x, y[:, perm], p, xt, pt), out)


def test_nc_tasks_are_independent():
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=16, num_heads=2)
    args = _inputs(t=4)
    full = nc(*args)
    torch.testing.assert_close(nc(*[a[1:2] for a in args]), full[1:2])


def test_regularizer_gradient_reaches_learner_params():
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=16, num_heads=2)
    reg = NeuralComplexityRegularizer(nc, weight=1.0)
    learner = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    x, y, _, xt, _ = _inputs(t=1)
    x, y, xt = x[0], y[0], xt[0]  # a single task without the task dimension
    penalty = reg(x, y, learner(x), xt, learner(xt))
    penalty.backward()
    for p in learner.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert all(p.grad is None for p in nc.parameters())  # NC is frozen


def test_nc_penalty_changes_batched_learner_training():
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=16, num_heads=2)
    module = LearnerMLP(hidden_dim=8)
    tasks = SinusoidTasks(5, 6).sample(4, torch.Generator().manual_seed(0))
    params = init_learner_params(module, 4, torch.Generator().manual_seed(1))
    kw = dict(num_steps=2, learning_rate=0.1)
    plain = train_learners(module, params, tasks, **kw)
    reg = train_learners(module, params, tasks, penalty=nc_penalty(nc, 10.0), **kw)
    diff = (plain.params["inp.weight"] - reg.params["inp.weight"]).abs()
    assert diff.sum() > 0


def test_regularizer_reductions_and_errors():
    nc = NeuralComplexity(hidden_dim=8, num_heads=2)
    args = _inputs(t=3)
    none = NeuralComplexityRegularizer(nc, weight=2.0, reduction="none")(*args)
    assert none.shape == (3,)
    total = NeuralComplexityRegularizer(nc, weight=2.0)(*args)
    torch.testing.assert_close(total, none.sum())
    with pytest.raises(ValueError, match="reduction"):
        NeuralComplexityRegularizer(nc, reduction="max")
    with pytest.raises(ValueError, match="divisible"):
        NeuralComplexity(hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="expected te_xp"):
        nc.forward_snapshot(torch.zeros(2, 3, 3), torch.zeros(2, 3, 2), torch.zeros(2, 3, 3))
