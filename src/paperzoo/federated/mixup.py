"""Mixup losses for mean-augmented federated learning: global mixup, NaiveMix and FedMix.

Paper: FedMix: Approximation of Mixup under Mean Augmented Federated Learning
(Tehrim Yoon, Sumin Shin, Sung Ju Hwang, Eunho Yang; ICLR 2021), https://arxiv.org/abs/2107.00233

All three losses are pure functions of a model (any callable ``x -> logits``), a local batch
``(x_i, y_i)`` and one partner per local sample: a raw sample ``(x_j, y_j)`` of another client for
global mixup (the non-private reference), or a received mean ``(x̄_j, ȳ_j)`` for NaiveMix and
FedMix. Labels are class indices or soft/one-hot rows; cross-entropy is linear in the label, which
is what lets FedMix replace ``(x_j, y_j)`` by their means.

FedMix (the paper's Eq. for ``ℓ_FedMix``) is the first-order Taylor expansion of the global-mixup
loss in ``λ x_j`` around ``(1-λ) x_i``::

    ℓ_mix(x_i, y_i, x_j, y_j) = ℓ(f((1-λ)x_i + λx_j), (1-λ)y_i + λy_j)
        ≈ (1-λ) ℓ(f((1-λ)x_i), y_i) + λ ℓ(f((1-λ)x_i), y_j)
          + λ(1-λ) <∇_x ℓ(f(x), y_i)|_{x=(1-λ)x_i}, x_j>                          + O(λ²)

Derivation (why the Taylor term carries ``λ(1-λ)``): by linearity of CE in the label,
``ℓ_mix = (1-λ) ℓ(f(x̃), y_i) + λ ℓ(f(x̃), y_j)`` with ``x̃ = (1-λ)x_i + λx_j``. Expanding each
term to first order in ``λ x_j`` around ``(1-λ)x_i``:

    (1-λ) ℓ(f(x̃), y_i) = (1-λ) ℓ(f((1-λ)x_i), y_i) + (1-λ) λ <∇_x ℓ(f(x), y_i), x_j> + O(λ²)
    λ ℓ(f(x̃), y_j)     = λ ℓ(f((1-λ)x_i), y_j) + λ² <∇_x ℓ(f(x), y_j), x_j>        + O(λ³)

(gradients at ``x = (1-λ)x_i``); the ``λ²`` term is dropped. So the first-order term is scaled by
**λ(1-λ)** when the gradient is taken at the scaled input, which equals **λ** times the gradient
w.r.t. the *unscaled* ``x_i`` (chain rule: ``∂/∂x_i ℓ(f((1-λ)x_i)) = (1-λ) ∇_x ℓ``), the paper's
form. Writing ``λ`` with the gradient at the scaled input would overweight the term by
``1/(1-λ)`` (5% at λ = 0.05, 25% at λ = 0.2). The right-hand side is linear in ``(x_j, y_j)``, so
averaging over the partner client's samples gives the same expression with ``(x̄_j, ȳ_j)``.

Deviations from the paper:
  * The paper prints the last term as ``λ ∂ℓ/∂x · x̄_j`` with the derivative taken w.r.t. the
    *unscaled* local input ``x_i`` (``∂/∂x_i ℓ(f((1-λ)x_i)) = (1-λ) ∇_x ℓ``), which is the same
    quantity; we write the ``(1-λ)`` out.
  * The input gradient is taken of the *sum* of per-sample losses, so each sample's term uses its
    own gradient (the Flower baseline differentiates the batch *mean*, which scales the term by an
    extra 1/B; see the tests, which check the term against finite differences).
  * Models whose outputs couple samples of a batch (BatchNorm in train mode) would make the
    summed-loss gradient differ from per-sample gradients; use per-sample models (ours have no
    BatchNorm).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .tangent import SUPPORTED, forward_with_tangent, supports_tangent

__all__ = [
    "fedmix_loss",
    "fedmix_taylor_term",
    "global_mixup_loss",
    "naive_mix_loss",
    "soft_cross_entropy",
]

Model = Callable[[Tensor], Tensor]


def _check_lam(lam: float) -> None:
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"mixing ratio lam must be in [0, 1], got {lam}")


def _check_pairs(x: Tensor, partner_x: Tensor, y: Tensor, partner_y: Tensor) -> None:
    if x.shape[0] == 0:
        raise ValueError("empty batch: x has no samples")
    if partner_x.shape != x.shape:
        raise ValueError(
            f"partner inputs must have the local batch's shape {tuple(x.shape)}, "
            f"got {tuple(partner_x.shape)}"
        )
    if y.shape[0] != x.shape[0] or partner_y.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels must have one row per sample ({x.shape[0]}), got y {tuple(y.shape)} "
            f"and partner_y {tuple(partner_y.shape)}"
        )


def soft_cross_entropy(logits: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Cross-entropy with integer or soft (probability-row) targets.

    Args:
        logits: unnormalised scores.
        target: class indices, or rows of non-negative weights (one-hot, label means).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        logits: (batch, classes); target: (batch,) int64 or (batch, classes) float;
        returns a scalar, or (batch,) for ``"none"``.
    """
    if target.dtype in (torch.int64, torch.int32, torch.long):
        return F.cross_entropy(logits, target.long(), reduction=reduction)
    if target.shape != logits.shape:
        raise ValueError(f"soft target {tuple(target.shape)} != logits {tuple(logits.shape)}")
    # CE is linear in the label: -Σ_c y_c log p_c, the property all three losses rely on.
    per = -(target * F.log_softmax(logits, dim=-1)).sum(-1)
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


