"""The glue between the compression reproduction's config and the components: the cluttered
data built from the configured image pool, and the evaluation of a model (accuracy, Grad-CAM
localisation on the images its seed's teacher gets right, Captum AUCs) that every unit of
:mod:`.train` runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from paperzoo.core import UnitContext

from ..cluttered import make_cluttered_digits
from ..gradcam import grad_cam
from ..localization import captum_attribution, localization_scores, map_agreement
from .config import Config

__all__ = ["LAYER", "evaluate", "gradcam_maps", "load_data"]

LAYER = "features"  # the matched and explained layer: the end of the conv stack (Sec. 3.2)


# --- data ------------------------------------------------------------------------------------
def _pool(cfg: Config, split: Any) -> np.ndarray:
    """(N, 1, h, w) images in [0, 1] -> (N, size, size) uint8 0..255 (area resampling)."""
    if split.image_shape[0] != 1:
        raise ValueError(f"{cfg.data.source}: cluttered digits need grayscale images")
    t = split.x * 255.0
    if split.normalization.startswith("uint8"):
        t = t.round()  # exact 0..255 integers, as the stored bytes
    t = F.interpolate(t, size=(cfg.data.digit_size,) * 2, mode="area")
    return t.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()


def load_data(cfg: Config, data_root: Any) -> tuple[tuple, tuple]:
    """((x, y) training tensors, (x, y, masks) test tensors) of cluttered digits."""
    from paperzoo.datasets import load_images

    d = cfg.data
    train, test = load_images(d.source, data_root)
    kw = dict(
        canvas_size=d.canvas_size,
        num_distractors=tuple(d.num_distractors),
        fragment_size=tuple(d.fragment_size),
    )
    tr = make_cluttered_digits(
        _pool(cfg, train), train.y.numpy(), d.num_train, seed=d.data_seed, **kw
    )
    te = make_cluttered_digits(
        _pool(cfg, test), test.y.numpy(), d.num_test, seed=d.data_seed + 1, **kw
    )
    x, y, _ = tr.tensors()
    return (x, y), te.tensors()


# --- evaluation --------------------------------------------------------------------------------
def gradcam_maps(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, reduction: str, chunk: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """Our Grad-CAM for the true class over the test set: (maps (N,h,w), logits (N,classes))."""
    maps, logits = [], []
    for i in range(0, len(x), chunk):
        r = grad_cam(
            model,
            LAYER,
            x[i : i + chunk],
            y[i : i + chunk],
            create_graph=False,
            reduction=reduction,
        )
        maps.append(r.maps)
        logits.append(r.logits)
    return torch.cat(maps), torch.cat(logits)


def evaluate(
    cfg: Config, model: nn.Module, test: tuple, teacher_maps: Any, ctx: UnitContext
) -> dict[str, float]:
    """Accuracy, and localisation on one image set shared by every arm of a seed: the test
    images the seed's teacher classifies correctly (``common``); Grad-CAM is taken for the true
    class, so it is defined whether or not this model gets the image right. The scores over
    this model's own correct images are kept as ``*_own`` for comparison with the official
    protocol, which averages over each model's own correct samples."""
    x, y, masks = test
    model.eval()
    maps, logits = gradcam_maps(model, x, y, cfg.matching.reduction)
    correct = logits.argmax(1) == y
    if teacher_maps is None:  # the teacher itself: its correct images define the common set
        teacher_maps, common = maps, correct
    else:
        teacher_maps, common = teacher_maps
    loc = localization_scores(maps, masks, common, cfg.pointing_tolerance)
    own = localization_scores(maps, masks, correct, cfg.pointing_tolerance)
    metrics = {
        "eval/accuracy": 100.0 * float(correct.float().mean()),
        "eval/accuracy_common": 100.0 * float(correct[common].float().mean()),
        "eval/common_images": float(common.sum()),
        "eval/auc": loc["auc"],
        "eval/pointing": 100.0 * loc["pointing"],
        "eval/auc_own": own["auc"],
        "eval/pointing_own": 100.0 * own["pointing"],
        "eval/agreement": float(np.mean(map_agreement(teacher_maps[common], maps[common]))),
    }
    n = min(cfg.num_eval_captum, len(y))
    for method in cfg.captum_methods:
        attr = captum_attribution(model, x[:n], y[:n], method, layer=model.get_submodule(LAYER))
        metrics[f"eval/auc_captum_{method}"] = localization_scores(attr, masks[:n], common[:n])[
            "auc"
        ]
    k = cfg.num_grid_examples
    ctx.artifact("maps", maps[:k].tolist())
    ctx.artifact("correct", correct[:k].tolist())
    if ctx.unit.params["comp"] == "teacher":  # the figure's test images, once per seed
        ctx.artifact("images", x[:k, 0].tolist())
        ctx.artifact("masks", masks[:k].float().tolist())
    return metrics
