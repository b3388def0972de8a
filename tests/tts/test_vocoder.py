"""The bundled HiFi-GAN loads without torchaudio and resynthesises a voiced sound from its own
mel with the same pitch and a close mel."""

import numpy as np
import pytest

pytest.importorskip("librosa")


@pytest.mark.slow
def test_hifigan_round_trip_keeps_pitch_and_mel():
    from paperzoo.tts.vocoder import HifiGan

    try:
        voc = HifiGan()
    except ImportError as e:
        pytest.skip(str(e))
    sr = voc.sample_rate
    t = np.arange(sr // 2) / sr
    # a vowel-like sound: 150 Hz with harmonics
    x = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 8)).astype(np.float32) * 0.1
    mel = voc.mel(x)
    y = voc(mel)
    assert abs(len(y) - len(x)) <= voc.hop
    import librosa

    f0 = librosa.yin(y[: len(x)], fmin=80, fmax=400, sr=sr)
    assert np.median(f0) == pytest.approx(150, rel=0.05)
    again = voc.mel(y[: len(x)])
    n = min(len(again), len(mel))
    # the spectral shape comes back (the level does not: ~10 dB quieter for these inputs)
    assert np.corrcoef(again[:n].ravel(), mel[:n].ravel())[0, 1] > 0.9
