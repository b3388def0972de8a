"""The recogniser: streaming encoder, a Transformer decoder whose upper layers attend to the
encoder through monotonic multihead attention (or, for the offline upper bound, ordinary
multihead attention), and an auxiliary CTC head.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (experimental setup: Transformer MMA as in
Inaguma, Mimura, Kawahara, Interspeech 2020, https://arxiv.org/abs/2005.09394; recipe of
neural_sp, https://github.com/hirofumi0810/neural_sp).

Loss (neural_sp's MMA recipe): (1 - w) * label-smoothed cross entropy of the decoder + w * CTC
on the encoder, w = 0.3, smoothing 0.1. Decoder layers below ``first_source_layer`` have no
source attention (neural_sp's ``mocha_first_layer``: lower layers model the token history only,
which the paper's recipe found to stabilise MMA).

Deviations from the paper's setup:
    * A small model for CPU (d = 96, 2 encoder and 2 decoder layers by default).
    * Word-level tokens (digits, or the synthetic corpus' 160 words) instead of BPE units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from .attention import MonotonicMultiheadAttention, StepState
from .encoder import EncoderState, StreamingEncoder

__all__ = ["DecoderState", "MMARecognizer", "Vocabulary", "load_recognizer", "save_recognizer"]


@dataclass(frozen=True)
class Vocabulary:
    """Word tokens; id 0 is the CTC blank, 1 is <sos>/<eos>, words follow."""

    words: tuple[str, ...]

    BLANK: int = 0
    EOS: int = 1

    def __len__(self) -> int:
        return len(self.words) + 2

    def encode(self, text: str) -> list[int]:
        ids = {w: i + 2 for i, w in enumerate(self.words)}
        try:
            return [ids[w] for w in text.split()]
        except KeyError as e:
            raise ValueError(f"word {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.words[i - 2] for i in ids if i >= 2)


class _DecoderLayer(nn.Module):
    def __init__(
        self, dim: int, heads: int, ff: int, dropout: float, source: nn.Module | None
    ) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.source = source
        self.norm_self, self.norm_ff = nn.LayerNorm(dim), nn.LayerNorm(dim)
        # only a layer with source attention has its norm (DDP requires every parameter used)
        self.norm_source = nn.LayerNorm(dim) if source is not None else None
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)


class MMARecognizer(nn.Module):
    """Attention-based encoder-decoder recogniser with streaming-capable source attention.

    Args:
        vocab: the token vocabulary.
        in_dim: feature size; dim, heads, ff: model sizes; enc_layers, dec_layers: depths.
        attention: ``"mma"`` (monotonic heads; streaming) or ``"offline"`` (full attention over
            all encoder frames: the accuracy upper bound, not streamable).
        first_source_layer: lowest decoder layer with source attention (0-based).
        mma: keyword arguments of :class:`~.attention.MonotonicMultiheadAttention` (chunk,
            init_r, noise_std, headdrop, constraint, eps_train, detach_others).
        left_context: encoder self-attention left context (frames after subsampling).
        ctc_weight, label_smoothing: the loss mix (neural_sp 0.3, 0.1).
    """

    def __init__(
        self,
        vocab: Vocabulary,
        in_dim: int = 40,
        dim: int = 96,
        heads: int = 4,
        ff: int = 256,
        enc_layers: int = 2,
        dec_layers: int = 2,
        attention: Literal["mma", "offline"] = "mma",
        first_source_layer: int = 1,
        mma: dict | None = None,
        left_context: int = 64,
        dropout: float = 0.1,
        ctc_weight: float = 0.3,
        label_smoothing: float = 0.1,
    ) -> None:
        super().__init__()
        if attention not in ("mma", "offline"):
            raise ValueError(f"attention must be 'mma' or 'offline', got {attention!r}")
        if not 0 <= first_source_layer < dec_layers:
            raise ValueError(f"first_source_layer must be in [0, {dec_layers})")
        self.vocab, self.attention = vocab, attention
        self.ctc_weight, self.label_smoothing = ctc_weight, label_smoothing
        self.encoder = StreamingEncoder(in_dim, dim, heads, enc_layers, ff, left_context, dropout)
        self.embed = nn.Embedding(len(vocab), dim)
        self.pos = nn.Embedding(512, dim)
        layers = []
        for i in range(dec_layers):
            src: nn.Module | None = None
            if i >= first_source_layer:
                src = (
                    MonotonicMultiheadAttention(dim, heads, **(mma or {}))
                    if attention == "mma"
                    else nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
                )
            layers.append(_DecoderLayer(dim, heads, ff, dropout, src))
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, len(vocab))
        self.ctc_head = nn.Linear(dim, len(vocab))

    @property
    def mma_layers(self) -> list[MonotonicMultiheadAttention]:
        return [
            layer.source
            for layer in self.layers
            if isinstance(layer.source, MonotonicMultiheadAttention)
        ]

    # --- training -----------------------------------------------------------------------
    def decode_states(
        self,
        tokens: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Teacher-forced decoder: tokens (B, L) -> logits (B, L, V) and each MMA layer's
        alignments (B, H, L, T)."""
        n = tokens.shape[1]
        x = self.embed(tokens) + self.pos(torch.arange(n, device=tokens.device))
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=tokens.device), 1)
        alphas = []
        for layer in self.layers:
            h = layer.norm_self(x)
            x = x + layer.drop(layer.self_attn(h, h, h, attn_mask=causal, need_weights=False)[0])
            if layer.source is not None:
                h = layer.norm_source(x)
                if isinstance(layer.source, MonotonicMultiheadAttention):
                    y, alpha = layer.source(h, memory, memory_mask, generator)
                    alphas.append(alpha)
                else:
                    pad = None if memory_mask is None else ~memory_mask
                    y = layer.source(h, memory, memory, key_padding_mask=pad, need_weights=False)[0]
                x = x + layer.drop(y)
            x = x + layer.drop(layer.ff(layer.norm_ff(x)))
        return self.head(self.norm(x)), alphas

    def loss(
        self,
        feats: torch.Tensor,
        feat_lens: torch.Tensor,
        targets: list[list[int]],
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Training loss of a padded batch.

        Shape:
            feats: (B, T, F) features; feat_lens: (B,) valid feature frames; targets: token ids
            per utterance (no <eos>).
        """
        memory, _ = self.encoder(feats)
        enc_lens = (feat_lens // 4).clamp(min=1, max=memory.shape[1])
        mask = torch.arange(memory.shape[1], device=feats.device)[None] < enc_lens[:, None]
        eos = self.vocab.EOS
        n = max(len(t) for t in targets) + 1
        inp = torch.full((len(targets), n), eos, dtype=torch.long, device=feats.device)
        out = torch.full((len(targets), n), -100, dtype=torch.long, device=feats.device)
        for i, t in enumerate(targets):
            inp[i, 1 : len(t) + 1] = torch.tensor(t)
            out[i, : len(t)] = torch.tensor(t)
            out[i, len(t)] = eos
        logits, _ = self.decode_states(inp, memory, mask, generator)
        ce = F.cross_entropy(
            logits.transpose(1, 2), out, ignore_index=-100, label_smoothing=self.label_smoothing
        )
        logp = F.log_softmax(self.ctc_head(memory), -1).transpose(0, 1)  # (T, B, V)
        flat = torch.cat([torch.tensor(t, dtype=torch.long) for t in targets])
        tlens = torch.tensor([len(t) for t in targets])
        ctc = F.ctc_loss(logp, flat, enc_lens.cpu(), tlens, blank=self.vocab.BLANK,
                         zero_infinity=True)  # fmt: skip
        total = (1 - self.ctc_weight) * ce + self.ctc_weight * ctc
        return total, {"ce": float(ce.detach()), "ctc": float(ctc.detach())}

    # --- decoding ------------------------------------------------------------------------
    def encode(
        self, feats: torch.Tensor, state: EncoderState | None = None
    ) -> tuple[torch.Tensor, EncoderState]:
        return self.encoder(feats, state)

    def initial_state(self, batch: int, device: torch.device | None = None) -> DecoderState:
        dim = self.embed.embedding_dim
        return DecoderState(
            [m.initial_state(batch, device) for m in self.mma_layers],
            [torch.zeros(batch, 0, dim, device=device) for _ in self.mma_layers],
        )

    @torch.no_grad()
    def step(
        self,
        prefix: torch.Tensor,
        memory: torch.Tensor,
        state: DecoderState,
        eps_frames: int | None,
        complete: bool = True,
    ) -> tuple[torch.Tensor, DecoderState, list[torch.Tensor], list[torch.Tensor]]:
        """Log-probabilities of the next token after ``prefix`` (B, L) with hard monotonic
        attention: each MMA layer decides for the last position only and reuses the contexts
        it gave the earlier positions (kept in ``state``), so a step sees what teacher forcing
        would have given it. ``complete``: ``memory`` holds the whole utterance (False while
        streaming; see :meth:`~.attention.MonotonicMultiheadAttention.step`). Returns the new
        state and each MMA layer's boundaries (B, H) and forced mask (B, H)."""
        n = prefix.shape[1]
        if state.contexts and state.contexts[0].shape[1] != n - 1:
            raise ValueError("prefix length does not match the decoder state")
        x = self.embed(prefix) + self.pos(torch.arange(n, device=prefix.device))
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=prefix.device), 1)
        mma_states, contexts, bnds, forced = [], [], [], []
        k = 0
        for layer in self.layers:
            h = layer.norm_self(x)
            x = x + layer.self_attn(h, h, h, attn_mask=causal, need_weights=False)[0]
            if layer.source is not None:
                h = layer.norm_source(x)
                if isinstance(layer.source, MonotonicMultiheadAttention):
                    last, st, bd, fc = layer.source.step(
                        h[:, -1], memory, state.mma[k], eps_frames, complete
                    )
                    y = torch.cat([state.contexts[k], last[:, None]], 1)
                    mma_states.append(st)
                    contexts.append(y)
                    bnds.append(bd)
                    forced.append(fc)
                    k += 1
                else:
                    y = layer.source(h, memory, memory, need_weights=False)[0]
                x = x + y
            x = x + layer.ff(layer.norm_ff(x))
        logits = self.head(self.norm(x[:, -1]))
        return F.log_softmax(logits, -1), DecoderState(mma_states, contexts), bnds, forced


