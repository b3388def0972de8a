"""Classification tasks for NC: few-shot sampler, cross-entropy learners, NC's class inputs."""

import pytest
import torch
import torch.nn.functional as F

from paperzoo.complexity import (
    ClassificationTasks,
    FewShotClassification,
    LearnerMLP,
    MemoryBank,
    MixtureTasks,
    NeuralComplexity,
    NeuralComplexityTrainer,
    PolynomialTasks,
    SinusoidTasks,
    init_learner_params,
    nc_penalty,
    pca_features,
    snapshot_inputs,
    task_loss,
    train_learners,
)


def _sampler(ways=3, shots=2, queries=3):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(6).repeat_interleave(10)  # 6 classes x 10 examples
    feats = torch.randn(60, 4, generator=g) + labels[:, None].float()
    return FewShotClassification(feats, labels, [0, 1, 2, 3], ways, shots, queries), feats, labels


def test_few_shot_tasks_are_disjoint_one_hot_and_from_the_given_classes():
    sampler, feats, labels = _sampler()
    t = sampler.sample(5, torch.Generator().manual_seed(1))
    assert isinstance(t, ClassificationTasks) and t.loss == "cross_entropy"
    assert t.x_train.shape == (5, 6, 4) and t.y_train.shape == (5, 6, 3)
    assert t.x_test.shape == (5, 9, 4) and t.y_test.shape == (5, 9, 3)
    for i in range(5):
        # recover each point's example index from its feature row
        rows = [
            int(torch.nonzero((feats == r).all(1))[0])
            for r in torch.cat([t.x_train[i], t.x_test[i]])
        ]
        assert len(set(rows)) == 15  # no example twice, train and test disjoint
        assert set(labels[rows].tolist()) <= {0, 1, 2, 3}
        # a task's label c always means the same original class, in train and test
        y = torch.cat([t.y_train[i], t.y_test[i]]).argmax(-1)
        for c in range(3):
            assert len(set(labels[torch.tensor(rows)][y == c].tolist())) == 1
    with pytest.raises(ValueError, match="classes"):
        FewShotClassification(feats, labels, [0, 1], num_ways=3)
    with pytest.raises(ValueError, match="one-hot"):
        ClassificationTasks(t.x_train, t.y_train * 2, t.x_test, t.y_test)


def test_cross_entropy_task_loss_matches_torch():
    logits, target = torch.randn(2, 5, 3), torch.randint(3, (2, 5))
    got = task_loss(logits, F.one_hot(target, 3).float(), "cross_entropy")
    want = torch.stack([F.cross_entropy(logits[i], target[i]) for i in range(2)])
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="unknown loss"):
        task_loss(logits, logits, "hinge")


def test_snapshot_interaction_columns_and_keys():
    x, y = torch.randn(2, 4, 5), F.one_hot(torch.randint(3, (2, 4)), 3).float()
    p, xt, pt = torch.randn(2, 4, 3), torch.randn(2, 6, 5), torch.randn(2, 6, 3)
    nc = NeuralComplexity(16, 2, 2, 2, x_dim=5, y_dim=3, pred_transform="softmax", interaction=True)
    te, tr, v = nc.snapshot(x, y, p, xt, pt)
    assert te.shape == (2, 6, 8) and tr.shape == (2, 4, 8) and v.shape == (2, 4, 5 + 6 + 9)
    probs = p.softmax(-1)
    torch.testing.assert_close(v[..., 5:8], y)
    torch.testing.assert_close(v[..., 8:11], probs)
    # the interaction block is y_a * prob_b; for one-hot y its row of the label holds the probs
    outer = v[..., 11:].reshape(2, 4, 3, 3)
    torch.testing.assert_close(outer.sum(-2), probs)
    torch.testing.assert_close(nc.keys(v), tr)
    assert nc(x, y, p, xt, pt).shape == (2,)
    # regression layout unchanged: (x, pred) / (x, y, pred)
    a, b, c = snapshot_inputs(
        *(torch.randn(1, 3, 1) for _ in range(3)), torch.randn(1, 4, 1), torch.randn(1, 4, 1)
    )
    assert (a.shape[-1], b.shape[-1], c.shape[-1]) == (2, 2, 3)


def test_nc_meta_trains_and_regularises_classifiers():
    torch.manual_seed(0)
    sampler, _, _ = _sampler()
    nc = NeuralComplexity(16, 2, 2, 2, x_dim=4, y_dim=3, pred_transform="softmax", interaction=True)
    learner = LearnerMLP(hidden_dim=8, in_dim=4, out_dim=3)
    trainer = NeuralComplexityTrainer(
        nc,
        sampler,
        learner,
        batch_size=16,
        task_batch_size=4,
        inner_steps=4,
        warmup_steps=2,
        learn_every=2,
        inner_learning_rate=0.1,
    )
    trainer.populate(1)
    assert trainer.memory.tr_xyp.shape[1:] == (6, 4 + 6 + 9)
    for _ in range(4):
        assert set(trainer.step()) == {"loss", "mae"}
    tasks = sampler.sample(3, torch.Generator().manual_seed(2))
    init = init_learner_params(learner, 3, torch.Generator().manual_seed(3))
    traj = train_learners(
        learner, init, tasks, num_steps=3, learning_rate=0.1, penalty=nc_penalty(nc)
    )
    assert traj.final_test_mse.shape == (3,) and torch.isfinite(traj.final_test_mse).all()


