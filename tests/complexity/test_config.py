"""Config fields renamed since runs were stored still load under their old names (that every
committed run's config loads: tests/test_stored_runs.py)."""

import dataclasses

from paperzoo.complexity.repro.config import Config, MetaConfig
from paperzoo.core.config import config_from_dict


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"meta": {"val_tasks": 16}})
    assert cfg.meta.num_val_tasks == 16
    assert "RENAMED" not in {f.name for f in dataclasses.fields(MetaConfig)}  # a ClassVar
