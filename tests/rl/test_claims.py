"""RL claims on hand-made per-seed results: holds, fails, gates (read seed by seed) that make
them inconclusive, the finite gate, the declared roles, and SAC's reference return declared per
env."""

import dataclasses
import math

from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results
from paperzoo.rl.repro.claims import claims
from paperzoo.rl.repro.experiments import quick

N = 4  # a headline is judged on at least 4 paired seeds


def _per_seed(v):
    return list(v) if isinstance(v, (list, tuple)) else [v] * N


def _arm(auc, bias, final=-150.0, ess=None, ratio=None, change=0.02):
    m = {
        "eval/auc": list(auc),
        "bias/magnitude_mean": list(bias),
        "eval/final_return": _per_seed(final),
        "eval/return_change": _per_seed(change),
    }
    if ess is not None:
        m["replay/priority_ess"] = _per_seed(ess)
    if ratio is not None:
        m["model/reward_error_ratio"] = _per_seed(ratio)
    return m


def _results(**over):
    arms = {
        "SAC": _arm([-400, -420, -380, -410], [10.0, 12.0, 11.0, 11.5]),
        "SAC+PER": _arm([-390, -400, -385, -395], [10.0, 11.0, 12.0, 11.0], ess=0.5),
        "MQL": _arm([-300, -310, -290, -305], [10.5, 12.5, 11.2, 11.8], ratio=0.1),
        "MaPER": _arm([-420, -430, -400, -425], [2.0, 3.0, 2.5, 2.8], ess=0.5, ratio=0.1),
    }
    for name, kw in over.items():
        arms[name] = _arm(arms[name]["eval/auc"], arms[name]["bias/magnitude_mean"], **kw)
    cfg = dataclasses.replace(quick(), seeds=list(range(N)))
    return Results(cfg, cfg.seeds, arms)


def _verdicts(**over):
    res = _results(**over)
    return {c.id: c for c in judge_all(claims(res), res.arms)}


def test_holds_and_fails():
    v = _verdicts()
    assert v["mql_auc_vs_sac"].verdict == "holds"  # +100 > 20
    assert v["maper_auc_vs_sac"].verdict == "fails"  # about -16 and CI below 20
    assert v["maper_bias_vs_sac"].verdict == "holds"  # 8.5 smaller > 5
    assert v["mql_bias_vs_sac"].verdict == "fails"  # about 0.3 larger


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


def test_gates_read_every_seed():
    # one MQL seed's reward head stayed at 0.7 of its first error (the mean, 0.25, passes)
    v = _verdicts(MQL={"ratio": [0.1, 0.1, 0.1, 0.7]})
    assert v["mql_auc_vs_sac"].verdict == "inconclusive"
    assert (
        "mql_model_learned" in v["mql_auc_vs_sac"].reason
        and "seed #3" in v["mql_auc_vs_sac"].reason
    )
    # one SAC seed below -250 (the mean, -337, passes)
    v = _verdicts(SAC={"final": [-150.0, -150.0, -150.0, -900.0]})
    assert all(c.verdict == "inconclusive" for c in v.values())
    # one seed still moving fails the convergence gate of the bias claims
    v = _verdicts(MQL={"ratio": 0.1, "change": [0.02, 0.02, 0.02, 0.2]})
    assert v["mql_bias_vs_sac"].verdict == "inconclusive"


def test_finite_gate():
    c = _verdicts()["maper_auc_vs_sac"]
    assert c.gates[0]["name"] == "finite" and c.gates[0]["passed"]
    res = _results()
    res.arms["SAC"]["eval/auc"][1] = math.nan  # a diverged baseline is never a huge effect
    res.arms["MQL"]["eval/auc"][1] = 50.0  # Pendulum-v1's returns are <= 0
    v = {c.id: c for c in judge_all(claims(res), res.arms)}
    assert v["maper_auc_vs_sac"].verdict == "inconclusive"
    assert (
        v["mql_auc_vs_sac"].verdict == "inconclusive" and not v["mql_auc_vs_sac"].gates[0]["passed"]
    )
    assert v["maper_auc_vs_sac_per"].verdict == "fails"  # SAC is not compared there


