"""Sum/min trees against hand values and brute-force prefix search."""

import numpy as np
import pytest

from paperzoo.rl.sum_tree import MinTree, SumTree


def test_hand_values_and_non_power_of_two_capacity():
    t = SumTree(5)  # 8 leaves inside, 5 usable
    t.update(np.arange(5), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert t.size == 8 and t.depth == 3
    assert t.total() == 15.0
    # prefix sums 1, 3, 6, 10, 15: u in [0,1) -> 0, [1,3) -> 1, [3,6) -> 2, [6,10) -> 3, else 4
    assert t.find(np.array([0.0, 0.99, 1.0, 2.5, 3.0, 9.99, 10.0, 14.99])).tolist() == [
        0,
        0,
        1,
        1,
        2,
        3,
        4,
        4,
    ]


def test_find_matches_brute_force_and_updates_refresh_ancestors():
    rng = np.random.default_rng(0)
    t = SumTree(1000)
    p = rng.random(1000)
    t.update(np.arange(1000), p)
    idx = rng.integers(0, 1000, 300)
    new = rng.random(300) * 5
    t.update(idx, new)
    p[idx] = new  # duplicates: the last assignment wins, as in the tree
    assert t.total() == pytest.approx(p.sum())
    u = rng.random(2000) * p.sum()
    expected = np.searchsorted(np.cumsum(p), u, side="right")
    assert np.array_equal(t.find(u), expected)


def test_zero_priority_leaves_are_never_found():
    t = SumTree(6)
    t.update(np.arange(6), [0.0, 1.0, 0.0, 0.0, 2.0, 0.0])
    u = np.linspace(0, 3, 50, endpoint=False)
    assert set(t.find(u).tolist()) == {1, 4}


def test_min_tree_and_bounds():
    m = MinTree(4)
    assert m.min() == np.inf
    m.update([0, 1, 2], [3.0, 0.5, 2.0])
    assert m.min() == 0.5
    m.update(1, 9.0)
    assert m.min() == 2.0
    with pytest.raises(IndexError):
        m.update(4, 1.0)
    with pytest.raises(ValueError):
        SumTree(0)
