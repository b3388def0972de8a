"""Data sets shared by several methods: :func:`load_images` (any catalog image set or a user's
.npz as float tensors in [0, 1]), MNIST, Fashion-MNIST, CIFAR-10, scikit-learn's digits, and the
catalog behind ``paperzoo data status`` / ``paperzoo data prepare``."""

from paperzoo.datasets.catalog import CATALOG, DatasetSpec, dataset_status, prepare_dataset
from paperzoo.datasets.digits import load_digits
from paperzoo.datasets.idx import read_idx
from paperzoo.datasets.images import IMAGE_DATASETS, ImageData, load_images
from paperzoo.datasets.loaders import ArraySplit, make_loader, stratified_subset, train_val_split
from paperzoo.datasets.mnist import load_cifar10, load_fashion_mnist, load_image_npz, load_mnist

__all__ = [
    "CATALOG",
    "IMAGE_DATASETS",
    "ArraySplit",
    "DatasetSpec",
    "ImageData",
    "dataset_status",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_image_npz",
    "load_images",
    "load_mnist",
    "make_loader",
    "prepare_dataset",
    "read_idx",
    "stratified_subset",
    "train_val_split",
]
