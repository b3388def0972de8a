"""Evaluate neural processes on fixed task sets, and load the models a finished run kept.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp, ``eval`` mode of
``regression/gp.py``).

The official evaluation draws a fixed set of batches with seed 42 (the same seed for the clean
and the noisy set, so both share inputs and counts) and reports the mean per-point context and
target log-likelihood with K = 50 samples. :func:`gp_tasks` builds such a set for any kernel with
or without Student-t noise, :func:`evaluate` scores a model on it (plus the coverage of central
predictive intervals, an addition), and :func:`load_trained` rebuilds a model that
``paperzoo reproduce neural_processes`` trained (weights-only checkpoints under
``<run>/artifacts/<ARM>__seed<S>/model.pt``), so it can be evaluated later on other kernels::

    model, cfg = load_trained("runs/neural_processes/quick/20261128-170000", "BNP", seed=0)
    tasks = gp_tasks("matern", t_noise=0.1, num_batches=100)
    print(evaluate(model, tasks, num_samples=50)["tar_ll"])

The same from a shell: ``python -m paperzoo.neural_processes.repro.evaluation RUN --arm BNP --kernel
matern --t-noise 0.1``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from paperzoo.core.checkpoint import load_checkpoint
from paperzoo.core.config import load_toml
from paperzoo.core.engine import artifact_path
from paperzoo.core.seed import make_generator

from ..metrics import context_target_log_likelihood
from ..models import MODELS, NeuralProcess, make_model
from ..tasks import GPTaskSampler, Task, make_kernel
from .config import KERNEL_NAMES, Config

__all__ = [
    "CALIBRATION_GRID",
    "COVERAGE_LEVELS",
    "MODEL_FILE",
    "build_model",
    "evaluate",
    "gp_tasks",
    "load_trained",
    "main",
    "parser",
]

CALIBRATION_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Central-interval levels 0.05 .. 0.95 at which target coverage is measured."""
COVERAGE_LEVELS = (0.5, 0.8, 0.95)
"""Levels reported as separate metrics (``cov50``, ``cov80``, ``cov95``)."""
MODEL_FILE = "model.pt"
"""Name of the weights-only checkpoint each unit of a run keeps."""

TNoiseMode = Literal["fixed", "per_point", "per_task"]


def gp_tasks(
    kernel: str = "rbf",
    t_noise: float | None = None,
    t_noise_mode: TNoiseMode = "fixed",
    max_t_noise: float = 0.15,
    num_batches: int = 100,
    batch_size: int = 16,
    seed: int = 42,
    length_range: tuple[float, float] = (0.1, 0.6),
    scale_range: tuple[float, float] = (0.1, 1.0),
    max_num_points: int = 50,
) -> list[Task]:
    """A fixed evaluation set of GP task batches, drawn from ``seed`` (official: 42).

    Args:
        kernel: ``rbf``, ``matern`` or ``periodic``.
        t_noise: gamma of the Student-t(2.1) output noise (``t_noise_mode="fixed"``); None: none.
        t_noise_mode: ``fixed``, ``per_point`` (gamma ~ U(0, ``max_t_noise``) per output, the
            official ``t_noise=-1``) or ``per_task``.
        num_batches, batch_size: the official evaluation has 3000 batches of 16 tasks.

    Sets built with the same seed share inputs and point counts whatever the kernel's noise, so
    a clean and a noisy set differ only in the noise.
    """
    if t_noise_mode == "fixed" and t_noise is not None and t_noise < 0:
        raise ValueError(f"t_noise must be >= 0 (or use t_noise_mode='per_point'), got {t_noise}")
    sampler = GPTaskSampler(
        make_kernel(kernel, length_range, scale_range),
        t_noise=t_noise,
        t_noise_mode=t_noise_mode,
        max_t_noise=max_t_noise,
        max_num_points=max_num_points,
    )
    g = make_generator(seed)
    return [sampler.sample(batch_size, generator=g) for _ in range(num_batches)]


def evaluate(
    model: NeuralProcess, batches: Sequence[Task], num_samples: int = 50, seed: int = 42
) -> dict[str, Any]:
    """Mean context/target log-likelihood over ``batches`` and target interval coverage.

    Returns:
        ``ctx_ll``, ``tar_ll`` (means over batches of the per-point means), ``cov50``,
        ``cov80``, ``cov95`` and ``calibration`` (coverage at each level of
        :data:`CALIBRATION_GRID`; a calibrated model has coverage == level).
    """
    if not batches:
        raise ValueError("evaluate needs at least one batch of tasks")
    g = make_generator(seed)
    device = next(model.parameters()).device
    ctx_ll, tar_ll, cov = 0.0, 0.0, np.zeros(len(CALIBRATION_GRID))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for t in batches:
            t = t.to(device)
            r = context_target_log_likelihood(
                model, t.x, t.y, t.num_context, num_samples, g, levels=CALIBRATION_GRID
            )
            ctx_ll, tar_ll = ctx_ll + r["ctx_ll"], tar_ll + r["tar_ll"]
            cov += np.array([r[f"tar_cov@{p:g}"] for p in CALIBRATION_GRID])
    model.train(was_training)
    cov = cov / len(batches)
    out: dict[str, Any] = {"ctx_ll": ctx_ll / len(batches), "tar_ll": tar_ll / len(batches)}
    for p in COVERAGE_LEVELS:
        out[f"cov{round(100 * p)}"] = float(cov[CALIBRATION_GRID.index(p)])
    out["calibration"] = [float(c) for c in cov]
    return out


