"""Pruning wrappers: requested sparsity is reached and masks stay applied during fine-tuning."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from paperzoo.compression import (
    AttributionMatchingLoss,
    FineTuneObjective,
    SmallVGG,
    fit,
    global_magnitude_prune,
    iterative_magnitude_pruning,
    l1_filter_prune,
    make_pruning_permanent,
    sparsity,
)


def _model(seed: int = 0) -> SmallVGG:
    torch.manual_seed(seed)
    return SmallVGG(widths=(4, 8, 8), image_size=16, hidden_dim=8)


def _batches(n: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(8, 1, 16, 16, generator=g), torch.randint(0, 10, (8,), generator=g))
            for _ in range(n)]  # fmt: skip


def test_global_magnitude_prune_reaches_sparsity_and_removes_smallest():
    model = _model()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    before = torch.cat([m.weight.detach().abs().flatten() for m in convs])
    assert global_magnitude_prune(model, 0.9) == pytest.approx(0.9, abs=1.0 / before.numel())
    after = torch.cat([m.weight.detach().flatten() for m in convs])
    # Every surviving weight is at least as large as every pruned one (global magnitude order).
    assert before[after != 0].min() >= before[after == 0].max()


def test_iterative_schedule_and_masks_survive_fine_tuning():
    model = _model(1)
    batches = _batches()
    objective = FineTuneObjective(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    masks_seen = []

    def fine_tune(i: int) -> None:
        zero_before = [(m.weight == 0).clone() for m in model.modules() if isinstance(m, nn.Conv2d)]
        fit(objective, opt, batches, name=f"iteration {i}")
        zero_after = [(m.weight == 0) for m in model.modules() if isinstance(m, nn.Conv2d)]
        for b, a in zip(zero_before, zero_after):
            assert bool(a[b].all())  # pruned weights are still exactly zero after training
        masks_seen.append(sparsity(model))

    reached = iterative_magnitude_pruning(model, 0.875, 3, fine_tune)
    expected = [1 - 0.125 ** (i / 3) for i in (1, 2, 3)]
    total = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
    assert reached == pytest.approx(expected, abs=1.0 / total)
    assert masks_seen == pytest.approx(reached)


def test_fine_tuning_with_wcam_keeps_masks():
    teacher = _model(2).eval()
    import copy

    student = copy.deepcopy(teacher)
    global_magnitude_prune(student, 0.8)
    zero = [(m.weight == 0).clone() for m in student.modules() if isinstance(m, nn.Conv2d)]
    match = AttributionMatchingLoss(teacher, student, "features", "features", beta=100.0)
    opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
    fit(FineTuneObjective(student, match), opt, _batches(3, seed=1))
    for z, m in zip(zero, [m for m in student.modules() if isinstance(m, nn.Conv2d)]):
        assert bool((m.weight[z] == 0).all())
    assert sparsity(student) == pytest.approx(0.8, abs=1e-2)


def test_l1_filter_prune_zeroes_smallest_filters():
    conv = nn.Conv2d(1, 4, 3)
    with torch.no_grad():
        for k, s in enumerate([3.0, 0.1, 2.0, 0.2]):
            conv.weight[k].fill_(s)
    model = nn.Sequential(conv)
    l1_filter_prune(model, 0.5)
    zero_filters = (conv.weight.flatten(1) == 0).all(1)
    assert zero_filters.tolist() == [False, True, False, True]
    assert (conv.bias[zero_filters] == 0).all()
    out = model(torch.rand(2, 1, 5, 5))
    assert (out[:, zero_filters] == 0).all()
    make_pruning_permanent(model)
    assert not hasattr(conv, "weight_mask") and (conv.weight[1] == 0).all()


def test_sparsity_arguments_checked():
    with pytest.raises(ValueError):
        global_magnitude_prune(_model(), 1.0)
    with pytest.raises(ValueError):
        iterative_magnitude_pruning(_model(), 0.5, 0, lambda i: None)


def test_fit_raises_on_nan():
    model = _model()

    def objective(x, y):
        out = FineTuneObjective(model)(x, y)
        out.loss = out.loss * float("nan")
        return out

    with pytest.raises(FloatingPointError, match="arm-x"):
        fit(objective, torch.optim.SGD(model.parameters(), lr=0.1), _batches(1), name="arm-x")
    assert F.relu is not None


def test_fit_trains_the_student_in_train_mode_and_keeps_the_teacher_frozen():
    # Before the fix, a pruned copy of an eval-mode teacher fine-tuned in eval mode: its
    # BatchNorm kept the dense teacher's running statistics and dropout stayed off.
    from paperzoo.compression import DistillationObjective

    torch.manual_seed(0)
    teacher = SmallVGG(widths=(4, 8), num_pooled=1, image_size=8, hidden_dim=8).eval()
    student = copy.deepcopy(teacher)
    assert not student.training  # a copy inherits eval mode
    bn = next(m for m in student.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    t_bn = next(m for m in teacher.modules() if isinstance(m, torch.nn.BatchNorm2d))
    t_before = t_bn.running_mean.clone()
    x, y = torch.rand(16, 1, 8, 8) + 1.0, torch.randint(0, 10, (16,))
    opt = torch.optim.SGD(student.parameters(), lr=0.0)  # lr 0: only the statistics move
    fit(FineTuneObjective(student), opt, [(x, y)])
    assert student.training and not torch.equal(bn.running_mean, before)
    teacher.train()  # even a teacher handed over in train mode is frozen by fit
    fit(DistillationObjective(teacher, student), opt, [(x, y)])
    assert not teacher.training and torch.equal(t_bn.running_mean, t_before)


def test_fine_tuning_batches_span_several_epochs():
    # Slicing one epoch's loader capped every pruning iteration at one epoch, whatever
    # epochs_per_iteration asked for; the helper draws as many reshuffled epochs as needed.
    from paperzoo.compression.repro.train import _batches

    x, y = torch.arange(20.0).reshape(20, 1), torch.arange(20) % 3
    got = list(_batches((x, y), 8, 7, seed=0))  # 3 batches per epoch -> 3 epochs' worth
    assert len(got) == 7
    seen = torch.cat([b[0] for b in got[:3]]).flatten().sort().values
    assert torch.equal(seen, torch.arange(20.0))  # the first three batches are one epoch
    assert list(_batches((x, y), 8, 0, seed=0)) == []
