"""Recognition metrics: word and character error rates (jiwer), emission latency against exact
word ends, and the share of head decisions forced by head-synchronous decoding.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (experiments: WER on LibriSpeech, CER on
AISHELL-1, and the latency of the emitted boundaries).

Latency of a token = its emission frame minus the encoder frame by which its word had been heard
completely (both in encoder frames after x4 subsampling, 40 ms each at a 10 ms hop); computed
only for tokens aligned to reference words by the edit-distance alignment (hits and
substitutions), so insertions and deletions do not distort it.

Deviations from the paper: latency is measured against exact word ends (known by construction
of the corpus, :mod:`.data`) instead of forced alignments, in encoder frames; the share of
forced head decisions is ours (it shows how often HSD overrides the heads).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["aligned_pairs", "error_rates", "latencies"]


def error_rates(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, float]:
    """Corpus WER and CER (edit operations over reference words / characters)."""
    import jiwer

    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references for {len(hyps)} hypotheses")
    # jiwer refuses empty references; every reference here is a non-empty transcript
    if any(not r.strip() for r in refs):
        raise ValueError("empty reference transcript")
    hyps = [h if h.strip() else "<empty>" for h in hyps]
    return {"wer": float(jiwer.wer(list(refs), hyps)), "cer": float(jiwer.cer(list(refs), hyps))}


def aligned_pairs(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int, int]]:
    """(reference index, hypothesis index) of hits and substitutions in a minimum-edit
    alignment (Levenshtein); among equally short alignments the one with the most hits (a
    substitution costs 1 + 1e-3, so it loses ties against a deletion + insertion around a hit).
    """
    n, m = len(ref), len(hyp)
    sub = 1.0 + 1e-3
    d = np.zeros((n + 1, m + 1), dtype=np.float64)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            diag = d[i - 1, j - 1] + (sub if ref[i - 1] != hyp[j - 1] else 0.0)
            d[i, j] = min(diag, d[i - 1, j] + 1, d[i, j - 1] + 1)
    pairs, i, j = [], n, m
    while i > 0 and j > 0:
        if np.isclose(d[i, j], d[i - 1, j - 1] + (sub if ref[i - 1] != hyp[j - 1] else 0.0)):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif np.isclose(d[i, j], d[i - 1, j] + 1):
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def latencies(
    ref_words: Sequence[str],
    ref_end_frames: Sequence[int],
    hyp_words: Sequence[str],
    hyp_frames: Sequence[int],
) -> list[int]:
    """Emission frame minus the reference word's end frame, per aligned token."""
    return [
        int(hyp_frames[j]) - int(ref_end_frames[i]) for i, j in aligned_pairs(ref_words, hyp_words)
    ]
