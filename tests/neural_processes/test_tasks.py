"""Task samplers: GP covariance (statistical, fixed seed), official ranges, t-noise, images."""

import numpy as np
import pytest
import torch

from paperzoo.neural_processes import (
    GPTaskSampler,
    ImageCompletionSampler,
    Matern52Kernel,
    PeriodicKernel,
    RBFKernel,
    add_t_noise,
    student_t_noise,
)


@pytest.mark.parametrize(
    "kernel",
    [
        RBFKernel(length_range=(0.4, 0.4), scale_range=(0.8, 0.8)),
        Matern52Kernel(length_range=(0.3, 0.3), scale_range=(1.0, 1.0)),
        PeriodicKernel(period_range=(0.5, 0.5), length_range=(0.6, 0.6), scale_range=(0.7, 0.7)),
    ],
)
def test_gp_samples_have_the_kernel_covariance(kernel):
    n = 20_000
    x = torch.tensor([-1.0, -0.7, -0.2, 0.1, 0.9]).view(1, 5, 1).expand(n, 5, 1)
    task = GPTaskSampler(kernel).sample(n, generator=torch.Generator().manual_seed(0), x=x)
    y = task.y[..., 0].double()
    empirical = (y.T @ y / n).numpy()  # zero-mean process
    expected = kernel(x[:1], torch.Generator()).double()[0].numpy()  # fixed hyperparameters
    # Standard error of a covariance entry is about sqrt(2/n) * var = 0.01; allow 4 s.e.
    np.testing.assert_allclose(empirical, expected, atol=0.045)
    np.testing.assert_allclose(y.mean(0).numpy(), 0.0, atol=0.03)


def test_kernel_hyperparameters_in_official_ranges():
    hp = RBFKernel().sample_hyperparameters(10_000, torch.Generator().manual_seed(0))
    assert hp["length"].min() >= 0.1 and hp["length"].max() <= 0.6
    assert hp["scale"].min() >= 0.1 and hp["scale"].max() <= 1.0
    period = PeriodicKernel().sample_hyperparameters(1000, torch.Generator())["period"]
    assert period.min() >= 0.1 and period.max() <= 0.5


def test_gp_task_counts_and_inputs():
    sampler = GPTaskSampler()
    g = torch.Generator().manual_seed(1)
    for _ in range(200):
        t = sampler.sample(2, generator=g)
        n = t.x.shape[1]
        assert 3 <= t.num_context < 47 and n - t.num_context >= 3 and n < 50
        assert t.x.min() >= -2 and t.x.max() <= 2
        assert t.xc.shape == (2, t.num_context, 1) and t.yt.shape == (2, n - t.num_context, 1)


def test_student_t_noise_quantiles_and_modes():
    from scipy.stats import t as student_t

    s = student_t_noise((50_000,), 2.1, torch.Generator().manual_seed(0)).numpy()
    for q in (0.1, 0.25, 0.75, 0.9):
        assert np.quantile(s, q) == pytest.approx(student_t.ppf(q, 2.1), abs=0.04)
    y = torch.zeros(4000, 10, 1)
    fixed = add_t_noise(y, 0.1, generator=torch.Generator().manual_seed(0))
    assert np.median(np.abs(fixed.numpy())) == pytest.approx(
        0.1 * student_t.ppf(0.75, 2.1), rel=0.05
    )
    per_task = add_t_noise(y, None, "per_task", 0.15, torch.Generator().manual_seed(0))
    assert per_task.shape == y.shape and per_task.abs().max() > 0
    assert torch.equal(add_t_noise(y, None), y)  # no noise when gamma is None and mode is fixed


def test_same_seed_same_tasks():
    a = GPTaskSampler(t_noise=0.1).sample(4, generator=torch.Generator().manual_seed(3))
    b = GPTaskSampler(t_noise=0.1).sample(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_image_completion_tasks():
    imgs = torch.rand(10, 28, 28)
    t = ImageCompletionSampler(imgs, max_num_points=200).sample(
        3, generator=torch.Generator().manual_seed(0)
    )
    assert t.x.shape[-1] == 2 and t.y.shape[-1] == 1 and t.x.shape[1] < 200
    assert t.x.min() >= -1 and t.x.max() <= 1
    assert t.y.min() >= -0.5 and t.y.max() <= 0.5
    # Coordinates map back to the pixel values.
    full = ImageCompletionSampler(imgs[:1]).sample(
        1, num_context=5, num_target=779, generator=torch.Generator(), indices=torch.tensor([0])
    )
    r = ((full.x[0, :, 0] + 1) * 27 / 2).round().long()
    c = ((full.x[0, :, 1] + 1) * 27 / 2).round().long()
    torch.testing.assert_close(full.y[0, :, 0] + 0.5, imgs[0][r, c])
    with pytest.raises(ValueError, match="images"):
        ImageCompletionSampler(torch.zeros(0, 28, 28))
