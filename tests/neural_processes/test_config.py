"""The committed runs' configs (``docs/results/neural_processes/*/config.toml``) load into today's
Config, ``train.val_batches`` as ``train.num_val_batches``.
"""

import dataclasses
import sys
from pathlib import Path

import pytest

from paperzoo.core.config import config_from_dict, validate
from paperzoo.neural_processes.repro.config import Config, TrainConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RUNS = sorted(
    (Path(__file__).resolve().parents[2] / "docs" / "results" / "neural_processes").glob(
        "*/config.toml"
    )
)


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.parent.name)
def test_committed_run_config_loads(path):
    cfg = config_from_dict(Config, tomllib.loads(path.read_text(encoding="utf-8")))
    validate(cfg)


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"train": {"val_batches": 3}})
    assert cfg.train.num_val_batches == 3
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TrainConfig)}  # a ClassVar
