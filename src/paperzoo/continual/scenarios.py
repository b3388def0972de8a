"""Task streams for domain-incremental continual learning: rotated MNIST (balanced, noisy,
imbalanced) and streams built from a user's own datasets.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (Sec. 4, rotated MNIST and its noisy and
imbalanced variants; official ``core/data_utils.py``).

Task ``t`` (0-based) rotates every image by ``t * angle_step`` degrees. Variants, as in the
official code:

* ``noisy``: a random ``noise_fraction`` (0.6) of each task's training images is overwritten with
  noise, labels unchanged; the test set stays clean. The official code writes ``torch.randn`` into
  the uint8 MNIST array, which stores ``trunc(z) mod 256``: mostly black pixels with ~16 % near
  white (``z <= -1``) and a few near-black grey levels. ``noise_style="official"`` reproduces that
  distribution; ``"gaussian"`` uses clipped ``N(0.5, 0.5)`` pixels instead.
* ``imbalanced``: classes 0 and 5 keep all their images, every other class about 10 %
  (``minority_fraction``); the test set stays balanced.

Deviations from the official code: images are rotated with ``grid_sample`` (nearest, zero fill,
like torchvision's default ``rotate``); each task draws its own random subset of
``train_per_task`` images (the official code uses all 60k for every task); the imbalanced subset
keeps the class proportions of the official full-size variant; noise images are drawn after the
rotation (they are rotation-invariant noise anyway).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "Task",
    "dataset_sequence",
    "make_stream",
    "rotate_images",
    "rotated_stream",
]

Variant = Literal["balanced", "noisy", "imbalanced"]


@dataclass
class Task:
    """One experience of a task stream (inputs, integer labels).

    Attributes:
        task_id: 0-based position in the stream.
        x_train: training inputs. Shape: ``(num_train, *feature_shape)``; the rotated streams
            hold flattened images ``(num_train, in_dim)``, a user's task may hold images.
        y_train: training labels. Shape: ``(num_train,)``.
        x_test: test inputs (may be empty). Shape: ``(num_test, *feature_shape)``.
        y_test: test labels. Shape: ``(num_test,)``.
        is_noise: marks training inputs replaced by noise. Shape: ``(num_train,)``.
        name: e.g. ``"rot40"``.
        classes: the labels of this task's head (task-incremental: logits outside them are
            masked in training, replay and evaluation); None = every output (domain-incremental).
            Shape: ``(k,)`` int.
    """

    task_id: int
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    is_noise: Tensor = field(default=None)  # type: ignore[assignment]
    name: str = ""
    classes: Tensor | None = None

    def __post_init__(self) -> None:
        for split, (x, y) in {
            "train": (self.x_train, self.y_train),
            "test": (self.x_test, self.y_test),
        }.items():
            if x.ndim < 2:
                raise ValueError(
                    f"task {self.task_id}: x_{split} must be (N, ...features), got {x.shape}"
                )
            if len(x) != len(y):
                raise ValueError(
                    f"task {self.task_id}: x_{split} has {len(x)} rows, y_{split} {len(y)} "
                    "(both must be equal)"
                )
        if len(self.y_train) == 0:
            raise ValueError(f"task {self.task_id}: the training split is empty")
        if len(self.y_test) and self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"task {self.task_id}: train and test input sizes differ")
        if self.is_noise is None:
            self.is_noise = torch.zeros(len(self.y_train), dtype=torch.bool)
        if self.is_noise.shape != self.y_train.shape:
            raise ValueError(f"task {self.task_id}: is_noise must have shape {self.y_train.shape}")
        if self.classes is not None:
            self.classes = torch.as_tensor(self.classes, dtype=torch.long).flatten()
            outside = set(self.y_train.unique().tolist()) - set(self.classes.tolist())
            if outside:
                raise ValueError(
                    f"task {self.task_id}: labels {sorted(outside)} are not in its classes "
                    f"{self.classes.tolist()}"
                )
        self.name = self.name or f"task{self.task_id}"

    @property
    def in_dim(self) -> int:
        """Number of input features (the product of the feature shape)."""
        return int(math.prod(self.x_train.shape[1:]))

    @classmethod
    def from_batches(
        cls,
        train: Iterable[tuple[Tensor, Tensor]],
        test: Iterable[tuple[Tensor, Tensor]] | None = None,
        *,
        task_id: int = 0,
        classes: Tensor | Sequence[int] | None = None,
        name: str = "",
    ) -> Task:
        """A task read once from iterables of ``(x, y)`` batches (e.g. ``DataLoader``s).

        Args:
            train, test: batches ``(x (B, ...), y (B,))``; ``test`` may be omitted.
            task_id, classes, name: as the attributes.
        """
        xtr, ytr = _read_batches(train, "train")
        if test is None:
            xte, yte = xtr[:0], ytr[:0]
        else:
            xte, yte = _read_batches(test, "test")
        return cls(task_id, xtr, ytr, xte, yte, name=name, classes=classes)  # type: ignore[arg-type]


def _read_batches(batches: Iterable[tuple[Tensor, Tensor]], split: str) -> tuple[Tensor, Tensor]:
    xs, ys = [], []
    for item in batches:
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise TypeError(f"{split} batches must be (x, y) pairs, got {type(item).__name__}")
        xs.append(torch.as_tensor(item[0], dtype=torch.float32))
        ys.append(torch.as_tensor(item[1]).long().flatten())
    if not xs:
        raise ValueError(f"the {split} batches are empty")
    return torch.cat(xs), torch.cat(ys)


def rotate_images(images: Tensor, angle: float) -> Tensor:
    """Rotate square images counter-clockwise by ``angle`` degrees about their centre.

    Nearest-neighbour sampling and zero fill, as torchvision's default ``rotate`` in the official
    code. Shape: ``(N, H, W)`` float -> ``(N, H, W)``.
    """
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W), got {tuple(images.shape)}")
    if angle % 360 == 0:
        return images.clone()
    a = math.radians(angle)
    # affine_grid maps output coordinates to input ones, so use the inverse rotation.
    theta = torch.tensor(
        [[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]], dtype=images.dtype
    )
    grid = F.affine_grid(
        theta.expand(len(images), 2, 3), [len(images), 1, *images.shape[1:]], False
    )
    return F.grid_sample(images[:, None], grid, mode="nearest", align_corners=False)[:, 0]


def _noise_images(n: int, shape: tuple[int, ...], style: str, rng: np.random.Generator) -> Tensor:
    """``n`` noise images with values in [0, 1]. Shape: ``(n, *shape)``."""
    z = rng.standard_normal((n, *shape))
    if style == "official":
        # float -> uint8 cast of N(0, 1) in the official code: trunc(z) mod 256, then /255.
        return torch.from_numpy(np.mod(np.trunc(z), 256) / 255.0).float()
    if style == "gaussian":
        return torch.from_numpy(np.clip(0.5 + 0.5 * z, 0, 1)).float()
    raise ValueError(f"noise_style must be 'official' or 'gaussian', got {style!r}")


def _imbalanced_indices(
    y: np.ndarray, n: int, majority: Sequence[int], minority_fraction: float, rng
) -> np.ndarray:
    """About ``n`` indices with all majority-class images kept and ``minority_fraction`` of others,
    in the proportions of the official full-size variant."""
    weight = {c: 1.0 if c in majority else minority_fraction for c in np.unique(y)}
    full = {c: int((y == c).sum()) for c in weight}
    total = sum(weight[c] * full[c] for c in weight)
    scale = min(1.0, n / total)
    out = []
    for c in weight:
        k = max(1, round(scale * weight[c] * full[c]))
        out.append(rng.choice(np.flatnonzero(y == c), size=min(k, full[c]), replace=False))
    idx = np.concatenate(out)
    rng.shuffle(idx)
    return idx


def _draw_task(
    xtr: Tensor,
    ytr: np.ndarray,
    xte: Tensor,
    yte: np.ndarray,
    transform,
    *,
    variant: str,
    train_per_task: int | None,
    test_per_task: int | None,
    noise_fraction: float,
    noise_style: str,
    majority_classes: Sequence[int],
    minority_fraction: float,
    rng: np.random.Generator,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One task's flattened (x_train, y_train, x_test, y_test, is_noise): subset, ``transform``
    (e.g. a rotation) of the images, then the variant's corruption of the training split."""
    n_tr = len(ytr) if train_per_task is None else min(train_per_task, len(ytr))
    if variant == "imbalanced":
        tr_idx = _imbalanced_indices(ytr, n_tr, majority_classes, minority_fraction, rng)
    else:
        tr_idx = rng.permutation(len(ytr))[:n_tr]
    n_te = len(yte) if test_per_task is None else min(test_per_task, len(yte))
    te_idx = np.sort(rng.permutation(len(yte))[:n_te])
    x_t = transform(xtr[torch.from_numpy(tr_idx)])
    is_noise = torch.zeros(len(tr_idx), dtype=torch.bool)
    if variant == "noisy":
        k = round(noise_fraction * len(tr_idx))
        noisy = torch.from_numpy(rng.permutation(len(tr_idx))[:k])
        x_t[noisy] = _noise_images(k, tuple(x_t.shape[1:]), noise_style, rng)
        is_noise[noisy] = True
    x_test = transform(xte[torch.from_numpy(te_idx)]).flatten(1)
    return (
        x_t.flatten(1),
        torch.from_numpy(ytr[tr_idx]),
        x_test,
        torch.from_numpy(yte[te_idx]),
        is_noise,
    )


