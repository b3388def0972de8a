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


def test_equal_error_rate_by_hand():
    from paperzoo.tts.metrics import equal_error_rate

    assert equal_error_rate([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0]) == 0.0  # separable
    assert equal_error_rate([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0]) == 1.0  # inverted
    # targets 0.9, 0.3; non-targets 0.5, 0.1: at t = 0.5 one of each is wrong
    assert equal_error_rate([0.9, 0.3, 0.5, 0.1], [1, 1, 0, 0]) == 0.5
    # 4 targets, 4 non-targets, one overlap pair: FAR = FRR = 1/4 at t = 0.6
    s = [0.9, 0.8, 0.7, 0.55, 0.6, 0.3, 0.2, 0.1]
    assert equal_error_rate(s, [1, 1, 1, 1, 0, 0, 0, 0]) == 0.25
    rng = np.random.default_rng(0)
    chance = equal_error_rate(rng.normal(size=20_000), rng.random(20_000) < 0.5)
    assert abs(chance - 0.5) < 0.02
    with pytest.raises(ValueError, match="both trial kinds"):
        equal_error_rate([0.1, 0.2], [1, 1])


def test_verification_metrics_separate_identities():
    from paperzoo.tts.evaluation import _verification

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 8)) * 3
    idents = np.repeat(np.arange(3), 4)

    def unit(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    real = unit(centres[idents] + rng.normal(size=(12, 8)) * 0.3)
    good = unit(centres[idents] + rng.normal(size=(12, 8)) * 0.3)
    out = _verification(real, good, idents)
    assert out["eer"] == 0.0 and out["eer_real"] == 0.0
    assert out["identity_accuracy_real"] == 1.0
    noise = unit(rng.normal(size=(12, 8)))  # a generator that ignores the reference
    assert _verification(real, noise, idents)["eer"] > 0.2
