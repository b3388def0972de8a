"""Knowledge distillation to a narrower student, with an optional attribution-matching term, and
the plain training loop shared by every compression wrapper.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054. KD: Hinton, Vinyals,
Dean, 2015, https://arxiv.org/abs/1503.02531.

    L = alpha * T^2 * KL( softmax(z_T / T) || softmax(z_S / T) ) + (1 - alpha) * CE(z_S, y)
        + beta * L_match                                   (T = 4, alpha = 0.9, beta = 100)

Deviations from the paper: PASCAL VOC is multi-label, so the official code uses a per-class
sigmoid KL and BCE; our cluttered-digit task is single-label, so the KL is over a softmax and
the task loss is cross-entropy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .matching import AttributionMatchingLoss

__all__ = ["DistillationObjective", "ObjectiveOutput", "fit", "kd_loss"]


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    temperature: float = 4.0,
    alpha: float = 0.9,
) -> torch.Tensor:
    """Hinton KD: ``alpha * T^2 * KL(p_T || p_S) + (1 - alpha) * CE`` (``logit_kd`` in the code).

    Shape:
        student_logits, teacher_logits: (batch, classes); targets: (batch,); returns a scalar.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"logit shapes differ: {tuple(student_logits.shape)} vs {tuple(teacher_logits.shape)}"
        )
    t = float(temperature)
    log_p_s = F.log_softmax(student_logits / t, dim=1)
    p_t = F.softmax(teacher_logits.detach() / t, dim=1)
    # T^2 keeps the soft-target gradients on the scale of the hard-target ones (Hinton et al.).
    kl = F.kl_div(log_p_s, p_t, reduction="batchmean") * t * t
    return alpha * kl + (1.0 - alpha) * F.cross_entropy(student_logits, targets)


@dataclass
class ObjectiveOutput:
    """One training step's loss and its parts.

    Attributes:
        loss: the total (scalar, backpropagate this).
        task: the task part (KD or cross-entropy), detached.
        match: ``beta * L_match`` (0 without matching), detached.
        logits: (batch, classes) student logits, detached.
    """

    loss: torch.Tensor
    task: torch.Tensor
    match: torch.Tensor
    logits: torch.Tensor


class DistillationObjective(nn.Module):
    """KD from ``teacher`` to ``student``, plus any :class:`AttributionMatchingLoss`.

    Args:
        teacher: frozen network providing soft targets.
        student: the network being trained.
        matching: WCAM / stochastic WCAM / AT loss between the same two networks, or None.
        temperature, alpha: KD hyper-parameters (paper: 4 and 0.9).

    Example:
        >>> obj = DistillationObjective(teacher, student, matching=wcam)
        >>> out = obj(x, y); out.loss.backward()
    """

    def __init__(
        self,
        teacher: nn.Module,
        student: nn.Module,
        matching: AttributionMatchingLoss | None = None,
        *,
        temperature: float = 4.0,
        alpha: float = 0.9,
    ) -> None:
        super().__init__()
        if matching is not None and (
            matching.teacher is not teacher or matching.student is not student
        ):
            raise ValueError("matching must be built on the same teacher and student modules")
        self.teacher, self.student, self.matching = teacher, student, matching
        self.temperature, self.alpha = float(temperature), float(alpha)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> ObjectiveOutput:
        if self.matching is not None:
            m = self.matching(x)
            logits_s, logits_t, match = m.student_logits, m.teacher_logits, m.loss
        else:
            with torch.no_grad():
                logits_t = self.teacher(x)
            logits_s, match = self.student(x), torch.zeros((), device=x.device)
        task = kd_loss(logits_s, logits_t, y, temperature=self.temperature, alpha=self.alpha)
        return ObjectiveOutput(task + match, task.detach(), match.detach(), logits_s.detach())


def fit(
    objective: Callable[[torch.Tensor, torch.Tensor], ObjectiveOutput],
    optimizer: torch.optim.Optimizer,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    name: str = "",
    on_step: Callable[[int, ObjectiveOutput], None] | None = None,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """One pass of ``objective`` over ``batches`` with ``optimizer``; returns mean loss parts.

    The objective's ``student`` is put in train mode (batch statistics in BatchNorm, dropout
    on) and its ``teacher``, if any, in eval mode (frozen running statistics), whatever mode
    they came in: a pruned copy of an eval-mode teacher must not fine-tune with the dense
    network's frozen statistics.

    Raises:
        FloatingPointError: when a loss is NaN or infinite (names ``name`` and the step).
    """
    student = getattr(objective, "student", None)
    if isinstance(student, nn.Module):
        student.train()
    teacher = getattr(objective, "teacher", None)
    if teacher is None and getattr(objective, "matching", None) is not None:
        teacher = objective.matching.teacher
    if isinstance(teacher, nn.Module):
        teacher.eval()
    totals = {"loss": 0.0, "task": 0.0, "match": 0.0}
    steps = 0
    for step, (x, y) in enumerate(batches):
        if device is not None:
            x, y = x.to(device), y.to(device)
        out = objective(x, y)
        if not math.isfinite(out.loss.item()):
            raise FloatingPointError(f"{name or 'training'}: non-finite loss at step {step}")
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        totals["loss"] += out.loss.item()
        totals["task"] += float(out.task)
        totals["match"] += float(out.match)
        steps += 1
        if on_step is not None:
            on_step(step, out)
    return {k: v / max(steps, 1) for k, v in totals.items()}
