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
