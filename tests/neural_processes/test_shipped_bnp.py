"""The shipped ``bnp-gp`` model: it loads through ``pretrained`` (size and sha256 checked against
its card) and reproduces its card's in-distribution target log-likelihood on a fresh slice of
RBF tasks (50 batches of 16 tasks, an evaluation seed no run used), within 0.1 nats of the value
the run measured on 200 batches (50-batch slices drawn with seeds 2024, 7, 99 gave -0.21, -0.14,
-0.13 against the card's -0.154; an untrained BNP scores about -0.94); its 95 % intervals cover
about 95 % of the targets."""

import json
from pathlib import Path

import pytest

from paperzoo.neural_processes import pretrained
from paperzoo.neural_processes.benchmark import evaluate, gp_tasks

CARD = Path(__file__).resolve().parents[2] / "src/paperzoo/models/bnp-gp/card.json"


def _card_value(card: dict, metric: str) -> float:
    return next(
        v["this_model"]
        for v in card["metrics"]["values"]
        if v["arm"] == "BNP" and v["metric"] == metric
    )


@pytest.mark.skipif(not CARD.is_file(), reason="bnp-gp is not shipped in this checkout")
def test_shipped_bnp_loads_and_reproduces_its_likelihood():
    card = json.loads(CARD.read_text())
    model = pretrained("bnp-gp")
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) == card["parameters"]
    task = card["trained_by"]["config"]["task"]
    batches = gp_tasks(
        "rbf",
        num_batches=50,
        seed=2024,  # fresh tasks: the run evaluated with seed 42
        length_range=tuple(task["length_range"]),
        scale_range=tuple(task["scale_range"]),
        max_num_points=task["max_num_points"],
    )
    got = evaluate(model, batches, num_samples=50, seed=0)
    assert abs(got["tar_ll"] - _card_value(card, "rbf/tar_ll")) < 0.1, got["tar_ll"]
    assert abs(got["cov95"] - 0.95) < 0.05, got["cov95"]
