"""Config fields renamed since runs were stored still load under their old names (that every
committed run's config loads: tests/test_stored_runs.py)."""

import dataclasses

from paperzoo.core.config import config_from_dict
from paperzoo.neural_processes.repro.config import Config, TrainConfig


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"train": {"val_batches": 3}})
    assert cfg.train.num_val_batches == 3
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TrainConfig)}  # a ClassVar
