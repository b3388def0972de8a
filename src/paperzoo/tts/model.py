"""StyleSpeech's generator: the mel-style encoder, Style-Adaptive Layer Norm (SALN), FFT blocks,
the variance adaptor with its length regulator, and the phoneme encoder / mel decoder.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (Sections 3.1-3.2). Official code
(read for defaults): https://github.com/KevinMIN95/StyleSpeech, MIT (``models/StyleSpeech.py``,
``models/Modules.py``, ``models/VarianceAdaptor.py``, ``models/Loss.py``, ``optimizer.py``).

* Mel-style encoder: spectral block (2 x Linear, Mish, dropout), temporal block (2 x gated conv
  with residual), 2-head self-attention with residual, Linear, masked mean over time -> w.
* SALN(h, w) = g(w) * (h - mean(h)) / std(h) + b(w), [g; b] = A w + c with the gain bias
  initialised to 1 and the shift bias to 0, so SALN starts as a plain LayerNorm (no affine).
* FFT block (post-norm): h1 = SALN(h + MHSA(h), w); h2 = SALN(h1 + Conv_k1(Mish(Conv_k9(h1))), w).
* Variance adaptor: duration / pitch / energy predictors (2 x (Conv k3, ReLU, LayerNorm,
  dropout), Linear), the length regulator (repeat each phoneme d times, plus a sinusoidal
  encoding of the position inside the phoneme), pitch and energy embeddings.
* ``conditioning="add"`` replaces SALN by LayerNorm and adds a projection of w to the encoder
  output (the baseline A of the reproduction: ESPnet's ``spk_embed_integration_type=add``).

Deviations from the paper and the official code:
    * Sizes are config arguments (the CPU reproduction uses d = 64-96 and 2 FFT blocks per
      stack; official 256 and 4).
    * The pitch/energy embeddings are one Conv1d each, as in the paper; the official code
      replaced them in June 2021 by 2 x (Conv1d, ReLU, dropout) + Linear. The LayerNorm before
      adding them and the position-within-phoneme encoding, which that same update added, are
      kept.
    * Attention is ``nn.MultiheadAttention``, whose logits are scaled by sqrt(d / heads); the
      official ``MultiHeadAttention`` divides by sqrt(d).
    * The mel decoder's prenet has a residual connection (x + prenet(x)); the official decoder
      applies the prenet without one. Left as is: the reported runs used it.
    * :func:`generator_loss` averages over every valid frame (token) of the batch; the official
      ``StyleSpeechLoss`` averages per utterance, then over the batch, so there short
      utterances weigh as much as long ones.
    * ``conditioning="add"`` is the reproduction's baseline, not a model of the paper.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "FFTBlock",
    "LengthRegulator",
    "MelStyleEncoder",
    "StyleAdaptiveLayerNorm",
    "StyleSpeech",
    "VariancePredictor",
    "generator_loss",
    "noam",
    "sinusoid",
]


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal encodings of (possibly fractional) positions; (..., dim)."""
    i = torch.arange(0, dim, 2, device=positions.device, dtype=torch.float32)
    ang = positions[..., None].float() / (10000 ** (i / dim))
    out = torch.zeros(*positions.shape, dim, device=positions.device)
    out[..., 0::2], out[..., 1::2] = torch.sin(ang), torch.cos(ang)
    return out


