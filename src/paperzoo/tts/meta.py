"""Meta-StyleSpeech's episodic stage: the style discriminator with one prototype per training
speaker, the phoneme discriminator, their LSGAN losses and one episode's generator and
discriminator updates.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech", ICML 2021, https://arxiv.org/abs/2106.03153
(Section 3.3, Eqs. 7-11); official ``models/Discriminators.py``, ``train_meta.py`` (read only).

An episode takes B utterances of B distinct speakers (the support). w_s = E(X_s) is the style of
each support clip; the generator reconstructs X_s from its own text with ground-truth durations
(L_rec), and synthesises a *query* X~_q = G(t_q, w_s) from another utterance's text t_q (the
batch's texts permuted) with predicted durations. The query has no ground truth: only the
discriminators judge it.

* Style discriminator D_s(X, i) = w0 <V s_i, h(X)> + b0: h is a mel-style-encoder-like feature
  net with spectral norm and LeakyReLU(0.1); s_i is speaker i's learnable prototype.
* Prototype classification (discriminator side): L_cls = CE(softmax_j <w_s, s_j>, i), w_s
  detached.
* Phoneme discriminator D_t: per frame, [MLP(mel frame); the frame's phoneme embedding + position
  encoding] -> 4 spectral-norm Linear layers -> a score, averaged over valid frames.
* L_D = (D_t(X_s) - 1)^2 + D_t(X~_q)^2 + (D_s(X_s, i) - 1)^2 + D_s(X~_q, i)^2 + L_cls
* L_G = alpha L_mel + L_dur + L_pitch + L_energy + (D_t(X~_q) - 1)^2 + (D_s(X~_q, i) - 1)^2,
  alpha = 10 on the support's mel L1 only; the duration, pitch and energy losses enter
  unweighted (official ``train_meta.py`` lines 175-177 at commit f939cf9, where the weighted
  reconstruction term is the mel loss alone).
The generator step comes first, then the discriminator step on detached fakes (official order).

Deviations from the paper and the official code:
    * The phoneme discriminator embeds the phoneme ids itself (the official one reads the
      generator's raw phoneme embeddings); sizes are arguments.
    * Runs made before 2026-12-08 weighted the duration, pitch and energy MSEs by alpha too;
      fixed to the official objective (their reports say so).
    * The query texts are a derangement of the batch's texts (no utterance keeps its own);
      the official ``torch.randperm`` can leave one in place, making that query a
      reconstruction without ground truth.
    * The query permutation comes from ``generator``; the official code uses the global RNG.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .model import LengthRegulator, StyleSpeech, generator_loss, sinusoid

__all__ = ["PhonemeDiscriminator", "StyleDiscriminator", "meta_episode", "prototype_loss"]


class StyleDiscriminator(nn.Module):
    """D_s with one learnable prototype per training speaker.

    Shape:
        forward(mel (B, T, n_mels), mask (B, T), speaker (B,)) -> scores (B,).
    """

    def __init__(self, num_speakers: int, n_mels: int, hidden: int = 128, style_dim: int = 128):
        super().__init__()
        sn = spectral_norm
        self.spectral = nn.Sequential(
            sn(nn.Linear(n_mels, hidden)), nn.LeakyReLU(0.1),
            sn(nn.Linear(hidden, hidden)), nn.LeakyReLU(0.1),
        )  # fmt: skip
        self.convs = nn.ModuleList(sn(nn.Conv1d(hidden, hidden, 5, padding=2)) for _ in range(2))
        self.attn = nn.MultiheadAttention(hidden, 2, batch_first=True)
        self.out = sn(nn.Linear(hidden, style_dim))
        self.prototypes = nn.Embedding(num_speakers, style_dim)
        self.v = nn.Linear(style_dim, style_dim, bias=False)
        self.w0 = nn.Parameter(torch.ones(()))
        self.b0 = nn.Parameter(torch.zeros(()))

    def features(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask.unsqueeze(-1).to(mel.dtype)
        x = self.spectral(mel) * keep
        for conv in self.convs:
            x = (x + F.leaky_relu(conv(x.transpose(1, 2)).transpose(1, 2), 0.1)) * keep
        x = x + self.attn(x, x, x, key_padding_mask=~mask, need_weights=False)[0]
        x = self.out(x) * keep
        return x.sum(1) / keep.sum(1).clamp(min=1.0)

    def forward(self, mel: torch.Tensor, mask: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        h = self.features(mel, mask)
        return self.w0 * (self.v(self.prototypes(speaker)) * h).sum(-1) + self.b0


def prototype_loss(
    style: torch.Tensor, speaker: torch.Tensor, d: StyleDiscriminator
) -> torch.Tensor:
    """L_cls = CE(softmax_j <w_s, s_j>, i) with w_s detached (it trains the prototypes)."""
    logits = style.detach() @ d.prototypes.weight.T
    return F.cross_entropy(logits, speaker)


class PhonemeDiscriminator(nn.Module):
    """D_t: frame-level realism given the phoneme each frame belongs to.

    Shape:
        forward(mel (B, T, n_mels), mel_mask (B, T), tokens (B, N), durations (B, N)) -> (B,).
    """

    def __init__(self, num_tokens: int, n_mels: int, dim: int = 128) -> None:
        super().__init__()
        sn = spectral_norm
        self.dim = dim
        self.embed = nn.Embedding(num_tokens, dim, padding_idx=0)
        self.mel_net = nn.Sequential(sn(nn.Linear(n_mels, dim)), nn.LeakyReLU(0.1))
        self.regulator = LengthRegulator()
        self.net = nn.Sequential(
            sn(nn.Linear(2 * dim, 2 * dim)), nn.LeakyReLU(0.1),
            sn(nn.Linear(2 * dim, 2 * dim)), nn.LeakyReLU(0.1),
            sn(nn.Linear(2 * dim, 2 * dim)), nn.LeakyReLU(0.1),
            sn(nn.Linear(2 * dim, 1)),
        )  # fmt: skip

    def forward(
        self,
        mel: torch.Tensor,
        mel_mask: torch.Tensor,
        tokens: torch.Tensor,
        durations: torch.Tensor,
    ) -> torch.Tensor:
        ph, _ = self.regulator(self.embed(tokens), durations, mel.shape[1])
        pos = sinusoid(torch.arange(mel.shape[1], device=mel.device), self.dim)
        x = torch.cat([self.mel_net(mel), ph + pos], -1)
        keep = mel_mask.to(mel.dtype)
        score = self.net(x).squeeze(-1) * keep
        return score.sum(1) / keep.sum(1).clamp(min=1.0)


def _lsgan(x: torch.Tensor, target: float) -> torch.Tensor:
    return ((x - target) ** 2).mean()


def meta_episode(
    gen: StyleSpeech,
    d_style: StyleDiscriminator,
    d_phone: PhonemeDiscriminator,
    batch: dict[str, torch.Tensor],
    g_opt: torch.optim.Optimizer,
    d_opt: torch.optim.Optimizer,
    alpha: float = 10.0,
    generator: torch.Generator | None = None,
) -> dict[str, Any]:
    """One episode: the generator update, then the discriminator update on detached fakes.

    ``batch``: ``tokens`` (B, N), ``durations``, ``pitch``, ``energy`` (B, N), ``mel``
    (B, T, n_mels), ``mel_mask`` (B, T), ``speaker`` (B,) prototype indices; one utterance per
    distinct speaker. Returns the losses (floats).
    """
    b = batch["tokens"].shape[0]
    if b < 2:
        raise ValueError("an episode needs at least 2 speakers (the query texts are permuted)")
    spk = batch["speaker"]
    if len(set(spk.tolist())) != b:
        raise ValueError("an episode takes one utterance from each of B distinct speakers")
    perm = torch.randperm(b, generator=generator)
    while bool((perm == torch.arange(b)).any()):  # every query speaks another utterance's text
        perm = torch.randperm(b, generator=generator)

    # --- generator step ----------------------------------------------------------------------
    w = gen.style(batch["mel"], batch["mel_mask"])
    sup = gen(batch["tokens"], w, batch["durations"], batch["pitch"], batch["energy"],
              max_frames=batch["mel"].shape[1])  # fmt: skip
    l_rec_w, parts = generator_loss(sup, batch["mel"], batch["durations"], batch["pitch"],
                                    batch["energy"], mel_weight=alpha)  # fmt: skip
    q_tokens = batch["tokens"][perm]
    query = gen(q_tokens, w)  # predicted durations, no ground truth
    q_dur = torch.clamp(torch.round(torch.exp(query["log_duration"]) - 1), min=0).long()
    q_dur = q_dur * query["token_mask"]
    adv_t = _lsgan(d_phone(query["mel"], query["mel_mask"], q_tokens, q_dur), 1.0)
    adv_s = _lsgan(d_style(query["mel"], query["mel_mask"], spk), 1.0)
    l_g = l_rec_w + adv_t + adv_s  # alpha on the mel L1 only (official train_meta.py)
    g_opt.zero_grad()
    l_g.backward()
    g_opt.step()

    # --- discriminator step (detached fakes) -------------------------------------------------
    fake, fmask = query["mel"].detach(), query["mel_mask"]
    real, rmask = batch["mel"], batch["mel_mask"]
    l_d = (
        _lsgan(d_phone(real, rmask, batch["tokens"], batch["durations"]), 1.0)
        + _lsgan(d_phone(fake, fmask, q_tokens, q_dur), 0.0)
        + _lsgan(d_style(real, rmask, spk), 1.0)
        + _lsgan(d_style(fake, fmask, spk), 0.0)
        + prototype_loss(w, spk, d_style)
    )
    d_opt.zero_grad()
    l_d.backward()
    d_opt.step()
    return {"g": float(l_g.detach()), "d": float(l_d.detach()), "rec": sum(parts.values()),
            "adv_t": float(adv_t.detach()), "adv_s": float(adv_s.detach()), **parts}  # fmt: skip
