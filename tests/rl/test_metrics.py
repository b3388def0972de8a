"""Soft Monte Carlo returns, learning-curve area and evaluation on hand-checkable inputs."""

import numpy as np
import pytest

from paperzoo.rl.metrics import learning_curve_area, soft_discounted_returns


def test_plain_discounted_returns():
    g = soft_discounted_returns([1.0, 2.0, 3.0], gamma=0.5)
    # G2 = 3, G1 = 2 + 0.5*3 = 3.5, G0 = 1 + 0.5*3.5 = 2.75
    assert g.tolist() == [2.75, 3.5, 3.0]


def test_soft_returns_charge_the_entropy_of_next_actions_only():
    # G2 = r2; G1 = r1 + g (G2 - a lp2); G0 = r0 + g (G1 - a lp1); lp0 never enters.
    r, lp, gamma, alpha = [1.0, 0.0, 2.0], [5.0, -1.0, 0.5], 0.9, 0.2
    g2 = 2.0
    g1 = 0.0 + gamma * (g2 - alpha * 0.5)
    g0 = 1.0 + gamma * (g1 - alpha * -1.0)
    out = soft_discounted_returns(r, gamma, lp, alpha)
    assert out == pytest.approx([g0, g1, g2])
    assert soft_discounted_returns(r, gamma, lp, alpha, bootstrap=1.0)[-1] == pytest.approx(2.9)


def test_learning_curve_area_is_the_trapezoid_mean():
    assert learning_curve_area([0, 1, 3], [0.0, 2.0, 2.0]) == pytest.approx((1.0 + 4.0) / 3)
    assert learning_curve_area([0], [5.0]) == 5.0
    assert np.isnan(learning_curve_area([], []))
