"""Saved recognisers round-trip; `paperzoo asr transcribe` prints words (streamed with times)
and rejects bad audio with exit status 2."""

import numpy as np
import pytest
import torch

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from paperzoo.asr.features import LogMel  # noqa: E402
from paperzoo.asr.model import MMARecognizer, Vocabulary, load_recognizer, save_recognizer  # noqa: E402
from paperzoo.cli import main  # noqa: E402


def _saved(tmp_path):
    torch.manual_seed(0)
    kw = dict(in_dim=40, dim=16, heads=2, ff=32, mma={"init_r": 1.0, "chunk": 2})
    m = MMARecognizer(Vocabulary(("zero", "one")), **kw)
    with torch.no_grad():
        m.head.bias[1] = -20.0  # no <eos>: the untrained model emits until its token limit
    feats = LogMel(8000, 40)
    feats.mean, feats.std = np.zeros(40, np.float32), np.ones(40, np.float32)
    return m, save_recognizer(m, feats, tmp_path / "m.pt", **kw)


def test_round_trip(tmp_path):
    m, path = _saved(tmp_path)
    back, feats = load_recognizer(path)
    assert back.vocab.words == ("zero", "one") and feats.sample_rate == 8000
    assert all(
        torch.equal(a, b) for a, b in zip(m.state_dict().values(), back.state_dict().values())
    )
    torch.save({"x": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a recogniser"):
        load_recognizer(tmp_path / "other.pt")


def test_transcribe_command(tmp_path, capsys):
    _, path = _saved(tmp_path)
    wave = (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)
    sf.write(tmp_path / "a.wav", wave, 8000)
    assert main(["asr", "transcribe", str(tmp_path / "a.wav"), "--model", str(path),
                 "--stream", "--eps", "1"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 2 and lines[0].split()[0].endswith("s")
    assert set(lines[-1].split()) <= {"zero", "one"}
    sf.write(tmp_path / "silent.wav", np.zeros(8000, np.float32), 8000)
    for bad in ("silent.wav", "missing.wav"):
        assert main(["asr", "transcribe", str(tmp_path / bad), "--model", str(path)]) == 2
    assert main(["asr", "transcribe", str(tmp_path / "a.wav"), "--model", str(tmp_path)]) == 2
    for flags in (["--beam", "0"], ["--nbest", "2"], ["--beam", "2", "--nbest", "3"]):
        assert main(["asr", "transcribe", str(tmp_path / "a.wav"), "--model", str(path),
                     *flags]) == 2  # fmt: skip
    capsys.readouterr()
    # another sample rate is resampled to the model's, and said so
    sf.write(tmp_path / "wide.wav", np.repeat(wave, 2), 16000)
    assert main(["asr", "transcribe", str(tmp_path / "wide.wav"), "--model", str(path)]) == 0
    assert "from 16000 Hz to the model's 8000 Hz" in capsys.readouterr().err
    # n-best from the beam, best first, and word times with confidences
    assert main(["asr", "transcribe", str(tmp_path / "a.wav"), "--model", str(path),
                 "--beam", "3", "--nbest", "3", "--times"]) == 0  # fmt: skip
    out = capsys.readouterr().out.strip().splitlines()
    ranked = [ln for ln in out if ln[:2] in ("1.", "2.", "3.")]
    assert 1 <= len(ranked) <= 3
    scores = [float(ln.split()[1]) for ln in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all("confidence" in ln for ln in out[len(ranked) :])
