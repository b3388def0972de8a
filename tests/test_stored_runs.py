"""Every committed run's config still loads into its method's current Config (fields renamed
since are read under their new names through the config's ``RENAMED``)."""

from pathlib import Path

import pytest
import tomllib

from paperzoo.core.config import config_from_dict
from paperzoo.core.registry import get_experiment

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
RUNS = sorted(p.parent for p in RESULTS.glob("*/*/config.toml"))


@pytest.mark.parametrize("run", RUNS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_config_loads(run):
    method, preset = run.parent.name, run.name
    exp = get_experiment(method, "smoke")
    cls = type(exp.make_config())
    stored = tomllib.loads((run / "config.toml").read_text())
    cfg = config_from_dict(cls, stored)
    assert cfg.seeds == stored["seeds"], preset
