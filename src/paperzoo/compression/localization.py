"""Localisation metrics for attribution maps: pixel ROC-AUC against a ground-truth mask, the
pointing game, teacher-student agreement, and Captum attributions for evaluation.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054
(``evaluate_localization.py`` in the official code). Pointing game: Zhang et al., ECCV 2016.

Each map is upsampled bilinearly to the image size and min-max normalised; the AUC treats every
pixel as a score for "inside the mask", and the pointing game asks whether the map's maximum lies
inside the mask. Both are averaged over correctly classified samples only.

Deviations from the paper: single-label data, so there is one (image, class) pair per image;
``tolerance`` > 0 (dilating the mask, as Zhang et al.) is available but the official code and our
presets use 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "captum_attribution",
    "localization_scores",
    "map_agreement",
    "minmax_normalize",
    "pixel_auc",
    "pointing_game",
    "upsample_maps",
]


def upsample_maps(maps: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of (batch, H, W) maps to (batch, *size)."""
    if maps.dim() == 4:
        maps = maps.squeeze(1)
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(maps.shape[1:]) == size:
        return maps
    return F.interpolate(maps.unsqueeze(1).float(), size=size, mode="bilinear").squeeze(1)


def minmax_normalize(maps: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Scale each (H, W) map to [0, 1] (an all-constant map becomes all zeros)."""
    flat = maps.flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    return ((flat - lo) / (hi - lo).clamp_min(eps)).view_as(maps)


def pixel_auc(maps: torch.Tensor, masks: torch.Tensor) -> np.ndarray:
    """Per-sample ROC-AUC of map values as scores for mask pixels (ties count one half).

    Computed with the Mann-Whitney rank statistic, which equals ``sklearn.metrics.roc_auc_score``.
    A sample whose mask is empty or full gets NaN.

    Shape:
        maps: (batch, H, W) at the mask's resolution; masks: (batch, H, W) bool; returns (batch,).
    """
    from scipy.stats import rankdata

    if maps.shape != masks.shape:
        raise ValueError(f"maps {tuple(maps.shape)} and masks {tuple(masks.shape)} differ")
    scores = maps.detach().flatten(1).double().cpu().numpy()
    pos = masks.flatten(1).bool().cpu().numpy()
    ranks = rankdata(scores, axis=1)  # average ranks for ties
    n_pos = pos.sum(1).astype(float)
    n_neg = pos.shape[1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * pos).sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def pointing_game(maps: torch.Tensor, masks: torch.Tensor, tolerance: int = 0) -> np.ndarray:
    """Per-sample hit: does the map's argmax pixel fall in the mask (dilated by ``tolerance`` px)?

    Shape:
        maps, masks: (batch, H, W); returns (batch,) bool.
    """
    if maps.shape != masks.shape:
        raise ValueError(f"maps {tuple(maps.shape)} and masks {tuple(masks.shape)} differ")
    m = masks.float().unsqueeze(1)
    if tolerance > 0:
        m = F.max_pool2d(m, 2 * tolerance + 1, stride=1, padding=tolerance)
    idx = maps.detach().flatten(1).argmax(1)
    return (m.flatten(1).gather(1, idx.view(-1, 1).to(m.device)).squeeze(1) > 0).cpu().numpy()


def map_agreement(maps_a: torch.Tensor, maps_b: torch.Tensor) -> np.ndarray:
    """Per-sample cosine similarity of two sets of maps (``maps_b`` resized to ``maps_a``).

    Shape:
        maps_a: (batch, H, W); maps_b: (batch, H', W'); returns (batch,) in [-1, 1].
    """
    maps_b = upsample_maps(maps_b, tuple(maps_a.shape[1:]))
    return F.cosine_similarity(maps_a.flatten(1), maps_b.flatten(1), dim=1, eps=1e-12).cpu().numpy()


def localization_scores(
    maps: torch.Tensor, masks: torch.Tensor, correct: torch.Tensor, tolerance: int = 0
) -> dict[str, float]:
    """Mean pixel AUC and pointing-game accuracy over the correctly classified samples.

    Args:
        maps: (batch, h, w) maps at any resolution; upsampled to the masks' size.
        masks: (batch, H, W) bool ground truth.
        correct: (batch,) bool, which samples the model classified correctly.

    Returns:
        ``{"auc", "pointing", "num_correct"}`` (AUC/pointing NaN when nothing is correct).
    """
    sel = correct.bool().cpu()
    if int(sel.sum()) == 0:
        return {"auc": float("nan"), "pointing": float("nan"), "num_correct": 0.0}
    up = minmax_normalize(upsample_maps(maps.detach().cpu()[sel], tuple(masks.shape[1:])))
    m = masks.cpu()[sel]
    return {
        "auc": float(np.nanmean(pixel_auc(up, m))),
        "pointing": float(pointing_game(up, m, tolerance).mean()),
        "num_correct": float(sel.sum()),
    }


def captum_attribution(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    method: Literal["layer_gradcam", "input_x_gradient", "saliency", "integrated_gradients"],
    layer: nn.Module | None = None,
) -> torch.Tensor:
    """Attribution maps from Captum (evaluation only: they carry no graph).

    ``layer_gradcam`` needs ``layer`` and returns its (batch, h, w) map; the pixel methods return
    (batch, H, W) absolute attributions summed over input channels.
    """
    from captum.attr import InputXGradient, IntegratedGradients, LayerGradCam, Saliency

    x = x.detach().clone().requires_grad_(True)
    if method == "layer_gradcam":
        if layer is None:
            raise ValueError("layer_gradcam needs a layer")
        attr = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
        return attr.detach().sum(1)
    if method == "input_x_gradient":
        attr = InputXGradient(model).attribute(x, target=target)
    elif method == "saliency":
        attr = Saliency(model).attribute(x, target=target, abs=True)
    elif method == "integrated_gradients":
        attr = IntegratedGradients(model).attribute(x, target=target, n_steps=16)
    else:
        raise ValueError(f"unknown Captum method {method!r}")
    return attr.detach().abs().sum(1)
