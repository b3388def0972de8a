"""Toy study of the gradient estimators: bias and variance against the exact gradient of the
expected loss.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100 (the claim that the multi-class
STE is biased and that DropBits reduces that bias).

For a scalar ``x`` with the categorical ``pi(x)`` over a ``b``-bit grid (step 1, ``sigma``) and the
loss ``L(x_hat) = (x_hat - t)^2``, the reference is the exact gradient of the expected loss,

    d/dx E_pi[L] = sum_i L(g_i) d pi_i / dx,

and each estimator's gradient (a random variable for DropBits and RQ) is summarised at every ``x``
by its mean and variance over Monte Carlo samples; bias = mean - exact.

Deviations: the toy objective and the x range (the grid plus half a step each side) are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .estimators import (
    categorical_probabilities,
    concrete_quantize,
    masked_multiclass_ste,
    multiclass_ste,
)
from .grids import integer_range, sample_level_mask

__all__ = ["estimator_study"]


def _grad(fn: Any, x: torch.Tensor) -> torch.Tensor:
    """Per-element gradient of ``sum(fn(x))`` (elements are independent)."""
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g


def estimator_study(
    num_bits: int,
    target: float,
    *,
    noise_ratio: float = 1.0 / 3.0,
    num_points: int = 400,
    num_samples: int = 2000,
    drop_rates: Sequence[float] = (0.5,),
    temperatures: Sequence[float] = (0.1, 0.5, 1.0),
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """Bias and variance of the multi-class STE (with/without DropBits) and of RQ.

    Args:
        num_bits: signed grid ``[-2^(b-1), 2^(b-1)-1]`` with step 1.
        target: ``t`` of the loss ``(x_hat - t)^2``.
        noise_ratio: ``sigma`` (step is 1).
        num_points, num_samples: x values and Monte Carlo samples per x.
        drop_rates, temperatures: DropBits rates and RQ temperatures to compare.
        generator: randomness of the Monte Carlo samples.

    Returns:
        ``{"x": [...], "exact": [...], "estimators": {name: {"mean": [...], "bias_sq",
        "abs_bias", "variance", "mse"}}}`` where the scalars are averages over x.
    """
    if num_points < 2 or num_samples < 2:
        raise ValueError("estimator_study needs num_points >= 2 and num_samples >= 2")
    dt = torch.float64
    qmin, qmax = integer_range(num_bits, signed=True)
    step, noise = torch.tensor(1.0, dtype=dt), torch.tensor(noise_ratio, dtype=dt)
    x = torch.linspace(qmin - 0.5, qmax + 0.5, num_points, dtype=dt)
    grid = torch.arange(qmin, qmax + 1, dtype=dt)
    loss_at_grid = (grid - target) ** 2

    def expected_loss(v: torch.Tensor) -> torch.Tensor:
        return (categorical_probabilities(v, step, noise, qmin, qmax) * loss_at_grid).sum(-1)

    exact = _grad(expected_loss, x)
    samples: dict[str, torch.Tensor] = {  # name -> (num_points, S) gradient samples
        "ste": _grad(lambda v: (multiclass_ste(v, step, noise, qmin, qmax) - target) ** 2, x)[
            :, None
        ]
    }
    xs = x.repeat_interleave(num_samples)  # (num_points * S,)
    for p in drop_rates:
        mask = sample_level_mask(num_bits, True, p, xs.numel(), generator=generator).to(dt)

        def dropbits_loss(v: torch.Tensor, mask: torch.Tensor = mask) -> torch.Tensor:
            x_hat = masked_multiclass_ste(v, step, noise, qmin, qmax, mask, "sum")
            return (x_hat - target) ** 2

        samples[f"ste_dropbits_p{p:g}"] = _grad(dropbits_loss, xs).view(num_points, num_samples)
    for tau in temperatures:

        def rq_loss(v: torch.Tensor, tau: float = tau) -> torch.Tensor:
            x_hat = concrete_quantize(v, step, noise, qmin, qmax, tau, None, generator=generator)
            return (x_hat - target) ** 2

        samples[f"rq_tau{tau:g}"] = _grad(rq_loss, xs).view(num_points, num_samples)
    out: dict[str, Any] = {"x": x.tolist(), "exact": exact.tolist(), "estimators": {}}
    for name, g in samples.items():
        mean = g.mean(1)
        var = g.var(1) if g.shape[1] > 1 else torch.zeros_like(mean)
        bias = mean - exact
        out["estimators"][name] = {
            "mean": mean.tolist(),
            "bias_sq": float((bias**2).mean()),
            "abs_bias": float(bias.abs().mean()),
            "variance": float(var.mean()),
            "mse": float((bias**2 + var).mean()),
        }
    return out
