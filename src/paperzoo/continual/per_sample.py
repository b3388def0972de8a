"""Per-sample gradients and their Gram matrix, the raw material of Online Coreset Selection.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085.

OCS scores every streamed sample by cosine similarities between per-sample gradients
``g_n = d loss(x_n, y_n) / d theta``. Two ways to get them:

* :func:`per_sample_grads`: generic, ``torch.func.vmap`` over ``torch.func.grad`` of a
  ``functional_call`` (any architecture without cross-sample coupling).
* :func:`linear_gradient_gram`: exact inner products ``<g_n, g_m>`` for models whose trainable
  parameters all sit in ``nn.Linear`` layers (the paper's MNIST MLP), without materialising the
  ``(batch, params)`` matrix: for ``y = W a + b`` the per-sample weight gradient is the outer
  product ``delta_n a_n^T``, so ``<g_n, g_m> = (delta_n . delta_m)(a_n . a_m + 1)`` per layer.

Deviations from the official code: the official repo uses backward hooks (``autograd_hacks``) that
always materialise every per-sample gradient. Both paths here give the same numbers (tested).

Batch norm: in training mode a BN layer mixes the samples of a batch, so a per-sample gradient is
not defined. ``batch_norm="eval"`` (default) evaluates BN layers with their running statistics while
gradients are taken (well defined, and what a deployed model does); ``batch_norm="error"`` raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "GradientGram",
    "flatten_per_sample",
    "gradient_gram",
    "has_batch_norm",
    "linear_gradient_gram",
    "per_sample_grads",
    "supports_linear_gram",
]

LossFn = Callable[[Tensor, Tensor], Tensor]
BatchNormPolicy = Literal["eval", "error"]


def has_batch_norm(model: nn.Module) -> bool:
    """True when ``model`` holds any ``BatchNorm1d/2d/3d`` (or ``SyncBatchNorm``) layer."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


class _BatchNormEval:
    """Context manager: BN layers in eval mode (running statistics), restored on exit."""

    def __init__(self, model: nn.Module, policy: BatchNormPolicy) -> None:
        if policy not in ("eval", "error"):
            raise ValueError(f"batch_norm must be 'eval' or 'error', got {policy!r}")
        self.bns = [
            m
            for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training
        ]
        if self.bns and policy == "error":
            raise ValueError(
                "per-sample gradients are undefined for batch norm in training mode (its batch "
                f"statistics couple the samples; {len(self.bns)} BN layer(s) found). Use "
                "batch_norm='eval' to take them with running statistics, call model.eval(), or "
                "replace BatchNorm with GroupNorm/LayerNorm."
            )

    def __enter__(self) -> None:
        for m in self.bns:
            m.eval()

    def __exit__(self, *exc: object) -> None:
        for m in self.bns:
            m.train()


def _check_batch(x: Tensor, y: Tensor) -> None:
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch, got shape {tuple(x.shape)}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples but y has {y.shape[0]}")


def per_sample_grads(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn = F.cross_entropy,
    *,
    batch_norm: BatchNormPolicy = "eval",
) -> dict[str, Tensor]:
    """Gradient of each sample's own loss, for every trainable parameter (``vmap(grad)``).

    Dropout (and any other randomness) draws independent masks per sample
    (``randomness="different"``), as a batched forward pass would.

    Args:
        model: any module; its parameters are not modified and ``.grad`` is not touched.
        x: inputs. Shape: ``(batch, *input_shape)``.
        y: targets. Shape: ``(batch,)``.
        loss_fn: ``loss_fn(output, target)`` for ONE sample (called with a batch of 1).
        batch_norm: ``"eval"`` uses BN running statistics; ``"error"`` refuses BN in train mode.

    Returns:
        ``{name: grad}`` for parameters with ``requires_grad``. Shape: ``(batch, *param.shape)``.
    """
    from torch.func import functional_call, grad, vmap

    _check_batch(x, y)
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    if not params:
        raise ValueError("model has no trainable parameters")

    def one_loss(p: dict[str, Tensor], xi: Tensor, yi: Tensor) -> Tensor:
        out = functional_call(model, (p, buffers), (xi.unsqueeze(0),))
        return loss_fn(out, yi.unsqueeze(0))

    with _BatchNormEval(model, batch_norm):
        return vmap(grad(one_loss), in_dims=(None, 0, 0), randomness="different")(params, x, y)


