"""Training material without a forced aligner: utterances concatenated from single-word clips
(FSDD digits) with word durations that are exact by construction, and pitch/rate
pseudo-speakers that multiply the few real voices.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experimental setup: multi-speaker
LibriTTS, phoneme durations from the Montreal Forced Aligner; unseen speakers at test time).

A pseudo-speaker (speaker, factor) plays every clip of the speaker at ``factor`` times its
speed, tape-style (resampling by 1 / factor and keeping the sample rate), so pitch and rate
scale together, as a different vocal-tract length and speaking rate would. Six FSDD speakers x
five factors give 30 identities; the synthetic corpus' 14 training voices x 3 factors give 42.

Deviations from the paper:
    * FSDD digit clips (and a synthetic corpus) instead of LibriTTS, which is not available
      here; word durations are exact by construction instead of forced-aligned.
    * Pseudo-speakers change pitch and rate together, a narrower kind of speaker variation than
      LibriTTS' 1,124 real voices; they are what makes unseen-identity tests possible with six
      real FSDD speakers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SpokenUtterance", "concatenate_words", "pseudo_speaker_clip"]


def pseudo_speaker_clip(wave: np.ndarray, factor: float) -> np.ndarray:
    """The clip ``factor`` times faster and higher (factor 1: unchanged)."""
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor}")
    if factor == 1.0:
        return np.asarray(wave, np.float32)
    n = max(1, round(len(wave) / factor))
    src = np.arange(len(wave), dtype=np.float64)
    dst = np.linspace(0, len(wave) - 1, n)
    return np.interp(dst, src, np.asarray(wave, np.float64)).astype(np.float32)


@dataclass(frozen=True)
class SpokenUtterance:
    """Concatenated words: waveform, words, and each word's (start, end) in samples."""

    wave: np.ndarray
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    speaker: str

    def frame_durations(self, hop: int, num_frames: int) -> list[int]:
        """Mel frames per word and per gap, as (gap, word, gap, word, ..., gap) lengths summing
        to ``num_frames``: frame t (centred on sample t * hop) belongs to the segment holding
        that sample."""
        bounds = [0]
        for s, e in self.spans:
            bounds += [s, e]
        bounds.append(len(self.wave))
        frame_of = [min(num_frames, (b + hop // 2) // hop) for b in bounds]
        frame_of[-1] = num_frames
        return [b - a for a, b in itertools.pairwise(frame_of)]


def concatenate_words(
    clips: Sequence[np.ndarray],
    words: Sequence[str],
    speaker: str,
    gaps: Sequence[int],
) -> SpokenUtterance:
    """Join word clips with silent gaps (``len(words) + 1`` gap lengths in samples: before each
    word and after the last)."""
    if len(clips) != len(words) or len(gaps) != len(words) + 1:
        raise ValueError("need one clip per word and len(words) + 1 gaps")
    parts, spans, pos = [], [], 0
    for clip, gap in zip(clips, gaps):
        parts.append(np.zeros(int(gap), np.float32))
        pos += int(gap)
        parts.append(np.asarray(clip, np.float32))
        spans.append((pos, pos + len(clip)))
        pos += len(clip)
    parts.append(np.zeros(int(gaps[-1]), np.float32))
    return SpokenUtterance(np.concatenate(parts), tuple(words), tuple(spans), speaker)
