"""Pseudo-speakers change rate and pitch together; concatenated words have exact spans and
frame durations that add up."""

import numpy as np
import pytest

from paperzoo.tts.corpus import concatenate_words, pseudo_speaker_clip


def test_pseudo_speaker_scales_rate_and_pitch():
    sr = 8000
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    y = pseudo_speaker_clip(x, 1.25)
    assert len(y) == 6400  # 25 % shorter
    spec = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / sr)[spec.argmax()] == pytest.approx(250, abs=2)
    assert np.array_equal(pseudo_speaker_clip(x, 1.0), x)
    with pytest.raises(ValueError):
        pseudo_speaker_clip(x, 0)


def test_concatenation_spans_and_frame_durations():
    a, b = np.ones(100, np.float32), 2 * np.ones(50, np.float32)
    u = concatenate_words([a, b], ["one", "two"], "s", gaps=[10, 20, 30])
    assert u.spans == ((10, 110), (130, 180)) and len(u.wave) == 210
    assert np.all(u.wave[10:110] == 1) and np.all(u.wave[130:180] == 2)
    d = u.frame_durations(hop=10, num_frames=22)  # gap, one, gap, two, gap
    assert d == [1, 10, 2, 5, 4] and sum(d) == 22
    with pytest.raises(ValueError):
        concatenate_words([a], ["one", "two"], "s", gaps=[0, 0, 0])
