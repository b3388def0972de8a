"""OCS scores (minibatch similarity, sample diversity, coreset affinity) and class-balanced picks.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (Sec. 3.2, Eqs. 4-7).

For a streamed batch with per-sample gradients ``g_n``, mean gradient ``g_bar`` and the gradient
``g_C`` of the loss on the whole replay memory:

* minibatch similarity ``S_n = cos(g_n, g_bar)`` (Eq. 4),
* sample diversity ``V_n = mean_p cos(g_n, g_p)`` (Eq. 5, subtracted),
* coreset affinity ``A_n = cos(g_n, g_C)`` (Eq. 6),

and the selection score ``S_n - V_n + tau * A_n`` (Eq. 7); the top ``kappa`` are trained on.

Deviations from the paper, following the official code (``sample_selection``):
    * the diversity mean includes ``p = n`` (the paper averages over ``p != n``); that adds the
      same ``1/batch`` to every sample whose gradient is non-zero, so rankings barely change;
    * every cosine denominator is clamped at ``1e-6``.
Deviation from the official code: ``class_balanced_selection`` fills seats left over after the
per-class quotas with the best-ranked unselected samples. The official
``classwise_fair_selection`` takes them from the first candidate positions (a set
symmetric-difference over ``range(size)``), which is rank-blind.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .per_sample import GradientGram

__all__ = ["OCSScores", "class_balanced_selection", "ocs_scores", "select_top_k"]

_EPS = 1e-6  # the official clamp of cosine denominators


@dataclass
class OCSScores:
    """The three OCS terms and their combination, one value per sample.

    Attributes:
        similarity: ``S_n`` (Eq. 4). Shape: ``(batch,)``.
        diversity: ``V_n``, mean cosine to the batch (Eq. 5). Shape: ``(batch,)``.
        affinity: ``A_n`` (Eq. 6); zeros when there is no memory. Shape: ``(batch,)``.
        score: ``S_n - V_n + tau A_n`` (Eq. 7). Shape: ``(batch,)``.
    """

    similarity: Tensor
    diversity: Tensor
    affinity: Tensor
    score: Tensor


def ocs_scores(gram: GradientGram, tau: float = 1000.0) -> OCSScores:
    """OCS scores from per-sample gradient inner products (no ``(batch, P)`` matrix needed).

    ``g_bar = mean_n g_n`` (the gradient of the mean loss), so ``<g_bar, g_n> = mean_m G_mn`` and
    ``||g_bar||^2 = mean_nm G_nm``.

    Args:
        gram: :class:`GradientGram`; with a reference gradient the affinity term is used.
        tau: weight of coreset affinity (official MNIST value 1000).
    """
    g = gram.gram
    norms = g.diagonal().clamp_min(0).sqrt()  # ||g_n||, (batch,)
    mean_dots = g.mean(dim=0)  # <g_bar, g_n>
    mean_norm = g.mean().clamp_min(0).sqrt()  # ||g_bar||
    similarity = mean_dots / (mean_norm * norms).clamp_min(_EPS)  # Eq. 4
    cross = g / (norms[:, None] * norms[None, :]).clamp_min(_EPS)  # cos(g_n, g_p)
    diversity = cross.mean(dim=0)  # Eq. 5, p = n included as in the official code
    if gram.ref_dots is not None:
        affinity = gram.ref_dots / (gram.ref_norm * norms).clamp_min(_EPS)  # Eq. 6
    else:
        affinity = torch.zeros_like(similarity)
    score = similarity - diversity + tau * affinity  # Eq. 7
    return OCSScores(similarity, diversity, affinity, score)


def select_top_k(score: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` highest scores, best first (ties: lower index first).

    Shape: score ``(batch,)`` -> ``(min(k, batch),)``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    order = torch.sort(score, descending=True, stable=True).indices
    return order[:k]


def class_balanced_selection(labels: Tensor, ranking: Tensor, size: int) -> Tensor:
    """Pick ``size`` samples, as equally many per class as the classes allow, best-ranked first.

    Each class present gets ``size // num_classes`` seats; a class with fewer samples gives its
    unused seats back and they are shared among the others (repeatedly, as in the official
    ``classwise_fair_selection``); seats that cannot be split evenly go to the best-ranked samples
    not yet chosen.

    Args:
        labels: class of each candidate. Shape: ``(num_candidates,)``.
        ranking: candidate indices in order of preference (a permutation for random choice).
            Shape: ``(num_candidates,)``.
        size: number of samples to keep (``min(size, num_candidates)`` are returned).

    Returns:
        Indices into ``labels``, grouped by rank within each class. Shape: ``(min(size, N),)``.
    """
    n = labels.shape[0]
    if ranking.shape != (n,) or not torch.equal(torch.sort(ranking).values, torch.arange(n)):
        raise ValueError("ranking must be a permutation of range(len(labels))")
    if size < 0:
        raise ValueError(f"size must be non-negative, got {size}")
    size = min(size, n)
    ranked_labels = labels[ranking]
    classes = torch.unique(labels).tolist()
    counts = {c: int((labels == c).sum()) for c in classes}
    quota = dict.fromkeys(classes, 0)
    left = size
    while left > 0:
        open_classes = [c for c in classes if quota[c] < counts[c]]
        share = left // len(open_classes) if open_classes else 0
        if share == 0:
            break
        for c in open_classes:
            take = min(share, counts[c] - quota[c])
            quota[c] += take
            left -= take
    chosen = torch.zeros(n, dtype=torch.bool)  # over ranked positions
    for c in classes:
        pos = torch.nonzero(ranked_labels == c).flatten()[: quota[c]]
        chosen[pos] = True
    if left > 0:  # uneven remainder: best-ranked leftovers
        rest = torch.nonzero(~chosen).flatten()[:left]
        chosen[rest] = True
    return ranking[torch.nonzero(chosen).flatten()]
