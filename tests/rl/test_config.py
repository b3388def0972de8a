"""Every field's declared range is enforced when a config is built from a preset (that every
committed run's config loads: tests/test_stored_runs.py)."""

import pytest

from paperzoo.core.config import ConfigError, validate
from paperzoo.core.presets import build_config


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
