"""Lotka-Volterra simulator (Gillespie) and its tasks: event law, invariants, standardisation."""

import numpy as np
import pytest
import torch

from paperzoo.neural_processes.predator_prey import (
    OFFICIAL_THETA,
    LotkaVolterraSampler,
    series_tasks,
    simulate_lotka_volterra,
    simulate_pool,
    standardize,
)
from paperzoo.neural_processes.tasks import Task


def test_first_event_follows_the_rates():
    # From X0 = 50, Y0 = 100 (jitter N(0,1) floored) the rates are
    # (0.01 X Y, 0.5 X, 1.0 Y, 0.01 X Y) = (~50, ~25, ~100, ~50); check frequencies and waits.
    s = simulate_lotka_volterra(20_000, 2, rng=np.random.default_rng(0))
    x, y = s.pops[:, 0, 0], s.pops[:, 0, 1]
    rates = np.stack([0.01 * x * y, 0.5 * x, 1.0 * y, 0.01 * x * y], 1)
    p = (rates / rates.sum(1, keepdims=True)).mean(0)
    d = s.pops[:, 1] - s.pops[:, 0]
    freq = np.array(
        [
            (d[:, 0] == 1).mean(),
            (d[:, 0] == -1).mean(),
            (d[:, 1] == 1).mean(),
            (d[:, 1] == -1).mean(),
        ]
    )
    assert np.abs(freq - p).max() < 4 * np.sqrt(0.25 / 20_000)
    # Exp(total) waiting times: E[wait * total] = 1.
    assert np.mean(s.time[:, 1] * rates.sum(1)) == pytest.approx(1.0, abs=0.03)


def test_every_event_moves_one_species_by_one_and_extinction_freezes():
    s = simulate_lotka_volterra(30, 3000, rng=np.random.default_rng(1))
    for b in range(30):
        n = s.length[b]
        steps = np.abs(np.diff(s.pops[b, :n], axis=0)).sum(1)
        assert (steps == 1).all()
        assert (np.diff(s.time[b, :n]) > 0).all()
        if n < 3000:  # died out: a species hit 0 at the last live event, then nothing moves
            assert (s.pops[b, n - 1] == 0).any()
            assert (s.pops[b, n - 1 :] == s.pops[b, n - 1]).all()
    assert (s.pops[:, 0] >= 1).all()


def test_pool_thinning_keeps_a_random_subset_in_time_order():
    pool = simulate_pool(20, OFFICIAL_THETA, seed=3, num_events=2000, keep_events=100, chunk=7)
    assert pool.time.shape == (20, 100) and pool.pops.shape == (20, 100, 2)
    assert (pool.length <= 100).all()
    for b in range(20):
        n = pool.length[b]
        assert (np.diff(pool.time[b, :n]) >= 0).all()


def test_standardize_uses_the_context_statistics():
    g = torch.Generator().manual_seed(0)
    t = Task(torch.rand(3, 40, 1, generator=g) * 30, torch.rand(3, 40, 2, generator=g) * 200, 25)
    s = standardize(t)
    assert torch.allclose(s.xc.mean(-2), torch.zeros(3, 1), atol=1e-5)
    assert torch.allclose(s.yc.std(-2), torch.ones(3, 2), atol=1e-3)
    const = Task(torch.ones(1, 40, 1), torch.rand(1, 40, 2, generator=g), 20)
    assert torch.isfinite(standardize(const).x).all()  # a constant context keeps scale 1


def test_sampler_draws_official_counts_from_live_events():
    pool = simulate_pool(40, seed=4, num_events=3000, keep_events=300)
    sampler = LotkaVolterraSampler(pool, max_num_points=50)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        t = sampler.sample(8, generator=g)
        assert 15 <= t.num_context <= 34 and 30 <= t.x.shape[1] <= 49
        assert t.y.shape == (8, t.x.shape[1], 2) and torch.isfinite(t.y).all()
    with pytest.raises(ValueError, match="max_num_points"):
        LotkaVolterraSampler(pool, max_num_points=20)


def test_series_tasks_from_a_real_series():
    years = np.arange(1900, 1940, dtype=float)
    pops = np.stack([30 + 20 * np.sin(years / 3), 20 + 10 * np.cos(years / 3)], 1)
    tasks = series_tasks(years, pops, num_batches=3, batch_size=4)
    assert len(tasks) == 3 and tasks[0].x.shape == (4, 40, 1) and tasks[0].y.shape == (4, 40, 2)
    assert 15 <= tasks[0].num_context < 25
    with pytest.raises(ValueError, match="at least 31"):
        series_tasks(years[:20], pops[:20])
    with pytest.raises(ValueError, match="pops"):
        series_tasks(years, pops[:, :1])


def test_config_rates_are_the_simulators():
    """The torch-free config repeats the simulator's rates; they must not drift apart."""
    from paperzoo.neural_processes.predator_prey import MISMATCH_THETA, OFFICIAL_THETA
    from paperzoo.neural_processes.repro.config import LV_MISMATCH_THETA, LV_THETA

    assert LV_THETA == OFFICIAL_THETA
    assert LV_MISMATCH_THETA == MISMATCH_THETA
