"""Task samplers, hand-designed measures (hand-computed), gap metrics, one trainer step."""

import math

import pytest
import torch

from paperzoo.complexity import (
    LearnerMLP,
    NeuralComplexity,
    NeuralComplexityTrainer,
    PolynomialTasks,
    SinusoidTasks,
    complexity_measure,
    gap_prediction_metrics,
    param_norm,
)


def test_sinusoid_ranges_and_determinism():
    dist = SinusoidTasks(10, 15)
    a = dist.sample(256, torch.Generator().manual_seed(0))
    b = dist.sample(256, torch.Generator().manual_seed(0))
    assert torch.equal(a.y_test, b.y_test)
    assert a.x_train.shape == (256, 10, 1) and a.x_test.shape == (256, 15, 1)
    assert a.x_train.min() >= -5 and a.x_train.max() <= 5
    amp = torch.cat([a.y_train, a.y_test], 1).abs().amax(dim=(1, 2))
    assert amp.max() <= 5.0 + 1e-5


def test_polynomial_matches_formula():
    dist = PolynomialTasks(4, 3, degree=2)
    params = {"coef": torch.tensor([[[1.0, 2.0, 3.0]]])}
    x = torch.tensor([[[5.0], [-2.5]]])
    y = dist.evaluate(params, x)
    torch.testing.assert_close(y, torch.tensor([[[6.0], [1.0 - 1.0 + 0.75]]]))
    assert dist.sample(3).num_tasks == 3


def test_measures_hand_computed():
    w1 = torch.tensor([[[3.0, -4.0], [0.0, 1.0]]])  # (tasks=1, out=2, in=2)
    w2 = torch.tensor([[[2.0, 0.0]]])
    b = torch.tensor([[1.0, -1.0]])
    params = {"a.weight": w1, "a.bias": b, "b.weight": w2}
    torch.testing.assert_close(complexity_measure(params, "L1"), torch.tensor([8.0 + 2 + 2]))
    torch.testing.assert_close(complexity_measure(params, "L2"), torch.tensor([26.0 + 4 + 2]))
    torch.testing.assert_close(param_norm(params), torch.tensor([math.sqrt(32.0)]))
    # L_{1,inf}: max row L1 norm per layer, product: max(7, 1) * 2
    torch.testing.assert_close(complexity_measure(params, "L_{1,inf}"), torch.tensor([14.0]))
    torch.testing.assert_close(
        complexity_measure(params, "Frobenius"), torch.tensor([math.sqrt(26.0) * 2.0])
    )
    s = torch.linalg.svdvals(w1[0])
    torch.testing.assert_close(complexity_measure(params, "Spectral"), (s.max() * 2).reshape(1))
    torch.testing.assert_close(complexity_measure(params, "Trace"), (s.sum() * 2).reshape(1))
    with pytest.raises(ValueError, match="unknown measure"):
        complexity_measure(params, "nope")


def test_gap_prediction_metrics():
    m = gap_prediction_metrics(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 4.0, 6.0]))
    assert m["R"] == pytest.approx(1.0) and m["mae"] == pytest.approx(2.0)


def _tiny_trainer(generator: torch.Generator | None = None) -> NeuralComplexityTrainer:
    torch.manual_seed(0)
    return NeuralComplexityTrainer(
        NeuralComplexity(hidden_dim=8, encoder_depth=2, num_heads=2),
        SinusoidTasks(5, 6),
        LearnerMLP(hidden_dim=8),
        batch_size=16,
        task_batch_size=4,
        inner_steps=3,
        learn_every=2,
        warmup_steps=1,
        memory_capacity=100,
        generator=generator,
    )


def test_trainer_step_populates_and_checkpoints():
    tr = _tiny_trainer(torch.Generator().manual_seed(0))
    tr.populate(2)
    assert len(tr.memory) == 2 * 4 * 3
    state = tr.state_dict()
    m1 = [tr.step() for _ in range(2)]  # step 2 runs a regularised learner batch
    assert len(tr.memory) == 3 * 4 * 3 and tr.regularizing
    tr2 = _tiny_trainer()
    tr2.load_state_dict(state)
    m2 = [tr2.step() for _ in range(2)]
    assert m1 == m2
