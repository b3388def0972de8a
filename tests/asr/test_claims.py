"""The streaming-ASR claims on hand-made per-seed results: holds / fails / inconclusive, every
gate (read seed by seed) turns a verdict inconclusive, the finite gate, and the roles."""

import dataclasses
import math

import pytest

from paperzoo.asr.repro.claims import claims
from paperzoo.asr.repro.experiments import quick
from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results

N = 4  # a headline is judged on at least 4 paired seeds


def _seeds(v):
    return list(v) if isinstance(v, (list, tuple)) else [v] * N


def _results(mma=(0.30, 0.32, 0.31, 0.33), mc=(0.25, 0.27, 0.26, 0.28),
             lat_mma=(3.0, 3.1, 3.0, 3.2), lat_mc=(3.2, 3.3, 3.2, 3.4),
             forced=0.2, align=0.9, change=0.01, seeds=N):  # fmt: skip
    cfg = dataclasses.replace(quick(), seeds=list(range(seeds)),
                              arms=["offline", "mma", "mcmma_eps1"])  # fmt: skip
    cfg = dataclasses.replace(cfg, claims=dataclasses.replace(cfg.claims, claim_eps=[1]))

    def arm(wer, lat):
        return {"eval/wer_eps1": list(wer), "eval/latency_eps1": list(lat),
                "eval/forced_eps1": _seeds(forced), "eval/min_head_alignment": _seeds(align),
                "train/dev_loss_change": _seeds(change)}  # fmt: skip

    arms = {"offline": {"eval/wer_free": [0.1] * N}, "mma": arm(mma, lat_mma),
            "mcmma_eps1": arm(mc, lat_mc)}  # fmt: skip
    arms = {a: {k: v[:seeds] for k, v in m.items()} for a, m in arms.items()}
    return Results(cfg, cfg.seeds, arms)


def _claims(**kw):
    res = _results(**kw)
    return {c.id: c for c in judge_all(claims(res), res.arms)}


def _judge(**kw):
    return {i: c.verdict for i, c in _claims(**kw).items()}


def test_claims_hold_fail_and_inconclusive():
    # WER 5 points lower; latency 0.2 frames higher (margin 1 frame)
    assert _judge() == {"mcmma_lower_wer_eps1": "holds", "mcmma_latency_within_eps1": "holds"}
    v = _judge(mc=(0.40, 0.41, 0.40, 0.42), lat_mc=(5.0, 5.1, 5.0, 5.2))
    assert v == {"mcmma_lower_wer_eps1": "fails", "mcmma_latency_within_eps1": "fails"}
    v = _judge(mc=(0.20, 0.36, 0.21, 0.37))  # -10 and +4 points: the CI spans the threshold
    assert v["mcmma_lower_wer_eps1"] == "inconclusive"


@pytest.mark.parametrize(
    "gate",
    [
        {"mma": (0.02, 0.03, 0.02, 0.03), "mc": (0.01, 0.01, 0.01, 0.01)},
        {"forced": 0.0},
        {"forced": 1.0},
        {"align": 0.3},
        {"change": 0.2},
        # a single seed is enough: gates read every seed (the means would pass)
        {"forced": [0.2, 0.2, 0.2, 0.0]},
        {"align": [0.9, 0.9, 0.9, 0.3]},
        {"change": [0.01, 0.01, 0.01, 0.08]},
    ],
)
def test_every_gate_makes_the_claims_inconclusive(gate):
    assert set(_judge(**gate).values()) == {"inconclusive"}


def test_finite_gate():
    c = _claims()["mcmma_lower_wer_eps1"]
    assert c.gates[0]["name"] == "finite" and c.gates[0]["passed"]
    for bad in (math.nan, 7.0):  # a diverged decoder's WER is never an effect
        c = _claims(mma=(0.30, 0.32, 0.31, bad))["mcmma_lower_wer_eps1"]
        assert c.verdict == "inconclusive" and not c.gates[0]["passed"]


def test_roles():
    specs = claims(_results())
    assert {s.role for s in specs} <= set(ROLES)
    assert {s.id: s.role for s in specs} == {
        "mcmma_lower_wer_eps1": "headline",
        "mcmma_latency_within_eps1": "check",
    }
    assert all(s.threshold_reason and s.bounds for s in specs)
    # three seeds: the headline is inconclusive whatever the numbers, the check is judged
    v = _judge(seeds=3)
    assert v == {"mcmma_lower_wer_eps1": "inconclusive", "mcmma_latency_within_eps1": "holds"}


def test_no_claim_without_both_arms():
    cfg = dataclasses.replace(quick(), seeds=[0, 1], arms=["offline", "mma"])
    assert claims(Results(cfg, cfg.seeds, {"offline": {}, "mma": {}})) == []


def test_synthetic_corpus_has_no_latency_claim_and_no_alignment_gate():
    cfg = dataclasses.replace(quick(), seeds=[0, 1], arms=["mma", "mcmma_eps1"])
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, source="synth"),
                              claims=dataclasses.replace(cfg.claims, claim_eps=[1]))  # fmt: skip
    (claim,) = claims(Results(cfg, cfg.seeds, {"mma": {}, "mcmma_eps1": {}}))
    assert claim.id == "mcmma_lower_wer_eps1"
    assert "heads_aligned" not in {g.name for g in claim.gates}


@pytest.mark.parametrize("source", ["fsdd", "tones"])
def test_no_gate_needs_a_level_per_corpus(source):
    """MMA's WER floor is headroom for the claimed gain, the other gates are shares, a relative
    change and a correlation: none is a level known on one corpus, so every ``data.source`` is
    judged by the same gates, with no reference level to declare."""
    from paperzoo.core.presets import build_config

    arms = _results().arms
    cfg = build_config("asr", "smoke", overrides=[f"data.source={source}", "seeds=0,1,2,3",
                                                  "claims.claim_eps=1"])  # fmt: skip
    specs = claims(Results(cfg, cfg.seeds, arms))
    assert specs and all(not g.setting for s in specs for g in s.gates)
    assert {c.id: c.verdict for c in judge_all(specs, arms)} == _judge()
