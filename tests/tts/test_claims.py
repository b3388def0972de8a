"""The TTS claims' gates on other corpora: none is a level known on one ``data.source``, so
every source is judged by the same gates, with no reference level to declare."""

import pytest

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.core.presets import build_config
from paperzoo.tts.repro.claims import claims

N = 4


def _arm(sim, mcd):
    return {
        "eval/similarity": list(sim),
        "eval/mcd": list(mcd),
        "eval/resemblyzer": [s + 0.1 for s in sim],
        "eval/eer": [0.5 - s / 2 for s in sim],
        "train/val_mel_change": [0.01] * N,
        "eval/style_separation": [0.5] * N,
        "eval/intelligibility_ratio": [0.9] * N,
    }


ARMS = {
    "add": _arm((0.50, 0.52, 0.51, 0.53), (6.0, 6.1, 6.0, 6.1)),
    "saln": _arm((0.60, 0.63, 0.61, 0.62), (6.1, 6.2, 6.1, 6.2)),
    "meta": _arm((0.70, 0.73, 0.71, 0.72), (6.1, 6.2, 6.1, 6.2)),
    "saln_extra": _arm((0.61, 0.64, 0.62, 0.63), (6.1, 6.2, 6.1, 6.2)),
}


def _judged(source):
    cfg = build_config("tts", "smoke", overrides=[f"data.source={source}", "seeds=0,1,2,3",
                                                  "eval.resemblyzer=true"])  # fmt: skip
    specs = claims(Results(cfg, cfg.seeds, ARMS))
    assert specs and all(not g.setting for s in specs for g in s.gates)
    return {c.id: c.verdict for c in judge_all(specs, ARMS)}


@pytest.mark.parametrize("source", ["synth", "tones"])
def test_no_gate_needs_a_level_per_corpus(source):
    fsdd = _judged("fsdd")
    assert fsdd["saln_more_similar"] == "holds"
    assert _judged(source) == fsdd


def test_compute_matched_control_claim_compares_meta_with_saln_extra():
    cfg = build_config("tts", "quick")
    assert "saln_extra" in cfg.arms
    arms = {a: {"eval/similarity": [0.5, 0.5]} for a in cfg.arms}
    spec = {c.id: c for c in claims(Results(cfg, cfg.seeds, arms))}["meta_beats_compute_matched"]
    assert spec.arm == "meta" and spec.baselines == ("saln_extra",) and spec.role == "secondary"
