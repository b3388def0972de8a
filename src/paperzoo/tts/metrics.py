"""Objective TTS metrics: mel-cepstral distortion after DTW alignment, cosine speaker
similarity between embeddings, and the speaker-verification equal error rate.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experiments: MCD between generated
and ground-truth speech of unseen speakers, and speaker similarity of embeddings). MCD:
Kubichek, "Mel-cepstral distance measure for objective speech quality assessment", IEEE PACRIM
1993.

MCD (Kubichek 1993): with mel-cepstra c_d, d = 1..D (energy c_0 excluded), the Fourier-series
coefficients of the natural-log *amplitude* mel spectrum over its M bands,

    log |X_m| = c_0 + 2 * sum_{d>=1} c_d cos(pi d (m + 1/2) / M),      m = 0..M-1,

and over the DTW path between generated and reference frames,

    MCD = (10 / ln 10) * sqrt(2 * sum_{d=1}^{D} (c_d - c'_d)^2)     (dB, averaged over the path)

The features here are natural-log *power* mels (log |X|^2 = 2 log |X|), so with the orthonormal
DCT-II X_d of a frame, c_d = X_d / (2 sqrt(2 M)). (Using X_d itself, as a first version did,
inflates MCD by 2 sqrt(2 M) = 17.9x at M = 40: 28.5 "dB" for a model at ~1.6 dB.) 13 cepstra of a
40-80-band mel are a smoothed envelope, so values run below MCDs from 25-34 SPTK mel-cepstra
of a full spectral envelope; compare arms with each other, not with other papers' dB.

The DTW cost is the Euclidean distance between cepstra (librosa.sequence.dtw), so a different
speaking rate is not counted as distortion.

Deviations from the paper: the cepstra come from a DCT of the model's own 40-80-band log mels
(13 coefficients) rather than from a vocoder's mel-cepstral analysis of the waveform, so the
values are only comparable between arms of this reproduction (see above).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cosine_similarity", "dtw_mcd", "equal_error_rate", "mel_cepstrum"]

_K = 10.0 / np.log(10.0) * np.sqrt(2.0)


def mel_cepstrum(log_mel: np.ndarray, num: int = 13) -> np.ndarray:
    """(frames, M) natural-log power mel -> (frames, num) cepstra c_1..c_num of the log-amplitude
    spectrum (module docstring: orthonormal DCT-II / (2 sqrt(2 M)))."""
    from scipy.fft import dct

    m = np.asarray(log_mel, np.float64)
    if num >= m.shape[-1]:
        raise ValueError(f"num={num} cepstra need more than {m.shape[-1]} mel bins")
    c = dct(m, type=2, norm="ortho", axis=-1) / (2.0 * np.sqrt(2.0 * m.shape[-1]))
    return c[:, 1 : num + 1]


def dtw_mcd(generated: np.ndarray, reference: np.ndarray, num: int = 13) -> float:
    """Mel-cepstral distortion (dB) between two log-mels of any lengths, after DTW."""
    import librosa

    a, b = mel_cepstrum(generated, num), mel_cepstrum(reference, num)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("empty spectrogram")
    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")
    diff = a[path[:, 0]] - b[path[:, 1]]
    return float(_K * np.mean(np.sqrt((diff**2).sum(-1))))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embedding vectors."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("zero embedding")
    return float(a @ b / (na * nb))


def equal_error_rate(scores: np.ndarray, is_target: np.ndarray) -> float:
    """Equal error rate of verification trials: the rate at which the false-acceptance rate
    FAR(t) = P(non-target score >= t) equals the false-rejection rate FRR(t) = P(target score
    < t), read where the two curves cross over the trial scores as thresholds (the mean of
    FAR and FRR at the threshold where they are closest; exact when they meet).

    Shape:
        scores, is_target: (trials,); at least one target and one non-target trial.

    Returns:
        EER in [0, 1]: 0 when every target outscores every non-target, 0.5 at chance.
    """
    s = np.asarray(scores, np.float64).ravel()
    t = np.asarray(is_target, bool).ravel()
    if s.shape != t.shape or not t.any() or t.all():
        raise ValueError("need scores and labels of equal length with both trial kinds")
    if not np.isfinite(s).all():
        raise ValueError("non-finite verification score")
    thresholds = np.unique(np.concatenate([s, [np.inf]]))
    tar, non = np.sort(s[t]), np.sort(s[~t])
    frr = np.searchsorted(tar, thresholds, side="left") / len(tar)  # targets below t
    far = 1.0 - np.searchsorted(non, thresholds, side="left") / len(non)  # non-targets >= t
    k = int(np.argmin(np.abs(far - frr)))
    return float((far[k] + frr[k]) / 2)
