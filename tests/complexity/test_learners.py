"""Batched learners (vmap over stacked parameters) equal a loop of single learners."""

import torch

from paperzoo.complexity import (
    LearnerMLP,
    SinusoidTasks,
    batched_forward,
    init_learner_params,
    measure_penalty,
    stack_learners,
    train_learners,
)


def _tasks(n=5, seed=0):
    return SinusoidTasks(num_train=6, num_test=7).sample(n, torch.Generator().manual_seed(seed))


def _single(module, params, i):
    m = LearnerMLP(module.hidden_dim, module.num_layers)
    m.load_state_dict({k: v[i].detach().clone() for k, v in params.items()})
    return m


def test_batched_forward_equals_loop():
    module = LearnerMLP(hidden_dim=8, num_layers=3)
    tasks = _tasks()
    params = init_learner_params(module, tasks.num_tasks, torch.Generator().manual_seed(1))
    out = batched_forward(module, params, tasks.x_train)
    for i in range(tasks.num_tasks):
        ref = _single(module, params, i)(tasks.x_train[i])
        torch.testing.assert_close(out[i], ref)


def test_batched_sgd_equals_loop_of_single_learners():
    module = LearnerMLP(hidden_dim=8, num_layers=2)
    tasks = _tasks()
    params = init_learner_params(module, tasks.num_tasks, torch.Generator().manual_seed(2))
    penalty = measure_penalty("L2", 1e-2)
    traj = train_learners(module, params, tasks, num_steps=5, learning_rate=0.05, penalty=penalty)
    for i in range(tasks.num_tasks):
        m = _single(module, params, i)
        opt = torch.optim.SGD(m.parameters(), lr=0.05)
        for _ in range(5):
            loss = (m(tasks.x_train[i]) - tasks.y_train[i]).pow(2).mean()
            loss = loss + 1e-2 * sum(p.pow(2).sum() for p in m.parameters())
            opt.zero_grad()
            loss.backward()
            opt.step()
        for k, v in m.state_dict().items():
            torch.testing.assert_close(traj.params[k][i], v, rtol=1e-5, atol=1e-6)
        test_mse = (m(tasks.x_test[i]) - tasks.y_test[i]).pow(2).mean()
        torch.testing.assert_close(traj.final_test_mse[i], test_mse.detach())


def test_stack_learners_matches_modules():
    mods = [LearnerMLP(hidden_dim=4) for _ in range(3)]
    params = stack_learners(mods)
    x = torch.randn(3, 5, 1)
    out = batched_forward(mods[0], params, x)
    for i, m in enumerate(mods):
        torch.testing.assert_close(out[i], m(x[i]))


def test_init_follows_linear_default_bounds():
    module = LearnerMLP(hidden_dim=40)
    p = init_learner_params(module, 200, torch.Generator().manual_seed(0))
    assert p["hidden.0.weight"].shape == (200, 40, 40)
    assert p["hidden.0.weight"].abs().max() <= 1 / 40**0.5
    assert p["inp.weight"].abs().max() > 0.9  # fan_in 1 -> U(-1, 1)


def test_dropout_is_reproducible_and_changes_training():
    module = LearnerMLP(hidden_dim=8)
    tasks = _tasks()
    params = init_learner_params(module, tasks.num_tasks, torch.Generator().manual_seed(3))
    kw = dict(num_steps=3, learning_rate=0.05, dropout=0.5)
    a = train_learners(module, params, tasks, generator=torch.Generator().manual_seed(9), **kw)
    b = train_learners(module, params, tasks, generator=torch.Generator().manual_seed(9), **kw)
    c = train_learners(module, params, tasks, num_steps=3, learning_rate=0.05)
    torch.testing.assert_close(a.final_test_mse, b.final_test_mse)
    assert not torch.allclose(a.final_test_mse, c.final_test_mse)


def test_nan_objective_raises():
    module = LearnerMLP(hidden_dim=4)
    tasks = _tasks()
    params = init_learner_params(module, tasks.num_tasks)

    def bad(p, t, a, b):
        return torch.full((t.num_tasks,), float("nan"))

    try:
        train_learners(module, params, tasks, num_steps=1, learning_rate=0.1, penalty=bad, name="x")
    except FloatingPointError as e:
        assert "x" in str(e) and "step 0" in str(e)
    else:
        raise AssertionError("expected FloatingPointError")
