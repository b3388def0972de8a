"""A claim declared after a stored run, reading a metric the run never recorded, is judged
*inconclusive* with the missing measurement named (re-judging stored runs), never silently."""

from paperzoo.core.claims import ClaimSpec, Gate, judge, missing_measurement, unmeasured


def _spec(**kw):
    return ClaimSpec(
        "c",
        "A beats B",
        "acc",
        "A",
        ("B",),
        gates=(Gate("g", "steps", 1.0, "min", arms=("B",)),),
        **kw,
    )


def test_missing_metric_arm_or_gate_metric_is_named():
    arms = {"A": {"acc": [1.0, 2.0]}, "B": {"acc": [0.5, 0.5], "steps": [2.0, 2.0]}}
    assert missing_measurement(_spec(), arms) == ""
    assert "arm 'B'" in missing_measurement(_spec(), {"A": arms["A"]})
    assert "'steps' of arm 'B'" in missing_measurement(
        _spec(), {"A": arms["A"], "B": {"acc": [0, 0]}}
    )
    c = unmeasured(_spec(role="headline"), "'steps' of arm 'B'")
    assert c.verdict == "inconclusive" and not c.holds and c.effect["mean"] is None
    assert "declared after this run" in c.reason and c.role == "headline"
    assert judge(_spec(), arms).verdict in ("holds", "fails", "inconclusive")  # measured: judged