def global_mixup_loss(
    model: Model, x: Tensor, y: Tensor, partner_x: Tensor, partner_y: Tensor, lam: float
) -> Tensor:
    """Global mixup with raw samples of other clients (not private; the upper-bound reference).

    ``ℓ = (1-λ) CE(f(x̃), y_i) + λ CE(f(x̃), y_j)``, ``x̃ = (1-λ) x_i + λ x_j``.

    Shape:
        x, partner_x: (batch, *input_shape); y, partner_y: (batch,) or (batch, classes);
        returns a scalar (mean over the batch).
    """
    _check_lam(lam)
    _check_pairs(x, partner_x, y, partner_y)
    logits = model((1.0 - lam) * x + lam * partner_x)
    return (1.0 - lam) * soft_cross_entropy(logits, y) + lam * soft_cross_entropy(logits, partner_y)


def naive_mix_loss(
    model: Model, x: Tensor, y: Tensor, mean_x: Tensor, mean_y: Tensor, lam: float
) -> Tensor:
    """NaiveMix: mixup of each local sample with a received mean (x̄_j, ȳ_j).

    ``ℓ = (1-λ) CE(f(x̃), y_i) + λ CE(f(x̃), ȳ_j)``, ``x̃ = (1-λ) x_i + λ x̄_j``.

    Shape:
        x, mean_x: (batch, *input_shape); y: (batch,) or (batch, classes);
        mean_y: (batch, classes); returns a scalar.
    """
    return global_mixup_loss(model, x, y, mean_x, mean_y, lam)


def _label_rows(y: Tensor, logits: Tensor) -> Tensor:
    """Labels as rows of weights: one-hot for class indices, ``y`` itself for soft rows.

    Shape:
        y: (batch,) int or (batch, classes); logits: (batch, classes); returns (batch, classes).
    """
    if y.dtype in (torch.int64, torch.int32, torch.long):
        return F.one_hot(y.long(), logits.shape[-1]).to(logits.dtype)
    return y


def _taylor_from_tangent(logits: Tensor, tangent: Tensor, y: Tensor) -> Tensor:
    """``d/dε CE(z + ε t, y) = <(Σ_c y_c) softmax(z) - y, t>`` per row (integer or soft ``y``).

    Shape:
        logits, tangent: (batch, classes); y: (batch,) or (batch, classes); returns (batch,).
    """
    p = torch.softmax(logits, dim=-1)
    if y.dtype in (torch.int64, torch.int32, torch.long):
        return (p * tangent).sum(-1) - tangent.gather(1, y.long()[:, None]).squeeze(1)
    return y.sum(-1) * (p * tangent).sum(-1) - (y * tangent).sum(-1)


def _use_tangent(model: Model, method: str) -> bool:
    if method not in ("auto", "tangent", "double_backprop"):
        raise ValueError(f"method must be 'auto', 'tangent' or 'double_backprop', got {method!r}")
    if method == "tangent" and not supports_tangent(model):
        raise ValueError(
            f"{type(model).__name__} has no tangent rule (needs jvp_layers() of "
            f"{', '.join(t.__name__ for t in SUPPORTED)}); use method='double_backprop'"
        )
    return method == "tangent" or (method == "auto" and supports_tangent(model))


