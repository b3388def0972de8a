"""Figures of the attribution-preserving compression reproduction: a grid of Grad-CAM maps of
the teacher and every student, and localisation / accuracy bars."""

from __future__ import annotations

import numpy as np
import torch

from paperzoo.core import Results, RunDir
from paperzoo.core.plots import bar_ci, new_figure, paired_effects, save_figure
from paperzoo.core.results import summarize

from ..localization import upsample_maps
from .config import Config

__all__ = ["figures", "notes"]


def _grid(path, images: np.ndarray, masks: np.ndarray, units: dict, k: int) -> None:
    """Rows: test images; columns: input, mask, then each model's Grad-CAM over the input.

    Drawn as one mosaic image (one axes), which renders far faster than a grid of subplots.
    """
    from matplotlib import colormaps

    side = images.shape[-1]
    names = list(units)
    cols = ["input", "mask", *names]
    pad = 2
    mosaic = np.ones((k * (side + pad), len(cols) * (side + pad), 3))
    jet = colormaps["jet"]
    for r in range(k):
        img = images[r]
        tiles = [np.stack([img] * 3, -1), np.stack([masks[r]] * 3, -1)]
        for name in names:
            m = upsample_maps(torch.tensor(units[name].artifacts["maps"][r]).unsqueeze(0), side)[0]
            m = (m - m.min()) / (m.max() - m.min()).clamp_min(1e-12)
            tile = 0.5 * jet(m.numpy())[..., :3] + 0.5 * img[..., None]
            if not units[name].artifacts["correct"][r]:
                tile[:2] = tile[-2:] = tile[:, :2] = tile[:, -2:] = (1.0, 0.0, 0.0)  # red = wrong
            tiles.append(tile)
        for c, tile in enumerate(tiles):
            y0, x0 = r * (side + pad), c * (side + pad)
            mosaic[y0 : y0 + side, x0 : x0 + side] = tile
    fig, axes = new_figure(1, 1, size=(0.9 * len(cols), 0.9 * k + 0.6))
    ax = axes[0, 0]
    ax.imshow(mosaic.clip(0, 1), interpolation="nearest")
    ax.set_xticks(
        [c * (side + pad) + side / 2 for c in range(len(cols))],
        cols,
        rotation=45,
        ha="left",
        fontsize=7,
    )
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.set_title("Grad-CAM of the true class (first seed); red frame = misclassified", fontsize=8)
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    # The overlays are RGB, so the scale they were coloured with is drawn explicitly.
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), jet), ax=ax, fraction=0.03, pad=0.02)
    bar.set_label("Grad-CAM, scaled to [0, 1] per map", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    save_figure(fig, path)


def figures(results: Results, run_dir: RunDir) -> None:
    seed0 = results.seeds[0]
    units = {arm: results.unit(arm, seed0) for arm in results.arms}
    teacher = units["teacher"].artifacts
    images, masks = np.asarray(teacher["images"]), np.asarray(teacher["masks"])
    _grid(run_dir.figure("map_grid"), images, masks, units, len(images))
    bar_ci(
        run_dir.figure("localisation_bars"),
        summarize(results.arms),
        ["eval/auc", "eval/pointing", "eval/accuracy"],
        title="mean ± 95% CI over seeds",
    )
    pairs = []
    for comp in ("kd", "prune", "struct"):
        if comp not in results.arms:
            continue
        pairs.append((comp, "teacher"))
        pairs += [(f"{comp}{s}", comp) for s in ("+at", "+wcam", "+wcam_stoch")
                  if f"{comp}{s}" in results.arms]  # fmt: skip
    if len(results.seeds) > 1 and pairs:
        paired_effects(
            run_dir.figure("paired_effects"),
            results.arms,
            pairs,
            ["eval/auc", "eval/pointing", "eval/accuracy"],
            title="paired per-seed differences: mean and CI95 (right of 0 = arm higher)",
        )


def notes(results: Results) -> str:
    cfg: Config = results.config
    d = cfg.data
    return (
        f"Cluttered {d.source} digits ({d.digit_size} px digits on a {d.canvas_size} px canvas, "
        f"{d.num_distractors[0]}-{d.num_distractors[1]} fragments of other classes), "
        f"{d.num_train} train / {d.num_test} test images. Teacher widths "
        f"{list(cfg.teacher.conv_dims)}, one per seed; KD student width "
        f"1/{cfg.distill.width_divisor}, {cfg.distill.num_epochs} epochs;"
        f" pruning to {100 * cfg.prune.final_sparsity:.0f} % conv sparsity in "
        f"{cfg.prune.num_iterations} iterations of {cfg.prune.epochs_per_iteration:g} epochs "
        f"(fine-tuning rate: {cfg.prune.lr_schedule}). beta = {cfg.matching.beta}, stochastic drop "
        f"{cfg.matching.stochastic_drop}. AUC and pointing game use our Grad-CAM of the true "
        "class on correctly classified test images; `eval/auc_captum_*` use Captum on the first "
        f"{cfg.num_eval_captum} test images; agreement is the cosine between the teacher's and "
        "the student's Grad-CAM maps. Accuracy, pointing and sparsity are in %."
    )
