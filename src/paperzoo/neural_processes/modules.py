"""Building blocks of the neural-process family: MLPs, multi-head attention, encoders, decoder.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp).

Shape convention for the whole package: every set is ``(batch, points, dim)``; models that draw
``K`` samples (latent or bootstrap) put ``K`` in front, ``(K, batch, points, dim)``. All modules
here accept any number of leading dimensions before ``(points, dim)``.

The architecture follows the official code: pooled encoders (MLP on ``[x, y]``, mean over points,
MLP), cross-attention encoders with 8-head attention and LayerNorm, and a decoder
``Linear([r; x]) -> ReLU -> MLP -> (mu, sigma)`` with ``sigma = 0.1 + 0.9 softplus``. The decoder
optionally has the BNP *adaptation layer*, a bias-free ``Linear`` that adds ``U r_k`` to the first
hidden layer.

Deviations from the paper / official code:
    * The decoder's first layer is evaluated as ``W_r r + W_x x + b`` instead of
      ``W [r; x] + b`` on the concatenation; the maths and the parameter (one ``nn.Linear`` on
      ``enc_dim + x_dim`` inputs) are the same, but a per-task representation ``r`` is then
      projected once per task instead of once per target point.
    * Attention uses :func:`torch.nn.functional.scaled_dot_product_attention` with the official
      scale ``1/sqrt(dim_out)`` (not ``1/sqrt(dim_out / heads)``), masks are not supported.
    * Point-wise maps (query/key MLPs, attention projections, the decoder's ``W_x x``) are
      evaluated once for leading axes that are broadcast views (stride 0, e.g. the K bootstrap
      copies of the same inputs), see :func:`pointwise`; the result is the same tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Normal

__all__ = [
    "CrossAttentionEncoder",
    "Decoder",
    "MultiHeadAttention",
    "PoolingEncoder",
    "SelfAttention",
    "mlp",
    "pointwise",
]


def pointwise(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """``f(x)`` for a map ``f`` that acts on each point separately (an MLP, a projection),
    computed once for the leading axes along which ``x`` is a broadcast view (stride 0).

    The residual bootstrap evaluates K contexts that share their inputs (``x.expand(K, ...)``);
    this keeps the query/key MLPs from recomputing the same values K times.

    Shape: x (..., points, dim) -> (..., points, out_dim)
    """
    lead = 0
    while lead < x.dim() - 2 and x.stride(lead) == 0 and x.shape[lead] > 1:
        lead += 1
    if lead == 0:
        return f(x)
    y = f(x[(0,) * lead])
    return y.expand(*x.shape[:lead], *y.shape)


def mlp(in_dim: int, hidden_dim: int, out_dim: int, depth: int) -> nn.Sequential:
    """``depth`` linear layers with ReLU between them (official ``build_mlp``)."""
    if depth < 2:
        raise ValueError(f"mlp depth must be >= 2, got {depth}")
    layers: list[nn.Module] = [nn.Linear(in_dim, hidden_dim), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
    layers.append(nn.Linear(hidden_dim, out_dim))
    return nn.Sequential(*layers)


class MultiHeadAttention(nn.Module):
    """Multi-head attention block with two residual LayerNorms (the official ``MultiHeadAttn``).

    ``out = LN1(q + Attn(q, k, v)); out = LN2(out + ReLU(Linear(out)))`` with bias-free
    projections of q, k, v to ``dim_out``.
    """

    def __init__(self, q_dim: int, k_dim: int, v_dim: int, out_dim: int, num_heads: int = 8):
        super().__init__()
        if out_dim % num_heads:
            raise ValueError(f"out_dim {out_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.out_dim = out_dim
        self.proj_q = nn.Linear(q_dim, out_dim, bias=False)
        self.proj_k = nn.Linear(k_dim, out_dim, bias=False)
        self.proj_v = nn.Linear(v_dim, out_dim, bias=False)
        self.proj_out = nn.Linear(out_dim, out_dim)
        self.norm1 = nn.LayerNorm(out_dim)
        self.norm2 = nn.LayerNorm(out_dim)

    def _heads(self, x: Tensor) -> Tensor:
        # (..., N, D) -> (..., H, N, D/H); head h takes the h-th contiguous chunk of features,
        # as the official ``torch.cat(x.chunk(H, -1), -3)`` does.
        *lead, n, d = x.shape
        return x.reshape(*lead, n, self.num_heads, d // self.num_heads).transpose(-3, -2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Attend from queries to key/value points.

        Shape:
            q: (..., queries, q_dim); k: (..., points, k_dim); v: (..., points, v_dim)
            returns: (..., queries, out_dim)
        """
        q, k, v = pointwise(self.proj_q, q), pointwise(self.proj_k, k), pointwise(self.proj_v, v)
        # Queries may be shared by leading axes that keys/values have (one set of targets for K
        # bootstrap contexts): broadcast the leading shapes.
        lead = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        q = q.expand(*lead, *q.shape[-2:])
        k = k.expand(*lead, *k.shape[-2:])
        v = v.expand(*lead, *v.shape[-2:])
        # The official code scales logits by 1/sqrt(out_dim), the full width, not the head width.
        att = F.scaled_dot_product_attention(
            self._heads(q), self._heads(k), self._heads(v), scale=1.0 / math.sqrt(self.out_dim)
        )
        att = att.transpose(-3, -2).reshape(q.shape)  # (..., queries, out_dim)
        out = self.norm1(q + att)
        return self.norm2(out + F.relu(self.proj_out(out)))