class StyleAdaptiveLayerNorm(nn.Module):
    """SALN: a LayerNorm whose gain and bias are predicted from a style vector.

    Drop-in for ``nn.LayerNorm(dim)`` in any block: call ``saln(h, w)`` with h (..., T, dim) and
    w (..., style_dim) (one style vector per sequence). At initialisation it equals
    ``F.layer_norm(h, (dim,))`` for any w.
    """

    def __init__(self, dim: int, style_dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps
        self.affine = nn.Linear(style_dim, 2 * dim)
        with torch.no_grad():
            self.affine.weight.zero_()  # start as a plain LayerNorm; learn the style mapping
            self.affine.bias[:dim].fill_(1.0)
            self.affine.bias[dim:].zero_()

    def forward(self, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        gain, bias = self.affine(w).unsqueeze(-2).chunk(2, dim=-1)  # (..., 1, dim) each
        return gain * F.layer_norm(h, (self.dim,), eps=self.eps) + bias


class _Norm(nn.Module):
    """SALN or a plain LayerNorm with the same call signature."""

    def __init__(self, dim: int, style_dim: int, adaptive: bool) -> None:
        super().__init__()
        self.norm = StyleAdaptiveLayerNorm(dim, style_dim) if adaptive else nn.LayerNorm(dim)
        self.adaptive = adaptive

    def forward(self, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.norm(h, w) if self.adaptive else self.norm(h)


class FFTBlock(nn.Module):
    """Post-norm Transformer block with a convolutional feed-forward (FastSpeech), normalised by
    SALN (``adaptive=True``) or LayerNorm. Padded positions are zeroed after each norm.

    Shape:
        forward(h (B, T, d), w (B, style_dim), mask (B, T) True = valid) -> (B, T, d).
    """

    def __init__(
        self,
        dim: int,
        style_dim: int,
        heads: int = 2,
        ff: int = 1024,
        kernels: tuple[int, int] = (9, 1),
        dropout: float = 0.1,
        adaptive: bool = True,
    ) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm1 = _Norm(dim, style_dim, adaptive)
        self.norm2 = _Norm(dim, style_dim, adaptive)
        self.conv1 = nn.Conv1d(dim, ff, kernels[0], padding=kernels[0] // 2)
        self.conv2 = nn.Conv1d(ff, dim, kernels[1], padding=kernels[1] // 2)
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, w: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.unsqueeze(-1).to(h.dtype)
        a = self.attn(h, h, h, key_padding_mask=~mask, need_weights=False)[0]
        h = self.norm1(h + self.drop(a), w) * keep
        f = self.conv2(self.drop(F.mish(self.conv1(h.transpose(1, 2))))).transpose(1, 2)
        return self.norm2(h + self.drop(f), w) * keep


class MelStyleEncoder(nn.Module):
    """Mel spectrogram (B, T, n_mels) + mask -> style vector w (B, style_dim)."""

    def __init__(
        self, n_mels: int = 80, hidden: int = 128, style_dim: int = 128, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.spectral = nn.Sequential(
            nn.Linear(n_mels, hidden), nn.Mish(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.Mish(), nn.Dropout(dropout),
        )  # fmt: skip
        self.gated = nn.ModuleList(nn.Conv1d(hidden, 2 * hidden, 5, padding=2) for _ in range(2))
        self.attn = nn.MultiheadAttention(hidden, 2, dropout=dropout, batch_first=True)
        self.out = nn.Linear(hidden, style_dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.unsqueeze(-1).to(mel.dtype)
        x = self.spectral(mel) * keep
        for conv in self.gated:  # gated linear units over time, residual
            a, b = conv(x.transpose(1, 2)).chunk(2, dim=1)
            x = (x + self.drop((a * torch.sigmoid(b)).transpose(1, 2))) * keep
        x = x + self.attn(x, x, x, key_padding_mask=~mask, need_weights=False)[0]
        x = self.out(x) * keep
        return x.sum(1) / keep.sum(1).clamp(min=1.0)  # masked mean over time


class VariancePredictor(nn.Module):
    """2 x (Conv1d k3, ReLU, LayerNorm, dropout) + Linear: one value per position."""

    def __init__(self, dim: int, hidden: int = 256, dropout: float = 0.5) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv1d(dim, hidden, 3, padding=1), nn.Conv1d(hidden, hidden, 3, padding=1)]
        )
        self.norms = nn.ModuleList([nn.LayerNorm(hidden), nn.LayerNorm(hidden)])
        self.out = nn.Linear(hidden, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = self.drop(norm(F.relu(conv(x.transpose(1, 2)).transpose(1, 2))))
        return self.out(x).squeeze(-1) * mask


class LengthRegulator(nn.Module):
    """Repeat each phoneme vector by its duration and add a sinusoidal encoding of the frame's
    position inside its phoneme (official code).

    Shape:
        forward(x (B, N, d), durations (B, N) long >= 0, max_frames or None) ->
        (frames (B, T, d), frame mask (B, T)).
    """

    def forward(
        self, x: torch.Tensor, durations: torch.Tensor, max_frames: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, n, d = x.shape
        durations = durations.clamp(min=0).long()
        total = durations.sum(1)
        t = int(max_frames if max_frames is not None else max(1, int(total.max())))
        ends = durations.cumsum(1)  # (B, N)
        frames = torch.arange(t, device=x.device)
        # phoneme index of every frame: how many phonemes end at or before it
        idx = (frames[None, :, None] >= ends[:, None, :]).sum(-1).clamp(max=n - 1)  # (B, T)
        mask = frames[None] < total[:, None]
        out = x.gather(1, idx.unsqueeze(-1).expand(b, t, d))
        starts = ends - durations
        inside = frames[None] - starts.gather(1, idx)  # position within the phoneme
        out = out + sinusoid(inside, d)
        return out * mask.unsqueeze(-1), mask


class StyleSpeech(nn.Module):
    """The generator G(text, w): phoneme encoder, variance adaptor, mel decoder, all normalised
    by SALN (``conditioning="saln"``) or by LayerNorm with w added to the encoder output
    (``"add"``, the baseline).

    Args:
        num_tokens: phoneme/character vocabulary size (0 = padding).
        n_mels: mel bins; dim: model width; style_dim: w's size; layers: FFT blocks per stack;
        heads, ff, kernels, dropout: FFT block settings.
    """

    def __init__(
        self,
        num_tokens: int,
        n_mels: int = 80,
        dim: int = 256,
        style_dim: int = 128,
        layers: int = 4,
        heads: int = 2,
        ff: int = 1024,
        kernels: tuple[int, int] = (9, 1),
        dropout: float = 0.1,
        conditioning: Literal["saln", "add"] = "saln",
    ) -> None:
        super().__init__()
        if conditioning not in ("saln", "add"):
            raise ValueError(f"conditioning must be 'saln' or 'add', got {conditioning!r}")
        adaptive = conditioning == "saln"
        self.conditioning, self.dim = conditioning, dim
        self.style_encoder = MelStyleEncoder(n_mels, style_dim, style_dim, dropout)
        self.embed = nn.Embedding(num_tokens, dim, padding_idx=0)
        self.prenet = nn.Sequential(
            nn.Conv1d(dim, dim, 3, padding=1), nn.Mish(), nn.Dropout(dropout),
            nn.Conv1d(dim, dim, 3, padding=1), nn.Mish(), nn.Dropout(dropout),
        )  # fmt: skip
        self.prenet_out = nn.Linear(dim, dim)
        block = lambda: FFTBlock(dim, style_dim, heads, ff, kernels, dropout, adaptive)  # noqa: E731
        self.encoder = nn.ModuleList(block() for _ in range(layers))
        self.encoder_out = nn.Linear(dim, dim)
        self.add_style = nn.Linear(style_dim, dim) if not adaptive else None
        self.duration = VariancePredictor(dim, dim, 0.5)
        self.pitch = VariancePredictor(dim, dim, 0.5)
        self.energy = VariancePredictor(dim, dim, 0.5)
        self.pitch_embed = nn.Conv1d(1, dim, 3, padding=1)
        self.energy_embed = nn.Conv1d(1, dim, 3, padding=1)
        self.adaptor_norm = nn.LayerNorm(dim)
        self.regulator = LengthRegulator()
        self.decoder_prenet = nn.Sequential(
            nn.Linear(dim, dim // 2), nn.Mish(), nn.Dropout(dropout), nn.Linear(dim // 2, dim)
        )
        self.decoder = nn.ModuleList(block() for _ in range(layers))
        self.mel_out = nn.Linear(dim, n_mels)

    def style(self, mel: torch.Tensor, mel_mask: torch.Tensor) -> torch.Tensor:
        """w = E(X): (B, style_dim)."""
        return self.style_encoder(mel, mel_mask)

    def encode(self, tokens: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Phoneme encoder: tokens (B, N) (0 = padding) -> (B, N, d), mask (B, N)."""
        mask = tokens != 0
        x = self.embed(tokens)
        x = x + self.prenet_out(self.prenet(x.transpose(1, 2)).transpose(1, 2))
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        x = (x + sinusoid(pos, self.dim)) * mask.unsqueeze(-1)
        for blk in self.encoder:
            x = blk(x, w, mask)
        x = self.encoder_out(x)
        if self.add_style is not None:
            x = x + self.add_style(w).unsqueeze(1)
        return x * mask.unsqueeze(-1), mask

    def forward(
        self,
        tokens: torch.Tensor,
        w: torch.Tensor,
        durations: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        max_frames: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Generate mels for ``tokens`` in style ``w``; ground-truth durations / pitch / energy
        (per token) are used when given (training), predictions otherwise.

        Returns ``mel`` (B, T, n_mels), ``mel_mask`` (B, T), the predictions ``log_duration``,
        ``pitch``, ``energy`` (B, N) and the token mask ``token_mask`` (B, N).
        """
        x, mask = self.encode(tokens, w)
        log_d = self.duration(x, mask)
        p_hat, e_hat = self.pitch(x, mask), self.energy(x, mask)
        p = pitch if pitch is not None else p_hat
        e = energy if energy is not None else e_hat
        x = self.adaptor_norm(x)
        x = x + self.pitch_embed(p.unsqueeze(1)).transpose(1, 2)
        x = x + self.energy_embed(e.unsqueeze(1)).transpose(1, 2)
        if durations is None:
            durations = torch.clamp(torch.round(torch.exp(log_d) - 1), min=0).long() * mask
        frames, mel_mask = self.regulator(x * mask.unsqueeze(-1), durations, max_frames)
        y = frames + self.decoder_prenet(frames)
        y = (y + sinusoid(torch.arange(y.shape[1], device=y.device), self.dim)) * mel_mask[
            ..., None
        ]
        for blk in self.decoder:
            y = blk(y, w, mel_mask)
        mel = self.mel_out(y) * mel_mask.unsqueeze(-1)
        return {
            "mel": mel,
            "mel_mask": mel_mask,
            "log_duration": log_d,
            "pitch": p_hat,
            "energy": e_hat,
            "token_mask": mask,
        }


def generator_loss(
    out: dict[str, torch.Tensor],
    mel: torch.Tensor,
    durations: torch.Tensor,
    pitch: torch.Tensor,
    energy: torch.Tensor,
    mel_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """StyleSpeech's loss: ``mel_weight`` x masked L1 on the mel + MSE on log(d + 1), pitch and
    energy. ``mel_weight`` is 1 in the StyleSpeech stage and alpha = 10 in the meta stage (the
    official ``train_meta.py`` weights the mel loss only); ``parts`` are unweighted."""
    mm, tm = out["mel_mask"].unsqueeze(-1).float(), out["token_mask"].float()
    l_mel = ((out["mel"] - mel).abs() * mm).sum() / (mm.sum() * mel.shape[-1]).clamp(min=1)

    def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ((a - b) ** 2 * tm).sum() / tm.sum().clamp(min=1)

    l_d = mse(out["log_duration"], torch.log(durations.float() + 1))
    l_p, l_e = mse(out["pitch"], pitch), mse(out["energy"], energy)
    total = mel_weight * l_mel + l_d + l_p + l_e
    parts = {"mel": l_mel, "duration": l_d, "pitch": l_p, "energy": l_e}
    return total, {k: float(v.detach()) for k, v in parts.items()}


def noam(step: int, dim: int, warmup: int, scale: float = 1.0) -> float:
    """lr = scale * dim^-0.5 * min(s^-0.5, s * warmup^-1.5) at step s >= 1 (official)."""
    s = max(1, step)
    return scale * dim**-0.5 * min(s**-0.5, s * warmup**-1.5)
