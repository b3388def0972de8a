"""Cluttered-digit localisation data: a digit at a random position on a larger canvas, with
fragments of other digits as distractors, and the target digit's pixels as ground-truth mask.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054. The paper evaluates on
PASCAL VOC segmentation masks, which are not available here; this data set (in the spirit of
cluttered MNIST, Mnih et al. 2014) gives every image a pixel mask of the object to be explained,
and the distractors give the model something else to look at.

Deviations from the paper: synthetic single-label data instead of VOC multi-label images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["ClutteredDigits", "make_cluttered_digits"]


@dataclass
class ClutteredDigits:
    """A cluttered localisation set.

    Attributes:
        images: (num_samples, canvas, canvas) uint8 in 0..255.
        labels: (num_samples,) int64, the target digit's class.
        masks: (num_samples, canvas, canvas) bool, the target digit's pixels.
        boxes: (num_samples, 4) int64 ``(top, left, height, width)`` of the target digit.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x float32 (N, 1, S, S) in [0, 1], y int64 (N,), mask bool (N, S, S))``."""
        x = torch.from_numpy(self.images).float().div_(255.0).unsqueeze(1)
        return x, torch.from_numpy(self.labels), torch.from_numpy(self.masks)


def _crop_with_ink(
    img: np.ndarray, size: int, rng: np.random.Generator, tries: int = 4
) -> np.ndarray:
    """The inkiest of ``tries`` random square crops (an empty fragment distracts nothing)."""
    h, w = img.shape
    best, best_ink = img[:size, :size], -1.0
    for _ in range(tries):
        r, c = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        crop = img[r : r + size, c : c + size]
        ink = float(crop.sum())
        if ink > best_ink:
            best, best_ink = crop, ink
    return best


def make_cluttered_digits(
    digits: np.ndarray,
    labels: np.ndarray,
    num_samples: int,
    *,
    canvas_size: int = 56,
    num_distractors: tuple[int, int] = (3, 6),
    fragment_size: tuple[int, int] = (9, 14),
    mask_threshold: float = 0.3,
    avoid_target: bool = True,
    seed: int = 0,
) -> ClutteredDigits:
    """Build ``num_samples`` cluttered images from a pool of digits (deterministic in ``seed``).

    Each image: a random target digit at a uniformly random position; then between
    ``num_distractors[0]`` and ``num_distractors[1]`` square fragments (side drawn from
    ``fragment_size``) cropped from digits of *other* classes at random positions. Pixels combine
    by maximum. The mask is the target's pixels above ``mask_threshold`` of the maximum intensity.

    Args:
        digits: (pool, h, w) uint8 digit images (MNIST: 28 x 28; scaled sklearn digits: 16 x 16).
        labels: (pool,) int classes.
        num_samples: images to build.
        canvas_size: side of the square canvas (>= h, w).
        num_distractors: inclusive range of fragments per image.
        fragment_size: inclusive range of fragment sides in pixels (<= h, w).
        mask_threshold: fraction of 255 above which a target pixel is in the mask.
        avoid_target: re-draw (up to 10 times) a fragment whose square overlaps the central part of
            the target's box, so that distractors do not occlude the target digit.
        seed: seed of the generator.

    Shape:
        returns images/masks (num_samples, canvas_size, canvas_size).
    """
    digits = np.asarray(digits)
    labels = np.asarray(labels).astype(np.int64)
    if digits.ndim != 3 or len(digits) != len(labels) or len(digits) == 0:
        raise ValueError("digits must be (pool, h, w) with one label per image, pool > 0")
    pool, h, w = digits.shape
    if canvas_size < max(h, w) or fragment_size[1] > min(h, w) or fragment_size[0] < 1:
        raise ValueError("need fragment_size <= digit size <= canvas_size")
    if len(np.unique(labels)) < 2:
        raise ValueError("distractors come from other classes: need at least two classes")
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(labels != c) for c in np.unique(labels)}
    images = np.zeros((num_samples, canvas_size, canvas_size), np.uint8)
    masks = np.zeros((num_samples, canvas_size, canvas_size), bool)
    out_labels = np.zeros(num_samples, np.int64)
    boxes = np.zeros((num_samples, 4), np.int64)
    # The target's inner box (digits sit inside a margin in MNIST), which distractors avoid.
    mh, mw = h // 7, w // 7
    for i in range(num_samples):
        t = int(rng.integers(pool))
        top, left = (int(v) for v in rng.integers(0, canvas_size - np.array([h, w]) + 1))
        canvas = np.zeros((canvas_size, canvas_size), np.uint8)
        for _ in range(int(rng.integers(num_distractors[0], num_distractors[1] + 1))):
            j = int(rng.choice(by_class[labels[t]]))
            f = int(rng.integers(fragment_size[0], fragment_size[1] + 1))
            frag = _crop_with_ink(digits[j], f, rng)
            for _attempt in range(10):
                r, c = (int(v) for v in rng.integers(0, canvas_size - f + 1, size=2))
                overlaps = (
                    r < top + h - mh
                    and r + f > top + mh
                    and c < left + w - mw
                    and c + f > left + mw
                )
                if not (avoid_target and overlaps):
                    break
            np.maximum(canvas[r : r + f, c : c + f], frag, out=canvas[r : r + f, c : c + f])
        region = canvas[top : top + h, left : left + w]
        np.maximum(region, digits[t], out=region)
        masks[i, top : top + h, left : left + w] = digits[t] >= mask_threshold * 255
        images[i], out_labels[i], boxes[i] = canvas, labels[t], (top, left, h, w)
    return ClutteredDigits(images, out_labels, masks, boxes)
