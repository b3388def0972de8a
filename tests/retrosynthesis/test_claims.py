"""The RetCL claims' gates on either ``data.source``: none is a level known on one data set
(ground-truth coverage must be 1, a plateau is a change of top-1, the refreshes a count), so
USPTO-50k and the toy reactions are judged by the same gates, with no reference level to
declare."""

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.core.presets import build_config
from paperzoo.retrosynthesis.repro.claims import claims

N = 4


def _arm(top1, drop, **extra):
    """Every seed: ``top1`` (a pair repeated), top-10 0.2 above, ``drop`` as both unseen-template
    drops, full ground-truth coverage."""
    top1 = list(top1) * 2
    metrics = {
        "eval/top1": top1,
        "eval/top10": [v + 0.2 for v in top1],
        "eval/top10_drop": [drop] * N,
        "eval/top1_drop_all": [drop] * N,
        "data/gt_coverage": [1.0] * N,
    }
    return metrics | {k: list(v) * 2 if isinstance(v, tuple) else [v] * N
                      for k, v in extra.items()}  # fmt: skip


PLATEAU = {"train/val_top1_change": 0.0}
ARMS = {
    "RetCL-N4": _arm(
        (0.45, 0.46), 0.1, **PLATEAU, **{"train/refreshes": 8.0, "eval/top10_unseen": (0.2, 0.21)}
    ),
    "RetCL-N0": _arm((0.40, 0.41), 0.1, **PLATEAU, **{"train/refreshes": 0.0}),
    "RetroSim": _arm((0.3, 0.3), 0.5),
    "Popularity": _arm((0.0, 0.0), 0.0),
}


def _judged(source):
    cfg = build_config("retrosynthesis", "smoke",
                       overrides=[f"data.source={source}", "seeds=0,1,2,3"])  # fmt: skip
    specs = claims(Results(cfg, cfg.seeds, ARMS))
    assert specs and all(not g.setting for s in specs for g in s.gates)
    return {c.id: c.verdict for c in judge_all(specs, ARMS)}


def test_no_gate_needs_a_level_per_data_set():
    toy = _judged("toy")
    assert toy["negatives_help_top1"] == "holds"
    assert toy["retcl_beats_retrosim_top1"] == "holds"
    assert _judged("uspto50k") == toy
