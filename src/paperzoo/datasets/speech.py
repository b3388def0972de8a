"""Speech corpora shared by the TTS and ASR methods: the Free Spoken Digit Dataset (FSDD, 8 kHz,
6 real speakers) and the synthetic 20-voice corpus (16 kHz), as metadata rows plus a wav reader.

Files under the data root: ``speech/fsdd/{metadata,splits}.csv`` and ``speech/fsdd/wavs/``;
``speech/synth_multispeaker/{metadata,speakers}.csv`` and its ``wavs/``. Audio is read with
soundfile (imported on first read); nothing is resampled here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperzoo.core.data import DataMissingError, require_file, resolve_data_root

__all__ = ["SpeechClip", "load_fsdd", "load_synth_corpus", "read_audio"]


@dataclass(frozen=True)
class SpeechClip:
    """One recording: absolute path, speaker, transcript, split (``train``/``test``/``unseen``)."""

    path: Path
    speaker: str
    text: str
    split: str


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return [r for r in csv.reader(f, delimiter="|") if r]


def load_fsdd(root: str | Path | None = None) -> list[SpeechClip]:
    """The 3,000 FSDD recordings (takes 0-4 of every digit and speaker are ``test``, the official
    split; the rest ``train``).

    Raises:
        DataMissingError: the metadata files are missing (the message names them).
    """
    base = resolve_data_root(root) / "speech" / "fsdd"
    meta = require_file(base / "metadata.csv", "speech_fsdd")
    splits = {r[0]: r[1] for r in _rows(require_file(base / "splits.csv", "speech_fsdd"))[1:]}
    out = []
    for rel, speaker, text in _rows(meta):
        if rel not in splits:
            raise DataMissingError(f"dataset 'speech_fsdd': {rel} has no split in splits.csv")
        out.append(SpeechClip(base / rel, speaker, text, splits[rel]))
    return out


def load_synth_corpus(root: str | Path | None = None) -> list[SpeechClip]:
    """The synthetic multi-speaker corpus; ``split`` is ``train`` for the 14 training voices and
    ``unseen`` for the 6 held-out ones (``speakers.csv``)."""
    base = resolve_data_root(root) / "speech" / "synth_multispeaker"
    meta = require_file(base / "metadata.csv", "speech_synth")
    speakers = _rows(require_file(base / "speakers.csv", "speech_synth"))
    header = [h.strip() for h in speakers[0]]
    split_col = next((i for i, h in enumerate(header) if h in ("suggested_split", "split")), None)
    voice_split = {r[0]: (r[split_col] if split_col is not None else "train") for r in speakers[1:]}
    return [
        SpeechClip(base / rel, spk, text, voice_split.get(spk, "train"))
        for rel, spk, text in _rows(meta)
    ]


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """(float32 mono samples in [-1, 1], sample rate); a missing or unreadable file raises
    :class:`DataMissingError` naming it."""
    import soundfile as sf

    p = Path(path)
    if not p.is_file():
        raise DataMissingError(f"audio file {p} does not exist")
    try:
        x, sr = sf.read(p, dtype="float32", always_2d=True)
    except RuntimeError as e:
        raise DataMissingError(f"cannot read audio file {p}: {e}") from None
    return x.mean(axis=1), int(sr)
