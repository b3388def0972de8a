"""A finished run keeps its models; `load_trained` + `evaluate` reproduce its recorded numbers
and score them on other kernels and noise; the command line rejects bad input with exit 2."""

import dataclasses
import json

import pytest
import torch

from paperzoo.app.reproduce import reproduce
from paperzoo.core.config import ConfigError
from paperzoo.core.presets import build_config
from paperzoo.neural_processes import CNP
from paperzoo.neural_processes.repro.evaluation import (
    evaluate,
    evaluation_config,
    gp_tasks,
    load_trained,
    main,
    parser,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return reproduce(
        "neural_processes",
        "smoke",
        out=out,
        device="cpu",
        overrides=["arms=['CNP', 'BNP']", "eval.num_batches=2"],
    )


def test_loaded_model_reproduces_the_recorded_metrics(run):
    res = json.loads((run / "results.json").read_text())
    for arm in ("CNP", "BNP"):
        model, cfg = load_trained(run, arm, seed=0)
        assert not model.training and cfg.arms == ["CNP", "BNP"]
        ec = cfg.eval
        for name, gamma in (("rbf", None), ("tnoise", 0.1)):
            tasks = gp_tasks("rbf", gamma, num_batches=2, batch_size=ec.batch_size, seed=ec.seed)
            r = evaluate(model, tasks, ec.num_samples, ec.seed)
            assert r["tar_ll"] == pytest.approx(res["arms"][arm][f"{name}/tar_ll"][0], abs=1e-5)


def test_t_noise_applies_to_any_kernel():
    clean = gp_tasks("matern", num_batches=1, seed=3)
    noisy = gp_tasks("matern", 0.1, num_batches=1, seed=3)
    assert torch.equal(clean[0].x, noisy[0].x) and not torch.equal(clean[0].y, noisy[0].y)
    rand = gp_tasks("periodic", t_noise_mode="per_point", num_batches=1, seed=3)
    assert rand[0].y.shape == clean[0].y.shape
    with pytest.raises(ValueError, match="t_noise must be >= 0"):
        gp_tasks("rbf", -1.0)


def test_evaluate_matches_the_official_per_batch_means():
    torch.manual_seed(0)
    model = CNP(hidden_dim=16)
    tasks = gp_tasks("rbf", num_batches=3, seed=1)
    r = evaluate(model, tasks)
    by_hand = []
    with torch.no_grad():
        for t in tasks:
            lp = model.predict(t.xc, t.yc, t.x).log_prob(t.y)
            by_hand.append(lp[:, t.num_context :].mean())
    assert r["tar_ll"] == pytest.approx(float(torch.stack(by_hand).mean()), abs=1e-6)
    assert 0 <= r["cov50"] <= r["cov80"] <= r["cov95"] <= 1
    assert model.training  # evaluate restores the mode it found


def test_command_line(run, capsys):
    assert (
        main(
            [
                str(run),
                "--arm",
                "CNP",
                "--kernel",
                "matern",
                "--t-noise",
                "0.1",
                "--batches",
                "1",
                "--samples",
                "5",
            ]
        )
        == 0
    )
    line = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert line["arm"] == "CNP" and line["kernel"] == "matern" and "tar_ll" in line
    assert main([str(run), "--arm", "ANP"]) == 2  # not trained in this run
    assert "models kept: BNP__seed0, CNP__seed0" in capsys.readouterr().err
    assert main([str(run.parent), "--arm", "CNP"]) == 2  # not a run directory


def test_run_evaluation_sets_follow_the_config():
    from paperzoo.neural_processes.repro.experiments import smoke
    from paperzoo.neural_processes.repro.train import _gp_data

    cfg = smoke()
    cfg.eval.num_batches = 1
    cfg.task.eval_kernels = ["matern"]
    cfg.task.t_noise_on_eval_kernels = True
    data = _gp_data(cfg)
    assert list(data.eval_sets) == ["rbf", "tnoise", "tnoise_random", "matern", "matern_tnoise"]
    # Official random gamma: drawn per point, so the set equals gp_tasks(..., "per_point").
    ref = gp_tasks("rbf", t_noise_mode="per_point", num_batches=1, seed=cfg.eval.seed)
    assert torch.equal(data.eval_sets["tnoise_random"][0].y, ref[0].y)
    cfg.task.random_t_noise = False
    assert "tnoise_random" not in _gp_data(cfg).eval_sets


def test_command_line_config_is_the_presets_through_build_config():
    """``--preset quick`` gives exactly ``build_config("neural_processes", "quick")``; the
    shorthands and ``--set`` are overrides validated like ``paperzoo reproduce --set``."""
    cfg = evaluation_config(parser().parse_args(["no-run-needed", "--preset", "quick"]))
    ref = build_config("neural_processes", "quick")
    for f in dataclasses.fields(ref):
        assert getattr(cfg, f.name) == getattr(ref, f.name), f.name
    args = ["x", "--preset", "quick", "--batches", "7", "--set", "eval.batch_size=8"]
    cfg = evaluation_config(parser().parse_args(args))
    assert cfg == build_config(
        "neural_processes", "quick", overrides=["eval.batch_size=8", "eval.num_batches=7"]
    )
    with pytest.raises(ConfigError, match=r"eval\.num_samples"):
        evaluation_config(parser().parse_args(["x", "--preset", "quick", "--samples", "0"]))


def test_command_line_defaults_to_the_runs_preset(run, capsys):
    assert evaluation_config(parser().parse_args([str(run)])) == build_config(
        "neural_processes", "smoke"
    )
    assert main([str(run), "--arm", "CNP", "--set", "eval.num_batches=-1"]) == 2
    assert "eval.num_batches" in capsys.readouterr().err


def test_the_benchmark_is_a_component_with_the_old_import_path_kept():
    import paperzoo.neural_processes as components
    from paperzoo.neural_processes.repro import evaluation

    assert evaluation.gp_tasks is components.gp_tasks
    assert evaluation.evaluate is components.evaluate
