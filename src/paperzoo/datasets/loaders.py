"""Deterministic splits and DataLoader helpers over in-memory arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["ArraySplit", "make_loader", "stratified_subset", "train_val_split"]


@dataclass
class ArraySplit:
    """Inputs ``x`` [N, ...] and integer labels ``y`` [N]."""

    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"x has {len(self.x)} rows but y has {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: np.ndarray) -> ArraySplit:
        return ArraySplit(self.x[idx], self.y[idx])

    def tensors(self, scale: float | None = 255.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x float32 / scale, y int64)``; ``scale=None`` keeps values."""
        x = torch.as_tensor(self.x, dtype=torch.float32)
        if scale:
            x = x / scale
        return x, torch.as_tensor(self.y, dtype=torch.int64)


def _stratified_indices(y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    picked = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        picked.append(idx[: round(fraction * len(idx))])
    return np.sort(np.concatenate(picked))


def train_val_split(
    data: ArraySplit, val_fraction: float, seed: int = 0
) -> tuple[ArraySplit, ArraySplit]:
    """Stratified, deterministic split into (train, val)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    val = _stratified_indices(data.y, val_fraction, rng)
    train = np.setdiff1d(np.arange(len(data)), val)
    return data.subset(train), data.subset(val)


def stratified_subset(
    data: ArraySplit, n: int, seed: int = 0, classes: list[int] | None = None
) -> ArraySplit:
    """About ``n`` samples, equally many per class (of ``classes`` if given), deterministic."""
    keep = np.isin(data.y, classes) if classes is not None else np.ones(len(data), bool)
    sub = data.subset(np.flatnonzero(keep))
    if n >= len(sub):
        return sub
    rng = np.random.default_rng(seed)
    return sub.subset(_stratified_indices(sub.y, n / len(sub), rng))


def make_loader(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over tensors whose shuffling order depends only on ``seed``."""
    g = torch.Generator()
    g.manual_seed(seed)
    return DataLoader(
        TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=g,
        drop_last=drop_last,
    )
