"""Vectorised sum and min segment trees: O(log n) proportional sampling and priority updates.

Paper: Prioritized Experience Replay (Schaul, Quan, Antonoglou, Silver; ICLR 2016),
https://arxiv.org/abs/1511.05952 (the proportional variant, Sec. 3.3 and Appendix B.2.1), as used
by Model-augmented Prioritized Experience Replay (Oh, Shin, Yang, Hwang; ICLR 2022).

A binary tree over ``capacity`` leaves (rounded up to a power of two) is stored in one flat array:
node ``i`` has children ``2i`` and ``2i + 1``, the root is node 1 and leaf ``j`` is node
``size + j``. Every operation works on a whole batch of indices at once with NumPy, so a batch of
``k`` samples or updates costs ``O(k log n)`` array operations done ``log n`` times in C (one
pass per tree level), not ``k`` Python loops.

Deviations: none in the maths; the reference implementations (OpenAI baselines'
``SegmentTree``, the MaPER copy) loop over indices one at a time in Python.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MinTree", "SumTree"]


class _SegmentTree:
    """A complete binary tree whose internal nodes hold ``op`` of their two children."""

    _neutral: float = 0.0

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.size = 1 << max(0, (self.capacity - 1).bit_length())  # leaves, a power of two
        self.depth = self.size.bit_length() - 1  # levels below the root
        self.nodes = np.full(2 * self.size, self._neutral, dtype=np.float64)

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __getitem__(self, idx: np.ndarray | int) -> np.ndarray:
        """Leaf values at ``idx`` (0-based leaf indices)."""
        return self.nodes[self.size + np.asarray(idx)]

    def update(self, idx: np.ndarray | int, values: np.ndarray | float) -> None:
        """Set leaves ``idx`` to ``values`` and refresh their ancestors, level by level.

        Duplicate indices take the last value (NumPy fancy assignment order), as a loop would.

        Shape:
            idx: (k,) integers in ``[0, capacity)``; values: (k,) or a scalar.
        """
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size == 0:
            return
        if idx.min() < 0 or idx.max() >= self.capacity:
            raise IndexError(f"leaf index out of range [0, {self.capacity})")
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), idx.shape)
        node = idx + self.size
        self.nodes[node] = values
        for _ in range(self.depth):  # each level: recompute the unique parents once
            node = np.unique(node >> 1)
            self.nodes[node] = self._op(self.nodes[2 * node], self.nodes[2 * node + 1])

    def reduce(self) -> float:
        """``op`` over all leaves (the root)."""
        return float(self.nodes[1])

    def leaves(self) -> np.ndarray:
        """All ``capacity`` leaf values (a view)."""
        return self.nodes[self.size : self.size + self.capacity]


class SumTree(_SegmentTree):
    """Sum tree: ``total()`` in O(1) and ``find(prefix)`` in O(log n) per query.

    >>> t = SumTree(4); t.update(np.arange(4), [1.0, 2.0, 3.0, 4.0])
    >>> t.total(), t.find(np.array([0.5, 1.5, 5.9, 9.99])).tolist()
    (10.0, [0, 1, 2, 3])
    """

    _neutral = 0.0

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def total(self) -> float:
        """Sum of all leaves."""
        return self.reduce()

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """For each query ``u``, the smallest leaf ``j`` with ``sum(leaves[: j + 1]) > u``.

        Descends all queries together: at each level go left when ``u`` is below the left
        child's sum, else subtract it and go right. Queries at or beyond ``total()`` land on the
        last leaf with positive value's side; callers draw ``u`` in ``[0, total)``.

        Shape:
            prefix: (k,) floats; returns (k,) leaf indices in ``[0, capacity)``.
        """
        u = np.array(prefix, dtype=np.float64, copy=True)
        node = np.ones(u.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.nodes[left]
            go_right = u >= left_sum
            # A right child with zero mass (beyond capacity, or all-zero) would be a dead end.
            go_right &= self.nodes[left + 1] > 0
            u = np.where(go_right, u - left_sum, u)
            node = np.where(go_right, left + 1, left)
        return np.minimum(node - self.size, self.capacity - 1)


class MinTree(_SegmentTree):
    """Min tree: the smallest leaf in O(1) (for the largest importance weight)."""

    _neutral = np.inf

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    def min(self) -> float:
        """Smallest leaf (``inf`` when empty)."""
        return self.reduce()
