"""Strategies and buffers on a tiny generated stream: memory sizes, balance, projection, resume."""

import pytest
import torch

from paperzoo.continual import (
    AGEM,
    OCS,
    ERReservoir,
    Finetune,
    OfficialMLP,
    ReservoirSamplingBuffer,
    Task,
    Uniform,
    UniformBalanced,
    agem_project,
    make_stream,
)


def _stream(num_tasks=3, n=120, dim=10):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(dim, 4, generator=g)
    train, test, masks = [], [], []
    for t in range(num_tasks):
        x = torch.randn(n, dim, generator=g) + t
        train.append((x, (x @ w).argmax(1)))
        xt = torch.randn(40, dim, generator=g) + t
        test.append((xt, (xt @ w).argmax(1)))
        masks.append(torch.arange(n) % 3 == 0)
    return make_stream(train, test, noise_masks=masks)


KW = dict(lr=0.05, stream_size=20, pick_size=5, num_passes=2, memory_size=24, seed=0)


def _model():
    torch.manual_seed(0)
    return OfficialMLP(in_dim=10, hidden=16, num_classes=4)


@pytest.mark.parametrize("cls", [UniformBalanced, OCS])
def test_coreset_memory_is_class_balanced_and_within_size(cls):
    tasks = _stream()
    kw = dict(KW, warm_start_iters=1) if cls is OCS else KW
    s = cls(_model(), **kw)
    for k, task in enumerate(tasks):
        s.train(task)
        per_task = 24 // (k + 1)
        assert len(s.buffer) <= 24
        for tid in range(k + 1):
            x, y, ids = s.buffer.task_data(tid)
            assert len(y) <= per_task and len(x) == len(ids)
            counts = torch.bincount(y, minlength=4)
            present = counts[counts > 0]
            # equal quotas; only seats a short class gives up (< one per class) go elsewhere
            assert present.max() <= per_task // len(present) + len(present)
            # stored samples are the task's own training samples
            torch.testing.assert_close(tasks[tid].x_train[ids], x)


def test_all_strategies_train_and_evaluate():
    tasks = _stream()
    for cls in (Finetune, ERReservoir, AGEM, Uniform, UniformBalanced, OCS):
        s = cls(_model(), **KW)
        for task in tasks:
            s.train(task)
        acc = s.evaluate(tasks)
        assert len(acc) == 3 and all(0 <= a <= 1 for a in acc)
        assert s.selected_total == 3 * 2 * 6 * 5  # tasks x passes x batches x kappa
        assert 0 <= s.selected_noise <= s.selected_total


def test_reservoir_buffer_capacity_and_counts():
    buf = ReservoirSamplingBuffer(10)
    g = torch.Generator().manual_seed(0)
    for b in range(20):
        ids = torch.arange(b * 5, b * 5 + 5)
        buf.add(ids.float()[:, None], ids % 3, 0, ids, g)
    assert len(buf) == 10 and buf.num_seen == 100
    assert len(set(buf.sample_ids.tolist())) == 10
    torch.testing.assert_close(buf.x[:, 0], buf.sample_ids.float())
    with pytest.raises(ValueError):
        ReservoirSamplingBuffer(0)


def test_agem_projection():
    g, ref = torch.tensor([1.0, -2.0]), torch.tensor([0.0, 1.0])
    p = agem_project(g, ref)
    torch.testing.assert_close(p, torch.tensor([1.0, 0.0]))
    assert p @ ref >= 0
    ok = torch.tensor([1.0, 2.0])
    assert torch.equal(agem_project(ok, ref), ok)


def test_state_dict_resume_is_exact():
    tasks = _stream()
    full = OCS(_model(), **KW)
    for task in tasks:
        full.train(task)
    part = OCS(_model(), **KW)
    part.train(tasks[0])
    state = part.state_dict()
    resumed = OCS(_model(), **KW)
    resumed.load_state_dict(state)
    for task in tasks[1:]:
        resumed.train(task)
    for a, b in zip(full.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(full.buffer.x, resumed.buffer.x)


def test_nan_loss_raises_floating_point_error():
    tasks = _stream(num_tasks=1)
    s = Finetune(_model(), **KW)
    with torch.no_grad():
        s.model.net[0].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="Finetune"):
        s.train(tasks[0])


def _skewed_task(task_id=0, n=400, dim=6):
    """Class 0 holds 90 % of the samples, classes 1-3 the rest."""
    g = torch.Generator().manual_seed(task_id)
    y = torch.where(torch.arange(n) % 10 == 0, 1 + torch.arange(n) % 3, 0)
    x = torch.randn(n, dim, generator=g) + y[:, None]
    return Task(task_id, x, y, x[:20], y[:20])


def test_official_uniform_keeps_the_stream_skew_and_balanced_variant_equalises():
    kw = dict(KW, memory_size=40, num_passes=1, pick_size=20)  # every sample is a candidate
    counts = {}
    for cls in (Uniform, UniformBalanced):
        torch.manual_seed(0)
        s = cls(OfficialMLP(in_dim=6, hidden=8, num_classes=4), **kw)
        s.train(_skewed_task())
        counts[cls.name] = torch.bincount(s.buffer.y, minlength=4)
        assert len(s.buffer) == 40
    # a plain random 40 of ~90 % class 0: far more than the balanced quota of 10
    assert counts["Uniform"][0] >= 28
    assert counts["Uniform-balanced"].tolist() == [10, 10, 10, 10]
    assert Uniform(_model(), **KW).class_balanced is False
    assert OCS(_model(), **KW).class_balanced is True


def test_official_uniform_shrinks_earlier_coresets_at_random():
    s = Uniform(OfficialMLP(in_dim=6, hidden=8, num_classes=4), **dict(KW, memory_size=40))
    s.train(_skewed_task(0))
    first = set(s.buffer.task_data(0)[2].tolist())
    s.train(_skewed_task(1))
    kept = s.buffer.task_data(0)[2].tolist()
    assert len(kept) == 20 and set(kept) <= first


def test_min_steps_adds_passes_for_a_small_task_only():
    tasks = _stream(num_tasks=1)  # 120 samples -> 6 batches of 20
    s = Finetune(_model(), **dict(KW, num_passes=2, min_steps=15))
    steps = []
    s.step_callback = lambda step, total: steps.append((step, total))
    s.train(tasks[0])
    assert steps[-1] == (18, 18)  # ceil(15 / 6) = 3 passes
    big = Finetune(_model(), **dict(KW, num_passes=2, min_steps=5))
    big.train(tasks[0])
    assert big.global_step == 12  # already above the minimum: num_passes stands
