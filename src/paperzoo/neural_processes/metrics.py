"""Evaluation of predictive distributions: context/target log-likelihood and calibration.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp).

The paper reports the mean per-point log-likelihood of the context points and of the target points
separately, both predicted from the context (official ``ctx_ll`` / ``tar_ll``; latent and bootstrap
models average the *densities* of K samples, ``logmeanexp``). Calibration is not in the paper; it is
added because users of NP uncertainty ask for it: the coverage of the central ``p`` interval is the
fraction of outputs whose predictive CDF value ``u = F(y)`` satisfies ``|u - 1/2| <= p/2``, computed
exactly for Normal mixtures from their component CDFs (no quantile search needed).

Deviations: none (calibration metrics are additions).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.distributions import Distribution, Independent, MixtureSameFamily, Normal

__all__ = [
    "context_target_log_likelihood",
    "interval_coverage",
    "predictive_cdf",
    "predictive_quantile",
]


def _components(dist: Distribution) -> tuple[Normal, bool]:
    """The Normal components and whether they form a mixture (over axis -2 of loc)."""
    if isinstance(dist, MixtureSameFamily):
        comp = dist.component_distribution
        base = comp.base_dist if isinstance(comp, Independent) else comp
        return base, True  # loc (B, N, K, y_dim)
    base = dist.base_dist if isinstance(dist, Independent) else dist
    if not isinstance(base, Normal):
        raise TypeError(f"expected a Normal or a mixture of Normals, got {type(dist).__name__}")
    return base, False


def predictive_cdf(dist: Distribution, y: Tensor) -> Tensor:
    """Marginal predictive CDF ``F(y)`` per output dimension (mixture: mean of component CDFs).

    Shape: y (batch, points, y_dim) -> (batch, points, y_dim)
    """
    base, is_mix = _components(dist)
    if is_mix:
        return base.cdf(y.unsqueeze(-2)).mean(-2)
    return base.cdf(y)


def interval_coverage(
    dist: Distribution, y: Tensor, levels: Sequence[float] = (0.5, 0.8, 0.95)
) -> dict[float, float]:
    """Fraction of outputs inside the central ``level`` predictive interval, per level."""
    u = predictive_cdf(dist, y)
    return {float(p): float(((u - 0.5).abs() <= p / 2).float().mean()) for p in levels}


def predictive_quantile(dist: Distribution, q: float, num_iters: int = 60) -> Tensor:
    """Marginal ``q``-quantile of the predictive distribution (bisection for mixtures).

    Shape: returns (batch, points, y_dim)
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level must be in (0, 1), got {q}")
    base, is_mix = _components(dist)
    if not is_mix:
        return base.icdf(torch.full_like(base.loc, q))
    # The mixture quantile lies between the extreme component quantiles.
    comp_q = base.icdf(torch.full_like(base.loc, q))
    lo, hi = comp_q.min(-2).values, comp_q.max(-2).values
    for _ in range(num_iters):
        mid = 0.5 * (lo + hi)
        below = base.cdf(mid.unsqueeze(-2)).mean(-2) < q
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return 0.5 * (lo + hi)


@torch.no_grad()
def context_target_log_likelihood(
    model: torch.nn.Module,
    x: Tensor,
    y: Tensor,
    num_context: int,
    num_samples: int | None = None,
    generator: torch.Generator | None = None,
    levels: Sequence[float] = (),
) -> dict[str, float]:
    """Official evaluation of one batch: predict all points from the first ``num_context``.

    Args:
        model: a :class:`~paperzoo.neural_processes.models.NeuralProcess`.
        x, y: all points, context first.
        num_context: size of the context prefix.
        num_samples: K for latent/bootstrap models.
        levels: central-interval levels whose target coverage is also returned.

    Returns:
        ``{"ctx_ll", "tar_ll"}`` (means over tasks and points) plus ``"tar_cov@<level>"``.

    Shape: x (batch, points, x_dim); y (batch, points, y_dim)
    """
    dist = model.predict(x[:, :num_context], y[:, :num_context], x, num_samples, generator)
    ll = dist.log_prob(y)  # (B, N)
    out = {"ctx_ll": float(ll[:, :num_context].mean()), "tar_ll": float(ll[:, num_context:].mean())}
    if levels:
        u = predictive_cdf(dist, y)[:, num_context:]
        for p in levels:
            out[f"tar_cov@{p:g}"] = float(((u - 0.5).abs() <= p / 2).float().mean())
    return out
