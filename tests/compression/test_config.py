"""Config fields renamed since runs were stored still load under their old names (that every
committed run's config loads: tests/test_stored_runs.py)."""

import dataclasses

from paperzoo.compression.repro.config import Config, TeacherConfig
from paperzoo.core.config import config_from_dict


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"teacher": {"widths": [8, 16]}})
    assert cfg.teacher.conv_dims == (8, 16)
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TeacherConfig)}  # a ClassVar
