"""Objective TTS metrics: mel-cepstral distortion after DTW alignment, and cosine speaker
similarity between embeddings.

MCD (Kubichek 1993): with mel-cepstra c (the orthonormal DCT-II of the natural-log mel
spectrum, coefficients 1..D, energy c_0 excluded), over the DTW path between generated and
reference frames,

    MCD = (10 / ln 10) * sqrt(2 * sum_{d=1}^{D} (c_d - c'_d)^2)     (dB, averaged over the path)

The DTW cost is the Euclidean distance between cepstra (librosa.sequence.dtw), so a different
speaking rate is not counted as distortion.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cosine_similarity", "dtw_mcd", "mel_cepstrum"]

_K = 10.0 / np.log(10.0) * np.sqrt(2.0)


def mel_cepstrum(log_mel: np.ndarray, num: int = 13) -> np.ndarray:
    """(frames, mels) natural-log mel -> (frames, num) cepstra c_1..c_num (orthonormal DCT-II)."""
    from scipy.fft import dct

    c = dct(np.asarray(log_mel, np.float64), type=2, norm="ortho", axis=-1)
    if num >= c.shape[-1]:
        raise ValueError(f"num={num} cepstra need more than {c.shape[-1]} mel bins")
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
