"""Load the models a finished run kept and evaluate them on fixed GP task sets, from Python or
from the shell.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp, ``eval`` mode of
``regression/gp.py``).

The evaluation sets and the scoring are components (:mod:`paperzoo.neural_processes.benchmark`:
:func:`gp_tasks`, :func:`evaluate`, re-exported here for the old import path). This module adds
what needs a run or a config: :func:`load_trained` rebuilds a model that
``paperzoo reproduce neural_processes`` trained (weights-only checkpoints under
``<run>/artifacts/<ARM>__seed<S>/model.pt``), so it can be evaluated later on other kernels::

    model, cfg = load_trained("runs/neural_processes/quick/20261128-170000", "BNP", seed=0)
    tasks = gp_tasks("matern", t_noise=0.1, num_batches=100)
    print(evaluate(model, tasks, num_samples=50)["tar_ll"])

The same from a shell: ``python -m paperzoo.neural_processes.repro.evaluation RUN --arm BNP
--kernel matern --t-noise 0.1``. The evaluation settings (``eval.num_batches``,
``eval.batch_size``, ``eval.num_samples``, ``eval.seed`` and the task family ``task.*``) come
from a preset plus ``--set`` overrides through :func:`paperzoo.core.presets.build_config`, the
validation ``paperzoo reproduce`` uses; the preset defaults to the run's own. The models
(architecture, arms, seeds) come from the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from paperzoo.core.checkpoint import load_checkpoint
from paperzoo.core.config import load_toml
from paperzoo.core.engine import artifact_path
from paperzoo.core.errors import UsageError
from paperzoo.core.presets import build_config

from ..benchmark import CALIBRATION_GRID, COVERAGE_LEVELS, TNoiseMode, evaluate, gp_tasks
from ..models import MODELS, NeuralProcess, make_model
from .config import KERNEL_NAMES, Config

__all__ = [
    "CALIBRATION_GRID",
    "COVERAGE_LEVELS",
    "MODEL_FILE",
    "build_model",
    "evaluate",
    "evaluation_config",
    "gp_tasks",
    "load_trained",
    "main",
    "parser",
]

MODEL_FILE = "model.pt"
"""Name of the weights-only checkpoint each unit of a run keeps."""


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
    """The command line of :func:`main`."""
    p = argparse.ArgumentParser(
        prog="python -m paperzoo.neural_processes.repro.evaluation",
        description="Evaluate the models a finished `paperzoo reproduce neural_processes` run "
        "kept on GP tasks of any kernel, with or without Student-t noise; prints one JSON "
        "line per model (context/target log-likelihood, 50/80/95%% interval coverage). The "
        "evaluation settings (eval.*, task.*) come from --preset and --set, validated as by "
        "`paperzoo reproduce`.",
    )
    p.add_argument("run", help="run directory (runs/neural_processes/<preset>/<timestamp>)")
    p.add_argument(
        "--preset",
        default=None,
        help="preset whose config sets the evaluation (default: the run's preset, read from "
        "its meta.json; `paperzoo list` shows them)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field, as `paperzoo reproduce --set` (repeatable)",
    )
    p.add_argument("--arm", action="append", help="model(s) to evaluate (default: all arms)")
    p.add_argument("--seed", type=int, action="append", help="seed(s) (default: all)")
    p.add_argument(
        "--kernel", default=None, choices=KERNEL_NAMES, help="default: task.train_kernel"
    )
    p.add_argument(
        "--t-noise",
        default=None,
        help="gamma of Student-t(2.1) noise, or 'random' for gamma ~ U(0, 0.15) drawn as "
        "task.random_t_noise_mode says (official: per point) (default: no noise)",
    )
    p.add_argument("--batches", type=int, default=None, help="short for --set eval.num_batches=N")
    p.add_argument("--samples", type=int, default=None, help="short for --set eval.num_samples=K")
    p.add_argument("--eval-seed", type=int, default=None, help="short for --set eval.seed=S")
    return p


_SHORTHANDS = (("batches", "eval.num_batches"), ("samples", "eval.num_samples"))
_SHORTHANDS += (("eval_seed", "eval.seed"),)


def _run_preset(run: str | Path) -> str:
    """The preset a run was made with (its ``meta.json``); ``quick`` if it does not say."""
    meta = Path(run) / "meta.json"
    if meta.is_file():
        preset = json.loads(meta.read_text(encoding="utf-8")).get("preset")
        if isinstance(preset, str) and preset:
            return preset
    return "quick"


def evaluation_config(args: argparse.Namespace) -> Config:
    """The evaluation's config: ``--preset`` (default: the run's) with the ``--set`` overrides
    and the shorthands ``--batches``/``--samples``/``--eval-seed``, built and validated by
    :func:`paperzoo.core.presets.build_config` as ``paperzoo reproduce`` builds a run's.

    Raises:
        UsageError: an unknown preset; ConfigError (a ValueError): an unknown key or a value
            out of range.
    """
    overrides = list(args.overrides)
    overrides += [f"{key}={getattr(args, flag)}" for flag, key in _SHORTHANDS
                  if getattr(args, flag) is not None]  # fmt: skip
    preset = args.preset or _run_preset(args.run)
    return build_config("neural_processes", preset, overrides=overrides)


def _task_differences(run_cfg: Config, cfg: Config) -> list[str]:
    """The task-family fields in which the evaluation's config differs from the run's."""
    names = ("train_kernel", "length_range", "scale_range", "max_num_points")
    return [
        f"task.{n}: run {getattr(run_cfg.task, n)!r}, evaluation {getattr(cfg.task, n)!r}"
        for n in names
        if getattr(run_cfg.task, n) != getattr(cfg.task, n)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of :func:`load_trained` + :func:`evaluate`; exit 2 on bad input."""
    args = parser().parse_args(argv)
    try:
        run_cfg = load_toml(Config, Path(args.run) / "config.toml")
        if run_cfg.task.kind != "gp":
            raise ValueError(
                f"this command evaluates GP models; the run trained on {run_cfg.task.kind}"
            )
        cfg = evaluation_config(args)
        for line in _task_differences(run_cfg, cfg):
            print(f"note: {line}", file=sys.stderr)
        t, ev = cfg.task, cfg.eval
        mode: TNoiseMode = "fixed"
        gamma: float | None = None
        if args.t_noise == "random":
            mode = t.random_t_noise_mode
        elif args.t_noise is not None:
            gamma = float(args.t_noise)
        kernel = args.kernel or t.train_kernel
        tasks = gp_tasks(
            kernel,
            gamma,
            mode,
            num_batches=ev.num_batches,
            batch_size=ev.batch_size,
            seed=ev.seed,
            length_range=t.length_range,
            scale_range=t.scale_range,
            max_num_points=t.max_num_points,
        )
        arms = [a.upper() for a in (args.arm or run_cfg.arms)]
        bad = [a for a in arms if a not in MODELS]
        if bad:
            raise ValueError(f"unknown models {bad}; choose from {sorted(MODELS)}")
        for arm in arms:
            for seed in args.seed or run_cfg.seeds:
                model, _ = load_trained(args.run, arm, seed)
                r = evaluate(model, tasks, ev.num_samples, ev.seed)
                r.pop("calibration")
                line = {"arm": arm, "seed": seed, "kernel": kernel, "t_noise": args.t_noise}
                print(json.dumps({**line, **{k: round(v, 5) for k, v in r.items()}}))
    except (FileNotFoundError, ValueError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
