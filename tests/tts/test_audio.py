"""TTS audio front end: mel shapes per configuration, energy and pitch of tones, Griffin-Lim
keeps the pitch (and repeats itself given a seeded ``rng``), bad references are refused with
their fault named."""

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from paperzoo.tts.audio import MEL_CONFIGS, BadReferenceError, griffin_lim, load_reference  # noqa: E402


def _tone(freq, sr, seconds=0.5, amp=0.3):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_mel_energy_and_pitch():
    cfg = MEL_CONFIGS["fsdd_8k"]
    x = _tone(200.0, 8000)
    mel = cfg.mel(x)
    assert mel.shape == (1 + 4000 // 128, 40) and mel.dtype == np.float32
    assert cfg.energy(2 * x).mean() == pytest.approx(2 * cfg.energy(x).mean(), rel=1e-4)
    f0 = cfg.pitch(x)
    assert np.median(f0[f0 > 0]) == pytest.approx(200.0, rel=0.03)
    assert MEL_CONFIGS["hifigan_22k"].mel(_tone(220.0, 22050)).shape[1] == 80


def test_griffin_lim_keeps_the_pitch():
    cfg = MEL_CONFIGS["fsdd_8k"]
    y = griffin_lim(cfg.mel(_tone(250.0, 8000)), cfg, n_iter=30)
    f0 = cfg.pitch(y)
    assert np.median(f0[f0 > 0]) == pytest.approx(250.0, rel=0.05)


def test_griffin_lim_phases_come_from_rng():
    cfg = MEL_CONFIGS["fsdd_8k"]
    mel = cfg.mel(_tone(250.0, 8000) + 0.05 * np.random.default_rng(0).standard_normal(4000))
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    a = griffin_lim(mel, cfg, n_iter=3, rng=np.random.default_rng(1))
    b = griffin_lim(mel, cfg, n_iter=3, rng=np.random.default_rng(1))
    c = griffin_lim(mel, cfg, n_iter=3, rng=np.random.default_rng(2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(np.random.get_state()[1], state)  # numpy's global RNG untouched


def test_bad_references_are_named(tmp_path):
    sf.write(tmp_path / "ok.wav", _tone(150.0, 16000, 1.0), 16000)
    assert load_reference(tmp_path / "ok.wav", 16000).shape == (16000,)
    assert load_reference(tmp_path / "ok.wav", 8000, resample=True).shape == (8000,)
    sf.write(tmp_path / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(tmp_path / "short.wav", _tone(150.0, 16000, 0.1), 16000)
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    cases = {"missing.wav": "does not exist", "silent.wav": "silent", "short.wav": "lasts",
             "junk.wav": "cannot be read"}  # fmt: skip
    for name, why in cases.items():
        with pytest.raises(BadReferenceError, match=why):
            load_reference(tmp_path / name, 16000)
    with pytest.raises(BadReferenceError, match="16000 Hz"):
        load_reference(tmp_path / "ok.wav", 22050)
