import dataclasses
import math

import pytest

from paperzoo.core import DataMissingError, RunDir
from paperzoo.quantization.config import BitwidthConfig, DataConfig, EstimatorConfig, QuantConfig
from paperzoo.quantization.experiments import paper, smoke


def test_tiny_run_gives_finite_metrics_and_computed_claims(tmp_path):
    from paperzoo.quantization.train import run

    cfg = dataclasses.replace(
        smoke(),
        data=DataConfig(dataset="digits", train_size=128, test_size=64, batch_size=64),
        quant=QuantConfig(bit_widths=[2], methods=["lsq", "rq", "cpq_dropbits"]),
        estimator=EstimatorConfig(
            bit_widths=[2], num_points=10, num_samples=8, drop_rates=[0.1], temperatures=[0.5]
        ),
        bitwidth=BitwidthConfig(scratch_epochs=1),
    )
    out = run(cfg, RunDir(tmp_path / "run"))
    for arm, metrics in out.arms.items():
        for m, vals in metrics.items():
            assert len(vals) == 1 and all(math.isfinite(v) for v in vals), (arm, m)
    ids = {c.id for c in out.claims}
    assert {"dropbits_lowers_ste_bias", "cpq_dropbits_beats_lsq_rq_low_bits"} <= ids
    assert "bits/learned_scratch" in out.arms
    assert list((tmp_path / "run" / "figures").glob("*.png"))


def test_paper_preset_without_cifar_fails_with_a_clear_message(tmp_path):
    from paperzoo.quantization.train import run

    with pytest.raises(DataMissingError, match="cifar10"):
        run(paper(), RunDir(tmp_path / "run", data_root=tmp_path))
