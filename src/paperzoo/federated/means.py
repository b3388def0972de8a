"""Mean-augmented federated learning (MAFL): the only data a client ever shares.

Paper: FedMix: Approximation of Mixup under Mean Augmented Federated Learning
(Yoon, Shin, Hwang, Yang; ICLR 2021), https://arxiv.org/abs/2107.00233, Sec. 3 (MAFL).

Each client k splits its local data into groups of ``M_k`` samples and sends, once, the average
input ``x̄ = mean(x)`` and the average one-hot label ``ȳ = mean(onehot(y))`` of each group. The
server pools the means of all clients and broadcasts the pool; NaiveMix and FedMix mix local
samples with pooled means of *other* clients.

Deviations from the paper:
  * Groups are a seeded random split into ``floor(N / M_k)`` groups of exactly ``M_k`` samples;
    the remaining ``N mod M_k`` samples enter no mean, so every shared row averages exactly
    ``M_k`` samples (``M_k = 0`` or ``M_k >= N``: one mean of all ``N`` samples, the default of
    the Flower port, "mash batch = all").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "analytic_gaussian_sigma",
    "client_means",
    "gaussian_mechanism_delta",
    "mean_sensitivity",
    "privatize_means",
    "sample_partners",
]


def client_means(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    mean_batch_size: int = 0,
    generator: torch.Generator | None = None,
    x_range: tuple[float, float] | None = None,
) -> tuple[Tensor, Tensor]:
    """Averages of ``M_k = mean_batch_size`` local samples: inputs and one-hot labels.

    Args:
        x: local inputs.
        y: local integer labels in ``[0, num_classes)``.
        num_classes: width of the one-hot labels.
        mean_batch_size: samples per mean (``M_k``); 0 means all local samples (one mean).
        generator: RNG for the random grouping.
        x_range: clip inputs to ``[lo, hi]`` before averaging (bounds the sensitivity for
            :func:`privatize_means`); None = no clipping.

    Shape:
        x: (N, *input_shape); y: (N,); returns ``(x_means (G, *input_shape),
        y_means (G, num_classes))`` with ``G = floor(N / M_k)`` (1 when ``M_k`` is 0 or >= N).
    """
    n = x.shape[0]
    if n == 0:
        raise ValueError("client_means: the client has no samples")
    if y.shape != (n,):
        raise ValueError(f"client_means: y must have shape ({n},), got {tuple(y.shape)}")
    if mean_batch_size < 0:
        raise ValueError(f"mean_batch_size must be >= 0 (0 = all), got {mean_batch_size}")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got {int(y.min())}..{int(y.max())}"
        )
    m = n if mean_batch_size == 0 or mean_batch_size >= n else mean_batch_size
    groups = n // m
    perm = torch.randperm(n, generator=generator)[: groups * m]
    if x_range is not None:
        x = x.clamp(*x_range)
    onehot = F.one_hot(y.long(), num_classes).to(x.dtype)
    x_means = x[perm].reshape(groups, m, *x.shape[1:]).mean(1)  # (G, *input_shape)
    y_means = onehot[perm].reshape(groups, m, num_classes).mean(1)  # (G, classes)
    return x_means, y_means


def sample_partners(
    pool_x: Tensor, pool_y: Tensor, batch: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """One pooled mean per local sample, drawn uniformly with replacement.

    Shape:
        pool_x: (P, *input_shape); pool_y: (P, classes); returns (batch, *input_shape) and
        (batch, classes).
    """
    if pool_x.shape[0] == 0:
        raise ValueError("sample_partners: the mean pool is empty")
    idx = torch.randint(pool_x.shape[0], (batch,), generator=generator)
    return pool_x[idx], pool_y[idx]


def _std_normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def gaussian_mechanism_delta(sigma: float, epsilon: float, sensitivity: float) -> float:
    """The smallest δ for which ``N(0, σ²I)`` noise on an L2-sensitivity-Δ query is (ε, δ)-DP.

    Balle & Wang (2018), Thm. 8: ``δ = Φ(Δ/(2σ) - εσ/Δ) - e^ε Φ(-Δ/(2σ) - εσ/Δ)``.
    """
    if sigma <= 0 or sensitivity <= 0 or epsilon <= 0:
        raise ValueError(
            f"sigma, epsilon and sensitivity must be > 0, got {sigma}, {epsilon}, {sensitivity}"
        )
    a, b = sensitivity / (2.0 * sigma), epsilon * sigma / sensitivity
    return _std_normal_cdf(a - b) - math.exp(epsilon) * _std_normal_cdf(-a - b)


def analytic_gaussian_sigma(epsilon: float, delta: float, sensitivity: float) -> float:
    """The smallest σ with ``gaussian_mechanism_delta(σ, ε, Δ) <= δ`` (bisection, rel. 1e-10).

    Valid for every ε > 0; for ε < 1 it is below the classical
    ``Δ sqrt(2 ln(1.25/δ)) / ε`` (checked in the tests).
    """
    if not (epsilon > 0 and 0 < delta < 1 and sensitivity > 0):
        raise ValueError(
            f"need epsilon > 0, 0 < delta < 1 and sensitivity > 0; got epsilon={epsilon}, "
            f"delta={delta}, sensitivity={sensitivity}"
        )
    lo, hi = 1e-12 * sensitivity, sensitivity
    while gaussian_mechanism_delta(hi, epsilon, sensitivity) > delta:  # δ(σ) falls with σ
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if gaussian_mechanism_delta(mid, epsilon, sensitivity) > delta:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * hi:
            break
    return hi


def mean_sensitivity(
    samples_per_mean: int, input_dim: int, x_range: tuple[float, float] = (0.0, 1.0)
) -> float:
    """L2 sensitivity of one (input mean, one-hot label mean) row under replacing one sample:
    ``sqrt((hi - lo)² d + 2) / M``."""
    lo, hi = x_range
    if samples_per_mean < 1 or input_dim < 1 or not hi > lo:
        raise ValueError(
            f"need samples_per_mean >= 1, input_dim >= 1 and hi > lo; got {samples_per_mean}, "
            f"{input_dim}, {x_range}"
        )
    return math.sqrt((hi - lo) ** 2 * input_dim + 2.0) / samples_per_mean


def privatize_means(
    x_means: Tensor,
    y_means: Tensor,
    samples_per_mean: int,
    epsilon: float,
    delta: float,
    generator: torch.Generator | None = None,
    x_range: tuple[float, float] = (0.0, 1.0),
) -> tuple[Tensor, Tensor, float]:
    """Gaussian mechanism on each mean row, then post-processing back into the data's domain.

    The rows must be means of ``samples_per_mean`` inputs already clipped to ``x_range`` (see
    :func:`client_means`' ``x_range``). Returns the noisy input means clipped to ``x_range``, the
    noisy label means projected onto the probability simplex (negative parts zeroed, rows
    renormalised; a row with no positive part becomes uniform) and the σ used.

    Shape:
        x_means: (G, *input_shape); y_means: (G, classes); returns the same shapes and a float.
    """
    d = int(x_means[0].numel())
    sigma = analytic_gaussian_sigma(epsilon, delta, mean_sensitivity(samples_per_mean, d, x_range))
    nx = torch.randn(x_means.shape, generator=generator, dtype=x_means.dtype) * sigma
    ny = torch.randn(y_means.shape, generator=generator, dtype=y_means.dtype) * sigma
    x_out = (x_means + nx).clamp(*x_range)
    y_pos = (y_means + ny).clamp_min(0.0)
    total = y_pos.sum(-1, keepdim=True)
    uniform = torch.full_like(y_pos, 1.0 / y_pos.shape[-1])
    y_out = torch.where(total > 0, y_pos / total.clamp_min(1e-12), uniform)
    return x_out, y_out, sigma
