"""The committed runs' configs (``docs/results/rl/*/config.toml``) load into today's Config,
and every field's declared range is enforced when a config is built from a preset."""

import sys
from pathlib import Path

import pytest

from paperzoo.core.config import ConfigError, config_from_dict, validate
from paperzoo.core.presets import build_config
from paperzoo.rl.repro.config import Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RUNS = sorted(
    (Path(__file__).resolve().parents[2] / "docs" / "results" / "rl").glob("*/config.toml")
)


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.parent.name)
def test_committed_run_config_loads(path):
    cfg = config_from_dict(Config, tomllib.loads(path.read_text(encoding="utf-8")))
    validate(cfg)


@pytest.mark.parametrize("preset", ["smoke", "quick", "inverted_double_pendulum", "paper"])
def test_presets_are_within_their_ranges(preset):
    validate(build_config("rl", preset))


@pytest.mark.parametrize(
    "override",
    [
        "agent.learning_rate=-1",
        "agent.gamma=1.5",
        "agent.tau=0",
        "agent.batch_size=0",
        "replay.beta0=2",
        "env.total_timesteps=-5",
        "env.eval_every=300",  # the 400 steps are no multiple of 300
        "bias.every=0",
        "arms=SAC,DQN",
    ],
)
def test_out_of_range_values_are_refused(override):
    with pytest.raises(ConfigError):
        build_config("rl", "smoke", overrides=[override])
