"""MCD by hand, its invariance to time warping (DTW), and cosine similarity."""

import numpy as np
import pytest

pytest.importorskip("librosa")

from paperzoo.tts.metrics import cosine_similarity, dtw_mcd, mel_cepstrum


def test_mcd_by_hand_and_under_time_warping():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((30, 20))
    assert dtw_mcd(ref, ref) == 0.0
    # a constant cepstral offset of delta in every coefficient: MCD = 10/ln10 sqrt(2 D) delta
    c = mel_cepstrum(ref)
    from scipy.fft import idct

    full = np.zeros((30, 20))
    full[:, 1:14] = c + 0.1
    full[:, 0] = 0
    shifted = idct(full, type=2, norm="ortho", axis=-1)
    want = 10 / np.log(10) * np.sqrt(2 * 13) * 0.1
    got = dtw_mcd(shifted, ref)
    assert got == pytest.approx(want, rel=0.05)
    slow = np.repeat(ref, 2, axis=0)  # the same speech at half speed
    assert dtw_mcd(slow, ref) < 1e-9
    with pytest.raises(ValueError):
        mel_cepstrum(ref, num=20)


def test_cosine_similarity():
    assert cosine_similarity([1, 0], [2, 0]) == pytest.approx(1.0)
    assert cosine_similarity([1, 0], [0, 3]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        cosine_similarity([0, 0], [1, 1])
