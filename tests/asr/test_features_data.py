"""Log-mel features (shape, frame timing, rate check) and digit strings with exact word ends."""

import numpy as np
import pytest

pytest.importorskip("librosa")

from paperzoo.asr.data import make_digit_strings
from paperzoo.asr.features import LogMel, StreamingLogMel


def test_log_mel_shapes_timing_and_rate_check():
    f = LogMel(sample_rate=8000)
    assert (f.win, f.hop) == (200, 80)
    t = np.arange(8000) / 8000
    wave = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    wave[4000:] = 0.0  # a tone for 0.5 s, then silence
    feats = f(wave)
    assert feats.shape == (98, 40) and feats.dtype == np.float32  # 1 + (8000 - 200) // 80
    assert f.frames(8000) == 98 and f.frames(199) == 0
    energy = feats.max(1)
    assert energy[:45].min() > energy[52:].max() + 5  # the tone ends in frames 48-49
    # the tone's last sample (3999) is first fully heard by frame 48: 48 * 80 + 200 = 4040
    assert f.frame_of_sample(4000) == 48 and f.frame_of_sample(100) == 0
    with pytest.raises(ValueError, match="16000 Hz"):
        f(wave, sample_rate=16000)
    with pytest.raises(ValueError, match="at least 200"):
        f(np.zeros(10))
    stream = StreamingLogMel(f)
    parts = [stream.push(wave[a : a + 333]) for a in range(0, 8000, 333)]
    assert np.allclose(np.concatenate(parts), feats, atol=1e-5)
    g = LogMel().fit([wave, wave * 0.5])
    assert np.allclose(np.concatenate([g(wave), g(wave * 0.5)]).mean(0), 0, atol=1e-4)


def test_digit_strings_have_exact_word_ends():
    words = ("zero", "one", "two")
    clips = [(np.full(100 + 10 * d, d + 1, np.float32), s, w)
             for s in ("a", "b") for d, w in enumerate(words)]  # fmt: skip
    utts = make_digit_strings(clips, 20, 2, 4, gap_s=(0.0, 0.01), seed=3)
    again = make_digit_strings(clips, 20, 2, 4, gap_s=(0.0, 0.01), seed=3)
    assert all(np.array_equal(u.wave, v.wave) and u.words == v.words for u, v in zip(utts, again))
    for u in utts:
        assert 2 <= len(u.words) <= 4
        start = 0
        for w, end in zip(u.words, u.word_ends):
            d = words.index(w)
            # the word's clip fills the 100 + 10 d samples before its end with the value d + 1,
            # preceded by silence (a gap) or the previous word's clip
            assert np.all(u.wave[end - (100 + 10 * d) : end] == d + 1)
            assert np.all(u.wave[start : end - (100 + 10 * d)] == 0)
            start = end
        assert np.all(u.wave[start:] == 0)  # trailing gap
    noisy = make_digit_strings(clips, 2, snr_db=10, seed=0)
    clean = make_digit_strings(clips, 2, seed=0)
    snr = 10 * np.log10(np.mean(clean[0].wave ** 2) / np.mean((noisy[0].wave - clean[0].wave) ** 2))
    assert abs(snr - 10) < 0.5
    with pytest.raises(ValueError):
        make_digit_strings([(np.zeros(3), "a", "ten")], 1)


def test_synthetic_corpus_splits_by_voice_without_timings(fake_synth_root):
    pytest.importorskip("librosa")
    from paperzoo.asr.repro.experiments import synth
    from paperzoo.asr.repro.recipe import build_corpus

    cfg = synth()
    data = build_corpus(cfg, fake_synth_root, seed=0)
    assert {u.speaker for u in data["test"]} == {"v_u"}
    assert not {u.speaker for u in data["train"] + data["dev"]} & {"v_u"}
    assert len(data["train"]) + len(data["dev"]) == 12 and len(data["test"]) == 4
    assert all(u.word_ends == () for u in data["test"])  # WER only
    vocab = data["vocab"]
    assert "lamp" in vocab.words and vocab.encode("the lamp is blue")
    assert all(7900 < len(u.wave) < 12000 for u in data["test"])  # 1-1.3 s at 8 kHz