def build_model(cfg: Config, arm: str, x_dim: int = 1, y_dim: int = 1) -> NeuralProcess:
    """The untrained model ``arm`` with the architecture of ``cfg.model``."""
    mc = cfg.model
    return make_model(
        arm,
        x_dim=x_dim,
        y_dim=y_dim,
        hidden_dim=mc.hidden_dim,
        latent_dim=mc.latent_dim,
        enc_pre_depth=mc.enc_pre_depth,
        enc_post_depth=mc.enc_post_depth,
        enc_v_depth=mc.enc_v_depth,
        enc_qk_depth=mc.enc_qk_depth,
        dec_depth=mc.dec_depth,
        num_heads=mc.num_heads,
        num_samples=cfg.eval.num_samples,
    )


def load_trained(
    run: str | Path, arm: str, seed: int | None = None, device: str | torch.device = "cpu"
) -> tuple[NeuralProcess, Config]:
    """The trained ``arm`` of a finished ``neural_processes`` run, in eval mode, and its config.

    Args:
        run: the run directory (``runs/neural_processes/<preset>/<timestamp>``).
        arm: CNP, NP, CANP, ANP, BNP or BANP.
        seed: which seed's model (default: the run's first seed).

    Raises:
        FileNotFoundError: not a run directory, or the unit did not keep its weights (runs made
            before models were kept, or an unfinished unit); the message lists what is there.
    """
    run = Path(run)
    toml = run / "config.toml"
    if not toml.is_file():
        raise FileNotFoundError(f"{run} is not a run directory (no config.toml)")
    cfg = load_toml(Config, toml)
    arm = arm.upper()
    seed = cfg.seeds[0] if seed is None else seed
    key = f"{arm}/seed{seed}"
    path = artifact_path(run, key, MODEL_FILE)
    if not path.is_file():
        have = sorted(p.parent.name for p in (run / "artifacts").glob(f"*/{MODEL_FILE}"))
        raise FileNotFoundError(
            f"no trained model for {key} in {run} (expected {path}); models kept: "
            f"{', '.join(have) or 'none'}"
        )
    ck = load_checkpoint(path, map_location=device)
    assert ck is not None
    model = build_model(cfg, arm, int(ck["x_dim"]), int(ck["y_dim"]))
    model.load_state_dict(ck["model"])
    return model.to(device).eval(), cfg


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m paperzoo.neural_processes.repro.evaluation",
        description="Evaluate the models a finished `paperzoo reproduce neural_processes` run "
        "kept on GP tasks of any kernel, with or without Student-t noise; prints one JSON "
        "line per model (context/target log-likelihood, 50/80/95%% interval coverage).",
    )
    p.add_argument("run", help="run directory (runs/neural_processes/<preset>/<timestamp>)")
    p.add_argument("--arm", action="append", help="model(s) to evaluate (default: all arms)")
    p.add_argument("--seed", type=int, action="append", help="seed(s) (default: all)")
    p.add_argument("--kernel", default=None, choices=KERNEL_NAMES, help="default: training's")
    p.add_argument(
        "--t-noise",
        default=None,
        help="gamma of Student-t(2.1) noise, or 'random' "
        "for the official gamma ~ U(0, 0.15) per point (default: no noise)",
    )
    p.add_argument("--batches", type=int, default=100, help="batches of 16 tasks (official 3000)")
    p.add_argument("--samples", type=int, default=50, help="K at evaluation (official 50)")
    p.add_argument("--eval-seed", type=int, default=42, help="seed of the tasks (official 42)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of :func:`load_trained` + :func:`evaluate`; exit 2 on bad input."""
    args = parser().parse_args(argv)
    try:
        cfg = load_toml(Config, Path(args.run) / "config.toml")
        if cfg.task.kind != "gp":
            raise ValueError("this command evaluates GP models; the run trained on images")
        if args.batches < 1 or args.samples < 1:
            raise ValueError("--batches and --samples must be >= 1")
        mode: TNoiseMode = "fixed"
        gamma: float | None = None
        if args.t_noise == "random":
            mode = "per_point"
        elif args.t_noise is not None:
            gamma = float(args.t_noise)
        kernel = args.kernel or cfg.task.train_kernel
        tasks = gp_tasks(
            kernel,
            gamma,
            mode,
            num_batches=args.batches,
            seed=args.eval_seed,
            length_range=cfg.task.length_range,
            scale_range=cfg.task.scale_range,
            max_num_points=cfg.task.max_num_points,
        )
        arms = [a.upper() for a in (args.arm or cfg.models)]
        bad = [a for a in arms if a not in MODELS]
        if bad:
            raise ValueError(f"unknown models {bad}; choose from {sorted(MODELS)}")
        for arm in arms:
            for seed in args.seed or cfg.seeds:
                model, _ = load_trained(args.run, arm, seed)
                r = evaluate(model, tasks, args.samples, args.eval_seed)
                r.pop("calibration")
                line = {"arm": arm, "seed": seed, "kernel": kernel, "t_noise": args.t_noise}
                print(json.dumps({**line, **{k: round(v, 5) for k, v in r.items()}}))
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
