"""Image classification sets stored as ``<root>/<name>/<name>.npz`` (keys x_train, y_train,
x_test, y_test): MNIST and Fashion-MNIST (also buildable from the original IDX files), CIFAR-10
(built from the official binary archive) and any other set in the same layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from paperzoo.core.data import DataMissingError, resolve_data_root
from paperzoo.datasets.loaders import ArraySplit

__all__ = [
    "load_cifar10",
    "load_fashion_mnist",
    "load_image_npz",
    "load_mnist",
    "read_split_arrays",
]

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_split_arrays(path: Path, where: str = "", fix: str = "") -> dict[str, np.ndarray]:
    """The arrays ``x_train, y_train, x_test, y_test`` of an ``.npz`` (never unpickled).

    Raises:
        DataMissingError: a corrupt archive or missing keys, with ``fix`` appended.
    """
    try:
        with np.load(path, allow_pickle=False) as d:
            missing = [k for k in _KEYS if k not in d.files]
            if missing:
                raise DataMissingError(f"{where}{path} lacks arrays {missing}; {fix}")
            return {k: d[k] for k in _KEYS}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataMissingError(f"{where}{path} is corrupt ({e}); {fix}") from e


def load_image_npz(
    name: str,
    root: str | Path | None = None,
    image_shape: tuple[int, ...] | None = None,
    fix: str | None = None,
) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) splits from ``<root>/<name>/<name>.npz``, checked for keys and shapes.

    Args:
        name: folder and file stem, e.g. ``"cifar10"``.
        root: data root (default: ``$PAPERZOO_DATA``, else ``~/.cache/paperzoo``).
        image_shape: expected per-image shape, e.g. (28, 28); None accepts any.
        fix: what to tell the user when the file is missing or corrupt.

    Raises:
        DataMissingError: missing file, corrupt archive, missing keys or wrong shapes.
    """
    root = resolve_data_root(root)
    path = root / name / f"{name}.npz"
    fix = fix or (
        f"run `paperzoo data prepare {name}` (downloads the original files, or use --from DIR "
        f"with them), or set --data-root/PAPERZOO_DATA to a prepared root"
    )
    if not path.is_file():
        raw = root / name / "raw"
        if raw.is_dir() and name in ("mnist", "fashion_mnist"):
            from paperzoo.datasets.catalog import prepare_dataset

            prepare_dataset(name, root, raw)
        else:
            raise DataMissingError(f"{name}: missing file {path}; {fix}")
    arrays = read_split_arrays(path, f"{name}: ", fix)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        bad_shape = image_shape is not None and tuple(x.shape[1:]) != tuple(image_shape)
        if bad_shape or y.ndim != 1 or len(x) != len(y):
            want = ",".join(str(d) for d in image_shape) if image_shape else "..."
            raise DataMissingError(
                f"{name}: {path} has x_{split} {x.shape}, y_{split} {y.shape}; "
                f"expected [N,{want}] and [N]; {fix}"
            )
    return (
        ArraySplit(arrays["x_train"], arrays["y_train"].astype(np.int64)),
        ArraySplit(arrays["x_test"], arrays["y_test"].astype(np.int64)),
    )


def load_mnist(root: str | Path | None = None) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) MNIST splits: ``x`` uint8 [N, 28, 28], ``y`` int64 [N]."""
    return load_image_npz("mnist", root, (28, 28))


def load_fashion_mnist(root: str | Path | None = None) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) Fashion-MNIST splits: ``x`` uint8 [N, 28, 28], ``y`` int64 [N]."""
    return load_image_npz("fashion_mnist", root, (28, 28))


def load_cifar10(root: str | Path | None = None) -> tuple[ArraySplit, ArraySplit]:
    """(train, test) CIFAR-10 splits: ``x`` uint8 [N, 32, 32, 3] (HWC), ``y`` int64 [N]."""
    return load_image_npz("cifar10", root, (32, 32, 3))
