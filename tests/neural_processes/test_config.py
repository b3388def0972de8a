"""Config fields renamed since runs were stored still load under their old names (that every
committed run's config loads: tests/test_stored_runs.py); the claims' new fields validate."""

import dataclasses

import pytest

from paperzoo.core.config import ConfigError, config_from_dict
from paperzoo.neural_processes.repro.config import ClaimConfig, Config, TrainConfig


def test_renamed_fields_load_under_their_old_names():
    cfg = config_from_dict(Config, {"train": {"val_batches": 3}})
    assert cfg.train.num_val_batches == 3
    assert "RENAMED" not in {f.name for f in dataclasses.fields(TrainConfig)}  # a ClassVar


def test_the_stability_gate_level_loads_under_its_former_name():
    cfg = config_from_dict(Config, {"claims": {"converged_change": 0.07}})
    assert cfg.claims.settled_change == 0.07
    assert "RENAMED" not in {f.name for f in dataclasses.fields(ClaimConfig)}
    # a stored run from before the official drops loads with none declared
    assert cfg.claims.reference_tar_ll_drop == {} and cfg.claims.min_baseline_drop == 0.0


def test_mismatch_fraction_is_a_share_of_the_official_drop():
    for bad in (0.0, 1.5):
        with pytest.raises(ConfigError, match="mismatch_fraction"):
            config_from_dict(Config, {"claims": {"mismatch_fraction": bad}})
    with pytest.raises(ConfigError):
        config_from_dict(Config, {"claims": {"reference_tar_ll_drop": {"XNP": {"rbf_tnoise": 1}}}})
