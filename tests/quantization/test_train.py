import dataclasses
import json
import math

import pytest

from paperzoo.core import DataMissingError
from paperzoo.core.reproduce import reproduce
from paperzoo.quantization.config import BitwidthConfig, DataConfig, EstimatorConfig, QuantConfig
from paperzoo.quantization.experiments import paper, smoke


def test_tiny_run_gives_finite_metrics_and_declared_claims(tmp_path):
    cfg = dataclasses.replace(
        smoke(),
        data=DataConfig(dataset="digits", train_size=128, test_size=64, batch_size=64),
        quant=QuantConfig(bit_widths=[2], methods=["lsq", "rq", "cpq_dropbits"]),
        estimator=EstimatorConfig(
            bit_widths=[2], num_points=10, num_samples=8, drop_rates=[0.1], temperatures=[0.5]
        ),
        bitwidth=BitwidthConfig(scratch_epochs=1),
    )
    run = reproduce("quantization", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    for arm, metrics in res["arms"].items():
        for m, vals in metrics.items():
            assert len(vals) == 1 and all(math.isfinite(v) for v in vals), (arm, m)
    ids = {c["id"] for c in res["claims"]}
    assert {"dropbits_lowers_ste_bias_b2", "cpq_dropbits_beats_lsq_rq_low_bits"} <= ids
    assert all(c["verdict"] == "inconclusive" for c in res["claims"])  # one seed
    assert "bits/learned_scratch" in res["arms"]
    assert list((run / "figures").glob("*.png"))


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
