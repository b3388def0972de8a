import dataclasses
import json
import math

import pytest

from paperzoo.app.reproduce import reproduce
from paperzoo.core import DataMissingError
from paperzoo.quantization.repro.config import (
    BitwidthConfig,
    DataConfig,
    EstimatorConfig,
    QuantConfig,
)
from paperzoo.quantization.repro.experiments import paper, smoke
from paperzoo.quantization.repro.train import uniform_at_bits


def test_tiny_run_gives_finite_metrics_and_declared_claims(tmp_path):
    cfg = dataclasses.replace(
        smoke(),
        data=DataConfig(dataset="digits", train_size=128, test_size=64, batch_size=64),
        quant=QuantConfig(bit_widths=[2], methods=["lsq", "rq", "cpq_dropbits"]),
        estimator=EstimatorConfig(
            bit_widths=[2], num_points=10, num_samples=8, drop_rates=[0.1], temperatures=[0.5]
        ),
        bitwidth=BitwidthConfig(
            max_bits=3,
            target_bits=2,
            act_bits=2,
            penalties=[0.01, 1.0],
            scratch_epochs=1,
            finetune_epochs=1,
        ),
    )
    run = reproduce("quantization", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    for arm, metrics in res["arms"].items():
        for m, vals in metrics.items():
            assert len(vals) == 1 and all(math.isfinite(v) for v in vals), (arm, m)
    ids = {c["id"] for c in res["claims"]}
    assert {"dropbits_lowers_ste_bias_b2", "cpq_dropbits_beats_lsq_rq_b2"} <= ids
    assert all(c["verdict"] == "inconclusive" for c in res["claims"])  # one seed
    # a fresh run is judged exactly as it pre-registered (no bound or gate lost in the ledger)
    assert all(c["post_hoc"] == [] for c in res["claims"]), [c["post_hoc"] for c in res["claims"]]
    assert {"bits/learned_scratch", "bits/learned_l0.01", "bits/learned_l1"} <= set(res["arms"])
    # the pick is one of the sweep's runs, by bits alone
    picked = res["arms"]["bits/learned"]["bits/param_weighted"]
    assert picked in (
        res["arms"]["bits/learned_l0.01"]["bits/param_weighted"],
        res["arms"]["bits/learned_l1"]["bits/param_weighted"],
    )
    # uniform 1- and 2-bit arms (budget 2) and the uniform error at the learned average
    arms = res["arms"]
    for kind, learned in (("uniform", "bits/learned"), ("uniform_scratch", "bits/learned_scratch")):
        assert arms[f"bits/{kind}_lo"]["bits/param_weighted"] == [1.0]
        assert arms[f"bits/{kind}"]["bits/param_weighted"] == [2.0]
        (a,) = arms[learned]["bits/param_weighted"]
        err, w = uniform_at_bits(
            a,
            1,
            arms[f"bits/{kind}_lo"]["eval/test_error"][0],
            arms[f"bits/{kind}"]["eval/test_error"][0],
        )
        equal = arms[f"bits/{kind}_equal_bits"]
        assert equal["eval/test_error"] == [pytest.approx(err)]
        assert equal["bits/uniform_weight"] == [pytest.approx(w)]
        assert equal["bits/param_weighted"] == [pytest.approx(1 + w)]
    assert {
        "learned_bits_beat_uniform_equal_bits",
        "learned_scratch_beats_uniform_equal_bits",
    } <= ids
    assert "at equal average bits" in (run / "report.md").read_text()
    assert list((run / "figures").glob("*.png"))


def test_a_learned_bits_only_run_has_no_w_a_or_estimator_units(tmp_path):
    """`quick_bits`' shape at smoke size: empty W/A and estimator lists leave those units, their
    claims and their figures out; the learned-bit claims are judged."""
    cfg = smoke()
    cfg.quant.bit_widths = []
    cfg.estimator.bit_widths = []
    run = reproduce("quantization", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    assert all(a == "fp32" or a.startswith("bits/") for a in res["arms"])
    assert {c["id"] for c in res["claims"]} == {
        "learned_bits_beat_uniform_equal_bits",
        "learned_scratch_beats_uniform_equal_bits",
        "learned_bits_match_uniform",
        "heterogeneous_scratch_beats_fixed",
    }
    assert (run / "figures" / "learned_bits.png").is_file()


def test_paper_preset_without_cifar_fails_with_a_clear_message(tmp_path):
    with pytest.raises(DataMissingError, match="cifar10"):
        reproduce(
            "quantization",
            "paper",
            config=dataclasses.replace(paper(), seeds=[0]),
            out=tmp_path,
            device="cpu",
            data_root=tmp_path,
        )


def test_pick_learned_takes_the_largest_average_within_the_budget():
    from paperzoo.quantization.repro.train import pick_learned

    c = [
        {"penalty": 0.001, "bits/param_weighted": 3.4},
        {"penalty": 0.01, "bits/param_weighted": 2.7},
        {"penalty": 0.03, "bits/param_weighted": 2.7},
        {"penalty": 0.1, "bits/param_weighted": 1.9},
    ]
    assert pick_learned(c, 3.0)["penalty"] == 0.01  # ties: the smaller penalty
    assert pick_learned(c, 2.0)["penalty"] == 0.1
    assert pick_learned(c, 1.5)["penalty"] == 0.1  # none within: the smallest average
    # a uniform allocation is only picked when no heterogeneous one is within the budget
    u = [
        {"penalty": 0.005, "bits/param_weighted": 2.41, "bits/heterogeneous": 1.0},
        {"penalty": 0.01, "bits/param_weighted": 3.0, "bits/heterogeneous": 0.0},
    ]
    assert pick_learned(u, 3.0)["penalty"] == 0.005
    assert pick_learned(u[1:], 3.0)["penalty"] == 0.01
    with pytest.raises(ValueError):
        pick_learned([], 3.0)
