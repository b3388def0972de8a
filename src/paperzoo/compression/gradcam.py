"""Differentiable layer Grad-CAM built on forward hooks.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054 (Grad-CAM: Selvaraju et
al., ICCV 2017, https://arxiv.org/abs/1610.02391).

A forward hook records a layer's output ``A`` (batch, channels, H, W). The gradient of the chosen
class logit ``y_c`` with respect to ``A`` gives one weight per channel, and the map is the ReLU of
the weighted channel sum (the paper's "weighted collapsed attribution", Sec. 3.2):

    w_k = sum_{h,w} d y_c / d A_k[h, w]          (official code; Grad-CAM divides by H*W)
    M   = ReLU( sum_k w_k * A_k )                 (batch, H, W)

With ``create_graph=True`` the gradient keeps its graph, so a loss on ``M`` backpropagates into the
model's parameters (double backprop). Captum's ``LayerGradCam`` computes the same map without a
graph; the tests check that the two agree up to the constant H*W.

Deviations from the paper: none in the map itself; ``channel_mask`` implements the stochastic
teacher-channel drop of Sec. 3.3 by zeroing channels of ``A`` after the gradient is taken, as the
official code does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

__all__ = [
    "DifferentiableGradCam",
    "FeatureRecorder",
    "GradCamResult",
    "class_gradient",
    "collapse_attribution",
    "grad_cam",
    "resolve_layer",
]


def resolve_layer(model: nn.Module, layer: nn.Module | str) -> nn.Module:
    """``layer`` itself, or the sub-module of ``model`` with that dotted name (``"features"``)."""
    if isinstance(layer, str):
        return model.get_submodule(layer)
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be an nn.Module or a sub-module name, got {type(layer)}")
    return layer


class FeatureRecorder:
    """Context manager: a forward hook on ``layer`` that keeps its output in ``.features``.

    Args:
        layer: the module whose output is recorded (its output must be one tensor).
        as_leaf: replace the output by a detached copy that requires grad. The rest of the forward
            pass then runs from that leaf: gradients w.r.t. it are cheap to take and nothing flows
            back into the layers before it (used for the frozen teacher).

    Example:
        >>> with FeatureRecorder(model.features) as rec:
        ...     logits = model(x)
        >>> rec.features.shape  # (batch, channels, H, W)
    """

    def __init__(self, layer: nn.Module, *, as_leaf: bool = False) -> None:
        self.layer = layer
        self.as_leaf = as_leaf
        self.features: torch.Tensor | None = None
        self._handle: torch.utils.hooks.RemovableHandle | None = None

    def _hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"{type(module).__name__} must return one tensor to be hooked")
        if self.as_leaf:
            output = output.detach().requires_grad_(True)
        self.features = output
        return output

    def __enter__(self) -> FeatureRecorder:
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


def class_gradient(
    logits: torch.Tensor,
    features: torch.Tensor,
    target: torch.Tensor,
    *,
    create_graph: bool,
) -> torch.Tensor:
    """Gradient of each sample's target logit with respect to the recorded features.

    Summing the selected logits over the batch gives per-sample gradients because samples do not
    interact in the forward pass (no batch norm in training mode). This is the one-hot
    ``grad_out`` of the official code.

    Shape:
        logits: (batch, classes); features: (batch, channels, H, W); target: (batch,)
        returns: (batch, channels, H, W)
    """
    if target.shape != (logits.shape[0],):
        raise ValueError(f"target must have shape ({logits.shape[0]},), got {tuple(target.shape)}")
    selected = logits.gather(1, target.view(-1, 1).to(logits.device)).sum()
    (grad,) = torch.autograd.grad(selected, features, create_graph=create_graph)
    return grad


def collapse_attribution(
    features: torch.Tensor,
    grads: torch.Tensor,
    *,
    reduction: Literal["sum", "mean"] = "sum",
    channel_mask: torch.Tensor | None = None,
    relu: bool = True,
) -> torch.Tensor:
    """Weighted collapsed attribution ``ReLU(sum_k w_k A_k)`` (Sec. 3.2).

    Args:
        features: the layer output ``A``.
        grads: ``d y_c / d A`` (same shape).
        reduction: ``"sum"`` over space as in the official code, or ``"mean"`` as in Grad-CAM and
            Captum; they differ by the factor H*W only.
        channel_mask: (channels,) or (batch, channels) multipliers (0 drops a channel; Sec. 3.3).
        relu: keep only positive evidence (both the paper and Grad-CAM do).

    Shape:
        returns: (batch, H, W)
    """
    if features.dim() != 4 or features.shape != grads.shape:
        raise ValueError(
            f"features and grads must both be (batch, channels, H, W), got "
            f"{tuple(features.shape)} and {tuple(grads.shape)}"
        )
    weights = grads.sum(dim=(2, 3)) if reduction == "sum" else grads.mean(dim=(2, 3))  # (B, C)
    if channel_mask is not None:
        weights = weights * channel_mask.to(weights)
    cam = torch.einsum("bc,bchw->bhw", weights, features)
    return torch.relu(cam) if relu else cam


@dataclass
class GradCamResult:
    """Output of :func:`grad_cam`.

    Attributes:
        maps: (batch, H, W) attribution maps (with a graph when ``create_graph=True``).
        logits: (batch, classes) model outputs of the same forward pass.
        target: (batch,) the class each map explains.
        features: (batch, channels, H, W) the hooked layer's output.
    """

    maps: torch.Tensor
    logits: torch.Tensor
    target: torch.Tensor
    features: torch.Tensor


def _as_target(target: int | torch.Tensor | None, logits: torch.Tensor) -> torch.Tensor:
    if target is None:
        return logits.detach().argmax(dim=1)
    if isinstance(target, int):
        return torch.full((logits.shape[0],), target, dtype=torch.long, device=logits.device)
    return target.to(device=logits.device, dtype=torch.long).view(-1)


def grad_cam(
    model: nn.Module,
    layer: nn.Module | str,
    x: torch.Tensor,
    target: int | torch.Tensor | None = None,
    *,
    create_graph: bool = True,
    reduction: Literal["sum", "mean"] = "sum",
    channel_mask: torch.Tensor | None = None,
    relu: bool = True,
    detach_features: bool = False,
) -> GradCamResult:
    """Differentiable layer Grad-CAM of ``model`` at ``layer`` in one forward pass.

    Args:
        model: any module whose ``layer`` output is one 4-d tensor.
        layer: the hooked module or its dotted name.
        x: the input batch.
        target: class per sample, one class for all, or None for the predicted class.
        create_graph: keep the graph of the gradient so the map is differentiable in the
            parameters (False for evaluation: cheaper, and the map is then detached).
        reduction, channel_mask, relu: see :func:`collapse_attribution`.
        detach_features: hook the layer output as a detached leaf (teacher side: no graph into
            the earlier layers).

    Shape:
        x: (batch, ...); returns maps (batch, H, W) and logits (batch, classes).
    """
    layer = resolve_layer(model, layer)
    with torch.enable_grad(), FeatureRecorder(layer, as_leaf=detach_features) as rec:
        logits = model(x)
        features = rec.features
        if features is None:
            raise RuntimeError("the hooked layer did not run during model(x)")
        if not features.requires_grad:
            raise RuntimeError(
                "the hooked features do not require grad: use detach_features=True for a "
                "frozen model"
            )
        tgt = _as_target(target, logits)
        grads = class_gradient(logits, features, tgt, create_graph=create_graph)
        maps = collapse_attribution(
            features, grads, reduction=reduction, channel_mask=channel_mask, relu=relu
        )
    if not create_graph:
        maps, logits, features = maps.detach(), logits.detach(), features.detach()
    return GradCamResult(maps=maps, logits=logits, target=tgt, features=features)


class DifferentiableGradCam:
    """Object form of :func:`grad_cam`, shaped like Captum's ``LayerGradCam``.

    Args:
        model: the network.
        layer: the hooked module or its dotted name.
        reduction: ``"mean"`` matches Captum exactly; ``"sum"`` matches the official code.

    Example:
        >>> cam = DifferentiableGradCam(model, "features")
        >>> maps = cam.attribute(x, target=y)           # (batch, H, W), differentiable
        >>> maps.pow(2).mean().backward()                 # flows into model's parameters
    """

    def __init__(
        self,
        model: nn.Module,
        layer: nn.Module | str,
        *,
        reduction: Literal["sum", "mean"] = "mean",
    ) -> None:
        self.model = model
        self.layer = resolve_layer(model, layer)
        self.reduction = reduction

    def attribute(
        self,
        x: torch.Tensor,
        target: int | torch.Tensor | None = None,
        *,
        create_graph: bool = True,
        relu: bool = True,
    ) -> torch.Tensor:
        """Maps (batch, H, W) for ``target`` (see :func:`grad_cam`)."""
        return grad_cam(
            self.model,
            self.layer,
            x,
            target,
            create_graph=create_graph,
            reduction=self.reduction,
            relu=relu,
        ).maps