@dataclass
class DecoderState:
    """Streaming decoder state: each MMA layer's head boundaries and the source contexts it gave
    the tokens decoded so far ((B, tokens, dim) per layer)."""

    mma: list[StepState]
    contexts: list[torch.Tensor]


def save_recognizer(model: MMARecognizer, features: Any, path: str | Path, **config: Any) -> Path:
    """Write a recogniser with its vocabulary, feature normalisation and constructor arguments
    (``config``: what :class:`MMARecognizer` was built with, besides ``vocab``); loadable with
    ``weights_only=True``."""
    from paperzoo.core.checkpoint import save_checkpoint

    meta = {
        "words": list(model.vocab.words),
        "config": config,
        "features": {"sample_rate": features.sample_rate, "num_mels": features.num_mels},
    }
    state = {"asr": meta, "state_dict": model.state_dict()}
    if features.mean is not None:
        state["feature_mean"] = torch.as_tensor(features.mean)
        state["feature_std"] = torch.as_tensor(features.std)
    return save_checkpoint(path, state)


def load_recognizer(path: str | Path) -> tuple[MMARecognizer, Any]:
    """(model in eval mode, its :class:`~.features.LogMel`) from :func:`save_recognizer`.

    Raises:
        FileNotFoundError: no such file. ValueError: not a recogniser file.
    """
    from paperzoo.core.checkpoint import load_checkpoint

    from .features import LogMel

    ck = load_checkpoint(path)
    if ck is None:
        raise FileNotFoundError(f"no recogniser at {path}")
    if "asr" not in ck:
        raise ValueError(f"{path} is not a recogniser file (written by save_recognizer)")
    meta = ck["asr"]
    model = MMARecognizer(Vocabulary(tuple(meta["words"])), **meta["config"])
    model.load_state_dict(ck["state_dict"])
    feats = LogMel(int(meta["features"]["sample_rate"]), int(meta["features"]["num_mels"]))
    if "feature_mean" in ck:
        feats.mean = ck["feature_mean"].numpy()
        feats.std = ck["feature_std"].numpy()
    return model.eval(), feats