def rotated_stream(
    x_train: np.ndarray | Tensor,
    y_train: np.ndarray | Tensor,
    x_test: np.ndarray | Tensor,
    y_test: np.ndarray | Tensor,
    *,
    num_tasks: int = 20,
    angle_step: float = 9.0,
    variant: Variant = "balanced",
    train_per_task: int | None = None,
    test_per_task: int | None = None,
    noise_fraction: float = 0.6,
    noise_style: Literal["official", "gaussian"] = "official",
    majority_classes: Sequence[int] = (0, 5),
    minority_fraction: float = 0.1,
    pixel_scale: float = 255.0,
    seed: int = 0,
) -> list[Task]:
    """Rotated-image task stream (rotated MNIST when given MNIST; any square images work).

    Args:
        x_train, x_test: images, uint8 or float. Shape: ``(N, H, W)``.
        y_train, y_test: labels. Shape: ``(N,)``.
        num_tasks: number of tasks ``T``; task ``t`` is rotated by ``t * angle_step`` degrees.
        variant: ``"balanced"``, ``"noisy"`` or ``"imbalanced"`` (training sets only).
        train_per_task: random training images per task (None: all, as the official code).
        test_per_task: random test images per task (None: all).
        noise_fraction: share of training images replaced by noise (``noisy``).
        majority_classes, minority_fraction: the ``imbalanced`` profile.
        pixel_scale: inputs are divided by this (255 for uint8 MNIST, 16 for sklearn digits).
        seed: seeds subsets, noise and stream order.

    Returns:
        ``num_tasks`` :class:`Task` objects with flattened inputs.
    """
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be at least 1, got {num_tasks}")
    if variant not in ("balanced", "noisy", "imbalanced"):
        raise ValueError(f"variant must be balanced, noisy or imbalanced, got {variant!r}")
    if not 0 <= noise_fraction <= 1:
        raise ValueError(f"noise_fraction must be in [0, 1], got {noise_fraction}")
    xtr = torch.as_tensor(np.asarray(x_train), dtype=torch.float32) / pixel_scale
    xte = torch.as_tensor(np.asarray(x_test), dtype=torch.float32) / pixel_scale
    ytr, yte = np.asarray(y_train, dtype=np.int64), np.asarray(y_test, dtype=np.int64)
    if xtr.ndim != 3 or xtr.shape[1] != xtr.shape[2]:
        raise ValueError(f"x_train must be square images (N, H, W), got {tuple(xtr.shape)}")
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(num_tasks):
        angle = t * angle_step
        x_t, y_t, xe_t, ye_t, is_noise = _draw_task(
            xtr,
            ytr,
            xte,
            yte,
            lambda im, a=angle: rotate_images(im, a),
            variant=variant,
            train_per_task=train_per_task,
            test_per_task=test_per_task,
            noise_fraction=noise_fraction,
            noise_style=noise_style,
            majority_classes=majority_classes,
            minority_fraction=minority_fraction,
            rng=rng,
        )
        tasks.append(Task(t, x_t, y_t, xe_t, ye_t, is_noise=is_noise, name=f"rot{angle:g}"))
    return tasks


