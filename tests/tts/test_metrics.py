"""MCD by hand, its invariance to time warping (DTW), and cosine similarity."""

import numpy as np
import pytest

pytest.importorskip("librosa")

from paperzoo.tts.metrics import cosine_similarity, dtw_mcd, mel_cepstrum


def test_mcd_by_hand_and_under_time_warping():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((30, 20))
    assert dtw_mcd(ref, ref) == 0.0
    # log|X_m| = ... + 2 c_3 cos(pi 3 (m + 1/2) / M): adding delta to c_3 of the amplitude
    # spectrum adds 2 * 2 delta cos(...) to the log *power* mel, and MCD = 10/ln10 sqrt(2) delta
    m = np.arange(20)
    delta = 0.1
    shifted = ref + 4 * delta * np.cos(np.pi * 3 * (m + 0.5) / 20)
    c = mel_cepstrum(shifted) - mel_cepstrum(ref)
    assert c[:, 2] == pytest.approx(np.full(30, delta)) and np.abs(np.delete(c, 2, 1)).max() < 1e-12
    assert dtw_mcd(shifted, ref) == pytest.approx(10 / np.log(10) * np.sqrt(2) * delta)
    # a level change (c_0, loudness) is not distortion
    assert dtw_mcd(ref + 3.0, ref) < 1e-9
    slow = np.repeat(ref, 2, axis=0)  # the same speech at half speed
    assert dtw_mcd(slow, ref) < 1e-9
    with pytest.raises(ValueError):
        mel_cepstrum(ref, num=20)


def test_cosine_similarity():
    assert cosine_similarity([1, 0], [2, 0]) == pytest.approx(1.0)
    assert cosine_similarity([1, 0], [0, 3]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        cosine_similarity([0, 0], [1, 1])
