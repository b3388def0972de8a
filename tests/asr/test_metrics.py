"""WER/CER by hand, the edit alignment and latencies."""

import pytest

pytest.importorskip("jiwer")

from paperzoo.asr.metrics import aligned_pairs, error_rates, latencies


def test_error_rates_by_hand():
    r = error_rates(["one two three", "four"], ["one three three", ""])
    assert r["wer"] == pytest.approx(2 / 4)  # one substitution + one deletion over 4 words
    assert 0 < r["cer"] < 1
    with pytest.raises(ValueError):
        error_rates(["a"], [])
    with pytest.raises(ValueError):
        error_rates([""], ["a"])


def test_alignment_and_latency():
    ref = ["one", "two", "three", "four"]
    hyp = ["one", "three", "four", "four"]  # deletion of two, insertion of four
    pairs = aligned_pairs(ref, hyp)
    # two substitutions would also cost 2 edits; the alignment with the most hits wins
    assert [(ref[i], hyp[j]) for i, j in pairs] in (
        [("one", "one"), ("three", "three"), ("four", "four")],
    )
    lat = latencies(ref, [3, 6, 9, 12], hyp, [4, 10, 13, 15])
    assert lat == [1, 1, 3]  # the trace-back keeps the last "four" (the first is inserted)
    assert latencies(["a"], [5], [], []) == []
