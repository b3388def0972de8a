"""The multiple-datasets stream end to end through the engine (digits twice: no data root)."""

import dataclasses
import json

from paperzoo.app.reproduce import reproduce
from paperzoo.continual.repro.config import StreamConfig
from paperzoo.continual.repro.experiments import smoke


def test_datasets_stream_runs_with_masked_heads_and_reports(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERZOO_DATA", raising=False)
    base = smoke()
    cfg = dataclasses.replace(
        base,
        settings=["noisy"],
        arms=["Uniform", "OCS"],
        stream=StreamConfig(
            kind="datasets", sources=["digits", "digits"], image_size=8, train_per_task=300
        ),
    )
    run = reproduce("continual", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    report = (run / "report.md").read_text()
    assert "| 19 |" in report  # the memory histogram spans both heads: 2 x 10 classes
    assert set(res["arms"]["noisy/OCS"]) >= {"eval/learn_acc", "train/plateau_gain"}
    # the per-task coreset noise figure exists only when the units recorded it
    for fig in ("forgetting_per_task", "coreset_noise_per_task", "acc_matrix"):
        assert (run / "figures" / f"{fig}.png").is_file()


def test_official_results_are_an_arm_paired_by_seed(tmp_path, monkeypatch):
    """Entered official per-seed results become the arm `balanced/OCS-official` (reported, not
    trained), the claim pairs it with our OCS by seed, and the figures ignore it."""
    monkeypatch.delenv("PAPERZOO_DATA", raising=False)
    from paperzoo.continual.repro.config import ClaimConfig

    cfg = dataclasses.replace(
        smoke(),
        seeds=[0, 1, 2],
        settings=["balanced"],
        arms=["Uniform", "OCS"],
        claims=ClaimConfig(official_avg_acc={"0": 30.0, "1": 31.0, "2": 29.5}, official_margin=5),
    )
    run = reproduce("continual", "smoke", config=cfg, out=tmp_path, device="cpu")
    res = json.loads((run / "results.json").read_text())
    assert res["arms"]["balanced/OCS-official"]["eval/avg_acc"] == [30.0, 31.0, 29.5]
    (c,) = [c for c in res["claims"] if c["id"] == "ocs_matches_official"]
    assert c["effect"]["n"] == 3
    ours = res["arms"]["balanced/OCS"]["eval/avg_acc"]
    assert abs(c["effect"]["mean"] - (sum(ours) - 90.5) / 3) < 1e-9
    assert (run / "figures" / "acc_matrix.png").is_file()
