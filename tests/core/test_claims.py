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
    assert c.gates[0]["name"] == "finite" and c.gates[0]["passed"]  # the standard gate
    assert c.gates[1] == {
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


def test_one_bad_seed_fails_a_gate_its_mean_would_pass():
    arms = {"a": {"m": [1.0, 1.1, 1.2, 1.3], "q": [0.9, 0.9, 0.2, 0.9]},
            "b": {"m": [0.0, 0.1, 0.0, 0.1], "q": [0.9, 0.9, 0.9, 0.9]}}  # fmt: skip
    every = Gate("intelligible", "q", 0.5, "min", arms=("a",))
    c = judge(ClaimSpec("x", "", "m", "a", ("b",), gates=(every,)), arms)
    assert c.verdict == "inconclusive" and "a, seed #2" in c.reason  # mean 0.725 would pass
    mean = Gate("intelligible", "q", 0.5, "min", arms=("a",), per_seed=False,
                mean_reason="a pooled rate")  # fmt: skip
    assert judge(ClaimSpec("x", "", "m", "a", ("b",), gates=(mean,)), arms).verdict == "holds"
    with pytest.raises(ValueError, match="must say why"):
        Gate("g", "q", 0.5, per_seed=False)


def test_a_diverged_baseline_makes_the_claim_inconclusive_not_a_huge_effect():
    arms = {"nc": {"mse": [1.0, 1.1, 0.9, 1.0]}, "base": {"mse": [1.2, 1.1e9, 1.3, 1.2]}}
    spec = ClaimSpec("x", "", "mse", "nc", ("base",), higher_is_better=False, bounds=(0, 1e3))
    c = judge(spec, arms)
    assert c.verdict == "inconclusive" and "base seed #1" in c.reason
    assert c.gates[0]["name"] == "finite" and c.gates[0]["value"] == 1.0
    arms["base"]["mse"][1] = float("nan")  # not finite fails even without declared bounds
    c = judge(ClaimSpec("x", "", "mse", "nc", ("base",), higher_is_better=False), arms)
    assert c.verdict == "inconclusive" and "diverged" in c.reason


def test_a_headline_needs_four_paired_seeds():
    three = {"a": {"m": [1.0, 1.1, 1.2]}, "b": {"m": [0.0, 0.1, 0.0]}}
    head = ClaimSpec("h", "", "m", "a", ("b",), role="headline")
    c = judge(head, three)
    assert c.verdict == "inconclusive" and "at least 4 paired seeds" in c.reason
    assert c.role == "headline"
    assert judge(ClaimSpec("s", "", "m", "a", ("b",), role="secondary"), three).verdict == "holds"
    four = {"a": {"m": [1.0, 1.1, 1.2, 1.0]}, "b": {"m": [0.0, 0.1, 0.0, 0.1]}}
    assert judge(head, four).verdict == "holds"
    with pytest.raises(ValueError, match="role"):
        ClaimSpec("x", "", "m", "a", ("b",), role="main")


def test_a_reference_gate_without_a_level_for_the_data_set_never_passes_silently():
    from paperzoo.core.claims import reference_gate

    arms = {"a": {"m": [1.0, 1.1, 1.2, 1.3], "err": [11.6] * 4},
            "b": {"m": [0.0, 0.1, 0.0, 0.1], "err": [11.6] * 4}}  # fmt: skip
    levels = {"mnist": 1.0, "cifar10": 10.0}
    gate = reference_gate("fp32_reference", "err", levels, "fashion_mnist",
                          "claims.fp32_max_error", kind="max")  # fmt: skip
    c = judge(ClaimSpec("x", "", "m", "a", ("b",), gates=(gate,)), arms)
    assert c.verdict == "inconclusive"
    assert "no reference level for fashion_mnist: set `claims.fp32_max_error.fashion_mnist`" in (
        c.reason
    )
    assert c.gates[1]["reference"] is None and c.gates[1]["value"] is None
    # a level the user declares for the set is used (and can fail on its own)
    ok = reference_gate("fp32_reference", "err", {**levels, "fashion_mnist": 13.0},
                        "fashion_mnist", "claims.fp32_max_error", kind="max")  # fmt: skip
    assert judge(ClaimSpec("x", "", "m", "a", ("b",), gates=(ok,)), arms).verdict == "holds"
    low = reference_gate("fp32_reference", "err", {"fashion_mnist": 10.0}, "fashion_mnist",
                         "claims.fp32_max_error", kind="max")  # fmt: skip
    assert judge(ClaimSpec("x", "", "m", "a", ("b",), gates=(low,)), arms).verdict == (
        "inconclusive"
    )
