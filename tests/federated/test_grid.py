"""A grid of settings end to end (sklearn digits: no data root) and the collapse diagnostic."""

import dataclasses
import json

import pytest

from paperzoo.app.reproduce import reproduce
from paperzoo.core.presets import build_config
from paperzoo.federated.repro.config import GridCell


def test_a_grid_cell_runs_with_its_settings_and_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERZOO_DATA", raising=False)
    cfg = build_config("federated", "smoke", overrides=["claims.reference_acc.digits=0.1"])
    cfg = dataclasses.replace(
        cfg,
        seeds=[0, 1],
        arms=["fedavg", "naivemix", "fedmix"],
        grid={"e1": GridCell(local_epochs=1), "dir05": GridCell(partition="dirichlet")},
        claims=dataclasses.replace(cfg.claims, reference_acc={"digits": 0.1, "e1/digits": 0.1}),
    )
    run = reproduce("federated", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    assert {"grid/e1/digits/fedmix", "grid/dir05/digits/fedavg"} <= set(res["arms"])
    assert all("test/drop_from_best" in m for m in res["arms"].values())
    # the cell changed the training: 1 local epoch (smoke: 2) gives other numbers, same seeds
    assert res["arms"]["grid/e1/digits/fedavg"] != res["arms"]["digits/fedavg"]
    ids = {c["id"]: c for c in res["claims"]}
    assert ids["e1_digits_fedmix_beats_fedavg"]["role"] == "secondary"
    # dir05 has no reference level: inconclusive with the key to set
    assert "claims.reference_acc.dir05/digits" in ids["dir05_digits_fedmix_beats_fedavg"]["reason"]
    assert (run / "figures" / "grid_digits.png").is_file()
    assert "Grid of settings on digits" in (run / "report.md").read_text()


def test_local_drift_separates_the_first_order_term():
    """The collapse diagnostic: same start, batches and partners for every variant; FedMix
    without its first-order term differs from FedMix only by that term."""
    from paperzoo.federated.repro.diagnostics import local_drift
    from paperzoo.federated.repro.federation import build_federation

    cfg = build_config("federated", "smoke", overrides=["datasets=synthetic"])
    fed = build_federation(cfg, "synthetic", 0)
    rows = {
        v: local_drift(fed, v, steps=4, log_every=2, pretrain_epochs=1)
        for v in ("fedmix", "fedmix_no_taylor", "fedavg")
    }
    first = {v: r[0] for v, r in rows.items()}
    assert [r.step for r in rows["fedmix"]] == [1, 2, 4]
    assert first["fedmix"].ce_own == pytest.approx(first["fedmix_no_taylor"].ce_own)
    assert first["fedmix"].taylor == pytest.approx(first["fedmix_no_taylor"].taylor)
    gap = first["fedmix"].loss - first["fedmix_no_taylor"].loss
    assert gap == pytest.approx(0.2 * 0.8 * first["fedmix"].taylor, rel=1e-4)  # float32
    assert first["fedavg"].taylor == 0.0
    with pytest.raises(ValueError, match="variant"):
        local_drift(fed, "nosuch")
