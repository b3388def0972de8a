"""OCS claims on hand-made per-seed results: holds, fails, inconclusive."""

import dataclasses

from paperzoo.continual.claims import claims
from paperzoo.continual.experiments import quick
from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results


def _verdicts(ocs_acc, ocs_noise):
    cfg = dataclasses.replace(
        quick(),
        seeds=[0, 1, 2],
        settings=["noisy"],
        arms=["OCS", "Uniform", "ER-Reservoir", "Finetune"],
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
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c.verdict for c in judge_all(claims(res), arms)}


def test_holds_fails_and_inconclusive():
    v = _verdicts([70.0, 71.0, 72.5], [0.1, 0.12, 0.08])
    assert v == {"ocs_accuracy_noisy": "holds", "ocs_cleaner_coreset_noisy": "holds"}
    v = _verdicts([50.0, 51.0, 52.0], [0.7, 0.72, 0.71])
    assert v == {"ocs_accuracy_noisy": "fails", "ocs_cleaner_coreset_noisy": "fails"}
    v = _verdicts([80.0, 55.0, 66.0], [0.2, 0.9, 0.5])
    assert v == {"ocs_accuracy_noisy": "inconclusive", "ocs_cleaner_coreset_noisy": "inconclusive"}
