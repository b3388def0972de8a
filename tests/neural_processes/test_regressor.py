"""The user-facing fit/predict path on a collection of (x, y) series."""

import numpy as np
import pytest
import torch

from paperzoo.neural_processes import NeuralProcessRegressor


def _series(n=12, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = np.sort(rng.uniform(0, 10, 30))
        out.append((x, 3.0 + np.sin(x + rng.uniform(0, 3)) + 0.1 * rng.normal(size=30)))
    return out


def test_fit_predict_shapes_and_order():
    reg = NeuralProcessRegressor("BNP", hidden_dim=16, num_steps=5, batch_size=4, predict_samples=8)
    assert reg.fit(_series()) is reg
    x, y = _series(1, seed=1)[0]
    pred = reg.predict(x[:10], y[:10], np.linspace(0, 10, 25), level=0.8)
    assert pred.mean.shape == pred.lower.shape == pred.upper.shape == (25,)
    assert np.all(pred.lower <= pred.upper)
    assert np.all(np.isfinite(pred.mean))
    assert len(reg.losses_) == 5


def test_regressor_errors():
    reg = NeuralProcessRegressor("CNP", hidden_dim=8, num_steps=1)
    with pytest.raises(RuntimeError, match="fit"):
        reg.predict([0.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        reg.fit([])
    with pytest.raises(ValueError, match="at least 6"):
        reg.fit([(np.arange(3.0), np.arange(3.0))])
    with pytest.raises(ValueError, match="points"):
        reg.fit([(np.arange(8.0), np.arange(7.0))])
    reg.fit(_series(3))
    with pytest.raises(ValueError, match="level"):
        reg.predict([0.0, 1.0], [0.0, 1.0], [2.0], level=1.5)


def test_generator_makes_fit_and_predict_repeatable_without_the_global_rng():
    def run(seed):
        g = torch.Generator().manual_seed(seed)
        reg = NeuralProcessRegressor("BNP", hidden_dim=8, num_steps=3, batch_size=4)
        reg.fit(_series(4), generator=g)
        x, y = _series(1, seed=1)[0]
        return reg.losses_, reg.predict(x[:10], y[:10], x[10:], generator=g).mean

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    (loss_a, mean_a), (loss_b, mean_b) = run(7), run(7)
    assert torch.equal(torch.random.get_rng_state(), before)  # the global RNG is untouched
    assert loss_a == loss_b and np.array_equal(mean_a, mean_b)
    loss_c, _ = run(8)
    assert loss_c != loss_a
    # Without a generator, ``seed`` fixes the numbers (as before generators were accepted).
    a, b = (
        NeuralProcessRegressor("CNP", hidden_dim=8, num_steps=2, batch_size=4, seed=3).fit(
            _series(4)
        )
        for _ in range(2)
    )
    assert a.losses_ == b.losses_
    assert torch.equal(torch.random.get_rng_state(), before)
