"""Forward-mode tangents of piecewise-linear networks: FedMix's Taylor term without double backprop.

FedMix's first-order term is a directional derivative of the per-sample loss along the received
mean ``v = x̄_j`` (``mixup.py``)::

    <∇_x CE(f(x), y), v> = d/dε CE(f(x + εv), y)|_{ε=0} = <(Σ_c y_c) softmax(f(x)) - y, J_f(x) v>

so it needs the network's Jacobian-vector product ``t = J_f(x) v`` (one forward-mode pass), not
the input gradient. Differentiating the input gradient w.r.t. the parameters (``create_graph``,
then ``backward``) walks the graph three times; the tangent route costs one forward pass of a
batch of ``2B`` and one backward pass through it, about a plain step on ``2B`` rows.

For a network built only from affine maps, ReLU, max-pooling and reshapes the tangent is the
network itself run on ``v`` with the biases off and the primal's activation pattern frozen:

    affine  h' = W h + b        t' = W t
    ReLU    h' = max(h, 0)      t' = 1[h > 0] ⊙ t
    maxpool h' = max_{k∈win} h  t' = t at the primal's argmax

The ReLU mask and pooling indices are constants almost everywhere, exactly as autograd treats them
when it differentiates the input gradient, so the two routes agree to float rounding (the tests
compare values and parameter gradients). With the pattern frozen the network is affine, so the
tangent is read off as ``g(x + v) - g(x)`` of the frozen network ``g``; the two inputs travel as
one batch so that each convolution / matrix product is one call with its bias, which is where the
time goes for small models (per-call overhead, not flops).

Models opt in by exposing ``jvp_layers()``: the ordered layers whose composition is ``forward``.
Any other layer type raises ``NotImplementedError`` (the caller falls back to double backprop).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SUPPORTED", "forward_with_tangent", "supports_tangent"]

SUPPORTED = (nn.Linear, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten)


def _layers(model: nn.Module) -> Sequence[nn.Module] | None:
    get = getattr(model, "jvp_layers", None)
    return get() if callable(get) else None


def supports_tangent(model: object) -> bool:
    """True when ``model`` declares ``jvp_layers()`` made only of ``SUPPORTED`` layer types."""
    if not isinstance(model, nn.Module):
        return False
    layers = _layers(model)
    if layers is None:
        return False
    return all(
        type(m) in SUPPORTED
        and not (type(m) is nn.Flatten and m.start_dim != 1)
        and not (type(m) is nn.Conv2d and m.padding_mode != "zeros")
        for m in layers
    )


def forward_with_tangent(model: nn.Module, x: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """Logits ``f(x)`` and their tangent ``J_f(x) v``, differentiable w.r.t. the parameters.

    The network with the primal's activation pattern frozen is affine in its input, so it maps
    ``x + v`` to ``f(x) + J_f(x) v`` exactly. Both rows travel as one stacked batch ``[x; x + v]``
    (biases apply to both halves, no masking), and the tangent is the difference of the halves at
    the end. The subtraction costs relative precision of order ``eps * |f(x)| / |J_f v|``
    (float32: about 1e-6 of the logits' scale; the tests state the tolerance).

    Args:
        model: a module with ``jvp_layers()`` (see the module docstring).
        x: inputs; v: the direction, one per input.

    Shape:
        x, v: (B, *input_shape) -> logits, tangent: (B, classes).

    Raises:
        NotImplementedError: a layer outside ``SUPPORTED`` (or no ``jvp_layers``).
    """
    layers = _layers(model)
    if layers is None:
        raise NotImplementedError(f"{type(model).__name__} has no jvp_layers()")
    if v.shape != x.shape:
        raise ValueError(f"direction {tuple(v.shape)} != inputs {tuple(x.shape)}")
    b = x.shape[0]
    h = torch.cat([x, x + v])  # (2B, ...): rows [:B] the primal, [B:] primal + tangent
    for m in layers:
        kind = type(m)
        if kind is nn.Linear or kind is nn.Conv2d:
            if kind is nn.Conv2d and m.padding_mode != "zeros":
                raise NotImplementedError(f"Conv2d with padding_mode={m.padding_mode!r}")
            h = m(h)
        elif kind is nn.ReLU:
            # h * 1[h_primal > 0]: relu on the primal rows, the frozen pattern on the others.
            pair = h.view(2, b, *h.shape[1:])
            h = (pair * (pair[0] > 0)).view(h.shape)
        elif kind is nn.MaxPool2d:
            with torch.no_grad():  # only the primal's argmax is needed, not its value
                pooled, idx = F.max_pool2d(
                    h[:b], m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, True
                )
            # Both halves gather at the primal's argmax: one call on 2B rows (pooling the
            # primal with gradients and gathering the other half alone measured slower).
            c, n = h.shape[1], h.shape[2] * h.shape[3]
            index = idx.view(1, b, c, -1).expand(2, b, c, idx.shape[2] * idx.shape[3])
            h = h.view(2, b, c, n).gather(3, index).view(2 * b, *pooled.shape[1:])
        elif kind is nn.Flatten and m.start_dim == 1:
            h = m(h)
        else:
            raise NotImplementedError(f"no tangent rule for {kind.__name__}")
    return h[:b], h[b:] - h[:b]
