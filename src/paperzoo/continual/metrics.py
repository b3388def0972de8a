"""Continual-learning metrics over the task-accuracy matrix, and memory-content statistics.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (Sec. 4, "average accuracy" and
"forgetting", following Chaudhry et al. 2018 as the official ``ocs_mnist.py`` prints them).

Convention: ``acc[i, j]`` is the accuracy on task ``j`` after training on task ``i``
(0-based; entries with ``j > i`` may be filled, they are ignored).

Deviations from the paper: none in average accuracy and forgetting. :func:`noise_share` (the
share of noise images among the selected or stored samples) is this reproduction's statistic
for comparing the coresets of the noisy setting.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

__all__ = ["average_accuracy", "forgetting", "forgetting_per_task", "noise_share"]


def _check(acc: np.ndarray | Tensor) -> np.ndarray:
    a = np.asarray(acc, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"acc must be a square (tasks, tasks) matrix, got shape {a.shape}")
    return a


def average_accuracy(acc: np.ndarray | Tensor) -> float:
    """Mean accuracy over all tasks after the last one: ``(1/T) sum_j acc[T-1, j]``."""
    a = _check(acc)
    return float(a[-1].mean())


def forgetting_per_task(acc: np.ndarray | Tensor) -> np.ndarray:
    """Drop from each earlier task's best accuracy to its final accuracy:
    ``max_{j<=i<T-1} acc[i, j] - acc[T-1, j]`` for ``j < T-1``. Shape: ``(T, T)`` -> ``(T-1,)``."""
    a = _check(acc)
    t = a.shape[0]
    return np.array([a[j : t - 1, j].max() - a[t - 1, j] for j in range(t - 1)])


def forgetting(acc: np.ndarray | Tensor) -> float:
    """Mean drop from each earlier task's best accuracy to its final accuracy:

        F = 1/(T-1) sum_{j<T-1} ( max_{j<=i<T-1} acc[i, j] - acc[T-1, j] )

    0 for a single task (nothing to forget).
    """
    drops = forgetting_per_task(acc)
    return float(drops.mean()) if len(drops) else 0.0


def noise_share(is_noise: Tensor) -> float:
    """Share of noise images among selected/stored samples (0 for none). Shape: ``(N,)`` bool."""
    if is_noise.numel() == 0:
        return 0.0
    return float(is_noise.float().mean())
