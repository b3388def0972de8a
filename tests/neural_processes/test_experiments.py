"""Presets are registered, build valid configs, and the smoke preset stays small."""

import pytest

from paperzoo.core import config_from_dict, config_to_dict, get_experiment
from paperzoo.neural_processes.repro.config import Config


@pytest.mark.parametrize(
    "preset", ["smoke", "demo", "quick", "quick_attentive", "mnist", "predator_prey", "paper"]
)
def test_presets_build_and_roundtrip(preset):
    exp = get_experiment("neural_processes", preset)
    cfg = exp.make_config()
    assert isinstance(cfg, Config) and cfg.seeds
    assert config_from_dict(Config, config_to_dict(cfg)) == cfg
    assert set(cfg.arms) <= {"CNP", "NP", "CANP", "ANP", "BNP", "BANP"}


def test_paper_preset_is_the_official_configuration():
    cfg = get_experiment("neural_processes", "paper").make_config()
    assert (cfg.train.batch_size, cfg.train.num_steps, cfg.train.learning_rate) == (
        100,
        100_000,
        5e-4,
    )
    assert (cfg.eval.num_samples, cfg.eval.num_batches, cfg.eval.seed) == (50, 3000, 42)
    assert cfg.train.num_samples == 4 and cfg.model.hidden_dim == 128


def test_mnist_preset_needs_data():
    assert get_experiment("neural_processes", "mnist").needs_data == ("mnist",)


@pytest.mark.parametrize(
    ("preset", "gated"), [("quick", {"CNP", "NP"}), ("quick_attentive", {"CANP", "ANP"})]
)
def test_gp_presets_gate_every_baseline_on_the_official_level(preset, gated):
    import math

    cfg = get_experiment("neural_processes", preset).make_config()
    ref = cfg.claims.reference_tar_ll
    # levels per model and task: the official code's on GP RBF tasks
    assert set(ref) == gated and all(set(v) == {"rbf"} for v in ref.values())
    assert all(math.isfinite(x) for v in ref.values() for x in v.values())
    assert cfg.model.hidden_dim == 128 and len(cfg.seeds) >= 3
    assert cfg.task.random_t_noise and cfg.task.random_t_noise_mode == "per_point"
