"""Phoneme durations without an external aligner: a learned monotonic aligner (in the manner of
Badlani et al., "One TTS Alignment to Rule Them All", 2021), for corpora whose phone timings
are unknown (the synthetic multi-speaker corpus).

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experimental setup: phoneme durations
come from the Montreal Forced Aligner; official code https://github.com/KevinMIN95/StyleSpeech,
``prepare_align.py`` and ``preprocess.py``). The aligner itself follows Badlani, Lancucki, Shih,
Valle, Ping, Catanzaro, "One TTS Alignment to Rule Them All", ICASSP 2022,
https://arxiv.org/abs/2108.10447 (its alignment learning framework: soft alignment from
key/query distances, static beta-binomial prior, forward-sum loss).

Model: token keys k_n = TextConv(embed(t))_n (B, N, a) and frame queries q_t = MelConv(X)_t
(B, T, a); the soft alignment is

    log p(n | t) = log_softmax_n( -temperature * ||q_t - k_n||^2 + log prior(n | t) )

with the static beta-binomial prior that favours the diagonal (weight ``prior_scale``). The mel
is standardised per bin (statistics of the training data, kept in the model) and the
temperature is small (0.0005, as in that paper), so the first alignments are soft: with sharp
initial logits the forward-sum loss falls into a degenerate optimum where a few tokens take
almost every frame (seen on FSDD: 30-frame boundary errors).
Training maximises the probability of the text under *all monotonic alignments* (each token
gets >= 1 consecutive frame, in order: the forward-sum loss):

    L = -log sum_{A monotonic} prod_t p(A_t | t)      (per utterance, divided by T)

computed by the forward recursion alpha_t(n) = logsumexp(alpha_{t-1}(n), alpha_{t-1}(n-1)) +
log p(n | t). Durations are then read from the single best monotonic alignment (Viterbi,
"monotonic alignment search"). Both recursions are checked against brute-force enumeration in
the tests; on FSDD concatenations, where word boundaries are exact, the README reports how far
the aligner's word boundaries fall from the truth.

Deviations from the papers:
    * It stands in for the Montreal Forced Aligner of the official pipeline, so the reproduction
      needs no external (Kaldi-based) tool.
    * The forward-sum loss is an explicit forward recursion over monotonic alignments (each
      token >= 1 frame, no blank); Badlani et al. compute it with a CTC loss and a blank symbol.
    * No alignment binarisation loss (Badlani et al.'s L_bin, which pulls the soft alignment
      towards the hard one later in training): durations are read once, by Viterbi, at the end.
    * The aligner is trained on its own, not jointly with the TTS model, and the mel is
      standardised per bin with training statistics (both ours, see above).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MonotonicAligner",
    "beta_binomial_prior",
    "fit_aligner",
    "forward_sum",
    "viterbi_durations",
]


def beta_binomial_prior(frames: int, tokens: int, scale: float = 1.0) -> np.ndarray:
    """log P(token n | frame t) of the beta-binomial prior (frames, tokens): at frame t the
    token index ~ BetaBinomial(N - 1, scale * (t + 1), scale * (T - t))."""
    from scipy.stats import betabinom

    t = np.arange(frames)[:, None]
    n = np.arange(tokens)[None, :]
    a, b = scale * (t + 1), scale * (frames - t)
    return betabinom(tokens - 1, a, b).logpmf(n).astype(np.float32)


def forward_sum(
    log_p: torch.Tensor, frame_lens: torch.Tensor, token_lens: torch.Tensor
) -> torch.Tensor:
    """log of the summed probability of every monotonic alignment, per utterance (B,).

    ``log_p`` (B, T, N): log p(token n | frame t). An alignment maps frames 0..T_b-1 onto
    tokens 0..N_b-1 in order, each token at least one frame; its probability is the product
    of log_p along it. -inf when T_b < N_b (no alignment exists).
    """
    b, t_max, n_max = log_p.shape
    neg = torch.finfo(log_p.dtype).min / 4
    alpha = torch.full((b, n_max), neg, dtype=log_p.dtype, device=log_p.device)
    alpha[:, 0] = log_p[:, 0, 0]
    out = torch.full((b,), neg, dtype=log_p.dtype, device=log_p.device)
    rows = torch.arange(b, device=log_p.device)
    done = frame_lens == 1
    if done.any():
        out = torch.where(done, alpha[rows, token_lens - 1], out)
    for t in range(1, t_max):
        shifted = F.pad(alpha[:, :-1], (1, 0), value=neg)
        alpha = torch.logaddexp(alpha, shifted) + log_p[:, t]
        last = frame_lens == t + 1
        if last.any():
            out = torch.where(last, alpha[rows, token_lens - 1], out)
    return torch.where(frame_lens >= token_lens, out, torch.full_like(out, float("-inf")))


def viterbi_durations(log_p: np.ndarray) -> np.ndarray:
    """The best monotonic alignment's frames per token (N,) for one utterance's log_p (T, N)
    (T >= N; every token gets >= 1 frame; durations sum to T)."""
    t_len, n_len = log_p.shape
    if t_len < n_len:
        raise ValueError(f"{t_len} frames cannot hold {n_len} tokens (each needs one)")
    score = np.full((t_len, n_len), -np.inf)
    from_prev = np.zeros((t_len, n_len), dtype=bool)  # True: came from token n - 1
    score[0, 0] = log_p[0, 0]
    for t in range(1, t_len):
        stay = score[t - 1]
        move = np.concatenate([[-np.inf], score[t - 1, :-1]])
        from_prev[t] = move > stay
        score[t] = np.maximum(stay, move) + log_p[t]
    durations = np.zeros(n_len, dtype=np.int64)
    n = n_len - 1
    for t in range(t_len - 1, -1, -1):
        durations[n] += 1
        if t > 0 and from_prev[t, n]:
            n -= 1
    return durations


def _draw_seed(generator: torch.Generator) -> int:
    """A seed for the initial weights, drawn from ``generator``."""
    return int(torch.randint(2**62, (1,), generator=generator))


class MonotonicAligner(nn.Module):
    """Token/frame encoders whose distances give log p(token | frame) (module docstring).

    Args:
        num_tokens: vocabulary size (0 = padding); n_mels: mel bins; dim: hidden width;
        attn_dim: the key/query size a; prior_scale: beta-binomial prior weight (0: none);
        temperature: scale of the squared distances in the logits.
    """

    def __init__(
        self,
        num_tokens: int,
        n_mels: int,
        dim: int = 128,
        attn_dim: int = 64,
        prior_scale: float = 1.0,
        temperature: float = 0.0005,
    ) -> None:
        super().__init__()
        self.temperature = temperature
        self.register_buffer("mel_mean", torch.zeros(n_mels))
        self.register_buffer("mel_std", torch.ones(n_mels))
        self.embed = nn.Embedding(num_tokens, dim, padding_idx=0)
        self.text = nn.Sequential(
            nn.Conv1d(dim, dim, 3, padding=1), nn.ReLU(), nn.Conv1d(dim, attn_dim, 1)
        )
        self.mel = nn.Sequential(
            nn.Conv1d(n_mels, dim, 3, padding=1), nn.ReLU(),
            nn.Conv1d(dim, dim, 3, padding=1), nn.ReLU(), nn.Conv1d(dim, attn_dim, 1),
        )  # fmt: skip
        self.attn_dim, self.prior_scale = attn_dim, prior_scale

    def log_probs(
        self, tokens: torch.Tensor, mel: torch.Tensor, mel_mask: torch.Tensor
    ) -> torch.Tensor:
        """log p(token n | frame t): (B, T, N); padded tokens get -inf, padded frames 0."""
        keys = self.text(self.embed(tokens).transpose(1, 2)).transpose(1, 2)  # (B, N, a)
        x = (mel - self.mel_mean) / self.mel_std
        queries = self.mel(x.transpose(1, 2)).transpose(1, 2)  # (B, T, a)
        logits = -self.temperature * torch.cdist(queries, keys).pow(2)
        if self.prior_scale > 0:
            prior = torch.zeros_like(logits)
            for i in range(tokens.shape[0]):
                t, n = int(mel_mask[i].sum()), int((tokens[i] != 0).sum())
                prior[i, :t, :n] = torch.from_numpy(beta_binomial_prior(t, n, self.prior_scale))
            logits = logits + prior
        logits = logits.masked_fill((tokens == 0).unsqueeze(1), float("-inf"))
        return torch.log_softmax(logits, dim=-1) * mel_mask.unsqueeze(-1)

    def loss(self, tokens: torch.Tensor, mel: torch.Tensor, mel_mask: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of -forward_sum / T (the forward-sum loss)."""
        log_p = self.log_probs(tokens, mel, mel_mask)
        frames, toks = mel_mask.sum(1), (tokens != 0).sum(1)
        ll = forward_sum(log_p.masked_fill(~torch.isfinite(log_p), -1e4), frames, toks)
        return -(ll / frames).mean()

    @torch.no_grad()
    def durations(self, tokens: torch.Tensor, mel: torch.Tensor) -> np.ndarray:
        """Viterbi durations (N,) of one utterance: tokens (N,), mel (T, n_mels)."""
        mask = torch.ones(1, mel.shape[0], dtype=torch.bool)
        log_p = self.log_probs(tokens[None], mel[None], mask)[0].numpy()
        return viterbi_durations(log_p)


