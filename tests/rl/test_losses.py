"""MQL/MaPER critic errors and the scale-balancing rule against hand-computed numbers."""

import pytest
import torch

from paperzoo.rl.losses import balanced_lambdas, model_augmented_errors, td_errors


def test_errors_hand_computed():
    target = torch.tensor([[1.0], [2.0]])
    rewards = torch.tensor([[0.5], [-1.0]])
    next_obs = torch.tensor([[0.0, 1.0], [2.0, 2.0]])
    heads = [
        (
            torch.tensor([[2.0], [2.0]]),
            torch.tensor([[0.5], [0.0]]),
            torch.tensor([[1.0, 1.0], [2.0, 0.0]]),
        ),
        (
            torch.tensor([[0.0], [5.0]]),
            torch.tensor([[1.5], [-1.0]]),
            torch.tensor([[0.0, 1.0], [2.0, 2.0]]),
        ),
    ]
    dq, dr, ds = model_augmented_errors(heads, target, rewards, next_obs)
    assert dq.shape == (2, 2, 1)
    assert dq[:, :, 0].tolist() == [[1.0, 0.0], [1.0, 9.0]]
    assert dr[:, :, 0].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    # mean over the two state dims: ((1-0)^2 + 0)/2 = 0.5; (0 + (0-2)^2)/2 = 2; then 0, 0
    assert ds[:, :, 0].tolist() == [[0.5, 2.0], [0.0, 0.0]]
    assert torch.equal(td_errors([h[0] for h in heads], target), dq)
    lam_r, lam_s = balanced_lambdas(dq, dr, ds)
    # mean dQ = 11/4, mean dR = 2/4, mean dS = 2.5/4
    assert lam_r == pytest.approx(5.5) and lam_s == pytest.approx(4.4)


def test_balanced_lambdas_do_not_divide_by_zero():
    z = torch.zeros(2, 3, 1)
    lam_r, lam_s = balanced_lambdas(torch.ones(2, 3, 1), z, z)
    assert lam_r == pytest.approx(1e8) and lam_s == pytest.approx(1e8)