def fedmix_taylor_term(
    model: Model,
    x: Tensor,
    y: Tensor,
    mean_x: Tensor,
    lam: float,
    create_graph: bool = True,
    method: str = "auto",
) -> Tensor:
    """Per-sample first-order term ``λ(1-λ) <∇_x CE(f(x), y_i)|_{x=(1-λ)x_i}, x̄_j>``.

    The input gradient is that of the *sum* of per-sample losses, which for a model without
    cross-sample coupling equals each sample's own gradient. With ``create_graph`` the result
    stays differentiable w.r.t. the model's parameters (double backprop). ``method="tangent"``
    (the default ``"auto"`` picks it for models with ``jvp_layers()``) computes the same
    directional derivative by forward mode (``tangent.py``), always differentiable.

    Shape:
        x, mean_x: (batch, *input_shape); y: (batch,) or (batch, classes); returns (batch,).
    """
    _check_lam(lam)
    x_scaled = ((1.0 - lam) * x).detach()
    if _use_tangent(model, method):
        logits, tangent = forward_with_tangent(model, x_scaled, mean_x)  # type: ignore[arg-type]
        return lam * (1.0 - lam) * _taylor_from_tangent(logits, tangent, y)
    with torch.enable_grad():
        x_scaled.requires_grad_(True)
        ce = soft_cross_entropy(model(x_scaled), y, reduction="none")  # (batch,)
        (grad_x,) = torch.autograd.grad(ce.sum(), x_scaled, create_graph=create_graph)
    return lam * (1.0 - lam) * (grad_x * mean_x).flatten(1).sum(1)


def fedmix_loss(
    model: Model,
    x: Tensor,
    y: Tensor,
    mean_x: Tensor,
    mean_y: Tensor,
    lam: float,
    method: str = "auto",
) -> Tensor:
    """FedMix loss: the first-order approximation of global mixup that needs only means.

    ``ℓ = (1-λ) CE(f((1-λ)x_i), y_i) + λ CE(f((1-λ)x_i), ȳ_j)
          + λ(1-λ) <∇_x CE(f(x), y_i)|_{x=(1-λ)x_i}, x̄_j>``, averaged over the batch.

    One forward pass serves all three terms. The third is a directional derivative along x̄_j:
    for models with ``jvp_layers()`` (ours) it comes from one forward-mode pass of primal and
    tangent stacked (``tangent.py``; ``method="auto"`` or ``"tangent"``), about a plain step on a
    batch of 2B; otherwise (``"double_backprop"``) from the input gradient, differentiated again
    (about 3x a plain step). The two agree to float rounding (tests).

    Shape:
        x, mean_x: (batch, *input_shape); y: (batch,) or (batch, classes);
        mean_y: (batch, classes); returns a scalar.
    """
    _check_lam(lam)
    _check_pairs(x, mean_x, y, mean_y)
    if lam == 0.0:
        return soft_cross_entropy(model(x), y)
    x_scaled = ((1.0 - lam) * x).detach()
    if _use_tangent(model, method):
        logits, tangent = forward_with_tangent(model, x_scaled, mean_x)  # type: ignore[arg-type]
        # All three terms from one log-softmax, with the label rows folded first (no gradient):
        #   (1-λ) CE(z, y) + λ CE(z, ȳ) = -<(1-λ) y + λ ȳ, log p>,
        #   taylor = <(Σ_c y_c) p - y, t>;
        # fewer small ops than three separate losses, which is most of the cost at batch 10.
        b = x.shape[0]
        with torch.no_grad():  # label rows are constants: fold the weights and 1/B in once
            rows = _label_rows(y, logits)
            weight = rows.lerp(mean_y, lam).neg_().div_(b)  # -((1-λ) y + λ ȳ) / B
        logp = torch.log_softmax(logits, dim=-1)
        p = logp.exp()
        if rows is y:  # soft rows may not sum to 1: d CE / dz = (Σ_c y_c) p - y
            p = p * y.sum(-1, keepdim=True)
        return torch.addcmul(logp * weight, p - rows, tangent, value=lam * (1.0 - lam) / b).sum()
    create_graph = torch.is_grad_enabled()  # keep the graph only when training
    with torch.enable_grad():  # the input gradient is needed even under no_grad (evaluation)
        x_scaled.requires_grad_(True)
        logits = model(x_scaled)
        ce_own = soft_cross_entropy(logits, y, reduction="none")  # (batch,)
        ce_mean = soft_cross_entropy(logits, mean_y, reduction="none")
        # Sum, not mean: each sample's own input gradient (the Flower port's 1/B pitfall).
        (grad_x,) = torch.autograd.grad(ce_own.sum(), x_scaled, create_graph=create_graph)
        taylor = (grad_x * mean_x).flatten(1).sum(1)  # (batch,)
    return ((1.0 - lam) * ce_own + lam * ce_mean + lam * (1.0 - lam) * taylor).mean()
