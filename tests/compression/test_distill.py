"""KD loss against a hand computation; the KD objective accepts any matching loss."""

import math

import pytest
import torch

from paperzoo.compression import (
    AttributionMatchingLoss,
    DistillationObjective,
    SmallVGG,
    kd_loss,
)


def test_kd_loss_hand_computed():
    s = torch.tensor([[1.0, 0.0]])
    t = torch.tensor([[0.0, 2.0]])
    y = torch.tensor([0])
    temp, alpha = 2.0, 0.7
    ps = torch.softmax(s / temp, 1)[0]
    pt = torch.softmax(t / temp, 1)[0]
    kl = sum(pt[i] * math.log(pt[i] / ps[i]) for i in range(2))
    ce = -math.log(torch.softmax(s, 1)[0, 0])
    expected = alpha * temp**2 * kl + (1 - alpha) * ce
    assert kd_loss(s, t, y, temperature=temp, alpha=alpha).item() == pytest.approx(float(expected))


@pytest.mark.parametrize("kind,drop", [(None, 0.0), ("at", 0.0), ("wcam", 0.0), ("wcam", 0.3)])
def test_objective_accepts_every_matching_loss(kind, drop):
    torch.manual_seed(0)
    teacher = SmallVGG(widths=(8, 8, 8), image_size=16, hidden_dim=16).eval()
    student = SmallVGG(widths=(8, 8, 8), width_divisor=4, image_size=16, hidden_dim=16)
    match = None
    if kind is not None:
        match = AttributionMatchingLoss(
            teacher, student, "features", "features", kind=kind, stochastic_drop=drop
        )
    obj = DistillationObjective(teacher, student, match)
    x, y = torch.rand(4, 1, 16, 16), torch.randint(0, 10, (4,))
    out = obj(x, y)
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert (out.match > 0) == (kind is not None)
    assert all(p.grad is None for p in teacher.parameters())
    assert student.classifier[-1].weight.grad is not None
