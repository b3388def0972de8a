"""Snapshot memory bank: a FIFO buffer of (learner snapshot, true gap) pairs.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

Every inner step of every task learner run during meta-training produces a snapshot, the NC
inputs (te_xp, tr_xyp) of that learner, together with its true gap L_te - L_tr measured with the
test labels. NC is regressed onto random minibatches of the bank (``MemoryBank`` in the official
``run.py``), which keeps old learners (trained with an older NC) in the training set.

Deviations from the paper:
    * A preallocated ring buffer replaces repeated ``torch.cat`` + slicing; the content is the
      same (the newest ``capacity`` snapshots), tested. ``tr_xp`` is not stored since it is
      ``tr_xyp`` without the label columns.
    * Minibatches are drawn without replacement from an explicit generator.
"""

from __future__ import annotations

import torch

__all__ = ["MemoryBank"]


class MemoryBank:
    """FIFO store of snapshots with fixed numbers of train and test points.

    Args:
        capacity: the most snapshots kept (official 1,000,000); the oldest are dropped first.
        num_train, num_test: points per task in every snapshot.
        query_dim, value_dim, key_columns: widths of the query and value rows and which value
            columns form a key row (1-D regression: 2, 3 and (x, pred) = (0, 2); take them from
            ``NeuralComplexity.query_dim``/``value_dim``/``key_columns``).
    """

    def __init__(
        self,
        capacity: int,
        num_train: int,
        num_test: int,
        query_dim: int = 2,
        value_dim: int = 3,
        key_columns: list[int] | tuple[int, ...] = (0, 2),
    ):
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if len(key_columns) != query_dim or not all(0 <= c < value_dim for c in key_columns):
            raise ValueError(
                f"key_columns must pick {query_dim} of the {value_dim} value columns, "
                f"got {list(key_columns)}"
            )
        self.capacity, self.num_train, self.num_test = int(capacity), int(num_train), int(num_test)
        self.query_dim, self.value_dim = int(query_dim), int(value_dim)
        self.key_columns = list(key_columns)
        self.te_xp = torch.zeros(self.capacity, self.num_test, self.query_dim)
        self.tr_xyp = torch.zeros(self.capacity, self.num_train, self.value_dim)
        self.gap = torch.zeros(self.capacity)
        self.size = 0  # number of valid rows
        self.head = 0  # next row to overwrite
        self.total_added = 0

    def __len__(self) -> int:
        return self.size

    def add(self, te_xp: torch.Tensor, tr_xyp: torch.Tensor, gap: torch.Tensor) -> None:
        """Append a batch of snapshots.

        Shape:
            te_xp: (n, num_test, query_dim), tr_xyp: (n, num_train, value_dim), gap: (n,)
        """
        n = gap.shape[0]
        q, v = (n, self.num_test, self.query_dim), (n, self.num_train, self.value_dim)
        if te_xp.shape != q or tr_xyp.shape != v:
            raise ValueError(
                f"expected te_xp {q} and tr_xyp {v}, "
                f"got {tuple(te_xp.shape)} and {tuple(tr_xyp.shape)}"
            )
        if n > self.capacity:  # only the newest `capacity` survive anyway
            te_xp, tr_xyp, gap = (
                te_xp[-self.capacity :],
                tr_xyp[-self.capacity :],
                gap[-self.capacity :],
            )
            self.total_added += n - self.capacity
            n = self.capacity
        rows = (self.head + torch.arange(n)) % self.capacity
        self.te_xp[rows] = te_xp.detach().to(self.te_xp)
        self.tr_xyp[rows] = tr_xyp.detach().to(self.tr_xyp)
        self.gap[rows] = gap.detach().to(self.gap)
        self.head = (self.head + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        self.total_added += n

    def ordered(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """All stored snapshots, oldest first: (te_xp, tr_xyp, gap)."""
        start = (self.head - self.size) % self.capacity
        rows = (start + torch.arange(self.size)) % self.capacity
        return self.te_xp[rows], self.tr_xyp[rows], self.gap[rows]

    def sample(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A random minibatch (te_xp, tr_xp, tr_xyp, gap) without replacement.

        Shape:
            (batch, num_test, query_dim), (batch, num_train, query_dim),
            (batch, num_train, value_dim), (batch,)
        """
        if self.size == 0:
            raise ValueError("the memory bank is empty")
        k = min(batch_size, self.size)
        idx = torch.randperm(self.size, generator=generator)[:k]
        tr_xyp = self.tr_xyp[idx]
        return self.te_xp[idx], tr_xyp[..., self.key_columns], tr_xyp, self.gap[idx]

    def state_dict(self) -> dict[str, torch.Tensor | int]:
        """Contents for a checkpoint (only the valid rows, oldest first)."""
        te_xp, tr_xyp, gap = self.ordered()
        return {"te_xp": te_xp, "tr_xyp": tr_xyp, "gap": gap, "total_added": self.total_added}

    def load_state_dict(self, state: dict) -> None:
        self.size = self.head = 0
        self.add(state["te_xp"], state["tr_xyp"], state["gap"])
        self.total_added = int(state["total_added"])
