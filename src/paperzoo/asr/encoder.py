"""Streaming speech encoder: a causal convolutional front end that subsamples time by 4, then a
Transformer whose self-attention sees only past frames within a fixed left context, with a
state cache so audio can be encoded chunk by chunk in constant memory.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (experimental setup: the Transformer MMA model of
Inaguma et al. 2020, as in neural_sp, https://github.com/hirofumi0810/neural_sp).

Encoding a whole utterance at once and encoding it in chunks (carrying :class:`EncoderState`)
give the same frames (tested): every operation is causal, the convolutions keep their last
inputs, and each attention layer keeps the keys and values of its last ``left_context`` frames.

Deviations from the paper's setup (neural_sp's MMA recipe: conv x8 + 12 x 256
offline/chunk-hybrid encoder):
    * A small causal encoder (x4 subsampling, few layers) sized for CPU.
    * Strictly causal attention with a bounded left context instead of chunk-hybrid lookahead,
      so the first emitted frame needs no future audio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CausalConvSubsampling", "EncoderState", "StreamingEncoder"]


class CausalConvSubsampling(nn.Module):
    """Two causal Conv1d layers over time (kernel 3, stride 2, ReLU): T -> floor(T / 4) frames
    (a trailing remainder of 1-3 feature frames adds none).

    Causal: output frame t sees input frames <= its last input. A chunked call continues from
    the cached trailing inputs; chunk lengths must be multiples of 4 so strides line up.
    """

    def __init__(self, in_dim: int, dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(in_dim, dim, 3, stride=2)
        self.conv2 = nn.Conv1d(dim, dim, 3, stride=2)

    @staticmethod
    def _causal(
        conv: nn.Conv1d, x: torch.Tensor, cache: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # x (B, C, T); left context = kernel - stride = 1 frame (zeros at the very start)
        left = cache if cache is not None else x.new_zeros(x.shape[0], x.shape[1], 1)
        y = conv(torch.cat([left, x], -1))
        return y, x[..., -1:]

    def forward(
        self, x: torch.Tensor, cache: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x (B, T, F) -> (B, T / 4, dim) and the new cache."""
        c1, c2 = (cache or [None, None])[:2]
        h, n1 = self._causal(self.conv1, x.transpose(1, 2), c1)
        h = F.relu(h)
        h, n2 = self._causal(self.conv2, h, c2)
        return F.relu(h).transpose(1, 2), [n1, n2]


class _Layer(nn.Module):
    """Pre-LN Transformer layer with causal, left-context-limited self-attention over a cache."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None, left: int
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        p = 0 if past is None else past[0].shape[2]
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        # query i (absolute p + i) sees keys j with p + i - left < j <= p + i
        qi = torch.arange(n, device=x.device)[:, None] + p
        kj = torch.arange(k.shape[2], device=x.device)[None, :]
        allowed = (kj <= qi) & (kj > qi - left)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.drop(self.proj(y))
        x = x + self.drop(self.ff(self.norm2(x)))
        # the next chunk's first frame needs the last left - 1 keys/values (fewer at the start)
        start = max(0, k.shape[2] - (left - 1))
        new = (k[:, :, start:], v[:, :, start:])
        return x, new


@dataclass
class EncoderState:
    """What chunked encoding carries: conv inputs, per-layer keys/values, the frame count."""

    conv: list[torch.Tensor] | None = None
    layers: list[tuple[torch.Tensor, torch.Tensor] | None] = field(default_factory=list)
    frames: int = 0


class StreamingEncoder(nn.Module):
    """Features (B, T, F) -> encoder frames (B, floor(T / 4), dim), whole or chunk by chunk.

    Args:
        in_dim: feature size (log-mel bins).
        dim: model width; heads, layers, ff: Transformer sizes.
        left_context: frames (after subsampling) each frame attends to, itself included; bounds
            the cache, so memory is constant on long audio.
        dropout: applied in training only.
    """

    def __init__(
        self,
        in_dim: int = 40,
        dim: int = 96,
        heads: int = 4,
        layers: int = 2,
        ff: int = 256,
        left_context: int = 64,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if left_context < 1:
            raise ValueError(f"left_context must be >= 1, got {left_context}")
        self.frontend = CausalConvSubsampling(in_dim, dim)
        self.layers = nn.ModuleList(_Layer(dim, heads, ff, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.left_context, self.dim = left_context, dim

    def _positions(self, start: int, n: int, device: torch.device) -> torch.Tensor:
        pos = torch.arange(start, start + n, device=device, dtype=torch.float32)[:, None]
        i = torch.arange(0, self.dim, 2, device=device, dtype=torch.float32)
        ang = pos / (10000 ** (i / self.dim))
        pe = torch.zeros(n, self.dim, device=device)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(ang), torch.cos(ang)
        return pe

    def forward(
        self, feats: torch.Tensor, state: EncoderState | None = None
    ) -> tuple[torch.Tensor, EncoderState]:
        """Encode ``feats`` (B, T, F), continuing ``state`` when given (T a multiple of 4 for
        every chunk but the last)."""
        state = state or EncoderState()
        x, conv = self.frontend(feats, state.conv)
        x = x + self._positions(state.frames, x.shape[1], x.device)
        past = state.layers or [None] * len(self.layers)
        new = []
        for layer, pst in zip(self.layers, past):
            x, kv = layer(x, pst, self.left_context)
            new.append(kv)
        return self.norm(x), EncoderState(conv, new, state.frames + x.shape[1])