def flatten_per_sample(grads: dict[str, Tensor]) -> Tensor:
    """Concatenate per-parameter gradients into one row per sample.

    Shape: ``{name: (batch, *shape)}`` -> ``(batch, num_params)``, in the dict's order (the
    order of ``model.named_parameters()``, the same as :func:`flat_grad` uses).
    """
    if not grads:
        raise ValueError("no gradients to flatten")
    return torch.cat([g.reshape(g.shape[0], -1) for g in grads.values()], dim=1)


class GradientGram:
    """Inner products between per-sample gradients (and with one reference gradient).

    Attributes:
        gram: ``<g_n, g_m>``. Shape: ``(batch, batch)``.
        ref_dots: ``<r, g_n>`` for the reference gradient ``r`` (or None). Shape: ``(batch,)``.
        ref_norm: ``||r||`` (or None). Shape: ``()``.
    """

    def __init__(
        self, gram: Tensor, ref_dots: Tensor | None = None, ref_norm: Tensor | None = None
    ) -> None:
        if gram.ndim != 2 or gram.shape[0] != gram.shape[1]:
            raise ValueError(f"gram must be square (batch, batch), got {tuple(gram.shape)}")
        if (ref_dots is None) != (ref_norm is None):
            raise ValueError("give both ref_dots and ref_norm, or neither")
        if ref_dots is not None and ref_dots.shape != (gram.shape[0],):
            raise ValueError(f"ref_dots must have shape ({gram.shape[0]},), got {ref_dots.shape}")
        self.gram, self.ref_dots, self.ref_norm = gram, ref_dots, ref_norm

    @classmethod
    def from_per_sample(cls, grads: Tensor, reference: Tensor | None = None) -> GradientGram:
        """From flattened per-sample gradients ``(batch, P)`` and an optional reference ``(P,)``."""
        if grads.ndim != 2:
            raise ValueError(f"grads must be (batch, params), got {tuple(grads.shape)}")
        gram = grads @ grads.T
        if reference is None:
            return cls(gram)
        if reference.shape != (grads.shape[1],):
            raise ValueError(
                f"reference must have shape ({grads.shape[1]},), got {reference.shape}"
            )
        return cls(gram, grads @ reference, reference.norm())


def supports_linear_gram(model: nn.Module) -> bool:
    """True when every trainable parameter is the weight or bias of an ``nn.Linear``."""
    linear_params = {
        id(p) for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters()
    }
    trainable = [p for p in model.parameters() if p.requires_grad]
    if has_batch_norm(model):  # even affine-free BN couples the samples of a batch
        return False
    return bool(trainable) and all(id(p) in linear_params for p in trainable)


