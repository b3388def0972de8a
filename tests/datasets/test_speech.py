"""Speech corpora: missing files named, audio reading, the real corpora's sizes and splits."""

import os

import numpy as np
import pytest

from paperzoo.core.data import DataMissingError
from paperzoo.datasets.speech import load_fsdd, load_synth_corpus, read_audio


def test_missing_corpora_and_audio_are_named(tmp_path):
    with pytest.raises(DataMissingError, match=r"speech/fsdd/metadata.csv"):
        load_fsdd(tmp_path)
    with pytest.raises(DataMissingError, match=r"synth_multispeaker/metadata.csv"):
        load_synth_corpus(tmp_path)
    with pytest.raises(DataMissingError, match=r"x\.wav"):
        read_audio(tmp_path / "x.wav")


def test_fsdd_rows_and_audio_round_trip(tmp_path):
    sf = pytest.importorskip("soundfile")
    base = tmp_path / "speech" / "fsdd"
    (base / "wavs").mkdir(parents=True)
    wave = (0.5 * np.sin(np.arange(800) / 5)).astype(np.float32)
    sf.write(base / "wavs" / "3_a_0.wav", wave, 8000, subtype="PCM_16")
    (base / "metadata.csv").write_text("wavs/3_a_0.wav|a|three\n")
    (base / "splits.csv").write_text("path|split\nwavs/3_a_0.wav|test\n")
    (clip,) = load_fsdd(tmp_path)
    assert (clip.speaker, clip.text, clip.split) == ("a", "three", "test")
    x, sr = read_audio(clip.path)
    assert sr == 8000 and np.allclose(x, wave, atol=1e-4)
    (base / "splits.csv").write_text("path|split\n")
    with pytest.raises(DataMissingError, match="no split"):
        load_fsdd(tmp_path)


@pytest.mark.data
def test_real_speech_corpora_when_available():
    root = os.environ.get("PAPERZOO_DATA")
    if not root or not os.path.isdir(os.path.join(root, "speech")):
        pytest.skip("PAPERZOO_DATA is unset or has no speech/")
    fsdd = load_fsdd()
    assert len(fsdd) == 3000 and sum(c.split == "test" for c in fsdd) == 300
    synth = load_synth_corpus()
    assert len(synth) == 1200 and len({c.speaker for c in synth if c.split == "unseen"}) == 6