def test_memory_bank_rejects_wrong_widths():
    bank = MemoryBank(4, 2, 3, query_dim=5, value_dim=7, key_columns=[0, 1, 2, 5, 6])
    bank.add(torch.zeros(1, 3, 5), torch.zeros(1, 2, 7), torch.zeros(1))
    assert bank.sample(1)[1].shape == (1, 2, 5)
    with pytest.raises(ValueError, match="expected"):
        bank.add(torch.zeros(1, 3, 2), torch.zeros(1, 2, 3), torch.zeros(1))
    with pytest.raises(ValueError, match="key_columns"):
        MemoryBank(4, 2, 3, query_dim=2, value_dim=3, key_columns=[0, 5])


def test_mixture_draws_every_family_in_proportion():
    mix = MixtureTasks([SinusoidTasks(5, 7), PolynomialTasks(5, 7)], weights=[3, 1])
    t = mix.sample(400, torch.Generator().manual_seed(0))
    assert t.x_train.shape == (400, 5, 1)
    with pytest.raises(ValueError, match="same num_train"):
        MixtureTasks([SinusoidTasks(5, 7), PolynomialTasks(6, 7)])


def test_pca_features_fit_on_the_given_rows_only():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 10, generator=g) * torch.tensor([5.0, 1, 1, 1, 1, 1, 1, 1, 1, 0.1])
    z = pca_features(x, torch.arange(100), 2)
    assert z.shape == (200, 2)
    assert abs(float(z[:100, 0].std()) - 1.0) < 1e-5  # unit scale on the fitting rows
    # the top component is the high-variance axis
    assert abs(torch.corrcoef(torch.stack([z[:, 0], x[:, 0]]))[0, 1]) > 0.99
    x2 = x.clone()
    x2[100:] += 100.0  # changing non-fitting rows does not move the components of fitting rows
    torch.testing.assert_close(pca_features(x2, torch.arange(100), 2)[:100], z[:100])


@pytest.mark.slow
def test_mixture_regime_runs_end_to_end_and_keeps_its_nc(tmp_path):
    import json

    from paperzoo.app.reproduce import reproduce

    run = reproduce(
        "complexity",
        "smoke",
        overrides=['regimes=["mixture"]', 'eval.transfer_families=["polynomial"]'],
        out=tmp_path,
        device="cpu",
        data_root=tmp_path / "no-data",
    )
    res = json.loads((run / "results.json").read_text())
    assert {"mixture/nc", "mixture/none", "mixture/transfer:polynomial:nc"} <= set(res["arms"])
    nc = NeuralComplexity.load(run / "artifacts" / "mixture__seed0" / "nc.pt")
    lo, hi = nc.gap_range.tolist()
    assert lo <= hi  # meta-training recorded the range of gaps it regressed on


@pytest.mark.slow
def test_the_kept_nc_is_the_one_with_the_best_validation_r(tmp_path):
    """``meta.select_best``: the unit reports the step whose validation R was highest in
    metrics.jsonl and keeps that NC (its prediction differs from the last NC's when the best
    is not last); with ``select_best=false`` it keeps the last."""
    import json

    from paperzoo.app.reproduce import reproduce

    def run(select: bool, out):
        sets = ['regimes=["overfit"]', "meta.num_steps=24", "meta.log_every=3"]
        run = reproduce(
            "complexity",
            "smoke",
            overrides=[*sets, f"meta.select_best={str(select).lower()}"],
            out=out,
            device="cpu",
            data_root=tmp_path / "no-data",
        )
        rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        curve = [(r["val/gap_R"], r["step"]) for r in rows if "val/gap_R" in r]
        res = json.loads((run / "results.json").read_text())
        chosen = res["arms"]["overfit/nc"]["meta/selected_step"][0]
        nc = NeuralComplexity.load(run / "artifacts" / "overfit__seed0" / "nc.pt")
        return curve, chosen, nc

    curve, chosen, best = run(True, tmp_path / "best")
    assert len(curve) == 8
    r_max = max(r for r, _ in curve)
    assert chosen == min(s for r, s in curve if r == r_max)  # the first step reaching the max
    _, last_step, last = run(False, tmp_path / "last")
    assert last_step == 24
    same = all(
        torch.equal(a, b) for a, b in zip(best.state_dict().values(), last.state_dict().values())
    )
    assert same == (chosen == 24)