def linear_gradient_gram(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    reference: Tensor | None = None,
) -> GradientGram:
    """Exact per-sample gradient inner products for an all-``nn.Linear`` model (cross entropy).

    One batched forward with the model's current mode (dropout masks are per sample, as in the
    official hook-based code), then ``d sum_n loss_n / d out_l`` for every linear output ``out_l``
    gives ``delta_{n,l}``; with the layer inputs ``a_{n,l}`` (Sec. 3 of the paper only needs
    inner products):

        <g_n, g_m> = sum_l (delta_{n,l} . delta_{m,l}) (a_{n,l} . a_{m,l} + [bias_l])
        <r, g_n>   = sum_l delta_{n,l}^T R_l a_{n,l} + delta_{n,l} . r_l

    Args:
        model: every trainable parameter in an ``nn.Linear`` applied once per forward to 2-D
            inputs (:func:`supports_linear_gram`); no cross-sample layers.
        x: inputs. Shape: ``(batch, in_dim)``.
        y: class labels. Shape: ``(batch,)``.
        reference: flattened reference gradient in ``named_parameters()`` order. Shape: ``(P,)``.

    Raises:
        ValueError: the model is not eligible (use :func:`gradient_gram` to fall back).
    """
    _check_batch(x, y)
    if not supports_linear_gram(model):
        raise ValueError("linear_gradient_gram needs a model whose parameters are all nn.Linear")
    records: list[tuple[nn.Linear, Tensor, Tensor]] = []

    def hook(mod: nn.Module, inp: tuple[Tensor, ...], out: Tensor) -> None:
        records.append((mod, inp[0].detach(), out))  # type: ignore[arg-type]

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(hook) for m in linears]
    try:
        with torch.enable_grad():
            logits = model(x)
            if len(records) != len(linears) or any(a.ndim != 2 for _, a, _ in records):
                raise ValueError(
                    "linear_gradient_gram needs each nn.Linear applied exactly once to 2-D inputs"
                )
            loss = F.cross_entropy(logits, y, reduction="sum")  # sum: delta_n is sample n's own
            deltas = torch.autograd.grad(loss, [out for _, _, out in records])
    finally:
        for h in handles:
            h.remove()

    b = x.shape[0]
    gram = x.new_zeros(b, b)
    ref_dots = x.new_zeros(b) if reference is not None else None
    offsets = _param_offsets(model) if reference is not None else {}
    for (mod, a, _), d in zip(records, deltas):
        d = d.detach()  # (batch, out_dim)
        dd = d @ d.T  # (batch, batch)
        if mod.weight.requires_grad:
            gram += dd * (a @ a.T)
        if mod.bias is not None and mod.bias.requires_grad:
            gram += dd
        if reference is not None:
            if mod.weight.requires_grad:
                lo, hi = offsets[id(mod.weight)]
                r_w = reference[lo:hi].view_as(mod.weight)  # (out_dim, in_dim)
                ref_dots += ((d @ r_w) * a).sum(1)
            if mod.bias is not None and mod.bias.requires_grad:
                lo, hi = offsets[id(mod.bias)]
                ref_dots += d @ reference[lo:hi]
    if reference is None:
        return GradientGram(gram)
    return GradientGram(gram, ref_dots, reference.norm())


def _param_offsets(model: nn.Module) -> dict[int, tuple[int, int]]:
    """``id(param) -> (start, end)`` in the flattened ``named_parameters()`` vector."""
    out, pos = {}, 0
    for _, p in model.named_parameters():
        if p.requires_grad:
            out[id(p)] = (pos, pos + p.numel())
            pos += p.numel()
    return out


def gradient_gram(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    reference: Tensor | None = None,
    *,
    method: Literal["auto", "linear", "vmap"] = "auto",
    batch_norm: BatchNormPolicy = "eval",
) -> GradientGram:
    """Per-sample gradient inner products by the fastest exact route available.

    ``"auto"`` takes :func:`linear_gradient_gram` for all-Linear models and otherwise
    ``vmap(grad)`` (:func:`per_sample_grads`) followed by one ``(batch, P) @ (P, batch)`` product.

    Shape: x ``(batch, ...)``, y ``(batch,)``, reference ``(P,)``.
    """
    if method not in ("auto", "linear", "vmap"):
        raise ValueError(f"method must be 'auto', 'linear' or 'vmap', got {method!r}")
    if method == "linear" or (method == "auto" and supports_linear_gram(model) and x.ndim == 2):
        try:
            return linear_gradient_gram(model, x, y, reference)
        except ValueError:
            if method == "linear":
                raise
    grads = per_sample_grads(model, x, y, batch_norm=batch_norm)
    # Sum per-parameter Gram blocks instead of concatenating: no second (batch, P) copy.
    rows = [g.reshape(g.shape[0], -1) for g in grads.values()]
    gram = sum(r @ r.T for r in rows)
    if reference is None:
        return GradientGram(gram)  # type: ignore[arg-type]
    sizes = [r.shape[1] for r in rows]
    if reference.shape != (sum(sizes),):
        raise ValueError(f"reference must have shape ({sum(sizes)},), got {reference.shape}")
    ref_dots = sum(r @ part for r, part in zip(rows, reference.split(sizes)))
    return GradientGram(gram, ref_dots, reference.norm())  # type: ignore[arg-type]
