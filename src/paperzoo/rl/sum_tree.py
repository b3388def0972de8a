"""Vectorised sum and min segment trees: O(log n) proportional sampling and priority updates.

Paper: Prioritized Experience Replay (Schaul, Quan, Antonoglou, Silver; ICLR 2016),
https://arxiv.org/abs/1511.05952 (the proportional variant, Sec. 3.3 and Appendix B.2.1), as used
by Model-augmented Prioritized Experience Replay (Oh, Shin, Yang, Hwang; ICLR 2022).

A binary tree over ``capacity`` leaves (rounded up to a power of two) is stored in one flat array:
node ``i`` has children ``2i`` and ``2i + 1``, the root is node 1 and leaf ``j`` is node
``size + j``. Every operation works on a whole batch of indices at once with NumPy, so a batch of
``k`` samples or updates costs ``O(k log n)`` array operations done ``log n`` times in C (one
pass per tree level), not ``k`` Python loops.

Every internal node equals ``op(left child, right child)`` whenever it is read, so the tree is a
pure function of its leaves: refreshing more nodes than needed, later, or not at all below a
subtree of never-written (neutral) leaves gives bit-for-bit the same numbers. At replay batch
sizes NumPy's per-call cost (about a microsecond), not the arithmetic, is the price, and these
shortcuts cut the calls:

* ``update`` writes the leaves only; the internal nodes are refreshed when next read (``total``,
  ``find``, ``min``, ``nodes``), once for all the updates in between (a buffer's ``add`` per
  environment step, then one refresh per sampled batch);
* a refresh recomputes a level as one strided call over the contiguous run of nodes above the
  used leaves once that run is short, instead of gathering the updated nodes' parents (five
  calls); no ``np.unique`` (a duplicate parent is written twice with the same value). While at
  most :attr:`_SegmentTree.FLAT_MAX` leaves are used the whole used part is recomputed this way,
  so no index needs tracking, and :meth:`MinTree.min` reads the used leaves directly;
* leaves at or beyond ``used`` (one past the largest leaf index ever written) are neutral, so
  the root's leftmost descendants down to the smallest subtree holding ``[0, used)`` all equal
  that subtree's root, and ``find`` starts there: a buffer of ``n`` stored transitions costs
  ``log2(n)`` levels, not ``log2(capacity)``;
* ``find`` descends without testing for empty right subtrees (three calls fewer per level) and
  repeats the rare queries that ended on an empty leaf with the test (see :meth:`SumTree.find`).

Deviations: none in the maths (``tests/rl/test_fast_paths.py`` checks nodes and ``find`` bit for
bit against the former eager, per-ancestor implementation, kept there); the reference
implementations (OpenAI baselines' ``SegmentTree``, the MaPER copy) loop over indices one at a
time in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MinTree", "SumTree"]


class _SegmentTree:
    """A complete binary tree whose internal nodes hold ``op`` of their two children."""

    _neutral: float = 0.0
    FLAT_MAX = 1 << 13
    """Up to this many used leaves, a refresh recomputes every used node (strided runs of at
    most ``FLAT_MAX`` elements, about as fast as gathering a batch's ancestors)."""
    # A level is recomputed as one contiguous strided run (1 NumPy call) rather than by
    # gathering the updated nodes' parents (5 calls on k indices) once the run has at most
    # ``_RUN_PER_INDEX * k + _RUN_BASE`` nodes; both cost about the same there (measured).
    _RUN_PER_INDEX = 4
    _RUN_BASE = 1024
    # Refresh eagerly once this many updates are pending (bounds the pending list's memory).
    _MAX_PENDING = 1024

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.size = 1 << max(0, (self.capacity - 1).bit_length())  # leaves, a power of two
        self.depth = self.size.bit_length() - 1  # levels below the root
        self._nodes = np.full(2 * self.size, self._neutral, dtype=np.float64)
        self.used = 0  # leaves >= used were never written (neutral)
        self._pending: list[np.ndarray] = []  # leaf indices written since the last refresh
        self._stale = False  # every used internal node needs recomputing (no index tracked)

    # --- pickling (SB3's save_replay_buffer pickles the buffer and its trees) ----------------

    def __getstate__(self) -> dict[str, Any]:
        self.refresh()
        return self.__dict__.copy()

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Trees pickled by the former class: an eager ``nodes`` array and no ``used``; the
        # leaves past the last non-neutral one are neutral, which is all ``used`` promises.
        if "nodes" in state:
            state["_nodes"] = state.pop("nodes")
        self.__dict__.update(state)
        if "used" not in state:
            written = np.flatnonzero(self.leaves() != self._neutral)
            self.used = int(written[-1]) + 1 if written.size else 0
        self.__dict__.setdefault("_pending", [])
        self.__dict__.setdefault("_stale", False)

    # --- reading ------------------------------------------------------------------------------

    @property
    def nodes(self) -> np.ndarray:
        """The flat node array (node ``i``'s children are ``2i``, ``2i + 1``), refreshed."""
        self.refresh()
        return self._nodes

    def __getitem__(self, idx: np.ndarray | int) -> np.ndarray:
        """Leaf values at ``idx`` (0-based leaf indices)."""
        return self._nodes[self.size + np.asarray(idx)]

    def reduce(self) -> float:
        """``op`` over all leaves (the root)."""
        self.refresh()
        return float(self._nodes[1])

    def leaves(self) -> np.ndarray:
        """All ``capacity`` leaf values (a view)."""
        return self._nodes[self.size : self.size + self.capacity]

    def _span_bits(self) -> int:
        """Levels below the smallest leftmost subtree holding leaves ``[0, used)``:
        ``ceil(log2(used))`` (0 for at most one leaf)."""
        return max(0, self.used - 1).bit_length()

    # --- writing ------------------------------------------------------------------------------

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def update(self, idx: np.ndarray | int, values: np.ndarray | float) -> None:
        """Set leaves ``idx`` to ``values``; their ancestors are refreshed when next read.

        Duplicate indices take the last value (NumPy fancy assignment order), as a loop would.

        Shape:
            idx: (k,) integers in ``[0, capacity)``; values: (k,) or a scalar.
        """
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return
        hi = int(idx.view(np.uint64).max())  # one reduction for both bounds: a negative
        if hi >= self.capacity:  # index is huge as unsigned
            raise IndexError(f"leaf index out of range [0, {self.capacity})")
        self._nodes[self.size + idx] = values  # NumPy broadcasts a scalar, casts to float64
        if hi >= self.used:
            self.used = hi + 1
        if self._stale or self.used <= self.FLAT_MAX:
            self._stale = True  # the refresh recomputes all used nodes: no index needed
            self._pending.clear()
        else:
            self._pending.append(idx.copy())  # kept until the refresh: not the caller's array
            if len(self._pending) >= self._MAX_PENDING:
                self.refresh()

    def refresh(self) -> None:
        """Recompute the internal nodes above the leaves written since the last refresh.

        Level by level from the leaves: the level's run of nodes over ``[0, used)`` in one
        strided call when it is short (always, while the tree is stale), else the updated
        nodes' parents by gathering; then the left spine above the subtree over ``[0, used)``.
        """
        if not (self._stale or self._pending):
            return
        nodes = self._nodes
        if self._stale:
            node, run_max = np.zeros(0, dtype=np.int64), self.used
        else:
            idx = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
            node = idx + self.size
            run_max = self._RUN_PER_INDEX * idx.size + self._RUN_BASE
        self._pending.clear()
        self._stale = False
        count, first = self.used, self.size  # the used run at the leaf level
        for _ in range(self._span_bits()):
            count, first = (count + 1) // 2, first // 2
            if count <= run_max:  # one strided call over the level's used run
                self._op(
                    nodes[2 * first : 2 * (first + count) : 2],
                    nodes[2 * first + 1 : 2 * (first + count) : 2],
                    out=nodes[first : first + count],
                )
            else:  # the parents of the updated nodes (once short, the run takes over)
                node >>= 1
                left = node << 1  # 1-D gathers: a (k, 2) row gather costs 10x more
                nodes[node] = self._op(nodes[left], nodes[left + 1])
        # ``first`` is the subtree over [0, used); its ancestors (first // 2, ..., 1) have
        # neutral right children, so each equals op(nodes[first], neutral).
        if first > 1:
            nodes[_spine(first)] = self._op(nodes[first : first + 1], self._neutral)


_SPINES: dict[int, np.ndarray] = {}


def _spine(first: int) -> np.ndarray:
    """The strict ancestors ``1, 2, 4, ..., first // 2`` of the leftmost node ``first``."""
    spine = _SPINES.get(first)
    if spine is None:
        spine = np.left_shift(1, np.arange(first.bit_length() - 1, dtype=np.int64))
        _SPINES[first] = spine
    return spine


class SumTree(_SegmentTree):
    """Sum tree: ``total()`` in O(1) and ``find(prefix)`` in O(log n) per query.

    Leaves must be non-negative (priorities): ``find`` relies on an empty subtree holding only
    zero leaves.

    >>> t = SumTree(4); t.update(np.arange(4), [1.0, 2.0, 3.0, 4.0])
    >>> t.total(), t.find(np.array([0.5, 1.5, 5.9, 9.99])).tolist()
    (10.0, [0, 1, 2, 3])
    """

    _neutral = 0.0

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.add(a, b, out=out)

    def total(self) -> float:
        """Sum of all leaves."""
        return self.reduce()

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """For each query ``u``, the smallest leaf ``j`` with ``sum(leaves[: j + 1]) > u``.

        Descends all queries together: at each level go left when ``u`` is below the left
        child's sum, else subtract it and go right; a right child with zero mass is never
        entered (it would be a dead end: beyond ``capacity``, or all-zero), so queries at or
        beyond ``total()`` land on the last leaf with positive value's side; callers draw ``u``
        in ``[0, total)``. See :meth:`find_with_values` for how this is done.

        Shape:
            prefix: (k,) floats; returns (k,) leaf indices in ``[0, capacity)``.
        """
        return self.find_with_values(prefix)[0]

    def find_with_values(self, prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`find` and the found leaves' values (one gather saved for the caller).

        The descent starts at the smallest leftmost subtree holding every used leaf (from the
        root down to it every right child is empty, so a descent from the root goes left
        there). It first runs without the zero-mass test; a query that entered an empty right
        child can only end on a zero leaf (an empty subtree holds only zeros), and one that
        never did made the tested descent's choices, whose leaf is positive when the total
        is (it only enters children with positive mass). So the queries ending on a leaf that
        is not positive are descended again with the test, and all results equal the tested
        descent's.

        Shape:
            prefix: (k,) floats; returns (k,) leaf indices and (k,) float64 leaf values.
        """
        self.refresh()
        u = np.array(prefix, dtype=np.float64, ndmin=1)  # a copy, consumed by the descent
        bits = self._span_bits()
        node = self._descend(u, np.full(u.shape, self.size >> bits, dtype=np.int64), bits)
        values = self._nodes[node]
        if not (values.size == 0 or values.min() > 0):  # rare: see above
            redo = ~(values > 0)
            start = np.full(int(redo.sum()), self.size >> bits, dtype=np.int64)
            q = np.array(prefix, dtype=np.float64, ndmin=1)[redo]
            node[redo] = self._descend(q, start, bits, test_empty=True)
            # Beyond ``capacity`` only with a zero total (every leaf there is 0).
            np.minimum(node, self.size + self.capacity - 1, out=node)
            values = self._nodes[node]
        return node - self.size, values

    def _descend(
        self, u: np.ndarray, node: np.ndarray, levels: int, test_empty: bool = False
    ) -> np.ndarray:
        """``levels`` steps down from ``node`` for queries ``u`` (both modified in place)."""
        nodes = self._nodes
        for _ in range(levels):
            node <<= 1  # the left child
            left_sum = nodes[node]
            go_right = u >= left_sum
            if test_empty:  # never enter a right child with zero mass
                go_right &= nodes[node + 1] > 0
            np.subtract(u, left_sum, out=u, where=go_right)
            node += go_right
        return node


class MinTree(_SegmentTree):
    """Min tree: the smallest leaf in O(1) (for the largest importance weight)."""

    _neutral = np.inf

    @staticmethod
    def _op(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.minimum(a, b, out=out)

    def min(self) -> float:
        """Smallest leaf (``inf`` when empty)."""
        if self._stale and self.used <= self.FLAT_MAX:
            # One pass over at most FLAT_MAX used leaves, instead of refreshing the tree: the
            # minimum is exact in any order, so it is the root's value.
            return float(self._nodes[self.size : self.size + self.used].min(initial=np.inf))
        return self.reduce()