class SelfAttention(MultiHeadAttention):
    """Self-attention over a set: ``MultiHeadAttention(x, x, x)``."""

    def __init__(self, in_dim: int, out_dim: int, num_heads: int = 8):
        super().__init__(in_dim, in_dim, in_dim, out_dim, num_heads)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """Shape: x (..., points, in_dim) -> (..., points, out_dim)."""
        return super().forward(x, x, x)


class PoolingEncoder(nn.Module):
    """Mean-pooled set encoder: ``post(mean_i pre([x_i, y_i]))``.

    With ``latent_dim`` it returns a diagonal Normal over the latent ``z`` with
    ``sigma = 0.1 + 0.9 sigmoid(.)`` (NP latent path); otherwise a deterministic vector.

    Args:
        x_dim, y_dim: input and output dimensions of the regression task.
        hidden_dim: width of every hidden layer and of the deterministic output.
        latent_dim: size of ``z`` for a latent encoder, ``None`` for a deterministic one.
        self_attention: replace the last two layers of the pre-pooling MLP by self-attention
            (the CANP/ANP variant).
        pre_depth, post_depth: depths of the MLPs before and after pooling.
        num_heads: attention heads when ``self_attention``.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        latent_dim: int | None = None,
        self_attention: bool = False,
        pre_depth: int = 4,
        post_depth: int = 2,
        num_heads: int = 8,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        if self_attention:
            self.pre = nn.Sequential(
                mlp(x_dim + y_dim, hidden_dim, hidden_dim, pre_depth - 2),
                nn.ReLU(),
                SelfAttention(hidden_dim, hidden_dim, num_heads),
            )
        else:
            self.pre = mlp(x_dim + y_dim, hidden_dim, hidden_dim, pre_depth)
        out = 2 * latent_dim if latent_dim is not None else hidden_dim
        self.post = mlp(hidden_dim, hidden_dim, out, post_depth)

    def forward(self, xc: Tensor, yc: Tensor) -> Tensor | Normal:
        """Encode a context set.

        Shape:
            xc: (..., context, x_dim); yc: (..., context, y_dim)
            returns: (..., hidden_dim), or a Normal with batch shape (..., latent_dim)
        """
        pooled = self.pre(torch.cat([xc, yc], -1)).mean(-2)  # mean over context points
        out = self.post(pooled)
        if self.latent_dim is None:
            return out
        mu, raw = out.chunk(2, -1)
        return Normal(mu, 0.1 + 0.9 * torch.sigmoid(raw))


class CrossAttentionEncoder(nn.Module):
    """Deterministic cross-attention encoder of CANP/ANP: targets attend to the context.

    Queries and keys are an MLP of ``x`` (depth ``qk_depth``); values are an MLP of ``[x, y]``
    followed (by default) by self-attention over the context.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        self_attention: bool = True,
        v_depth: int = 4,
        qk_depth: int = 2,
        num_heads: int = 8,
    ):
        super().__init__()
        if self_attention:
            self.value = nn.Sequential(
                mlp(x_dim + y_dim, hidden_dim, hidden_dim, v_depth - 2),
                SelfAttention(hidden_dim, hidden_dim, num_heads),
            )
        else:
            self.value = mlp(x_dim + y_dim, hidden_dim, hidden_dim, v_depth)
        self.query_key = mlp(x_dim, hidden_dim, hidden_dim, qk_depth)
        self.attention = MultiHeadAttention(
            hidden_dim, hidden_dim, hidden_dim, hidden_dim, num_heads
        )

    def forward(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Tensor:
        """Target-specific representations.

        Shape:
            xc: (..., context, x_dim); yc: (..., context, y_dim); xt: (..., targets, x_dim)
            returns: (..., targets, hidden_dim)
        """
        q, k = pointwise(self.query_key, xt), pointwise(self.query_key, xc)
        v = self.value(torch.cat([xc, yc], -1))
        return self.attention(q, k, v)


class Decoder(nn.Module):
    """``(mu, sigma) = MLP(ReLU(W [r; x] + b [+ U r_k]))`` with ``sigma = 0.1 + 0.9 softplus``.

    Args:
        x_dim, y_dim: task dimensions.
        enc_dim: size of the representation ``r``.
        hidden_dim: hidden width.
        depth: number of linear layers including the first one (official ``dec_depth``).
        adaptation_dim: if given, adds the BNP adaptation layer ``U`` (bias-free
            ``Linear(adaptation_dim, hidden_dim)``) applied to the bootstrap representation.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        enc_dim: int = 128,
        hidden_dim: int = 128,
        depth: int = 3,
        adaptation_dim: int | None = None,
    ):
        super().__init__()
        self.enc_dim = enc_dim
        self.first = nn.Linear(enc_dim + x_dim, hidden_dim)
        layers: list[nn.Module] = [nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
        layers.append(nn.Linear(hidden_dim, 2 * y_dim))
        self.rest = nn.Sequential(*layers)
        self.adaptation = (
            nn.Linear(adaptation_dim, hidden_dim, bias=False) if adaptation_dim else None
        )

    def forward(self, r: Tensor, x: Tensor, r_bootstrap: Tensor | None = None) -> Normal:
        """Predictive Normal at the points ``x``.

        Shape:
            r: (..., points or 1, enc_dim) -- a per-task ``r`` is passed with a points axis of 1
                and broadcast, which is cheaper than copying it to every point;
            x: (..., points, x_dim);
            r_bootstrap: like ``r`` but ``adaptation_dim`` wide (BNP only);
            returns: Normal with batch shape broadcast(...)+(points, y_dim).
        """
        w, b = self.first.weight, self.first.bias
        # W [r; x] + b == W_r r + W_x x + b (the official concatenation order is [r, x]).
        wx = pointwise(lambda z: F.linear(z, w[:, self.enc_dim :], b), x)
        hidden = F.linear(r, w[:, : self.enc_dim]) + wx
        if r_bootstrap is not None:
            if self.adaptation is None:
                raise ValueError("this decoder has no adaptation layer (adaptation_dim=None)")
            hidden = hidden + self.adaptation(r_bootstrap)  # the BNP adaptation term U r_k
        mu, raw = self.rest(hidden).chunk(2, -1)
        return Normal(mu, 0.1 + 0.9 * F.softplus(raw))
