"""NP claims on hand-made per-seed results: one holds, one fails, gates make one inconclusive."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.neural_processes.claims import claims
from paperzoo.neural_processes.experiments import quick


def _arms(drop_bnp, ll_bnp, change=0.01):
    def arm(drop, ll, ch):
        return {"tnoise/tar_ll_drop": drop, "rbf/tar_ll": ll, "val/tar_ll_change": [ch] * 3}

    return {
        "CNP": arm([0.50, 0.55, 0.60], [1.00, 1.10, 1.20], 0.01),
        "NP": arm([0.40, 0.42, 0.44], [0.90, 0.95, 1.00], 0.01),
        "BNP": arm(drop_bnp, ll_bnp, change),
    }


def _verdicts(arms, cfg=None):
    cfg = cfg or dataclasses.replace(quick(), seeds=[0, 1, 2])
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_robustness_holds_and_in_distribution_fails():
    # BNP drops 0.10 vs NP's 0.40-0.44 (d = 0.30-0.34 > 0.05); in distribution it is 0.5 below.
    v = _verdicts(_arms([0.10, 0.10, 0.11], [0.50, 0.60, 0.70]))
    assert v["bnp_robust_tnoise"].verdict == "holds"
    assert v["bnp_in_distribution"].verdict == "fails"


def test_noisy_difference_and_unconverged_training_are_inconclusive():
    wide = _verdicts(_arms([0.10, 0.60, 0.20], [1.0, 1.1, 1.2]))
    assert wide["bnp_robust_tnoise"].verdict == "inconclusive"
    moving = _verdicts(_arms([0.10, 0.10, 0.11], [1.0, 1.1, 1.2], change=0.5))
    assert moving["bnp_robust_tnoise"].verdict == "inconclusive"
    assert "converged" in moving["bnp_robust_tnoise"].reason


def test_claims_follow_the_arms_present():
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2], models=["CNP", "BNP"])
    arms = _arms([0.1, 0.1, 0.1], [1, 1, 1])
    del arms["NP"]
    assert set(_verdicts(arms, cfg)) == {"bnp_robust_tnoise", "bnp_in_distribution"}