def dataset_sequence(
    datasets: Sequence[tuple[str, object, object, object, object]],
    *,
    image_size: int = 28,
    variant: Variant = "balanced",
    train_per_task: int | None = None,
    test_per_task: int | None = None,
    noise_fraction: float = 0.6,
    noise_style: Literal["official", "gaussian"] = "official",
    majority_classes: Sequence[int] = (0, 5),
    minority_fraction: float = 0.1,
    task_incremental: bool = True,
    shuffle_order: bool = True,
    seed: int = 0,
) -> list[Task]:
    """A stream of different data sets, one task each (the paper's "multiple datasets").

    The official ``ocs_mixture.py`` streams five data sets (MNIST, fashion-MNIST, notMNIST,
    traffic signs, SVHN; task order shuffled by the seed) through one network whose single output
    layer covers every data set's classes, masked to the current task's (task-incremental). Here
    any grayscale sets work: images are resized to ``image_size`` (bilinear, antialiased) and
    flattened; data set ``k``'s labels are shifted by the number of classes before it, so a model
    needs ``sum_k classes_k`` outputs, and each task carries its ``classes`` (its head) unless
    ``task_incremental=False`` (one shared label space, labels not shifted).
    The variants corrupt each data set's training split as in :func:`rotated_stream`
    (``majority_classes`` are a data set's own labels before the shift).

    Args:
        datasets: ``(name, x_train, y_train, x_test, y_test)`` per data set; images in [0, 1].
            Shape: x ``(N, H, W)`` or ``(N, 1, H, W)``; y ``(N,)`` ints from 0.
        image_size: side of the common square image size.
        shuffle_order: permute the data sets with ``seed`` (official ``shuffle(idata, seed)``).
        seed: seeds order, subsets and noise.
    """
    if variant not in ("balanced", "noisy", "imbalanced"):
        raise ValueError(f"variant must be balanced, noisy or imbalanced, got {variant!r}")
    if not datasets:
        raise ValueError("need at least one data set")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(datasets)) if shuffle_order else np.arange(len(datasets))

    def resize(im: Tensor) -> Tensor:
        if im.ndim == 4:
            if im.shape[1] != 1:
                raise ValueError(f"grayscale images needed, got {im.shape[1]} channels")
            im = im[:, 0]
        if im.ndim != 3:
            raise ValueError(f"images must be (N, H, W) or (N, 1, H, W), got {tuple(im.shape)}")
        if tuple(im.shape[1:]) == (image_size, image_size):
            return im.clone()
        out = F.interpolate(
            im[:, None], size=(image_size, image_size), mode="bilinear", antialias=True
        )
        return out[:, 0].clamp(0, 1)

    tasks, offset = [], 0
    for t, k in enumerate(order.tolist()):
        name, x_tr, y_tr, x_te, y_te = datasets[k]
        xtr = torch.as_tensor(np.asarray(x_tr), dtype=torch.float32)
        xte = torch.as_tensor(np.asarray(x_te), dtype=torch.float32)
        ytr, yte = np.asarray(y_tr, dtype=np.int64), np.asarray(y_te, dtype=np.int64)
        if float(xtr.max()) > 1.0 or float(xtr.min()) < 0.0:
            raise ValueError(f"{name}: images must be scaled to [0, 1]")
        x_t, y_t, xe_t, ye_t, is_noise = _draw_task(
            xtr,
            ytr,
            xte,
            yte,
            resize,
            variant=variant,
            train_per_task=train_per_task,
            test_per_task=test_per_task,
            noise_fraction=noise_fraction,
            noise_style=noise_style,
            majority_classes=majority_classes,
            minority_fraction=minority_fraction,
            rng=rng,
        )
        num_classes = int(max(ytr.max(), yte.max())) + 1
        shift = offset if task_incremental else 0
        classes = torch.arange(shift, shift + num_classes) if task_incremental else None
        tasks.append(
            Task(t, x_t, y_t + shift, xe_t, ye_t + shift, is_noise, str(name), classes=classes)
        )
        offset += num_classes
    return tasks


