"""NP claims on hand-made per-seed results: one holds, one fails, gates make one inconclusive."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.neural_processes.repro.claims import claims
from paperzoo.neural_processes.repro.experiments import quick


def _arms(drop_bnp, ll_bnp, change=0.01):
    def arm(drop, ll, ch):
        return {
            "tnoise/tar_ll_drop": drop,
            "tnoise_random/tar_ll_drop": drop,
            "rbf/tar_ll": ll,
            "val/tar_ll_change": [ch] * 3,
        }

    return {
        "CNP": arm([0.50, 0.55, 0.60], [1.00, 1.10, 1.20], 0.01),
        "NP": arm([0.40, 0.42, 0.44], [0.90, 0.95, 1.00], 0.01),
        "BNP": arm(drop_bnp, ll_bnp, change),
    }


def _config(**claims):
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2])
    cfg.claims = dataclasses.replace(cfg.claims, **{"reference_tar_ll": {}, **claims})
    return cfg


def _verdicts(arms, cfg=None):
    cfg = cfg or _config()
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_robustness_holds_and_in_distribution_fails():
    # BNP drops 0.10 vs NP's 0.40-0.44 (d = 0.30-0.34 > 0.05); in distribution it is 0.5 below.
    v = _verdicts(_arms([0.10, 0.10, 0.11], [0.50, 0.60, 0.70]))
    assert v["bnp_robust_tnoise"].verdict == "holds"
    assert v["bnp_robust_tnoise_random"].verdict == "holds"
    assert v["bnp_in_distribution"].verdict == "fails"


def test_noisy_difference_and_unconverged_training_are_inconclusive():
    wide = _verdicts(_arms([0.10, 0.60, 0.20], [1.0, 1.1, 1.2]))
    assert wide["bnp_robust_tnoise"].verdict == "inconclusive"
    moving = _verdicts(_arms([0.10, 0.10, 0.11], [1.0, 1.1, 1.2], change=0.5))
    assert moving["bnp_robust_tnoise"].verdict == "inconclusive"
    assert "converged" in moving["bnp_robust_tnoise"].reason


def test_quality_gate_reads_each_baselines_reference():
    # CNP's rbf/tar_ll mean is 1.10, NP's 0.95; tolerance 0.05.
    ok = _verdicts(_arms([0.1] * 3, [1.0] * 3), _config(reference_tar_ll={"CNP": 1.15, "NP": 1.0}))
    assert ok["bnp_robust_tnoise"].verdict == "holds"
    low = _verdicts(_arms([0.1] * 3, [1.0] * 3), _config(reference_tar_ll={"CNP": 1.2, "NP": 0.9}))
    assert low["bnp_robust_tnoise"].verdict == "inconclusive"
    assert "cnp_quality" in low["bnp_robust_tnoise"].reason
    assert low["bnp_in_distribution"].verdict == "inconclusive"


def test_mismatch_gate_needs_the_baselines_to_lose_likelihood():
    # The baselines' smallest mean drop is NP's 0.42: a 0.5 requirement fails the gate.
    v = _verdicts(_arms([0.1] * 3, [1.0, 1.1, 1.2]), _config(min_baseline_drop=0.5))
    assert v["bnp_robust_tnoise"].verdict == "inconclusive"
    assert "mismatch" in v["bnp_robust_tnoise"].reason
    assert v["bnp_in_distribution"].verdict == "holds"  # not a robustness claim: no such gate


def test_claims_follow_the_arms_and_sets_present():
    cfg = _config()
    cfg.arms = ["CNP", "BNP"]
    cfg.task = dataclasses.replace(cfg.task, random_t_noise=False)
    arms = _arms([0.1, 0.1, 0.1], [1, 1, 1])
    del arms["NP"]
    assert set(_verdicts(arms, cfg)) == {"bnp_robust_tnoise", "bnp_in_distribution"}


def test_image_claims_cover_unseen_classes_and_the_official_image_t_noise():
    from paperzoo.neural_processes.repro.claims import _describe, clean_and_shifts
    from paperzoo.neural_processes.repro.experiments import mnist

    cfg = mnist()
    assert clean_and_shifts(cfg) == ("seen", ["unseen", "tnoise_random"])
    cfg.task = dataclasses.replace(cfg.task, random_t_noise=False)
    assert clean_and_shifts(cfg) == ("seen", ["unseen"])
    arms = {
        name: {
            "seen/tar_ll": [1.0] * 3,
            "unseen/tar_ll_drop": [d] * 3,
            "val/tar_ll_change": [0.0] * 3,
        }
        for name, d in (("CNP", 0.3), ("NP", 0.3), ("BNP", 0.1))
    }
    cfg.seeds = [0, 1, 2]
    v = {c.id: c for c in judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)}
    assert set(v) == {"bnp_robust_unseen", "bnp_in_distribution"}
    assert v["bnp_robust_unseen"].verdict == "holds"  # drop 0.1 vs 0.3: d = 0.2 > 0.05
    cfg.task = dataclasses.replace(cfg.task, random_t_noise=True)
    assert "U(0, 0.09)" in _describe(cfg, "tnoise_random")  # the official image maximum
    assert "U(0, 0.15)" in _describe(quick(), "tnoise_random")