def fit_aligner(
    tokens: list[np.ndarray],
    mels: list[np.ndarray],
    steps: int = 2000,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    generator: torch.Generator | None = None,
    **kwargs: float,
) -> MonotonicAligner:
    """Train a :class:`MonotonicAligner` on (token ids (N,), log-mel (T, n_mels)) pairs with
    Adam on the forward-sum loss; returns it in eval mode.

    Args:
        tokens, mels: the utterances; steps, batch_size, lr: the optimisation.
        seed: seeds the initial weights and the batches when ``generator`` is None.
        generator: draws the initial weights' seed, then the batches, instead of ``seed``.
        kwargs: the model's options (:class:`MonotonicAligner`).

    The global RNG is left as it was (the model has no dropout).
    """
    if len(tokens) != len(mels) or not tokens:
        raise ValueError("need one mel per token sequence and at least one utterance")
    bad = [i for i, (t, m) in enumerate(zip(tokens, mels)) if len(m) < len(t)]
    if bad:
        raise ValueError(f"utterances {bad[:5]} have fewer frames than tokens")
    num_tokens = int(max(t.max() for t in tokens)) + 1
    init_seed = seed if generator is None else _draw_seed(generator)
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG restored
        torch.random.default_generator.manual_seed(init_seed)
        model = MonotonicAligner(num_tokens, mels[0].shape[1], **kwargs)  # type: ignore[arg-type]
    frames = np.concatenate(mels)
    model.mel_mean.copy_(torch.from_numpy(frames.mean(0)))
    model.mel_std.copy_(torch.from_numpy(frames.std(0) + 1e-5))
    opt = torch.optim.Adam(model.parameters(), lr)
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(tokens), (batch_size,), generator=g).tolist()
        n, t = max(len(tokens[i]) for i in idx), max(len(mels[i]) for i in idx)
        tok = torch.zeros(len(idx), n, dtype=torch.long)
        mel = torch.zeros(len(idx), t, mels[0].shape[1])
        mask = torch.zeros(len(idx), t, dtype=torch.bool)
        for j, i in enumerate(idx):
            tok[j, : len(tokens[i])] = torch.from_numpy(np.asarray(tokens[i]))
            mel[j, : len(mels[i])] = torch.from_numpy(mels[i])
            mask[j, : len(mels[i])] = True
        loss = model.loss(tok, mel, mask)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()
