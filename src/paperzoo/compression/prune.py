"""Pruning wrappers on ``torch.nn.utils.prune``: iterative global magnitude pruning with
fine-tuning, structured L1 filter pruning, and the fine-tuning objective with an optional
attribution-matching term.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054. Magnitude pruning: Han
et al., NeurIPS 2015; L1 filter pruning: Li et al., ICLR 2017 (the official code adapts both from
``Eric-mingjie/rethinking-network-pruning``).

The masks live in ``torch.nn.utils.prune`` reparametrisations (``weight = weight_orig * mask``,
recomputed in a forward pre-hook), so pruned weights stay zero through any number of optimizer
steps and the gradients of pruned entries never change the effective weights. Unstructured
pruning is global over the conv weights (as the official ``unstructure/prune.py``); iteration
``i`` of ``n`` reaches the cumulative sparsity ``1 - (1 - s)^(i/n)`` (the code: 20 % per
iteration, 16 iterations).

Deviations from the paper: structured L1 pruning zeroes whole filters (weight rows and bias) by a
mask instead of building a physically narrower network; the function computed is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from .distill import ObjectiveOutput
from .matching import AttributionMatchingLoss

__all__ = [
    "FineTuneObjective",
    "global_magnitude_prune",
    "iterative_magnitude_pruning",
    "l1_filter_prune",
    "make_pruning_permanent",
    "prunable_modules",
    "sparsity",
]


def prunable_modules(
    model: nn.Module, types: tuple[type[nn.Module], ...] = (nn.Conv2d,)
) -> list[nn.Module]:
    """The modules of ``types`` in ``model`` (conv layers by default, as in the official code)."""
    mods = [m for m in model.modules() if isinstance(m, types)]
    if not mods:
        raise ValueError(f"model has no modules of types {[t.__name__ for t in types]}")
    return mods


def sparsity(model: nn.Module, modules: Sequence[nn.Module] | None = None) -> float:
    """Fraction of exactly-zero effective weights over ``modules`` (default: conv layers)."""
    mods = list(modules) if modules is not None else prunable_modules(model)
    zeros = sum(int((m.weight == 0).sum()) for m in mods)
    total = sum(m.weight.numel() for m in mods)
    return zeros / total


def global_magnitude_prune(
    model: nn.Module, target_sparsity: float, modules: Sequence[nn.Module] | None = None
) -> float:
    """Prune the smallest-|w| weights over all ``modules`` until ``target_sparsity`` is reached.

    Already-pruned weights stay pruned (``torch`` applies the amount to the remaining entries),
    so calling this with growing targets is iterative magnitude pruning. Returns the sparsity.
    """
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target_sparsity must be in [0, 1), got {target_sparsity}")
    mods = list(modules) if modules is not None else prunable_modules(model)
    total = sum(m.weight.numel() for m in mods)
    # An absolute count makes the reached sparsity exact rather than rounded per call.
    num_new = round(target_sparsity * total) - sum(int((m.weight == 0).sum()) for m in mods)
    if num_new > 0:
        prune.global_unstructured(
            [(m, "weight") for m in mods], pruning_method=prune.L1Unstructured, amount=num_new
        )
    return sparsity(model, mods)


def iterative_magnitude_pruning(
    model: nn.Module,
    final_sparsity: float,
    num_iterations: int,
    fine_tune: Callable[[int], object],
    modules: Sequence[nn.Module] | None = None,
) -> list[float]:
    """Prune to ``1 - (1 - final_sparsity)^(i/n)`` then call ``fine_tune(i)``, for i = 1..n.

    Args:
        model: pruned in place (masks stay attached; see :func:`make_pruning_permanent`).
        final_sparsity: sparsity after the last iteration (0.9 in our quick preset).
        num_iterations: n.
        fine_tune: trains ``model`` for one iteration (any objective: plain, +AT, +WCAM).
        modules: layers to prune (default: all conv layers).

    Returns:
        the sparsity after each iteration.
    """
    if num_iterations < 1:
        raise ValueError(f"num_iterations must be >= 1, got {num_iterations}")
    mods = list(modules) if modules is not None else prunable_modules(model)
    reached = []
    for i in range(1, num_iterations + 1):
        target = 1.0 - (1.0 - final_sparsity) ** (i / num_iterations)
        reached.append(global_magnitude_prune(model, target, mods))
        fine_tune(i)
    return reached


def l1_filter_prune(
    model: nn.Module, amount: float, modules: Sequence[nn.Module] | None = None
) -> list[nn.Module]:
    """Structured pruning: in each conv layer zero the ``amount`` fraction of output filters with
    the smallest L1 norm (Li et al.; the official code prunes 30 % one-shot).

    The bias of a pruned filter is masked too, so the filter's output is exactly zero before the
    non-linearity, as if it had been removed. Returns the pruned modules.
    """
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"amount must be in [0, 1), got {amount}")
    mods = list(modules) if modules is not None else prunable_modules(model)
    for m in mods:
        prune.ln_structured(m, "weight", amount=amount, n=1, dim=0)
        if getattr(m, "bias", None) is not None:
            keep = m.weight_mask.flatten(1).amax(dim=1)  # (out_channels,) 1 = filter kept
            prune.custom_from_mask(m, "bias", keep)
    return mods


def make_pruning_permanent(model: nn.Module) -> nn.Module:
    """Fold every mask into its weight (``prune.remove``) so the model is a plain module again."""
    for m in model.modules():
        for name in ("weight", "bias"):
            if prune.is_pruned(m) and hasattr(m, f"{name}_mask"):
                prune.remove(m, name)
    return model


class FineTuneObjective(nn.Module):
    """Cross-entropy fine-tuning of a pruned network, plus any attribution-matching loss.

    The official pruning code uses the plain task loss (no logit KD) plus ``beta * L_match``
    against the unpruned teacher.

    Args:
        student: the pruned network.
        matching: a loss built on (dense teacher, ``student``), or None.
    """

    def __init__(self, student: nn.Module, matching: AttributionMatchingLoss | None = None):
        super().__init__()
        if matching is not None and matching.student is not student:
            raise ValueError("matching must be built on the same student module")
        self.student, self.matching = student, matching

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> ObjectiveOutput:
        if self.matching is not None:
            m = self.matching(x)
            logits, match = m.student_logits, m.loss
        else:
            logits, match = self.student(x), torch.zeros((), device=x.device)
        task = F.cross_entropy(logits, y)
        return ObjectiveOutput(task + match, task.detach(), match.detach(), logits.detach())
