"""Neural Complexity claims on hand-made per-seed results: holds, fails, inconclusive."""

import dataclasses

from paperzoo.complexity.repro.claims import claims
from paperzoo.complexity.repro.experiments import quick
from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results


def _verdicts(r, nc_mse, change=0.005, diverged=0.0, gap=0.5):
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2], regimes=["official"])
    arms = {
        "official/predict:nc": {"gap/R": r, "meta/val_R_change": [change] * 3},
        "official/nc": {
            "test/mse": nc_mse,
            "meta/val_R_change": [change] * 3,
            "test/diverged": [0.0, diverged, 0.0],
        },
        "official/none": {"test/mse": [1.0, 1.1, 1.2], "test/gap": [gap] * 3},
        "official/l2": {"test/mse": [0.9, 0.95, 1.0]},
    }
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_holds_fails_inconclusive():
    v = _verdicts([0.8, 0.85, 0.9], [0.5, 0.55, 0.6])
    assert {k: c.verdict for k, c in v.items()} == {
        "gap_r_official": "holds",
        "nc_below_noreg_official": "holds",
        "nc_below_all_official": "holds",
    }
    v = _verdicts([0.1, 0.15, 0.2], [1.5, 1.6, 1.7])
    assert v["gap_r_official"].verdict == "fails" and v["nc_below_all_official"].verdict == "fails"
    v = _verdicts([0.8, 0.85, 0.9], [0.5, 0.55, 0.6], change=0.5)
    assert all(c.verdict == "inconclusive" for c in v.values())
    assert "validation gap R still improving" in v["gap_r_official"].reason


def test_diverged_nc_learners_make_the_mse_claims_inconclusive():
    v = _verdicts([0.8, 0.85, 0.9], [0.5, 0.55, 0.6], diverged=0.25)
    assert v["gap_r_official"].verdict == "holds"  # gap prediction needs no stable learners
    for claim in ("nc_below_noreg_official", "nc_below_all_official"):
        assert v[claim].verdict == "inconclusive"
        assert "diverged" in v[claim].reason


def test_learners_that_do_not_overfit_make_the_mse_claims_inconclusive():
    v = _verdicts([0.8, 0.85, 0.9], [0.5, 0.55, 0.6], gap=0.01)
    assert v["gap_r_official"].verdict == "holds"
    assert v["nc_below_noreg_official"].verdict == "inconclusive"
    assert "overfit" in v["nc_below_noreg_official"].reason
