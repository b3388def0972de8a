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


@pytest.mark.parametrize("preset", ["quick", "quick_attentive"])
def test_gp_presets_declare_the_official_drop_of_every_base_on_each_of_their_sets(preset):
    from paperzoo.neural_processes.repro.claims import clean_and_shifts, drop_key

    cfg = get_experiment("neural_processes", preset).make_config()
    drops = cfg.claims.reference_tar_ll_drop
    assert set(drops) == set(cfg.claims.reference_tar_ll)  # the same official runs
    _, shifts = clean_and_shifts(cfg)
    # keyed as the claims look them up, so the preset's own sets never read "no level"
    assert all(set(v) == {drop_key(cfg, s) for s in shifts} for v in drops.values())
    assert all(d > 0 for v in drops.values() for d in v.values())
    assert cfg.claims.min_baseline_drop == 0.0  # the official drop gates instead


def test_headline_presets_run_the_seeds_the_plan_asks():
    from paperzoo.core.claims import MIN_HEADLINE_SEEDS
    from paperzoo.neural_processes.repro.experiments import QUICK_ATTENTIVE_SEEDS, QUICK_SEEDS

    for preset, n in (("quick", QUICK_SEEDS), ("quick_attentive", QUICK_ATTENTIVE_SEEDS)):
        cfg = get_experiment("neural_processes", preset).make_config()
        assert cfg.seeds == list(range(n)) and n >= MIN_HEADLINE_SEEDS
        assert f"Seeds: {n} (" in get_experiment("neural_processes", preset).doc
