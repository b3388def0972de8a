"""RL claims on hand-made per-seed results: holds, fails, and gates that make them inconclusive."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.rl.repro.claims import claims
from paperzoo.rl.repro.experiments import quick


def _arm(auc, bias, final=-150.0, ess=None, ratio=None, change=0.02):
    m = {
        "eval/auc": auc,
        "bias/magnitude_mean": bias,
        "eval/final_return": [final] * 3,
        "eval/return_change": [change] * 3,
    }
    if ess is not None:
        m["replay/priority_ess"] = [ess] * 3
    if ratio is not None:
        m["model/reward_error_ratio"] = [ratio] * 3
    return m


def _verdicts(**over):
    arms = {
        "SAC": _arm([-400, -420, -380], [10.0, 12.0, 11.0]),
        "SAC+PER": _arm([-390, -400, -385], [10.0, 11.0, 12.0], ess=0.5),
        "MQL": _arm([-300, -310, -290], [10.5, 12.5, 11.2], ratio=0.1),
        "MaPER": _arm([-420, -430, -400], [2.0, 3.0, 2.5], ess=0.5, ratio=0.1),
    }
    for name, kw in over.items():
        arms[name] = _arm(arms[name]["eval/auc"], arms[name]["bias/magnitude_mean"], **kw)
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2])
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_holds_and_fails():
    v = _verdicts()
    assert v["mql_auc_vs_sac"].verdict == "holds"  # +100 > 20
    assert v["maper_auc_vs_sac"].verdict == "fails"  # about -17 and CI below 20
    assert v["maper_bias_vs_sac"].verdict == "holds"  # 8.5 smaller > 1
    assert v["mql_bias_vs_sac"].verdict == "fails"  # about 0.2 larger


def test_gates():
    v = _verdicts(SAC={"final": -900.0})
    assert all(c.verdict == "inconclusive" for c in v.values())
    assert "sac_learned" in v["mql_auc_vs_sac"].reason
    v = _verdicts(MaPER={"ess": 0.99, "ratio": 0.1})
    assert v["maper_bias_vs_sac"].verdict == "inconclusive"
    assert "priorities" in v["maper_bias_vs_sac"].reason
    v = _verdicts(MQL={"ratio": 0.9})
    assert v["mql_auc_vs_sac"].verdict == "inconclusive"
    v = _verdicts(MQL={"ratio": 0.1, "change": 0.5})
    assert v["mql_bias_vs_sac"].verdict == "inconclusive"
    assert v["mql_auc_vs_sac"].verdict == "holds"  # AUC claims need no plateau


def test_report_only_declares_nothing():
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2])
    cfg.claims = dataclasses.replace(cfg.claims, report_only=True)
    assert claims(Results(cfg, cfg.seeds, {"SAC": _arm([1, 2, 3], [1, 2, 3])})) == []
