"""Residual bootstrap of a context set (BNP, Section 3 of the paper) as a pure function.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp).

For k = 1..K, without gradient:

1. paired bootstrap: resample the context with replacement, ``C~_k = {(x_i*, y_i*)}``;
2. predict at the *original* context inputs from ``C~_k``: ``(mu~_i, sigma~_i)``;
3. standardised residuals ``eps_i = (y_i - mu~_i) / sigma~_i``, resampled with replacement and
   centred (their mean over the context subtracted);
4. bootstrap context ``C^_k = {(x_i, mu~_i + sigma~_i eps^_i)}``.

Deviations from the official code: none in the maths; random indices come from an optional
``torch.Generator`` instead of the global RNG.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["resample_with_replacement", "residual_bootstrap"]

PredictFn = Callable[[Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]


def _check_context(xc: Tensor, yc: Tensor) -> None:
    if xc.dim() < 2 or yc.dim() < 2:
        raise ValueError(
            f"context must be (batch, points, dim); got xc {tuple(xc.shape)}, yc {tuple(yc.shape)}"
        )
    if xc.shape[:-1] != yc.shape[:-1]:
        raise ValueError(
            f"xc {tuple(xc.shape)} and yc {tuple(yc.shape)} disagree on (batch, points)"
        )
    if xc.shape[-2] == 0:
        raise ValueError("the context set is empty: the bootstrap needs at least one point")


def resample_with_replacement(
    *items: Tensor, num_samples: int, generator: torch.Generator | None = None
) -> list[Tensor]:
    """Draw ``num_samples`` index sets with replacement over the points axis, shared by ``items``.

    Shape:
        items: each (..., points, dim_j) with the same leading shape and points
        returns: each (num_samples, ..., points, dim_j)
    """
    lead, n = items[0].shape[:-1], items[0].shape[-2]
    idx = torch.randint(n, (num_samples, *lead), generator=generator, device=items[0].device)
    out = []
    for item in items:
        expanded = item.expand(num_samples, *item.shape)
        out.append(torch.gather(expanded, -2, idx.unsqueeze(-1).expand(*idx.shape, item.shape[-1])))
    return out


def residual_bootstrap(
    xc: Tensor,
    yc: Tensor,
    predict_fn: PredictFn,
    num_samples: int,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """``K = num_samples`` residual-bootstrap contexts (steps 1-4 above); no gradient.

    Args:
        xc, yc: the context set.
        predict_fn: ``(xc_k, yc_k, xq) -> (mean, std)`` for a batch of context sets, each of
            shape (K, batch, points, dim); e.g. a CNP's predictive mean and scale.
        num_samples: number of bootstrap contexts K.
        generator: source of the resampling indices.

    Shape:
        xc: (batch, context, x_dim); yc: (batch, context, y_dim)
        returns: (xb, yb), each (K, batch, context, dim); ``xb`` is ``xc`` repeated.
    """
    _check_context(xc, yc)
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    with torch.no_grad():
        xb, yb = resample_with_replacement(xc, yc, num_samples=num_samples, generator=generator)
        xs = xc.expand(num_samples, *xc.shape)  # original inputs, (K, B, Nc, x_dim)
        mean, std = predict_fn(xb, yb, xs)
        residual = (yc - mean) / std  # standardised residuals
        (residual,) = resample_with_replacement(residual, num_samples=1, generator=generator)
        residual = residual.squeeze(0)
        residual = residual - residual.mean(-2, keepdim=True)  # centre per (k, task, dim)
        y_boot = mean + std * residual
    return xs.detach(), y_boot.detach()
