"""Replay memories: a reservoir-sampling buffer and a per-task, class-balanced coreset buffer.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (Sec. 3.3, coreset memory).

The names follow Avalanche's storage policies (``ReservoirSamplingBuffer``,
``ClassBalancedBuffer``/``ParametricBuffer``): a buffer stores samples, a strategy decides what
goes in. Every stored sample keeps its task id and its index in that task's training set, so a
strategy (or a metric) can look up what it was, e.g. whether it was a noise image.

Deviation from the official code: replay minibatches are drawn uniformly from the whole memory;
the official code cycles through shuffled per-task batches (each replay batch from one task).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ReplayBuffer", "ReservoirSamplingBuffer", "TaskCoresetBuffer"]


class ReplayBuffer:
    """Stored samples ``x`` (N, in_dim), labels ``y`` (N,), ``task_ids`` (N,), ``sample_ids`` (N,).

    Subclasses decide how samples get in (:meth:`ReservoirSamplingBuffer.add`,
    :meth:`TaskCoresetBuffer.set_task`).
    """

    def __init__(self) -> None:
        self.x = torch.empty(0)
        self.y = torch.empty(0, dtype=torch.long)
        self.task_ids = torch.empty(0, dtype=torch.long)
        self.sample_ids = torch.empty(0, dtype=torch.long)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` samples drawn uniformly without replacement (all when fewer are stored).

        Shape: -> ``(min(n, len), in_dim)``, ``(min(n, len),)``.
        """
        idx = self.sample_indices(n, generator)
        return self.x[idx], self.y[idx]

    def sample_indices(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Rows of ``n`` samples drawn uniformly without replacement (all when fewer are stored);
        index :attr:`x`, :attr:`y`, :attr:`task_ids` with them. Shape: ``(min(n, len),)``."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty buffer")
        return torch.randperm(len(self), generator=generator)[:n]

    def state_dict(self) -> dict:
        """Tensors and counters (``torch.load(weights_only=True)``-safe)."""
        return {"x": self.x, "y": self.y, "task_ids": self.task_ids, "sample_ids": self.sample_ids}

    def load_state_dict(self, state: dict) -> None:
        self.x, self.y = state["x"], state["y"]
        self.task_ids, self.sample_ids = state["task_ids"], state["sample_ids"]

    def class_histogram(self, num_classes: int) -> Tensor:
        """Stored samples per class. Shape: ``(num_classes,)``."""
        return torch.bincount(self.y, minlength=num_classes)


class ReservoirSamplingBuffer(ReplayBuffer):
    """Reservoir sampling over the stream (Vitter's algorithm R): after ``m`` offered samples each
    one is stored with probability ``capacity / m``."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.num_seen = 0

    def state_dict(self) -> dict:
        return {**super().state_dict(), "num_seen": self.num_seen}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.num_seen = int(state["num_seen"])

    def add(
        self,
        x: Tensor,
        y: Tensor,
        task_id: int,
        sample_ids: Tensor,
        generator: torch.Generator | None = None,
    ) -> None:
        """Offer a batch. Shape: x ``(B, in_dim)``, y ``(B,)``, sample_ids ``(B,)``."""
        if len(self) == 0:
            self.x = x.new_empty(0, x.shape[1])
        for i in range(len(y)):
            self.num_seen += 1
            if len(self) < self.capacity:
                self._append(x[i], y[i], task_id, sample_ids[i])
                continue
            j = int(torch.randint(self.num_seen, (1,), generator=generator))
            if j < self.capacity:
                self.x[j], self.y[j] = x[i], y[i]
                self.task_ids[j], self.sample_ids[j] = task_id, sample_ids[i]

    def _append(self, x: Tensor, y: Tensor, task_id: int, sid: Tensor) -> None:
        self.x = torch.cat([self.x, x[None]])
        self.y = torch.cat([self.y, y.view(1)])
        self.task_ids = torch.cat([self.task_ids, torch.tensor([task_id])])
        self.sample_ids = torch.cat([self.sample_ids, sid.view(1)])


class TaskCoresetBuffer(ReplayBuffer):
    """One coreset per finished task, ``memory_size // num_tasks_seen`` samples each (Sec. 3.3).

    After task ``t`` (1-based count) the memory is split equally: the new task gets
    ``memory_size // t`` seats and each earlier coreset is shrunk to the same size
    (:meth:`shrink`), as in the official ``select_coreset`` / ``update_coreset``.
    """

    def __init__(self, memory_size: int) -> None:
        super().__init__()
        if memory_size < 1:
            raise ValueError(f"memory_size must be at least 1, got {memory_size}")
        self.memory_size = memory_size
        self.coresets: dict[int, tuple[Tensor, Tensor, Tensor]] = {}

    def per_task_size(self, num_tasks: int) -> int:
        """Seats per task once ``num_tasks`` tasks are stored."""
        return self.memory_size // max(1, num_tasks)

    def set_task(self, task_id: int, x: Tensor, y: Tensor, sample_ids: Tensor) -> None:
        """Store (or replace) ``task_id``'s coreset. Shape: ``(K, in_dim)``, ``(K,)``, ``(K,)``."""
        if not len(x) == len(y) == len(sample_ids):
            raise ValueError("x, y and sample_ids must have the same length")
        self.coresets[task_id] = (x.detach().clone(), y.clone(), sample_ids.clone())
        self._rebuild()

    def state_dict(self) -> dict:
        return {"coresets": {str(t): list(v) for t, v in self.coresets.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.coresets = {int(t): tuple(v) for t, v in state["coresets"].items()}  # type: ignore[misc]
        if self.coresets:
            self._rebuild()

    def task_data(self, task_id: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(x, y, sample_ids)`` of one task's coreset."""
        return self.coresets[task_id]

    def shrink(self, task_id: int, keep: Tensor) -> None:
        """Keep only rows ``keep`` (indices into the task's coreset) of ``task_id``'s coreset."""
        x, y, s = self.coresets[task_id]
        self.coresets[task_id] = (x[keep], y[keep], s[keep])
        self._rebuild()

    def _rebuild(self) -> None:
        tids = sorted(self.coresets)
        self.x = torch.cat([self.coresets[t][0] for t in tids])
        self.y = torch.cat([self.coresets[t][1] for t in tids])
        self.sample_ids = torch.cat([self.coresets[t][2] for t in tids])
        self.task_ids = torch.cat(
            [torch.full((len(self.coresets[t][1]),), t, dtype=torch.long) for t in tids]
        )
