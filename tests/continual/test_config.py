"""Config fields renamed since runs were stored still load under their old names (that every
committed run's config loads: tests/test_stored_runs.py)."""

import dataclasses

from paperzoo.continual.repro.config import Config, TrainConfig
from paperzoo.core.config import config_from_dict


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"train": {"hidden": 32, "lr": 0.1, "lr_decay": 0.5}})
    assert (cfg.train.hidden_dim, cfg.train.learning_rate) == (32, 0.1)
    assert cfg.train.learning_rate_decay == 0.5
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TrainConfig)}  # a ClassVar
