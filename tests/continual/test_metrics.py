"""Average accuracy and forgetting against hand-computed values."""

import numpy as np
import pytest

from paperzoo.continual import average_accuracy, forgetting, forgetting_per_task

# acc[i, j]: accuracy on task j after training task i (upper triangle ignored by forgetting)
ACC = np.array(
    [
        [0.90, 0.10, 0.05],
        [0.70, 0.95, 0.20],
        [0.60, 0.80, 0.85],
    ]
)


def test_average_accuracy_hand_computed():
    assert average_accuracy(ACC) == pytest.approx((0.60 + 0.80 + 0.85) / 3)


def test_forgetting_hand_computed():
    # task 0: best 0.90 -> 0.60 = 0.30; task 1: best 0.95 -> 0.80 = 0.15; mean 0.225
    assert forgetting(ACC) == pytest.approx(0.225)


def test_forgetting_uses_best_earlier_accuracy():
    acc = np.array([[0.5, 0.0], [0.9, 0.8]])  # task 0 improved: negative forgetting
    assert forgetting(acc) == pytest.approx(-0.4)
    assert forgetting(np.array([[0.7]])) == 0.0


def test_bad_matrix_raises():
    with pytest.raises(ValueError, match="square"):
        forgetting(np.zeros((2, 3)))


def test_forgetting_per_task_hand_computed():
    # task 0: best 0.90 -> 0.60; task 1: best 0.95 -> 0.80
    np.testing.assert_allclose(forgetting_per_task(ACC), [0.30, 0.15])
    assert forgetting_per_task(ACC[:1, :1]).shape == (0,)