def test_roles():
    specs = claims(_results())
    assert {s.role for s in specs} <= set(ROLES)
    assert [s.id for s in specs if s.role == "headline"] == ["maper_auc_vs_sac"]
    assert all(s.threshold_reason and s.bounds for s in specs)
    # three seeds are too few for the headline
    res = _results()
    arms = {a: {k: v[:3] for k, v in m.items()} for a, m in res.arms.items()}
    cfg = dataclasses.replace(res.config, seeds=[0, 1, 2])
    v = {c.id: c for c in judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)}
    assert v["maper_auc_vs_sac"].verdict == "inconclusive"
    assert "4 paired seeds" in v["maper_auc_vs_sac"].reason
    assert v["mql_auc_vs_sac"].verdict == "holds"


def test_report_only_declares_nothing():
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2])
    cfg.claims = dataclasses.replace(cfg.claims, report_only=True)
    assert claims(Results(cfg, cfg.seeds, {"SAC": _arm([1, 2, 3], [1, 2, 3])})) == []


def _judged_on(env_id, *overrides):
    """The hand-made results judged with the smoke preset's config on ``env_id``, built as
    ``paperzoo reproduce rl --preset smoke --set ...`` builds it."""
    from paperzoo.core.presets import build_config

    cfg = build_config("rl", "smoke", overrides=[f"env.env_id={env_id}", "seeds=0,1,2,3",
                                                 *overrides])  # fmt: skip
    arms = _results().arms
    return {c.id: c for c in judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)}


def test_a_return_level_is_declared_per_env_never_borrowed():
    on_pendulum = _judged_on("Pendulum-v1")
    assert on_pendulum["mql_auc_vs_sac"].verdict == "holds"  # SAC at -150 reaches -250
    # Pendulum-v1's -250 is no bar on Hopper-v5: every claim gated on SAC is inconclusive
    v = _judged_on("Hopper-v5")
    assert all(c.verdict == "inconclusive" for c in v.values())
    reason = v["mql_auc_vs_sac"].reason
    assert "no reference level for Hopper-v5: set `claims.reference_return.Hopper-v5`" in reason
    gate = next(g for g in v["mql_auc_vs_sac"].gates if g["name"] == "sac_learned")
    assert gate["reference"] is None and not gate["passed"]


def test_a_plain_reference_return_is_pendulums_level():
    # stored runs before the levels were keyed by env hold one number: Pendulum-v1's
    for env_id, verdict in (("Pendulum-v1", "holds"), ("Hopper-v5", "inconclusive")):
        v = _judged_on(env_id, "claims.reference_return=-250.0")
        assert v["mql_auc_vs_sac"].verdict == verdict
    v = _judged_on("Pendulum-v1", "claims.reference_return=-100.0")  # SAC at -150 misses it
    assert "sac_learned" in v["mql_auc_vs_sac"].reason


def test_a_user_declared_level_for_another_env_is_used():
    # a TOML inline table sets the whole table of levels
    v = _judged_on("Hopper-v5", "claims.reference_return={Hopper-v5 = -200.0}")
    assert {i: c.verdict for i, c in v.items()} == {
        i: c.verdict for i, c in _judged_on("Pendulum-v1").items()
    }
    v = _judged_on("Hopper-v5", "claims.reference_return={Hopper-v5 = 3000.0}")
    assert all(c.verdict == "inconclusive" for c in v.values())
    assert "gate sac_learned: -150 at SAC, seed #0 not >= 3000" in v["mql_auc_vs_sac"].reason


def test_a_level_for_one_env_is_set_by_its_key():
    v = _judged_on("Hopper-v5", "claims.reference_return.Hopper-v5=-200.0")
    assert v["mql_auc_vs_sac"].verdict == "holds"
