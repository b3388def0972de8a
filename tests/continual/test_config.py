"""The committed runs' configs (``docs/results/continual/*/config.toml``) load into today's
Config, ``train.hidden`` as ``train.hidden_dim``.
"""

import dataclasses
import sys
from pathlib import Path

import pytest

from paperzoo.continual.repro.config import Config, TrainConfig
from paperzoo.core.config import config_from_dict, validate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RUNS = sorted(
    (Path(__file__).resolve().parents[2] / "docs" / "results" / "continual").glob("*/config.toml")
)


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.parent.name)
def test_committed_run_config_loads(path):
    cfg = config_from_dict(Config, tomllib.loads(path.read_text(encoding="utf-8")))
    validate(cfg)


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"train": {"hidden": 32, "lr": 0.1, "lr_decay": 0.5}})
    assert (cfg.train.hidden_dim, cfg.train.learning_rate) == (32, 0.1)
    assert cfg.train.learning_rate_decay == 0.5
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TrainConfig)}  # a ClassVar
