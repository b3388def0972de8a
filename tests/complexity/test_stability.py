"""Numerical safety of NC as a regulariser: the divergence case, the bounded penalty, diverged
learners recorded instead of an abort; save/load and the public gap predictor."""

import pytest
import torch

from paperzoo.complexity import (
    LearnerMLP,
    NeuralComplexity,
    NeuralComplexityRegularizer,
    NeuralComplexityTrainer,
    SinusoidTasks,
    init_learner_params,
    nc_penalty,
    predict_gap,
    train_learners,
)


class _Extrapolating(NeuralComplexity):
    """What a ReLU NC does far outside its training inputs: a predicted gap that keeps falling
    as the test predictions grow (here -50 * mean(pred_test^2)), unbounded below."""

    def forward(self, x_train, y_train, pred_train, x_test, pred_test):
        return -50.0 * pred_test.pow(2).mean(dim=(1, 2))


def _shifted_tasks(n=8):
    # amplitude and phase both outside the meta-training ranges (A in [0.1, 5], phase in [0, pi])
    dist = SinusoidTasks(5, 15, amplitude_range=(5.0, 10.0), phase_range=(3.5, 6.0))
    return dist.sample(n, torch.Generator().manual_seed(0))


def _train(penalty, on_diverge="raise"):
    learner, tasks = LearnerMLP(), _shifted_tasks()
    init = init_learner_params(learner, tasks.num_tasks, torch.Generator().manual_seed(1))
    kw = dict(num_steps=48, learning_rate=2e-2, on_diverge=on_diverge)
    return train_learners(learner, init, tasks, penalty=penalty, **kw)


def test_an_unbounded_nc_penalty_drives_learners_to_nan():
    nc = _Extrapolating(hidden_dim=8, num_heads=2)
    with pytest.raises(FloatingPointError, match="objective"):
        _train(nc_penalty(nc, bounded=False))
    # recorded, not an abort: every learner frozen at finite parameters, the step kept
    traj = _train(nc_penalty(nc, bounded=False), on_diverge="freeze")
    assert traj.diverged.all() and (traj.diverged_at > 0).all()
    assert torch.isfinite(traj.final_test_mse).all()
    assert all(torch.isfinite(v).all() for v in traj.params.values())


def test_the_bounded_penalty_keeps_the_same_learners_finite():
    nc = _Extrapolating(hidden_dim=8, num_heads=2)
    nc.gap_range.copy_(torch.tensor([-0.5, 3.0]))  # the gaps it was regressed on
    traj = _train(nc_penalty(nc))
    assert not traj.diverged.any()
    plain = _train(None)  # no penalty at all: the same learners, for scale
    assert traj.final_test_mse.mean() < 10 * plain.final_test_mse.mean()


def test_floor_passes_nc_above_it_and_stops_the_gradient_below():
    nc = NeuralComplexity(hidden_dim=8, num_heads=2)
    gap = torch.tensor([-2.0, 0.5, 7.0], requires_grad=True)
    assert torch.equal(nc.bounded(gap), gap)  # never meta-trained: no range, no floor
    nc.gap_range.copy_(torch.tensor([-1.0, 3.0]))
    out = nc.bounded(gap)
    assert out.tolist() == [-1.0, 0.5, 7.0]  # a large predicted gap still pushes back
    out.sum().backward()
    assert gap.grad.tolist() == [0.0, 1.0, 1.0]
    reg = NeuralComplexityRegularizer(nc, reduction="none")
    x = [torch.randn(2, 4, 1) for _ in range(5)]
    raw = nc(*x)
    torch.testing.assert_close(reg(*x), raw.clamp(min=-1.0))
    torch.testing.assert_close(
        NeuralComplexityRegularizer(nc, bounded=False, reduction="none")(*x), raw
    )


def test_meta_training_records_the_range_of_gaps_it_regressed_on():
    torch.manual_seed(0)
    tasks = SinusoidTasks(num_train=5, num_test=8)
    nc = NeuralComplexity(hidden_dim=8, encoder_depth=2, decoder_depth=2, num_heads=2)
    trainer = NeuralComplexityTrainer(
        nc, tasks, LearnerMLP(hidden_dim=8), batch_size=16, task_batch_size=4, warmup_steps=100
    )
    trainer.populate(1)
    trainer.step()
    lo, hi = nc.gap_range.tolist()
    _, _, bank_gap = trainer.memory.ordered()
    assert bank_gap.min() <= lo <= hi <= bank_gap.max()


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=16, encoder_depth=2, decoder_depth=3, num_heads=4, pool="pma")
    nc.gap_range.copy_(torch.tensor([-0.25, 4.0]))
    nc.save(tmp_path / "nc.pt")
    back = NeuralComplexity.load(tmp_path / "nc.pt")
    assert back.hparams == nc.hparams and not back.training
    x = [torch.randn(3, 5, 1) for _ in range(5)]
    torch.testing.assert_close(back(*x), nc.eval()(*x))
    assert back.gap_range.tolist() == [-0.25, 4.0]
    with pytest.raises(FileNotFoundError, match="no saved"):
        NeuralComplexity.load(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a NeuralComplexity"):
        NeuralComplexity.load(tmp_path / "other.pt")


def test_predict_gap_runs_a_users_model_and_equals_the_network():
    torch.manual_seed(0)
    nc = NeuralComplexity(hidden_dim=8, num_heads=2).eval()
    model = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y, xt = torch.randn(6, 1), torch.randn(6, 1), torch.randn(9, 1)
    one = predict_gap(nc, model, x, y, xt)
    assert one.shape == ()
    with torch.no_grad():
        ref = nc(x[None], y[None], model(x)[None], xt[None], model(xt)[None])[0]
    torch.testing.assert_close(one, ref)
    batch = predict_gap(nc, model, torch.stack([x, x]), torch.stack([y, y]), torch.stack([xt, xt]))
    torch.testing.assert_close(batch, torch.stack([ref, ref]))
