"""One entry point for image classification data: :func:`load_images`.

Every method that trains on images reads its data here, by one config string that names a
catalog data set (``mnist``, ``fashion_mnist``, ``cifar10``, ``digits``) or a user's own ``.npz``
file with the keys ``x_train, y_train, x_test, y_test``. Images come back as float32 tensors in
[0, 1], channels first ``(N, C, H, W)``, with the split and the normalisation named, so no method
hard-codes a pixel scale.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from paperzoo.core.data import DataMissingError, resolve_data_root

__all__ = ["IMAGE_DATASETS", "ImageData", "load_images"]

IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits")
"""Catalog names :func:`load_images` accepts (besides a path to a ``.npz``)."""


@dataclass(frozen=True)
class ImageData:
    """One split of an image classification data set.

    Attributes:
        name: the data set (catalog name or the ``.npz`` path given).
        split: ``"train"`` or ``"test"``.
        x: images, float32 in [0, 1]. Shape: (num_images, channels, height, width).
        y: integer labels. Shape: (num_images,).
        num_classes: ``max(label) + 1`` over both splits.
        normalization: how raw values became [0, 1] (``"uint8 / 255"``, ``"digits 0..16 / 16"``,
            ``"float, already in [0, 1]"``).
    """

    name: str
    split: str
    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    normalization: str

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width)."""
        c, h, w = self.x.shape[1:]
        return int(c), int(h), int(w)

    def subset(self, index: torch.Tensor | np.ndarray | list[int]) -> ImageData:
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return ImageData(
            self.name, self.split, self.x[idx], self.y[idx], self.num_classes, self.normalization
        )


def _to_unit_nchw(x: np.ndarray, where: str) -> tuple[torch.Tensor, str]:
    """Raw images (N, H, W) or (N, H, W, C) -> float (N, C, H, W) in [0, 1]."""
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4):
        x = np.transpose(x, (0, 3, 1, 2))
    else:
        raise DataMissingError(
            f"{where}: images have shape {x.shape}; expected (N, H, W) or (N, H, W, C) with "
            "C in 1, 3, 4"
        )
    if x.dtype == np.uint8:
        return torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0), "uint8 / 255"
    if np.issubdtype(x.dtype, np.floating):
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise DataMissingError(
                f"{where}: float images range over [{lo:g}, {hi:g}]; store uint8 0..255 or "
                "floats in [0, 1]"
            )
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), "float, in [0, 1]"
    raise DataMissingError(f"{where}: images of dtype {x.dtype}; store uint8 or float")


def _user_npz(path: Path) -> dict[str, np.ndarray]:
    from paperzoo.datasets.mnist import read_split_arrays

    if not path.is_file():
        raise DataMissingError(
            f"image data {path} does not exist; give a .npz with keys x_train, y_train, x_test, "
            "y_test"
        )
    return read_split_arrays(path, fix="it needs x_train, y_train, x_test, y_test")


@functools.lru_cache(maxsize=8)
def _load(name: str, root: Path) -> tuple[ImageData, ImageData]:
    from paperzoo.datasets.digits import load_digits
    from paperzoo.datasets.mnist import load_cifar10, load_fashion_mnist, load_image_npz, load_mnist

    if name.endswith(".npz"):
        a = _user_npz(Path(name).expanduser())
        raw = {"train": (a["x_train"], a["y_train"]), "test": (a["x_test"], a["y_test"])}
    else:
        loaders = {
            "mnist": lambda: load_mnist(root),
            "fashion_mnist": lambda: load_fashion_mnist(root),
            "cifar10": lambda: load_cifar10(root),
            "digits": lambda: load_digits(seed=0),
        }
        if name in loaders:
            tr, te = loaders[name]()
        else:  # any other set stored as <root>/<name>/<name>.npz (e.g. femnist, cifar100)
            tr, te = load_image_npz(
                name,
                root,
                fix=f"{name!r} is not a catalog data set ({', '.join(IMAGE_DATASETS)}); place "
                f"{name}/{name}.npz (keys x_train, y_train, x_test, y_test) under the data "
                "root, or give a path to your own .npz",
            )
        raw = {"train": (tr.x, tr.y), "test": (te.x, te.y)}
    ys = {k: np.asarray(v[1]) for k, v in raw.items()}
    for k, y in ys.items():
        if y.ndim != 1 or len(y) != len(raw[k][0]) or not np.issubdtype(y.dtype, np.integer):
            raise DataMissingError(f"{name}: y_{k} must be integer labels, one per image")
        if y.size and y.min() < 0:
            raise DataMissingError(f"{name}: y_{k} has negative labels")
    num_classes = int(max(int(y.max()) for y in ys.values() if y.size)) + 1
    out = []
    for split in ("train", "test"):
        x = raw[split][0]
        if name == "digits":  # scikit-learn's digits are integers 0..16
            t, norm = torch.from_numpy(x.astype(np.float32) / 16.0)[:, None], "digits 0..16 / 16"
        else:
            t, norm = _to_unit_nchw(np.asarray(x), f"{name} x_{split}")
        y = torch.from_numpy(ys[split].astype(np.int64))
        out.append(ImageData(name, split, t, y, num_classes, norm))
    if out[0].image_shape != out[1].image_shape:
        raise DataMissingError(f"{name}: train and test images differ in shape")
    return out[0], out[1]


def load_images(name: str, root: str | Path | None = None) -> tuple[ImageData, ImageData]:
    """(train, test) of an image data set as float tensors in [0, 1], channels first.

    Args:
        name: ``mnist``, ``fashion_mnist``, ``cifar10``, ``digits`` (scikit-learn's 8x8 digits,
            always available), another set stored as ``<root>/<name>/<name>.npz``, or a path
            ending in ``.npz`` holding ``x_train, y_train, x_test,
            y_test`` (uint8 0..255 or floats in [0, 1]; (N, H, W) or (N, H, W, C)).
        root: data root for catalog names (``--data-root`` > ``$PAPERZOO_DATA`` >
            ``~/.cache/paperzoo``).

    Raises:
        DataMissingError: an unknown name, a missing or malformed file (the message says how to
            get or fix it).
    """
    resolved = resolve_data_root(root) if not name.endswith(".npz") else Path("/")
    out = _load(name, resolved)
    _verify(name, resolved)  # after the load, which may have just prepared the file
    return out


def _verify(name: str, root: Path) -> None:
    """Compare the file just read with the catalog's checksum and note it for ``meta.json``."""
    from paperzoo.core.data import verify_data_file

    if name == "digits":  # bundled with scikit-learn, no file of ours
        return
    if name.endswith(".npz"):
        verify_data_file(Path(name).expanduser(), name, None, source="user")
        return
    from paperzoo.datasets.catalog import CATALOG

    rel = f"{name}/{name}.npz"
    spec = CATALOG.get(name)
    expected = spec.files.get(rel) if spec is not None else None
    verify_data_file(root / rel, name, expected)
