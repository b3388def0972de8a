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


def test_presets_train_long_enough_for_the_per_seed_convergence_gate():
    """Steps per task set from the committed runs' per-seed gate values (README): quick 2x and
    datasets 6x the official 6,000; the datasets probe scores every test image."""
    from paperzoo.core.presets import build_config

    quick, datasets = build_config("continual", "quick"), build_config("continual", "datasets")
    assert quick.train.min_steps_per_task == 12000 and len(quick.seeds) >= 4
    assert datasets.train.min_steps_per_task == 36000 and len(datasets.seeds) >= 4
    assert datasets.train.plateau_eval_size == datasets.stream.test_per_task
    assert datasets.claims.max_plateau_gain == quick.claims.max_plateau_gain == 1.0
