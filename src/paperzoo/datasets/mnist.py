"""MNIST and Fashion-MNIST from ``<root>/<name>/<name>.npz`` or the original IDX files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from paperzoo.core.data import DataMissingError, resolve_data_root
from paperzoo.datasets.loaders import ArraySplit

__all__ = ["load_fashion_mnist", "load_mnist"]

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _load(name: str, root: str | Path | None) -> tuple[ArraySplit, ArraySplit]:
    root = resolve_data_root(root)
    path = root / name / f"{name}.npz"
    fix = (
        f"run `paperzoo data prepare {name}` (downloads the IDX files, or use --from DIR with "
        f"the original files), or set --data-root/PAPERZOO_DATA to a prepared root"
    )
    if not path.is_file():
        raw = root / name / "raw"
        if raw.is_dir():
            from paperzoo.datasets.catalog import prepare_dataset

            prepare_dataset(name, root, raw)
        else:
            raise DataMissingError(f"{name}: missing file {path}; {fix}")
    try:
        with np.load(path, allow_pickle=False) as d:
            missing = [k for k in _KEYS if k not in d.files]
            if missing:
                raise DataMissingError(f"{name}: {path} lacks arrays {missing}; {fix}")
            arrays = {k: d[k] for k in _KEYS}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataMissingError(f"{name}: {path} is corrupt ({e}); {fix}") from e
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
            raise DataMissingError(
                f"{name}: {path} has x_{split} {x.shape}, y_{split} {y.shape}; "
                f"expected [N,28,28] and [N]; {fix}"
            )
    return (
        ArraySplit(arrays["x_train"], arrays["y_train"].astype(np.int64)),
        ArraySplit(arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )


def load_mnist(root: str | Path | None = None) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) MNIST splits: ``x`` uint8 [N, 28, 28], ``y`` int64 [N]."""
    return _load("mnist", root)


def load_fashion_mnist(root: str | Path | None = None) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) Fashion-MNIST splits: ``x`` uint8 [N, 28, 28], ``y`` int64 [N]."""
    return _load("fashion_mnist", root)
