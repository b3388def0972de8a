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


class _Steep(NeuralComplexity):
    """A predicted gap that stays far above the floor but is steep: 5 * mean((pred_test - 20)^2).
    The floor cannot help; a step along its gradient overshoots, as the mixture-trained NC's did
    on shifted sinusoids (1-9 of 512 learners)."""

    def forward(self, x_train, y_train, pred_train, x_test, pred_test):
        return 5.0 * (pred_test - 20.0).pow(2).mean(dim=(1, 2))


def test_a_steep_penalty_above_the_floor_diverges_unless_its_gradient_is_bounded():
    nc = _Steep(hidden_dim=8, num_heads=2)
    nc.gap_range.copy_(torch.tensor([-0.5, 3.0]))
    steep = _train(nc_penalty(nc), on_diverge="freeze")
    # the divergence case first: the floor is never reached, learners still blow up
    assert steep.diverged.any()
    assert not torch.isfinite(steep.final_test_mse).all() or steep.final_test_mse.max() > 1e6
    learner, tasks = LearnerMLP(), _shifted_tasks()
    init = init_learner_params(learner, tasks.num_tasks, torch.Generator().manual_seed(1))
    kw = dict(num_steps=48, learning_rate=2e-2, on_diverge="freeze")
    clipped = train_learners(
        learner, init, tasks, penalty=nc_penalty(nc), penalty_grad_clip=20.0, **kw
    )
    assert not clipped.diverged.any()
    assert clipped.final_test_mse.max() < 1e3


def _one_step(weights, clip):
    """Params after one SGD step, penalty_i = weights[i] * sum(pred_test_i) (per-learner scale)."""
    learner, tasks = LearnerMLP(hidden_dim=8), _shifted_tasks(3)
    init = init_learner_params(learner, 3, torch.Generator().manual_seed(2))
    w = torch.tensor(weights)

    def penalty(params, tasks, pred_train, pred_test):
        return w * pred_test.sum(dim=(1, 2))

    traj = train_learners(
        learner,
        init,
        tasks,
        num_steps=1,
        learning_rate=0.1,
        penalty=None if clip == "none" else penalty,
        penalty_grad_clip=None if clip in ("none", "off") else clip,
    )
    return traj.params


def _row_norms(a, b):
    return torch.sqrt(sum((a[k] - b[k]).flatten(1).pow(2).sum(1) for k in a))


def test_penalty_grad_clip_bounds_each_learners_penalty_step_and_nothing_else():
    plain = _one_step([0.0, 0.0, 0.0], "none")
    # learner 0: a gentle penalty (step below lr * c), 1 and 2: steep ones, clipped
    weights = [1e-3, 50.0, 5000.0]
    free, clipped = _one_step(weights, "off"), _one_step(weights, 2.0)
    free_step, clip_step = _row_norms(free, plain), _row_norms(clipped, plain)
    assert free_step[0] < 0.1 * 2.0 < free_step[1] < free_step[2]
    # the penalty's share of the step is lr * min(||g_pen||, c), per learner
    torch.testing.assert_close(clip_step[0], free_step[0])
    torch.testing.assert_close(clip_step[1:], torch.full((2,), 0.1 * 2.0))
    # once clipped, the direction is the penalty's own: scaling it by 100 changes nothing
    scaled = _one_step([1e-3, 50.0, 500000.0], 2.0)
    for k in clipped:
        torch.testing.assert_close(scaled[k][2], clipped[k][2])
    # a bound no learner reaches leaves training exactly as without it
    loose = _one_step(weights, 1e9)
    for k in free:
        torch.testing.assert_close(loose[k], free[k])
    with pytest.raises(ValueError, match="penalty_grad_clip"):
        _one_step(weights, 0.0)
