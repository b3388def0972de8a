"""FedMix claims on hand-made per-seed results: holds, fails, inconclusive (and gates)."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.federated.repro.claims import claims
from paperzoo.federated.repro.config import ClaimConfig
from paperzoo.federated.repro.experiments import quick


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


def _fake_run():
    from paperzoo.core.engine import UnitRecord

    cfg = quick()
    ds = cfg.datasets[0]
    units = {}
    fin = {  # arm -> final accuracy per seed (0, 1, 2)
        f"{ds}/fedavg": [0.80, 0.82, 0.81],
        f"{ds}/naivemix": [0.81, 0.82, 0.83],
        f"{ds}/fedmix": [0.82, 0.84, 0.83],
        f"sweep/{ds}/fedmix_lam0.1": [0.83, 0.85, 0.84],
        f"sweep/{ds}/fedmix_lam0.2": [0.79, 0.80, 0.81],
        f"dp/{ds}/fedmix_eps1": [0.78, 0.80, 0.79],
    }
    for arm, values in fin.items():
        for s, v in enumerate(values):
            m = {"test/final_acc": v, "test/auc": v - 0.1}
            if arm.startswith("dp/"):
                m["dp/sigma"] = 1.05
            role = "arm" if arm.count("/") == 1 else "aux"
            units[f"{arm}/seed{s}"] = UnitRecord(f"{arm}/seed{s}", arm, s, {}, role, m)
    arms = {a: {"test/final_acc": v} for a, v in fin.items() if a.count("/") == 1}
    return Results(cfg, [0, 1, 2], arms, units), ds


def test_lambda_and_privacy_tables_pair_seeds(tmp_path):
    from paperzoo.core.runs import RunDir
    from paperzoo.federated.repro.figures import lambda_figure, tables

    res, ds = _fake_run()
    t = tables(res)
    lam = t[f"FedMix λ sensitivity on {ds} (paired seeds)"].splitlines()
    assert [r.split("|")[1].strip() for r in lam[2:]] == ["0.05 (main)", "0.1", "0.2"]
    # λ = 0.1 beats FedAvg by exactly +0.03 on every seed: CI half-width 0
    assert "+0.0300 ± 0.0000 (n=3)" in lam[3]
    dp = t[f"FedMix with differentially private means on {ds} (paired seeds)"].splitlines()
    assert "(ε=1, δ=1e-05)-DP" in dp[3] and "1.050" in dp[3]
    assert "-0.0400 ± 0.0000 (n=3)" in dp[3]  # vs exact-means FedMix, every seed -0.04
    lambda_figure(res, RunDir(tmp_path))
    assert (tmp_path / "figures" / f"lambda_sensitivity_{ds}.png").exists() or any(
        tmp_path.rglob(f"lambda_sensitivity_{ds}.png")
    )
