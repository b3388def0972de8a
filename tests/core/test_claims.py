"""Verdicts from paired differences: hand-computed intervals, all three outcomes, gates."""

import math

import pytest

from paperzoo.core.claims import ClaimSpec, Gate, judge, judge_all, paired_effect

T975_2 = 4.302653  # Student-t 0.975 quantile, 2 degrees of freedom


def test_paired_effect_matches_hand_computation():
    # d = (0.1, 0.2, 0.3): mean 0.2, sd 0.1, half-width 4.302653 * 0.1 / sqrt(3)
    e = paired_effect([1.1, 1.2, 1.3], [1.0, 1.0, 1.0])
    half = T975_2 * 0.1 / math.sqrt(3)
    assert e.mean == pytest.approx(0.2)
    assert (e.low, e.high, e.n) == (pytest.approx(0.2 - half), pytest.approx(0.2 + half), 3)
    # Pairing matters: a constant offset between arms has zero width however noisy the seeds.
    p = paired_effect([5.0, 1.0, 9.0], [4.9, 0.9, 8.9])
    assert p.low == pytest.approx(0.1) and p.high == pytest.approx(0.1)
    assert paired_effect([1.0, 2.0], 1.5, sign=-1.0).mean == pytest.approx(0.0)
    one = paired_effect([1.0], [0.0])
    assert one.n == 1 and one.low == -math.inf


ARMS = {
    "new": {"acc": [0.90, 0.91, 0.92], "ref": [0.99, 0.99, 0.99], "err": [0.1, 0.1, 0.1]},
    "old": {"acc": [0.80, 0.80, 0.83], "ref": [0.99, 0.98, 0.99], "err": [0.2, 0.21, 0.2]},
    "tie": {"acc": [0.95, 0.85, 0.92], "ref": [0.5, 0.5, 0.5], "err": [0.1, 0.3, 0.05]},
}


def test_holds_fails_inconclusive():
    holds = judge(ClaimSpec("h", "new > old", "acc", "new", ("old",), threshold=0.05), ARMS)
    assert holds.verdict == "holds" and holds.holds and holds.effect["n"] == 3
    # The same data with a threshold above the whole interval: the effect is too small.
    fails = judge(ClaimSpec("f", "new >> old", "acc", "new", ("old",), threshold=0.2), ARMS)
    assert fails.verdict == "fails" and not fails.holds
    # Opposite direction: old beats new is contradicted by the data.
    assert judge(ClaimSpec("o", "", "acc", "old", ("new",)), ARMS).verdict == "fails"
    wide = judge(ClaimSpec("i", "new > tie", "acc", "new", ("tie",)), ARMS)
    assert wide.verdict == "inconclusive" and "contains the threshold" in wide.reason


def test_lower_is_better_and_non_inferiority():
    c = judge(
        ClaimSpec("e", "", "err", "new", ("old",), higher_is_better=False, threshold=0.05), ARMS
    )
    assert c.verdict == "holds" and c.effect["mean"] == pytest.approx(0.1033, abs=1e-3)
    # "tie is at most 0.2 below new" (non-inferiority: negative threshold).
    ni = judge(ClaimSpec("n", "", "acc", "tie", ("new",), threshold=-0.2), ARMS)
    assert ni.verdict == "holds"


def test_several_baselines_and_reference():
    both = judge(ClaimSpec("b", "", "acc", "new", ("old", "tie")), ARMS)
    assert both.verdict == "inconclusive"  # holds vs old, open vs tie
    anyfail = judge(
        ClaimSpec("a", "", "acc", "tie", ("new", "old")), {**ARMS, "tie": {"acc": [0.5, 0.5, 0.51]}}
    )
    assert anyfail.verdict == "fails"
    ref = judge(ClaimSpec("r", "", "acc", "new", reference=0.85), ARMS)
    assert ref.verdict == "holds" and "vs reference 0.85" in ref.evidence


def test_one_seed_is_always_inconclusive():
    arms = {"a": {"m": [10.0]}, "b": {"m": [0.0]}}
    c = judge(ClaimSpec("x", "", "m", "a", ("b",)), arms)
    assert c.verdict == "inconclusive" and "one seed" in c.reason
    assert c.effect["low"] is None and c.effect["high"] is None


def test_gates_make_a_verdict_inconclusive_with_the_reason():
    ok = Gate("reference", "ref", 0.95, "min", arms=("old",))
    bad = Gate("reference", "ref", 0.95, "min", reason="baseline under its known level")
    c = judge(ClaimSpec("g", "", "acc", "new", ("tie",), gates=(bad,)), ARMS)
    assert c.verdict == "inconclusive" and "baseline under its known level" in c.reason
    assert c.gates[0] == {
        "name": "reference",
        "value": 0.5,
        "reference": 0.95,
        "kind": "min",
        "passed": False,
    }
    assert judge(ClaimSpec("g", "", "acc", "new", ("old",), gates=(ok,)), ARMS).verdict == "holds"
    moving = Gate("converged", "err", 0.15, "max")  # old's mean error 0.203 > 0.15
    assert (
        judge(ClaimSpec("g", "", "acc", "new", ("old",), gates=(moving,)), ARMS).verdict
        == "inconclusive"
    )
    missing = Gate("m", "nope", 1.0)
    assert (
        "not recorded"
        in judge(ClaimSpec("g", "", "acc", "new", ("old",), gates=(missing,)), ARMS).reason
    )


def test_bad_specs():
    with pytest.raises(ValueError, match="baselines or a reference"):
        ClaimSpec("x", "", "m", "a")
    with pytest.raises(ValueError, match="kind"):
        Gate("g", "m", 0.0, "between")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate"):
        judge_all([ClaimSpec("x", "", "acc", "new", ("old",))] * 2, ARMS)
    with pytest.raises(KeyError, match="metric"):
        judge(ClaimSpec("x", "", "nope", "new", ("old",)), ARMS)
