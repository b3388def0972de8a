"""Data sets shared by several methods: MNIST, Fashion-MNIST, scikit-learn's digits, and the
catalog behind ``paperzoo data status`` / ``paperzoo data prepare``."""

from paperzoo.datasets.catalog import CATALOG, DatasetSpec, dataset_status, prepare_dataset
from paperzoo.datasets.digits import load_digits
from paperzoo.datasets.idx import read_idx
from paperzoo.datasets.loaders import ArraySplit, make_loader, stratified_subset, train_val_split
from paperzoo.datasets.mnist import load_cifar10, load_fashion_mnist, load_image_npz, load_mnist

__all__ = [
    "CATALOG",
    "ArraySplit",
    "DatasetSpec",
    "dataset_status",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_image_npz",
    "load_mnist",
    "make_loader",
    "prepare_dataset",
    "read_idx",
    "stratified_subset",
    "train_val_split",
]
