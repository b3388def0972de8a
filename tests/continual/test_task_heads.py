"""Task-incremental heads (masked logits) and the DataLoader-per-task API of the strategies."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from paperzoo.continual import OCS, OfficialMLP, Task, Uniform, gradient_gram
from paperzoo.continual.strategies import MASKED_LOGIT

KW = dict(lr=0.05, stream_size=20, pick_size=5, num_passes=2, memory_size=24, seed=0)


def _two_head_tasks(n=80, dim=6):
    """Task 0 uses labels {0, 1}, task 1 labels {2, 3}: one 4-output model, two heads."""
    g = torch.Generator().manual_seed(0)
    tasks = []
    for t in range(2):
        x = torch.randn(n + 40, dim, generator=g)
        y = (x[:, t] > 0).long() + 2 * t
        tasks.append(Task(t, x[:n], y[:n], x[n:], y[n:], classes=[2 * t, 2 * t + 1]))
    return tasks


def _mlp(dim=6, out=4):
    torch.manual_seed(0)
    return OfficialMLP(in_dim=dim, hidden=8, num_classes=out, dropout=0.0)


def test_logits_mask_every_sample_to_its_own_tasks_classes():
    s = Uniform(_mlp(), **KW)
    s.task_classes = {0: torch.tensor([0, 1]), 1: torch.tensor([2, 3])}
    out = s.logits(torch.randn(3, 6), torch.tensor([0, 1, 1]))
    assert (out[0, 2:] == MASKED_LOGIT).all() and (out[0, :2] > MASKED_LOGIT).all()
    assert (out[1:, :2] == MASKED_LOGIT).all() and (out[1:, 2:] > MASKED_LOGIT).all()
    # a task without classes (domain-incremental) keeps every output
    assert (s.logits(torch.randn(2, 6), 5) > MASKED_LOGIT).all()
    assert Uniform(_mlp(), **KW).allowed_classes(0, 4) is None


@pytest.mark.parametrize("method", ["linear", "vmap"])
def test_head_gram_equals_inner_products_of_masked_per_sample_gradients(method):
    s = OCS(_mlp(), **KW)
    s.task_classes = {1: torch.tensor([2, 3])}
    x, y = torch.randn(5, 6), torch.tensor([2, 3, 3, 2, 2])
    params = list(s.model.parameters())
    rows = []
    for i in range(5):  # brute force: one backward per sample on the masked logits
        logits = s.logits(x[i : i + 1], 1)
        g = torch.autograd.grad(F.cross_entropy(logits, y[i : i + 1]), params)
        rows.append(torch.cat([t.flatten() for t in g]))
    grads = torch.stack(rows)
    ref = torch.randn(grads.shape[1])
    gram = gradient_gram(s.head(1), x, y, ref, method=method)
    torch.testing.assert_close(gram.gram, grads @ grads.T, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(gram.ref_dots, grads @ ref, atol=1e-5, rtol=1e-4)
    # the mask matters: unmasked gradients differ
    plain = gradient_gram(s.model, x, y, ref, method=method)
    assert not torch.allclose(plain.gram, gram.gram, atol=1e-4)


def test_task_incremental_training_replays_and_scores_on_each_tasks_head():
    tasks = _two_head_tasks()
    s = OCS(_mlp(), **dict(KW, warm_start_iters=1))
    for t in tasks:
        s.train(t)
    assert set(s.task_classes) == {0, 1}
    assert set(s.buffer.task_ids.tolist()) == {0, 1}
    acc = s.evaluate(tasks)
    for t, a in zip(tasks, acc):  # evaluate scores on the task's own head
        pred = s.logits(t.x_test, t.task_id).argmax(1)
        assert set(pred.tolist()) <= set(t.classes.tolist())
        assert a == pytest.approx(float((pred == t.y_test).float().mean()))
    _xr, yr, tr = s.replay_batch()
    for yi, ti in zip(yr.tolist(), tr.tolist()):
        assert yi in s.task_classes[ti].tolist()


def test_task_classes_survive_resume():
    tasks = _two_head_tasks()
    s = Uniform(_mlp(), **KW)
    s.train(tasks[0])
    state = s.state_dict()
    r = Uniform(_mlp(), **KW)
    r.load_state_dict(state)
    assert torch.equal(r.task_classes[0], torch.tensor([0, 1]))


def test_task_rejects_labels_outside_its_classes():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="not in its classes"):
        Task(0, x, torch.tensor([0, 1, 2, 1]), x, torch.tensor([0, 1, 1, 0]), classes=[0, 1])


class _TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.relu(self.conv(x)).flatten(1))


def _image_loaders(task, n=120):
    """Three classes, each a bright 2x2 patch at its own place on a 6x6 image (+ noise)."""
    g = torch.Generator().manual_seed(task)
    y = torch.arange(n) % 3
    x = 0.3 * torch.randn(n, 1, 6, 6, generator=g)
    for c in range(3):
        r, col = (c * 2, (c + task) % 3 * 2)
        x[y == c, 0, r : r + 2, col : col + 2] += 2.0
    train = DataLoader(TensorDataset(x[:90], y[:90]), batch_size=7, shuffle=True)
    test = DataLoader(TensorDataset(x[90:], y[90:]), batch_size=16)
    return train, test


def test_ocs_on_a_users_own_dataloaders_and_conv_model():
    torch.manual_seed(0)
    loaders = [_image_loaders(t) for t in range(2)]
    ocs = OCS(_TinyCNN(), **dict(KW, lr=0.1, num_passes=3, warm_start_iters=1))
    for t, (train, _) in enumerate(loaders):
        ocs.train(train)  # any DataLoader of (x, y); images stay images
        acc = ocs.evaluate([test for _, test in loaders[: t + 1]])
        assert len(acc) == t + 1
    assert ocs.tasks_seen == 2
    assert ocs.buffer.x.shape[1:] == (1, 6, 6) and len(ocs.buffer) == 24
    assert min(acc) > 0.6  # three easy classes: well above chance (1/3) on both tasks
    with pytest.raises(TypeError, match=r"\(x, y\) pairs"):
        ocs.train([torch.zeros(3, 1, 6, 6)])
