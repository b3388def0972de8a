"""The committed runs' configs (``docs/results/complexity/*/config.toml``) load into today's
Config, ``meta.val_tasks`` as ``meta.num_val_tasks``.
"""

import dataclasses
import sys
from pathlib import Path

import pytest

from paperzoo.complexity.repro.config import Config, MetaConfig
from paperzoo.core.config import config_from_dict, validate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RUNS = sorted(
    (Path(__file__).resolve().parents[2] / "docs" / "results" / "complexity").glob("*/config.toml")
)

@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.parent.name)
def test_committed_run_config_loads(path):
    cfg = config_from_dict(Config, tomllib.loads(path.read_text(encoding="utf-8")))
    validate(cfg)


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"meta": {"val_tasks": 16}})
    assert cfg.meta.num_val_tasks == 16
    assert "RENAMED" not in {f.name for f in dataclasses.fields(MetaConfig)}  # a ClassVar