def _as_tensors(data: object) -> tuple[Tensor, Tensor]:
    """``(x, y)`` tensors from a pair of arrays or a map-style dataset of ``(x, y)`` items."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
        return torch.as_tensor(np.asarray(x), dtype=torch.float32), torch.as_tensor(
            np.asarray(y), dtype=torch.int64
        )
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        items = [data[i] for i in range(len(data))]  # type: ignore[arg-type]
        x = torch.stack([torch.as_tensor(np.asarray(a), dtype=torch.float32) for a, _ in items])
        y = torch.as_tensor([int(b) for _, b in items], dtype=torch.int64)
        return x, y
    raise TypeError("each dataset must be an (x, y) pair or a map-style dataset of (x, y) items")


def make_stream(
    train_sets: Sequence[object],
    test_sets: Sequence[object],
    *,
    noise_masks: Sequence[Tensor | None] | None = None,
    names: Sequence[str] | None = None,
) -> list[Task]:
    """A task stream from your own data: one ``(x, y)`` pair (or ``torch`` Dataset) per task.

    Inputs are flattened to ``(N, in_dim)``; labels must be integers shared across tasks
    (domain-incremental, one output head).

    Args:
        train_sets, test_sets: one entry per task, same length.
        noise_masks: optional per-task boolean masks of corrupted training samples (for the
            noise-share metrics). Shape of each: ``(num_train,)``.
        names: optional task names.
    """
    if len(train_sets) != len(test_sets) or not train_sets:
        raise ValueError(
            f"need one test set per train set (got {len(train_sets)} and {len(test_sets)})"
        )
    tasks = []
    for t, (tr, te) in enumerate(zip(train_sets, test_sets)):
        xtr, ytr = _as_tensors(tr)
        xte, yte = _as_tensors(te)
        mask = noise_masks[t] if noise_masks is not None else None
        tasks.append(
            Task(
                task_id=t,
                x_train=xtr.flatten(1),
                y_train=ytr,
                x_test=xte.flatten(1),
                y_test=yte,
                is_noise=None if mask is None else torch.as_tensor(mask, dtype=torch.bool),
                name=names[t] if names is not None else "",
            )
        )
    if len({t.in_dim for t in tasks}) != 1:
        raise ValueError("all tasks must have the same input size")
    return tasks
