"""Pluggable local objectives and the local SGD loop every federated client runs.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233, Algorithm 1: each selected
client runs E local epochs of minibatch SGD on its own data, the local loss being plain
cross-entropy (FedAvg), CE plus a proximal term (FedProx, Li et al. 2020), NaiveMix or FedMix with
one pooled mean per local sample, or global mixup with raw samples of other clients (the
non-private reference, available only in simulation).

An objective is any :class:`LocalObjective`: ``begin(model)`` is called once per round with the
received global model, ``loss(...)`` once per minibatch. ``needs_partners`` says whether the loop
must draw partner rows (pooled means, or raw samples for global mixup) for each minibatch.

Deviations from the paper:
  * Partners are drawn per local sample (uniformly from the pool, with replacement); the Flower
    port draws one pooled mean per minibatch.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .means import sample_partners
from .mixup import fedmix_loss, global_mixup_loss, naive_mix_loss, soft_cross_entropy

__all__ = [
    "CrossEntropyObjective",
    "FedMixObjective",
    "GlobalMixupObjective",
    "LocalObjective",
    "NaiveMixObjective",
    "ProximalObjective",
    "evaluate_accuracy",
    "local_sgd",
    "make_objective",
]


class LocalObjective(ABC):
    """A client's local loss. Subclasses set ``needs_partners`` and implement :meth:`loss`."""

    #: whether each minibatch needs partner rows ``(partner_x, partner_y)``
    needs_partners: bool = False

    def begin(self, model: nn.Module) -> None:  # noqa: B027 - optional hook
        """Called with the received global model before local training (FedProx's anchor)."""

    @abstractmethod
    def loss(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        partner_x: Tensor | None,
        partner_y: Tensor | None,
    ) -> Tensor:
        """Scalar loss of one minibatch.

        Shape:
            x: (batch, *input_shape); y: (batch,) int64; partner_x: (batch, *input_shape);
            partner_y: (batch, classes) (None when ``needs_partners`` is False).
        """


class CrossEntropyObjective(LocalObjective):
    """FedAvg: plain cross-entropy."""

    def loss(self, model, x, y, partner_x, partner_y):
        return F.cross_entropy(model(x), y)


class ProximalObjective(LocalObjective):
    """FedProx: ``CE + (μ/2) ||w - w_global||²`` (Li et al., MLSys 2020, Eq. 2)."""

    def __init__(self, proximal_mu: float) -> None:
        if proximal_mu < 0:
            raise ValueError(f"proximal_mu must be >= 0, got {proximal_mu}")
        self.proximal_mu = proximal_mu
        self._anchor: list[Tensor] = []

    def begin(self, model: nn.Module) -> None:
        self._anchor = [p.detach().clone() for p in model.parameters()]

    def loss(self, model, x, y, partner_x, partner_y):
        if not self._anchor:
            raise RuntimeError("ProximalObjective.begin(model) must be called before loss()")
        prox = sum(((p - a) ** 2).sum() for p, a in zip(model.parameters(), self._anchor))
        return F.cross_entropy(model(x), y) + 0.5 * self.proximal_mu * prox


class NaiveMixObjective(LocalObjective):
    """NaiveMix with a pooled mean per local sample (``mixup.naive_mix_loss``)."""

    needs_partners = True

    def __init__(self, lam: float) -> None:
        self.lam = lam

    def loss(self, model, x, y, partner_x, partner_y):
        return naive_mix_loss(model, x, y, partner_x, partner_y, self.lam)


class FedMixObjective(LocalObjective):
    """FedMix with a pooled mean per local sample (``mixup.fedmix_loss``).

    ``method``: ``"auto"`` (forward-mode tangent for models with ``jvp_layers()``, else double
    backprop), ``"tangent"`` or ``"double_backprop"``; all give the same loss and gradients.
    """

    needs_partners = True

    def __init__(self, lam: float, method: str = "auto") -> None:
        self.lam = lam
        self.method = method

    def loss(self, model, x, y, partner_x, partner_y):
        return fedmix_loss(model, x, y, partner_x, partner_y, self.lam, method=self.method)


class GlobalMixupObjective(LocalObjective):
    """Global mixup with raw samples of other clients: NOT private, the reference arm only.

    The training loop draws partners from a pool of raw samples (inputs, one-hot labels) instead
    of means; ``mixup.global_mixup_loss`` is then applied.
    """

    needs_partners = True

    def __init__(self, lam: float) -> None:
        self.lam = lam

    def loss(self, model, x, y, partner_x, partner_y):
        return global_mixup_loss(model, x, y, partner_x, partner_y, self.lam)


def make_objective(name: str, lam: float = 0.1, proximal_mu: float = 0.01) -> LocalObjective:
    """Objective by arm name: fedavg, fedprox, naivemix, fedmix, global_mixup."""
    if name == "fedavg":
        return CrossEntropyObjective()
    if name == "fedprox":
        return ProximalObjective(proximal_mu)
    if name == "naivemix":
        return NaiveMixObjective(lam)
    if name == "fedmix":
        return FedMixObjective(lam)
    if name == "global_mixup":
        return GlobalMixupObjective(lam)
    raise ValueError(
        f"unknown objective {name!r}; choose fedavg, fedprox, naivemix, fedmix, global_mixup"
    )


def local_sgd(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    objective: LocalObjective,
    *,
    learning_rate: float,
    batch_size: int,
    local_epochs: int,
    partners: tuple[Tensor, Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """Run ``local_epochs`` of minibatch SGD on ``(x, y)`` in place; return local statistics.

    Args:
        model: the received global model (trained in place).
        x, y: the client's data.
        objective: the local loss.
        partners: ``(pool_x, pool_y)`` rows to mix with (pooled means, or raw samples for
            global mixup); required when ``objective.needs_partners``.
        generator: RNG for shuffling and partner draws.

    Shape:
        x: (N, *input_shape); y: (N,); pool_x: (P, *input_shape); pool_y: (P, classes).

    Returns:
        ``{"train_loss": mean minibatch loss, "num_steps": steps}``.
    """
    if objective.needs_partners and (partners is None or partners[0].shape[0] == 0):
        raise ValueError(f"{type(objective).__name__} needs a non-empty partner pool")
    objective.begin(model)
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    total, steps = 0.0, 0
    n = x.shape[0]
    for _ in range(local_epochs):
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            px = py = None
            if objective.needs_partners:
                px, py = sample_partners(partners[0], partners[1], len(idx), generator)
            loss = objective.loss(model, x[idx], y[idx], px, py)
            if not math.isfinite(loss.item()):
                raise FloatingPointError(
                    f"{type(objective).__name__}: non-finite local loss at step {steps}"
                )
            for p in params:
                p.grad = None
            loss.backward()
            # Plain SGD, bit for bit what torch.optim.SGD (no momentum) computes; written out
            # because the optimizer's first step imports torch._dynamo, seconds of CPU in every
            # fresh client process.
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-learning_rate)
            total += loss.item()
            steps += 1
    return {"train_loss": total / max(steps, 1), "num_steps": float(steps)}


def evaluate_accuracy(
    model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000
) -> tuple[float, float]:
    """(mean CE loss, accuracy) of ``model`` on ``(x, y)``.

    Shape:
        x: (N, *input_shape); y: (N,).
    """
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for s in range(0, x.shape[0], batch_size):
            logits = model(x[s : s + batch_size])
            loss += float(soft_cross_entropy(logits, y[s : s + batch_size], reduction="sum"))
            correct += int((logits.argmax(1) == y[s : s + batch_size]).sum())
    return loss / x.shape[0], correct / x.shape[0]
