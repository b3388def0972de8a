"""`paperzoo data build-speech` with fake synthesizer binaries on PATH: commands per engine, the
reasons a voice is skipped (missing binary, MBROLA), resampled FLAC output and metadata, and
exit status 2 when nothing can be built."""

import os
import stat
import sys

import pytest

from paperzoo.cli import main
from paperzoo.datasets.speech_build import (
    Voice,
    build_speech,
    engine_command,
    read_voices,
    why_not,
)

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

SPEAKERS = """speaker|engine|voice|gender|accent|suggested_split
espeak_a|espeak|en-us+f3|F|US|train
espeak_b|espeak|en-gb+m3|M|UK|unseen
fest_us1_mbrola|festival|us1_mbrola|F|US|train
flite_kal16|flite|kal16|M|US|train
"""

# writes a 0.3 s 22.05 kHz tone whose pitch depends on the text length to the -w argument
FAKE_ESPEAK = f"""#!{sys.executable}
import sys, numpy as np, soundfile as sf
a = sys.argv[1:]
out, text = a[a.index("-w") + 1], a[-1]
t = np.arange(int(0.3 * 22050)) / 22050
sf.write(out, 0.3 * np.sin(2 * np.pi * (100 + 5 * len(text)) * t), 22050)
"""


@pytest.fixture()
def corpus(tmp_path, monkeypatch):
    root = tmp_path / "root" / "speech" / "synth_multispeaker"
    root.mkdir(parents=True)
    (root / "speakers.csv").write_text(SPEAKERS)
    (root / "metadata.csv").write_text(
        "wavs/espeak_a/espeak_a_s000.flac|espeak_a|the lamp is blue\n"
        "wavs/flite_kal16/flite_kal16_s000.flac|flite_kal16|one two\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "espeak-ng"
    fake.write_text(FAKE_ESPEAK)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    return root


def test_commands_per_engine(tmp_path):
    out = tmp_path / "x.wav"
    assert engine_command(Voice("s", "espeak", "en-us+f3", "train"), "hi", out) == (
        ["espeak-ng", "-v", "en-us+f3", "-w", str(out), "hi"], None)  # fmt: skip
    argv, stdin = engine_command(Voice("s", "festival", "kal_diphone", "train"), "hi", out)
    assert argv[:3] == ["text2wave", "-eval", "(voice_kal_diphone)"] and stdin == "hi"
    assert engine_command(Voice("s", "flite", "slt", "train"), "hi", out)[0][:3] == [
        "flite", "-voice", "slt"]  # fmt: skip


def test_skip_reasons(corpus):
    voices = {v.speaker: v for v in read_voices(corpus / "speakers.csv")}
    assert why_not(voices["espeak_a"]) is None
    assert "non-free" in why_not(voices["fest_us1_mbrola"])
    assert "apt install flite" in why_not(voices["flite_kal16"], which=lambda b: None)


def test_regenerate_and_enlarge(corpus, tmp_path):
    out = tmp_path / "built"
    rep = build_speech(out, corpus / "speakers.csv", regenerate_from=corpus, digits=2)
    assert rep.built == ["espeak_a", "espeak_b"]
    assert set(rep.skipped) == {"fest_us1_mbrola", "flite_kal16"}
    rows = [r.split("|") for r in (out / "metadata.csv").read_text().splitlines()]
    assert len(rows) == rep.written == 1 + 2 + 2  # espeak_a's old text + 2 digit strings each
    assert rows[0] == ["wavs/espeak_a/espeak_a_s000.flac", "espeak_a", "the lamp is blue"]
    for rel, spk, text in rows:
        audio, sr = sf.read(out / rel)
        assert sr == 16000 and abs(len(audio) / sr - 0.3) < 0.01  # resampled, same duration
        assert spk in rel and text
    digit_rows = [r for r in rows if "_d" in r[0]]
    assert all(3 <= len(r[2].split()) <= 7 for r in digit_rows)
    assert (out / "speakers.csv").read_text() == SPEAKERS


def test_cli_exit_codes(corpus, tmp_path, capsys):
    root = str(corpus.parent.parent)
    out = str(tmp_path / "cli")
    rc = main(["data", "build-speech", "--data-root", root, "--out", out, "--digits", "1"])
    assert rc == 0
    assert "skipped fest_us1_mbrola" in capsys.readouterr().out
    assert main(["data", "build-speech", "--data-root", root, "--out", out]) == 2  # nothing to say
    assert "nothing to say" in capsys.readouterr().err
    # no buildable voice among those asked for
    argv = ["data", "build-speech", "--data-root", root, "--out", out, "--digits", "1"]
    assert main([*argv, "--voices", "fest_us1_mbrola"]) == 2
    assert "non-free" in capsys.readouterr().err
    assert main([*argv, "--voices", "nobody"]) == 2
    assert "unknown voices" in capsys.readouterr().err
