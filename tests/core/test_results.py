import math
from dataclasses import asdict

import pytest

from paperzoo.core.claims import ClaimSpec, judge
from paperzoo.core.results import ci95, summarize, validate_results


def test_ci95_matches_hand_computation():
    # values 1, 2, 3: mean 2, sd 1, t_{0.975, 2} = 4.302653; half-width = 4.302653 / sqrt(3)
    assert ci95([1.0, 2.0, 3.0]) == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert ci95([5.0]) is None


def test_summarize():
    arms = {"a": {"acc": [0.9, 0.8]}, "b": {"acc": [0.5, 0.6]}}
    s = summarize(arms)
    assert s["a"]["acc"]["mean"] == pytest.approx(0.85)
    assert s["a"]["acc"]["ci95"] == pytest.approx(ci95([0.9, 0.8]))


def test_validate_results_rejects_malformed():
    good = {
        "method": "m",
        "preset": "p",
        "seeds": [0, 1],
        "arms": {"a": {"x": [1.0, 2.0]}},
        "summary": {},
        "claims": [
            asdict(judge(ClaimSpec("i", "s", "x", "a", reference=0.0), {"a": {"x": [1.0, 2.0]}}))
        ],
        "runtime_s": 1.0,
        "cpu_s": 1.0,
        "workers": 1,
        "executor": "local",
        "versions": {},
    }
    validate_results(good)
    with pytest.raises(ValueError, match="2 seeds"):
        validate_results({**good, "arms": {"a": {"x": [1.0]}}})
    with pytest.raises(ValueError, match="keys"):
        validate_results({**good, "extra": 1})
    with pytest.raises(ValueError, match="malformed claim"):
        validate_results({**good, "claims": [{"id": "i", "holds": 1}]})
    claim = good["claims"][0]
    assert claim["verdict"] == "inconclusive"  # 2 seeds, CI [-4.85, 7.85] spans 0
    with pytest.raises(ValueError, match="disagrees"):
        validate_results({**good, "claims": [{**claim, "holds": True}]})
    one = {**claim, "verdict": "holds", "holds": True, "effect": {**claim["effect"], "n": 1}}
    with pytest.raises(ValueError, match="one seed"):
        validate_results({**good, "claims": [one]})
