"""Cluttered-digit data: deterministic per seed, masks cover the target digit only."""

import numpy as np
import pytest

from paperzoo.compression import make_cluttered_digits


def _pool():
    rng = np.random.default_rng(0)
    digits = (rng.random((20, 12, 12)) > 0.5).astype(np.uint8) * 255
    labels = np.arange(20) % 4
    return digits, labels


def test_deterministic_per_seed_and_seed_matters():
    digits, labels = _pool()
    a = make_cluttered_digits(digits, labels, 10, canvas_size=24, fragment_size=(3, 5), seed=3)
    b = make_cluttered_digits(digits, labels, 10, canvas_size=24, fragment_size=(3, 5), seed=3)
    c = make_cluttered_digits(digits, labels, 10, canvas_size=24, fragment_size=(3, 5), seed=4)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)


def test_masks_are_target_pixels_inside_box():
    digits, labels = _pool()
    d = make_cluttered_digits(digits, labels, 8, canvas_size=24, fragment_size=(3, 5), seed=0)
    x, y, _ = d.tensors()
    assert x.shape == (8, 1, 24, 24) and float(x.max()) <= 1.0
    for i in range(8):
        top, left, h, w = d.boxes[i]
        inside = np.zeros((24, 24), bool)
        inside[top : top + h, left : left + w] = True
        assert not d.masks[i][~inside].any()
        assert (d.images[i][d.masks[i]] == 255).all()
        # Clutter: there is ink outside the target's box.
        assert d.images[i][~inside].sum() > 0
    assert set(y.tolist()) <= set(labels.tolist())


def test_invalid_inputs():
    digits, labels = _pool()
    with pytest.raises(ValueError):
        make_cluttered_digits(digits, labels, 2, canvas_size=8)
    with pytest.raises(ValueError):
        make_cluttered_digits(digits, np.zeros(20, int), 2, canvas_size=24, fragment_size=(3, 5))
