"""Compression claims on hand-made per-seed results: holds, fails, inconclusive (teacher gate)."""

import dataclasses

from paperzoo.compression.repro.claims import claims
from paperzoo.compression.repro.experiments import quick
from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results


def _arm(auc, pointing, acc, gap=(2.0, 2.0, 2.0)):
    return {
        "eval/auc": auc,
        "eval/pointing": pointing,
        "eval/accuracy": acc,
        "eval/accuracy_gap": list(gap),
    }


def _verdicts(wcam_auc, teacher_acc=(97.0, 97.5, 98.0), kd_gap=(2.0, 2.0, 2.0)):
    cfg = dataclasses.replace(quick(), seeds=[0, 1, 2], arms=["plain", "wcam"])
    cfg.prune.enabled = False
    arms = {
        "teacher": _arm([0.80, 0.81, 0.82], [70.0, 71.0, 72.0], list(teacher_acc)),
        "kd": _arm([0.70, 0.71, 0.72], [60.0, 61.0, 62.0], [95.0, 95.5, 96.0], kd_gap),
        "kd+wcam": _arm(wcam_auc, [66.0, 67.0, 68.0], [95.2, 95.4, 96.1]),
    }
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c.verdict for c in judge_all(claims(res), arms)}


def test_holds_fails_inconclusive():
    v = _verdicts([0.76, 0.77, 0.78])
    assert v["kd_degrades_maps"] == "holds" and v["kd_wcam_auc"] == "holds"
    assert v["kd_wcam_pointing"] == "holds" and v["kd_wcam_accuracy"] == "holds"
    assert _verdicts([0.60, 0.61, 0.62])["kd_wcam_auc"] == "fails"
    assert _verdicts([0.90, 0.60, 0.75])["kd_wcam_auc"] == "inconclusive"
    weak_teacher = _verdicts([0.76, 0.77, 0.78], teacher_acc=(50.0, 55.0, 60.0))
    assert set(weak_teacher.values()) == {"inconclusive"}

    # a student far below its teacher (gap 30 points) makes every KD claim inconclusive
    untrained = _verdicts([0.76, 0.77, 0.78], kd_gap=(30.0, 28.0, 31.0))
    assert set(untrained.values()) == {"inconclusive"}
