import math

import numpy as np
import pytest

from paperzoo.core.results import Claim, ci95, compare_claim, summarize, validate_results


def test_ci95_matches_hand_computation():
    # values 1, 2, 3: mean 2, sd 1, t_{0.975, 2} = 4.302653; half-width = 4.302653 / sqrt(3)
    assert ci95([1.0, 2.0, 3.0]) == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert ci95([5.0]) is None


def test_summarize_and_compare_claim():
    arms = {"a": {"acc": [0.9, 0.8]}, "b": {"acc": [0.5, 0.6]}}
    s = summarize(arms)
    assert s["a"]["acc"]["mean"] == pytest.approx(0.85)
    c = compare_claim("c1", "a beats b", arms, "acc", "a", "b")
    assert c.holds is True and "a 0.85" in c.evidence and "2 seeds" in c.evidence
    assert compare_claim("c2", "", arms, "acc", "a", "b", margin=0.5).holds is False
    assert compare_claim("c3", "", arms, "acc", "b", "a", higher_is_better=False).holds is True


def test_claim_requires_bool():
    with pytest.raises(TypeError):
        Claim("x", "s", "yes", "e")  # type: ignore[arg-type]
    assert Claim("x", "s", np.bool_(True), "e").holds is True


def test_validate_results_rejects_malformed():
    good = {
        "method": "m",
        "preset": "p",
        "seeds": [0, 1],
        "arms": {"a": {"x": [1.0, 2.0]}},
        "summary": {},
        "claims": [{"id": "i", "statement": "s", "holds": True, "evidence": ""}],
        "runtime_s": 1.0,
        "versions": {},
    }
    validate_results(good)
    with pytest.raises(ValueError, match="2 seeds"):
        validate_results({**good, "arms": {"a": {"x": [1.0]}}})
    with pytest.raises(ValueError, match="keys"):
        validate_results({**good, "extra": 1})
    with pytest.raises(ValueError, match="malformed claim"):
        validate_results({**good, "claims": [{"id": "i", "holds": 1}]})
