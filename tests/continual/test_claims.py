"""OCS claims on hand-made per-seed results: holds, fails, inconclusive."""

import dataclasses

from paperzoo.continual.repro.claims import claims
from paperzoo.continual.repro.config import ClaimConfig
from paperzoo.continual.repro.experiments import quick
from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results


def _verdicts(ocs_acc, ocs_noise, learn=(90.0, 91.0, 92.0), gain=(0.5, 0.2, 0.1)):
    cfg = dataclasses.replace(
        quick(),
        seeds=[0, 1, 2],
        settings=["noisy"],
        arms=["OCS", "Uniform", "ER-Reservoir", "Finetune"],
        claims=ClaimConfig(min_learn_acc=85.0, max_plateau_gain=1.0),
    )
    arms = {
        "noisy/OCS": {"eval/avg_acc": ocs_acc, "memory/noise_share": ocs_noise},
        "noisy/Uniform": {"eval/avg_acc": [60.0, 61.0, 62.0], "memory/noise_share": [0.6] * 3},
        "noisy/ER-Reservoir": {
            "eval/avg_acc": [58.0, 59.0, 60.0],
            "memory/noise_share": [0.55, 0.6, 0.65],
        },
        "noisy/Finetune": {"eval/avg_acc": [40.0, 41.0, 39.0]},
    }
    for name, metrics in arms.items():
        ok = name != "noisy/Uniform"  # the gates' values of one baseline vary
        metrics["eval/learn_acc"] = list(learn) if not ok else [95.0] * 3
        metrics["train/plateau_gain"] = list(gain) if not ok else [0.0] * 3
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c.verdict for c in judge_all(claims(res), arms)}


def test_holds_fails_and_inconclusive():
    v = _verdicts([70.0, 71.0, 72.5], [0.1, 0.12, 0.08])
    assert v == {"ocs_accuracy_noisy": "holds", "ocs_cleaner_coreset_noisy": "holds"}
    v = _verdicts([50.0, 51.0, 52.0], [0.7, 0.72, 0.71])
    assert v == {"ocs_accuracy_noisy": "fails", "ocs_cleaner_coreset_noisy": "fails"}
    v = _verdicts([80.0, 55.0, 66.0], [0.2, 0.9, 0.5])
    assert v == {"ocs_accuracy_noisy": "inconclusive", "ocs_cleaner_coreset_noisy": "inconclusive"}


def test_gates_make_every_claim_inconclusive():
    clear_win = ([70.0, 71.0, 72.5], [0.1, 0.12, 0.08])
    under_trained = _verdicts(*clear_win, learn=(60.0, 62.0, 58.0))
    assert set(under_trained.values()) == {"inconclusive"}
    still_climbing = _verdicts(*clear_win, gain=(3.0, 2.5, 4.0))
    assert set(still_climbing.values()) == {"inconclusive"}


def _official(ocs_acc):
    from paperzoo.continual.repro.experiments import official

    cfg = official()
    cfg = dataclasses.replace(cfg, seeds=list(range(len(ocs_acc))))
    arms = {"balanced/OCS": {"eval/avg_acc": list(ocs_acc)}}
    (c,) = judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)
    assert c.id == "ocs_matches_official"
    return c


def test_official_non_inferiority():
    # official 86.13, margin 1: ours - 86.13 must have its whole CI95 above -1.
    assert _official([86.0, 86.2, 86.1, 86.3, 85.9]).verdict == "holds"  # mean -0.03, CI ±0.19
    assert _official([84.0, 84.3, 84.1, 83.9, 84.2]).verdict == "fails"  # mean -2.03
    c = _official([86.1, 83.0, 88.0, 84.0, 86.5])  # mean -0.61, CI ±2.4: straddles -1
    assert c.verdict == "inconclusive"
    assert abs(c.effect["mean"] - (-0.61)) < 1e-9
    # no official number, no such claim
    cfg = dataclasses.replace(quick(), settings=["balanced"], arms=["OCS"])
    assert claims(Results(cfg, cfg.seeds, {})) == []
