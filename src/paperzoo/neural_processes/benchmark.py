"""The official GP benchmark: fixed evaluation sets of task batches and the score of a model on
them (context/target log-likelihood, plus interval coverage).

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp, ``eval`` mode of
``regression/gp.py``; Table 1, Sec. 5.1).

The official evaluation draws a fixed set of batches with seed 42 (the same seed for the clean
and the noisy set, so both share inputs and counts) and reports the mean per-point context and
target log-likelihood with K = 50 samples. :func:`gp_tasks` builds such a set for any kernel with
or without Student-t noise, :func:`evaluate` scores a model on it::

    tasks = gp_tasks("matern", t_noise=0.1, num_batches=100)
    print(evaluate(model, tasks, num_samples=50)["tar_ll"])

Deviations from the paper:
    * The coverage of central predictive intervals (``cov50``, ``cov80``, ``cov95`` and the
      calibration curve) is an addition; the paper reports log-likelihoods only.
    * ``t_noise_mode="per_task"`` (one gamma per task) is an addition; the official random
      setting draws gamma per point (``per_point``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from paperzoo.core.seed import make_generator

from .metrics import context_target_log_likelihood
from .models import NeuralProcess
from .tasks import GPTaskSampler, Task, make_kernel

__all__ = ["CALIBRATION_GRID", "COVERAGE_LEVELS", "TNoiseMode", "evaluate", "gp_tasks"]

CALIBRATION_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Central-interval levels 0.05 .. 0.95 at which target coverage is measured."""
COVERAGE_LEVELS = (0.5, 0.8, 0.95)
"""Levels reported as separate metrics (``cov50``, ``cov80``, ``cov95``)."""

TNoiseMode = Literal["fixed", "per_point", "per_task"]
"""How the Student-t noise scale gamma is set: fixed, or drawn per point or per task."""


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
        max_t_noise: upper end of the random gamma (official 0.15).
        num_batches: batches in the set (the official evaluation has 3000).
        batch_size: tasks per batch (official 16).
        seed: seed of the set's own generator (the global RNG is not touched).
        length_range: range of the kernel length scale drawn per task (official U(0.1, 0.6)).
        scale_range: range of the kernel output scale drawn per task (official U(0.1, 1.0)).
        max_num_points: upper bound on context + target points per task (official 50).

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

    Args:
        model: any neural process; it is scored in eval mode and left in the mode it was in.
        batches: the evaluation set, e.g. from :func:`gp_tasks`.
        num_samples: K, latent samples (NP/ANP) or bootstrap contexts (BNP/BANP) (official 50).
        seed: seed of the model's sampling generator (the global RNG is not touched).

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
