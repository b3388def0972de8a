"""FedMix claims on hand-made per-seed results: holds, fails, inconclusive (and gates)."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.federated.claims import claims
from paperzoo.federated.config import ClaimConfig
from paperzoo.federated.experiments import quick


def _verdicts(fedmix, fedavg_change=0.001, reference=None):
    cfg = dataclasses.replace(
        quick(),
        seeds=[0, 1, 2],
        datasets=["mnist"],
        claims=ClaimConfig(min_effect=0.005, reference_acc=reference or {}),
    )
    arms = {
        "mnist/fedmix": {"test/final_acc": fedmix},
        "mnist/fedavg": {
            "test/final_acc": [0.90, 0.91, 0.92],
            "test/acc_change": [fedavg_change] * 3,
        },
        "mnist/naivemix": {"test/final_acc": [0.95, 0.95, 0.96]},
    }
    for a in arms.values():
        a.setdefault("test/acc_change", [0.0] * 3)
        a["test/auc"] = [v - 0.1 for v in a["test/final_acc"]]
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_beats_fedavg_holds_and_beats_naivemix_fails():
    v = _verdicts([0.93, 0.94, 0.95])  # +0.03 over FedAvg, -0.013 vs NaiveMix on every seed
    assert v["mnist_fedmix_beats_fedavg"].verdict == "holds"
    assert v["mnist_fedmix_beats_naivemix"].verdict == "fails"
    # the same differences on the area under the curve
    assert v["mnist_fedmix_beats_fedavg_auc"].verdict == "holds"
    assert v["mnist_fedmix_beats_naivemix_auc"].verdict == "fails"


def test_inconclusive_when_noisy_unconverged_or_below_reference():
    assert _verdicts([0.99, 0.90, 0.93])["mnist_fedmix_beats_fedavg"].verdict == "inconclusive"
    moving = _verdicts([0.93, 0.94, 0.95], fedavg_change=0.2)["mnist_fedmix_beats_fedavg"]
    assert moving.verdict == "inconclusive" and "FedAvg still improving" in moving.reason
    low = _verdicts([0.93, 0.94, 0.95], reference={"mnist": 0.98})
    for cid in ("mnist_fedmix_beats_fedavg", "mnist_fedmix_beats_naivemix_auc"):
        assert low[cid].verdict == "inconclusive" and "reference" in low[cid].reason
