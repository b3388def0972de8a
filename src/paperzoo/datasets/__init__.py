"""Data sets shared by several methods: :func:`load_images` (any catalog image set or a user's
.npz as float tensors in [0, 1]), MNIST, Fashion-MNIST, CIFAR-10, scikit-learn's digits,
USPTO-50k reactions, the FSDD and synthetic speech corpora, and the catalog behind
``paperzoo data status`` / ``paperzoo data prepare``."""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "CATALOG",
    "IMAGE_DATASETS",
    "ArraySplit",
    "DatasetSpec",
    "ImageData",
    "SpeechClip",
    "UsptoReaction",
    "dataset_status",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_fsdd",
    "load_image_npz",
    "load_images",
    "load_mnist",
    "load_synth_corpus",
    "load_uspto50k",
    "make_loader",
    "prepare_dataset",
    "read_audio",
    "read_idx",
    "stratified_subset",
    "train_val_split",
]

# Loaded on first use: `paperzoo data status` needs the catalog, not torch.
_WHERE = {
    "CATALOG": "paperzoo.datasets.catalog",
    "DatasetSpec": "paperzoo.datasets.catalog",
    "dataset_status": "paperzoo.datasets.catalog",
    "prepare_dataset": "paperzoo.datasets.catalog",
    "load_digits": "paperzoo.datasets.digits",
    "read_idx": "paperzoo.datasets.idx",
    "IMAGE_DATASETS": "paperzoo.datasets.images",
    "ImageData": "paperzoo.datasets.images",
    "load_images": "paperzoo.datasets.images",
    "ArraySplit": "paperzoo.datasets.loaders",
    "make_loader": "paperzoo.datasets.loaders",
    "stratified_subset": "paperzoo.datasets.loaders",
    "train_val_split": "paperzoo.datasets.loaders",
    "load_cifar10": "paperzoo.datasets.mnist",
    "load_fashion_mnist": "paperzoo.datasets.mnist",
    "load_image_npz": "paperzoo.datasets.mnist",
    "load_mnist": "paperzoo.datasets.mnist",
    "UsptoReaction": "paperzoo.datasets.uspto",
    "load_uspto50k": "paperzoo.datasets.uspto",
    "SpeechClip": "paperzoo.datasets.speech",
    "load_fsdd": "paperzoo.datasets.speech",
    "load_synth_corpus": "paperzoo.datasets.speech",
    "read_audio": "paperzoo.datasets.speech",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
