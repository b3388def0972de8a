"""The streaming-ASR claims on hand-made per-seed results: holds / fails / inconclusive, and
every gate turns a verdict inconclusive."""

import dataclasses

import pytest

from paperzoo.asr.repro.claims import claims
from paperzoo.asr.repro.experiments import quick
from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results


def _judge(mma=(0.30, 0.32), mc=(0.25, 0.27), lat_mma=(3.0, 3.1), lat_mc=(3.2, 3.3),
           forced=0.2, align=0.9, change=0.01):  # fmt: skip
    cfg = dataclasses.replace(quick(), seeds=[0, 1], arms=["offline", "mma", "mcmma_eps1"])
    cfg = dataclasses.replace(cfg, claims=dataclasses.replace(cfg.claims, claim_eps=[1]))

    def arm(wer, lat):
        return {"eval/wer_eps1": list(wer), "eval/latency_eps1": list(lat),
                "eval/forced_eps1": [forced] * 2, "eval/min_head_alignment": [align] * 2,
                "train/dev_loss_change": [change] * 2}  # fmt: skip

    arms = {"offline": {"eval/wer_free": [0.1, 0.1]}, "mma": arm(mma, lat_mma),
            "mcmma_eps1": arm(mc, lat_mc)}  # fmt: skip
    return {c.id: c.verdict for c in judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)}


def test_claims_hold_fail_and_inconclusive():
    # WER 5 points lower; latency 0.2 frames higher (margin 1 frame)
    assert _judge() == {"mcmma_lower_wer_eps1": "holds", "mcmma_latency_within_eps1": "holds"}
    v = _judge(mc=(0.40, 0.41), lat_mc=(5.0, 5.1))
    assert v == {"mcmma_lower_wer_eps1": "fails", "mcmma_latency_within_eps1": "fails"}
    v = _judge(mc=(0.20, 0.36))  # -10 and +4 points: the CI spans the threshold
    assert v["mcmma_lower_wer_eps1"] == "inconclusive"


@pytest.mark.parametrize(
    "gate",
    [
        {"mma": (0.02, 0.03), "mc": (0.01, 0.01)},
        {"forced": 0.0},
        {"forced": 1.0},
        {"align": 0.3},
        {"change": 0.2},
    ],
)
def test_every_gate_makes_the_claims_inconclusive(gate):
    assert set(_judge(**gate).values()) == {"inconclusive"}


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
