"""Neural Complexity claims on hand-made per-seed results (4 paired seeds, the fewest a
headline claim is judged on): holds, fails, inconclusive; gates per seed, the finite gate,
roles."""

import dataclasses

from paperzoo.complexity.repro.claims import claims
from paperzoo.complexity.repro.experiments import quick
from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results

SEEDS = [0, 1, 2, 3]


def _specs_and_arms(r, nc_mse, change=0.005, diverged=0.0, gap=0.5, regimes=("official",)):
    cfg = dataclasses.replace(quick(), seeds=SEEDS, regimes=list(regimes))
    changes = list(change) if isinstance(change, tuple) else [change] * 4
    arms = {}
    for regime in regimes:
        loss = "test/loss" if regime == "classification" else "test/mse"
        arms |= {
            f"{regime}/predict:nc": {"gap/R": list(r), "meta/val_R_change": changes},
            f"{regime}/nc": {
                loss: list(nc_mse),
                "meta/val_R_change": changes,
                "test/diverged": [0.0, diverged, 0.0, 0.0],
            },
            f"{regime}/none": {loss: [1.0, 1.1, 1.2, 1.1], "test/gap": [gap] * 4},
            f"{regime}/l2": {loss: [0.9, 0.95, 1.0, 0.95]},
        }
    return claims(Results(cfg, cfg.seeds, arms)), arms


def _verdicts(r, nc_mse, **kw):
    specs, arms = _specs_and_arms(r, nc_mse, **kw)
    return {c.id: c for c in judge_all(specs, arms)}


R_GOOD, MSE_GOOD = [0.8, 0.85, 0.9, 0.85], [0.5, 0.55, 0.6, 0.55]


def test_holds_fails_inconclusive():
    v = _verdicts(R_GOOD, MSE_GOOD)
    assert {k: c.verdict for k, c in v.items()} == {
        "gap_r_official": "holds",
        "nc_below_noreg_official": "holds",
        "nc_below_all_official": "holds",
    }
    v = _verdicts([0.1, 0.15, 0.2, 0.15], [1.5, 1.6, 1.7, 1.6])
    assert v["gap_r_official"].verdict == "fails" and v["nc_below_all_official"].verdict == "fails"
    v = _verdicts(R_GOOD, MSE_GOOD, change=0.5)
    assert all(c.verdict == "inconclusive" for c in v.values())
    assert "validation gap R still improving" in v["gap_r_official"].reason
    # The convergence gate reads every seed: one NC still improving (mean 0.016) is enough.
    v = _verdicts(R_GOOD, MSE_GOOD, change=(0.005, 0.05, 0.005, 0.005))
    assert all(c.verdict == "inconclusive" for c in v.values())
    assert "seed #1" in v["gap_r_official"].reason


def test_diverged_nc_learners_make_the_mse_claims_inconclusive():
    v = _verdicts(R_GOOD, MSE_GOOD, diverged=0.25)
    assert v["gap_r_official"].verdict == "holds"  # gap prediction needs no stable learners
    for claim in ("nc_below_noreg_official", "nc_below_all_official"):
        assert v[claim].verdict == "inconclusive"
        assert "diverged" in v[claim].reason


def test_learners_that_do_not_overfit_make_the_mse_claims_inconclusive():
    v = _verdicts(R_GOOD, MSE_GOOD, gap=0.01)
    assert v["gap_r_official"].verdict == "holds"
    assert v["nc_below_noreg_official"].verdict == "inconclusive"
    assert "overfit" in v["nc_below_noreg_official"].reason


def test_headline_needs_four_seeds_and_a_runaway_baseline_is_inconclusive():
    specs, arms = _specs_and_arms(R_GOOD, MSE_GOOD)
    three = {a: {k: v[:3] for k, v in m.items()} for a, m in arms.items()}
    v = {c.id: c for c in judge_all(specs, three)}
    for cid in ("gap_r_official", "nc_below_noreg_official"):
        assert v[cid].verdict == "inconclusive" and "at least 4 paired seeds" in v[cid].reason
    assert v["nc_below_all_official"].verdict == "holds"  # a check is judged on 3
    # A finite but exploding unregularised learner (as mixture seed 2 on shifted sinusoids).
    arms["official/none"]["test/mse"][2] = 1.1e9
    v = {c.id: c for c in judge_all(specs, arms)}
    for cid in ("nc_below_noreg_official", "nc_below_all_official"):
        assert v[cid].verdict == "inconclusive" and v[cid].gates[0]["name"] == "finite"
        assert "official/none seed #2" in v[cid].reason
    assert v["gap_r_official"].verdict == "holds"


def test_roles_per_regime():
    regimes = ("official", "overfit", "mixture", "classification")
    specs, _ = _specs_and_arms(R_GOOD, MSE_GOOD, regimes=regimes)
    roles = {s.id: s.role for s in specs}
    assert all(r in ROLES for r in roles.values())
    assert {k for k, r in roles.items() if r == "headline"} == {
        f"{c}_{g}" for c in ("gap_r", "nc_below_noreg") for g in regimes if g != "mixture"
    }
    assert roles["gap_r_mixture"] == roles["nc_below_noreg_mixture"] == "secondary"
    assert all(roles[f"nc_below_all_{g}"] == "check" for g in regimes)
    bounds = {s.id: s.bounds for s in specs}
    assert bounds["gap_r_overfit"] == (-1.0, 1.0)
    assert bounds["nc_below_noreg_official"] == (0.0, 5e4)  # 1e3 x the shifted family's 50
    assert bounds["nc_below_noreg_classification"] == (0.0, 1e3)
    assert all(s.threshold_reason for s in specs)


def test_no_gate_needs_a_level_per_data_set():
    """The gates are a change in R, a diverged share and the smallest gap that counts as
    overfitting: none is a level known on one data set, so another image set (or task family)
    is judged by the same gates, with no reference level to declare."""
    from paperzoo.core.presets import build_config

    def judged(dataset):
        cfg = build_config("complexity", "smoke", overrides=[
            "seeds=0,1,2,3", "regimes=official,classification",
            f"classification.dataset={dataset}"])  # fmt: skip
        _, arms = _specs_and_arms(R_GOOD, MSE_GOOD, regimes=("official", "classification"))
        specs = claims(Results(cfg, cfg.seeds, arms))
        assert all(not g.setting for s in specs for g in s.gates)
        return {c.id: c.verdict for c in judge_all(specs, arms)}

    v = judged("mnist")
    assert v["nc_below_noreg_classification"] == "holds"
    assert judged("fashion_mnist") == judged("digits") == v
