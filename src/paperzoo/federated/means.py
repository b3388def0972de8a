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

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["client_means", "sample_partners"]


def client_means(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    mean_batch_size: int = 0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Averages of ``M_k = mean_batch_size`` local samples: inputs and one-hot labels.

    Args:
        x: local inputs.
        y: local integer labels in ``[0, num_classes)``.
        num_classes: width of the one-hot labels.
        mean_batch_size: samples per mean (``M_k``); 0 means all local samples (one mean).
        generator: RNG for the random grouping.

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
