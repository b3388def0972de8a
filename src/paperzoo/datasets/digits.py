"""scikit-learn's 8x8 digits: ships with scikit-learn, so it is the always-available default."""

from __future__ import annotations

import numpy as np

from paperzoo.datasets.loaders import ArraySplit, train_val_split

__all__ = ["load_digits"]


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) splits of the 1,797 digits: ``x`` uint8 [N, 8, 8] in 0..16, ``y`` int64.

    The split is stratified and deterministic for ``seed``.
    """
    from sklearn.datasets import load_digits as _sk_load

    d = _sk_load()
    x = d.images.astype(np.uint8)
    y = d.target.astype(np.int64)
    return train_val_split(ArraySplit(x, y), test_fraction, seed)
