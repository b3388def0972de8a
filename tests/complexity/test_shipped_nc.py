"""The shipped ``nc-sinusoid`` model: it loads through ``pretrained`` (size and sha256 checked
against its card) and reproduces its card's gap R on a small fresh slice of its regime's tasks
(64 sinusoid tasks, overfit sizes), within 0.05 of the value the run measured on 512."""

import json
from pathlib import Path

import pytest
import torch

from paperzoo.complexity import LearnerMLP, SinusoidTasks, init_learner_params, pretrained
from paperzoo.complexity.evaluation import gap_prediction

CARD = Path(__file__).resolve().parents[2] / "src/paperzoo/models/nc-sinusoid/card.json"


@pytest.mark.skipif(not CARD.is_file(), reason="nc-sinusoid is not shipped in this checkout")
def test_shipped_nc_loads_and_reproduces_its_gap_r():
    card = json.loads(CARD.read_text())
    want = next(
        v["this_model"]
        for v in card["metrics"]["values"]
        if v["arm"] == "overfit/predict:nc" and v["metric"] == "gap/R"
    )
    nc = pretrained("nc-sinusoid")
    assert not nc.training
    sizes = card["trained_by"]["config"]["overfit"]
    tasks = SinusoidTasks(sizes["num_train"], sizes["num_test"])
    learner = LearnerMLP()
    g = torch.Generator().manual_seed(12345)  # tasks no run used
    val = (tasks.sample(64, g), init_learner_params(learner, 64, g))
    test = (tasks.sample(64, g), init_learner_params(learner, 64, g))
    torch.manual_seed(0)
    got, _ = gap_prediction(
        nc,
        learner,
        val,
        test,
        inner_steps=sizes["inner_steps"],
        inner_learning_rate=sizes["inner_learning_rate"],
        snapshot_every=4,
        predictors=(),
    )
    assert abs(got["nc"]["R"] - want) < 0.05, (got["nc"]["R"], want)
