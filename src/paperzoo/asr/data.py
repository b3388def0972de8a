"""Connected-digit utterances built from FSDD clips, with exact word boundaries.

Paper: Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
ICASSP 2021, https://arxiv.org/abs/2103.14302 (experiments: LibriSpeech 100 h and AISHELL-1,
accuracy and boundary latency of streaming recognition).

Each utterance concatenates ``min_digits``..``max_digits`` isolated digit recordings of one
speaker with random silent gaps (and optional white noise at a given SNR), so the sample where
every word ends is known exactly; after feature extraction and x4 subsampling that gives the
true word-end encoder frame that latency is measured against. Test utterances use a held-out
speaker, so the recogniser must generalise across voices.

Deviations from the paper: FSDD connected digits instead of LibriSpeech 100 h and AISHELL-1,
which are not available here (and too large for a CPU reproduction); in exchange, every word's
end is known exactly, so latency is measured against the truth rather than against forced
alignments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DIGITS", "DigitUtterance", "make_digit_strings"]

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class DigitUtterance:
    """A synthetic connected-digit recording.

    Attributes:
        wave: float32 samples; words: the digit words; word_ends: the sample (exclusive) where
        each word's audio ends; speaker: whose clips were used.
    """

    wave: np.ndarray
    words: tuple[str, ...]
    word_ends: tuple[int, ...]
    speaker: str

    @property
    def text(self) -> str:
        return " ".join(self.words)


def make_digit_strings(
    clips: Sequence[tuple[np.ndarray, str, str]],
    num: int,
    min_digits: int = 4,
    max_digits: int = 7,
    gap_s: tuple[float, float] = (0.0, 0.15),
    sample_rate: int = 8000,
    snr_db: float | None = None,
    seed: int = 0,
) -> list[DigitUtterance]:
    """Build ``num`` utterances from ``clips`` = (wave, speaker, digit word) triples.

    Every utterance takes all its digits from one speaker (chosen uniformly among the speakers
    present), digits uniformly at random, a gap uniform in ``gap_s`` seconds before each word
    and after the last; with ``snr_db`` white noise is added at that signal-to-noise ratio.
    Deterministic given ``seed``.
    """
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    by: dict[tuple[str, str], list[np.ndarray]] = {}
    for wave, speaker, word in clips:
        if word not in DIGITS:
            raise ValueError(f"not a digit word: {word!r}")
        by.setdefault((speaker, word), []).append(np.asarray(wave, dtype=np.float32))
    speakers = sorted({s for s, _ in by})
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num):
        spk = speakers[rng.integers(len(speakers))]
        words = [w for w in DIGITS if (spk, w) in by]
        n = int(rng.integers(min_digits, max_digits + 1))
        parts, ends, chosen, pos = [], [], [], 0
        for _ in range(n):
            w = words[rng.integers(len(words))]
            takes = by[(spk, w)]
            clip = takes[rng.integers(len(takes))]
            gap = np.zeros(int(rng.uniform(*gap_s) * sample_rate), np.float32)
            parts += [gap, clip]
            pos += gap.size + clip.size
            ends.append(pos)
            chosen.append(w)
        parts.append(np.zeros(int(rng.uniform(*gap_s) * sample_rate), np.float32))
        wave = np.concatenate(parts)
        if snr_db is not None:
            power = float(np.mean(wave**2)) or 1e-12
            noise = rng.standard_normal(wave.size).astype(np.float32)
            wave = wave + noise * np.sqrt(power / 10 ** (snr_db / 10))
        out.append(DigitUtterance(wave, tuple(chosen), tuple(ends), spk))
    return out
