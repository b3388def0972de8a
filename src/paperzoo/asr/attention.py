"""Monotonic multihead (chunkwise) attention as a drop-in source attention for a Transformer
decoder: expected alignments in training (independent heads, or mutually constrained), hard
monotonic decisions with head-synchronous decoding at test time.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (the attention layer trained with
mutually-constrained expected alignments and decoded with head-synchronous decoding). It builds
on:

* Raffel, Luong, Liu, Weiss, Eck, "Online and Linear-Time Attention by Enforcing Monotonic
  Alignments", ICML 2017, https://arxiv.org/abs/1704.00784 (monotonic attention);
* Chiu, Raffel, "Monotonic Chunkwise Attention", ICLR 2018, https://arxiv.org/abs/1712.05382
  (MoChA);
* Ma, Pino, Cross, Puzon, Gu, "Monotonic Multihead Attention", ICLR 2020,
  https://arxiv.org/abs/1909.12406 (MMA);
* Inaguma, Mimura, Kawahara, "Enhancing Monotonic Multihead Attention for Streaming ASR",
  Interspeech 2020, https://arxiv.org/abs/2005.09394 (HeadDrop, head-synchronous decoding).

No official code of the paper was found; the reference implementation of MMA is neural_sp
(https://github.com/hirofumi0810/neural_sp, ``neural_sp/models/modules/mocha/``). Defaults
follow neural_sp's LibriSpeech MMA recipe: energy offset r = -2, energy noise std 1 in
training, HeadDrop 0.5, chunk width 16 for MoChA heads (``chunk = 1`` gives hard monotonic
attention).

Energies per head h (scaled dot product, Ma et al.): e^h_{i,j} = q_i^h . k_j^h / sqrt(d_h) + r^h;
p = sigmoid(e + noise). Chunk energies u^h_{i,j} use their own projections. Alignments
alpha (see :mod:`.monotonic`), then the chunkwise distribution (Chiu & Raffel Eq. 16)

    beta_{i,j} = sum_{k=j}^{j+w-1} alpha_{i,k} exp(u_{i,j}) / sum_{l=k-w+1}^{k} exp(u_{i,l})

and the context sum_j beta_{i,j} v^h_j per head, concatenated and projected.

Deviations from the papers and neural_sp:
    * One chunk-energy head per monotonic head (neural_sp can share chunk heads).
    * HeadDrop rescales the kept heads by H / H_kept, as neural_sp does.
    * The mutually-constrained alignment is this package's derivation (the paper's formula
      could not be retrieved; see :mod:`.monotonic`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .monotonic import (
    expected_alignment,
    hard_monotonic_boundaries,
    head_synchronous_boundaries,
    mutually_constrained_alignment,
)

__all__ = ["MonotonicMultiheadAttention", "StepState", "chunkwise_attention"]


def chunkwise_attention(alpha: torch.Tensor, u: torch.Tensor, width: int) -> torch.Tensor:
    """MoChA's expected chunkwise distribution beta from alpha and chunk energies u.

    Shape:
        alpha, u: (..., T); returns beta (..., T). With ``width == 1`` beta equals alpha, and
        sum_j beta_j = sum_j alpha_j for any width.
    """
    if width < 1:
        raise ValueError(f"chunk width must be >= 1, got {width}")
    if width == 1:
        return alpha
    # softmax inside each window ending at k, computed per window (stable: no division by a
    # moving sum of exponentials, whose gradient explodes when the window's energies are small)
    windows = F.pad(u, (width - 1, 0), value=float("-inf")).unfold(-1, width, 1)  # (..., T, w)
    weights = torch.softmax(windows, dim=-1) * alpha.unsqueeze(-1)  # alpha_k * softmax_k(l)
    beta = torch.zeros_like(alpha)
    t = alpha.shape[-1]
    for i in range(width):  # window slot i of the window ending at k is frame k - (w - 1 - i)
        shift = width - 1 - i
        beta[..., : t - shift] = beta[..., : t - shift] + weights[..., shift:, i]
    return beta


@dataclass
class StepState:
    """Per-utterance decoding state of one MMA layer: each head's last boundary frame.

    Shape:
        boundary: (batch, heads) long; the first step starts at frame 0.
    """

    boundary: torch.Tensor


class MonotonicMultiheadAttention(nn.Module):
    """Source attention with monotonic heads.

    Args:
        dim: model width d.
        num_heads: monotonic heads H (d divisible by H).
        chunk: MoChA chunk width w (1 = hard monotonic attention).
        init_r: initial energy offset r (negative: heads start reluctant to stop).
        noise_std: std of the Gaussian noise added to the energies in training.
        headdrop: probability of dropping a head's alignment in training.
        constraint: ``"none"`` (independent heads, MMA) or ``"mutual"`` (mutually constrained
            expected alignments, trained for head-synchronous decoding at ``eps_train``).
        eps_train: the HSD window the mutual constraint is trained for (frames).
        detach_others: see :func:`~.monotonic.mutually_constrained_alignment`.

    ``forward`` (training and teacher-forced scoring) returns the output and the alignments;
    ``step`` decodes one output token with hard decisions and optional HSD.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 4,
        chunk: int = 1,
        init_r: float = -2.0,
        noise_std: float = 1.0,
        headdrop: float = 0.5,
        constraint: Literal["none", "mutual"] = "none",
        eps_train: int = 1,
        detach_others: bool = False,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        if constraint not in ("none", "mutual"):
            raise ValueError(f"constraint must be 'none' or 'mutual', got {constraint!r}")
        if not 0 <= headdrop < 1:
            raise ValueError(f"headdrop must be in [0, 1), got {headdrop}")
        self.dim, self.num_heads, self.head_dim = dim, num_heads, dim // num_heads
        self.chunk, self.noise_std, self.headdrop = chunk, noise_std, headdrop
        self.constraint, self.eps_train, self.detach_others = constraint, eps_train, detach_others
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.r = nn.Parameter(torch.full((num_heads,), float(init_r)))
        if chunk > 1:
            self.qc = nn.Linear(dim, dim)
            self.kc = nn.Linear(dim, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, d) -> (B, H, N, d_h)
        b, n, _ = x.shape
        return x.view(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def energies(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Monotonic energies e (B, H, L, T) (no noise)."""
        q, k = self._split(self.q(query)), self._split(self.k(memory))
        return q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + self.r.view(1, -1, 1, 1)

    def _chunk_energies(self, query: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        q, k = self._split(self.qc(query)), self._split(self.kc(memory))
        return q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)

    def forward(
        self,
        query: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Expected-alignment attention over a whole target sequence (teacher forcing).

        Args:
            query: decoder states (B, L, d); memory: encoder outputs (B, T, d).
            memory_mask: (B, T) True at valid frames (padding never stops a head).
            generator: RNG of the energy noise and HeadDrop (None: the global one).

        Returns:
            output (B, L, d) and alignments alpha (B, H, L, T) (after the constraint, before
            HeadDrop).
        """
        b, n, _ = query.shape
        t = memory.shape[1]
        e = self.energies(query, memory)
        if self.training and self.noise_std > 0:
            noise = torch.randn(e.shape, generator=generator, device=e.device, dtype=e.dtype)
            e = e + self.noise_std * noise
        p = torch.sigmoid(e)
        if memory_mask is not None:
            p = p.masked_fill(~memory_mask[:, None, None, :], 0.0)
        prev = torch.zeros(b, self.num_heads, t, dtype=p.dtype, device=p.device)
        prev[..., 0] = 1.0  # alpha_0 = delta at the first frame
        steps = []
        for i in range(n):  # the recurrence runs over output steps; frames are parallel
            if self.constraint == "mutual":
                a = mutually_constrained_alignment(
                    p[:, :, i], prev, self.eps_train, self.detach_others, head_dim=1
                )
            else:
                a = expected_alignment(p[:, :, i], prev)
            if memory_mask is not None:
                # padding is never a boundary: p = 0 there already keeps natural mass off it,
                # and neural_sp's forcing never goes past the rightmost natural boundary, so
                # this only guards against a forcing rule that would put mass there
                a = a * memory_mask[:, None, :].to(a.dtype)
            steps.append(a)
            prev = a
        alpha = torch.stack(steps, dim=2)  # (B, H, L, T)
        weights = alpha
        if self.training and self.headdrop > 0:
            keep = torch.rand(b, self.num_heads, 1, 1, generator=generator, device=p.device)
            keep = (keep >= self.headdrop).to(alpha.dtype)
            kept = keep.sum(1, keepdim=True)
            weights = alpha * keep * (self.num_heads / kept.clamp(min=1.0))
        if self.chunk > 1:
            u = self._chunk_energies(query, memory)
            if memory_mask is not None:
                u = u.masked_fill(~memory_mask[:, None, None, :], -1e4)
            weights = chunkwise_attention(weights, u, self.chunk)
        v = self._split(self.v(memory))  # (B, H, T, d_h)
        ctx = (weights @ v).transpose(1, 2).reshape(b, n, self.dim)
        return self.out(ctx), alpha

    def initial_state(self, batch: int, device: torch.device | None = None) -> StepState:
        return StepState(torch.zeros(batch, self.num_heads, dtype=torch.long, device=device))

    @torch.no_grad()
    def step(
        self,
        query: torch.Tensor,
        memory: torch.Tensor,
        state: StepState,
        eps_frames: int | None = None,
        complete: bool = True,
    ) -> tuple[torch.Tensor, StepState, torch.Tensor, torch.Tensor]:
        """One output token with hard monotonic decisions (and HSD when ``eps_frames`` is set).

        Args:
            query: (B, d) decoder state of this step; memory: (B, T, d) encoder frames
                available so far; state: the heads' previous boundaries.
            eps_frames: HSD window; None decodes the heads independently.
            complete: ``memory`` holds the whole utterance. False (streaming): a head that has
                no boundary yet is forced only once the outcome is settled (see
                :func:`~.monotonic.head_synchronous_boundaries`); else it stays -1.

        Returns:
            output (B, d), the new state, boundaries (B, H) (-1: the head found none and
            attends to nothing this step, keeping its previous boundary in the state) and the
            forced mask (B, H).
        """
        b, t = memory.shape[0], memory.shape[1]
        p = torch.sigmoid(self.energies(query[:, None], memory)[:, :, 0])  # (B, H, T)
        bnd = hard_monotonic_boundaries(p, state.boundary)
        forced = torch.zeros_like(bnd, dtype=torch.bool)
        if eps_frames is not None:
            bnd, forced = head_synchronous_boundaries(bnd, eps_frames, complete)
            # a head forced below its own previous boundary stays monotonic
            bnd = torch.where(bnd >= 0, torch.maximum(bnd, state.boundary), bnd)
        frames = torch.arange(t, device=memory.device)
        found = bnd >= 0
        if self.chunk > 1:
            u = self._chunk_energies(query[:, None], memory)[:, :, 0]  # (B, H, T)
            window = (frames <= bnd[..., None]) & (frames > bnd[..., None] - self.chunk)
            w = torch.softmax(u.masked_fill(~window, -1e4), -1) * window
        else:
            w = (frames == bnd[..., None]).to(memory.dtype)
        w = w * found[..., None]
        v = self._split(self.v(memory))
        ctx = (w[:, :, None] @ v)[:, :, 0].reshape(b, self.dim)
        new = StepState(torch.where(found, bnd, state.boundary))
        return self.out(ctx), new, bnd, forced
