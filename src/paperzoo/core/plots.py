"""Matplotlib helpers (Agg backend, imported lazily): learning curves and bar charts with CIs."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "bar_ci",
    "figure_problems",
    "learning_curves",
    "new_figure",
    "paired_difference",
    "paired_effects",
    "save_figure",
]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def new_figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (5.0, 3.5), **kw: Any):
    """``plt.subplots`` on the Agg backend; ``size`` is per panel."""
    plt = _plt()
    return plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False, **kw
    )


def figure_problems(fig: Any) -> list[str]:
    """What a reader would miss in ``fig``: a plotting panel without an x or y label, an image
    panel with a colour scale (not gray) and no colour bar. Empty when the figure is complete.

    Colour-bar axes and panels switched off (``ax.axis("off")``) are exempt; an image panel
    shown in gray is taken to be a picture (a digit, a canvas), not a map.
    """
    problems = []
    cbar_axes = {id(ax) for ax in fig.axes if getattr(ax, "_colorbar", None) is not None}
    cbar_axes |= {id(ax) for ax in fig.axes if ax.get_label() == "<colorbar>"}
    has_cbar = bool(cbar_axes)
    # A grid labels its outer panels only: a label anywhere in the panel's column (x) or row
    # (y) counts, and so does a figure-level supxlabel / supylabel.
    col_x: set[int] = set()
    row_y: set[int] = set()
    for ax in fig.axes:
        spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
        if spec is None:
            continue
        if ax.get_xlabel():
            col_x.update(spec.colspan)
        if ax.get_ylabel():
            row_y.update(spec.rowspan)
    sup_x = getattr(fig, "_supxlabel", None) is not None
    sup_y = getattr(fig, "_supylabel", None) is not None
    for i, ax in enumerate(fig.axes):
        if id(ax) in cbar_axes or not ax.axison or not ax.get_visible():
            continue
        name = ax.get_title() or f"panel {i}"
        if ax.images:
            cmap = ax.images[0].get_cmap().name
            if cmap not in ("gray", "gray_r", "Greys", "Greys_r", "binary") and not has_cbar:
                problems.append(f"{name}: image in colour map {cmap!r} without a colour bar")
            continue
        if not (ax.lines or ax.collections or ax.patches):
            continue
        spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
        cols = set(spec.colspan) if spec is not None else set()
        rows = set(spec.rowspan) if spec is not None else set()
        if not (ax.get_xlabel() or sup_x or (cols and cols & col_x)):
            problems.append(f"{name}: no x label")
        if not (ax.get_ylabel() or sup_y or (rows and rows & row_y)):
            problems.append(f"{name}: no y label")
    return problems


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically (temporary file + rename) and close it.

    With ``$PAPERZOO_STRICT_FIGURES=1`` (the test suite) a figure with
    :func:`figure_problems` raises instead of being saved.
    """
    path = Path(path)
    if os.environ.get("PAPERZOO_STRICT_FIGURES") == "1":
        problems = figure_problems(fig)
        if problems:
            _plt().close(fig)
            raise ValueError(f"figure {path.name}: " + "; ".join(problems))
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary name: two processes drawing the same figure never share it.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings():  # colour-bar axes are not tight_layout's business
            warnings.simplefilter("ignore", UserWarning)
            fig.tight_layout()
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _plt().close(fig)
    return path


def learning_curves(
    path: str | os.PathLike,
    curves: Mapping[str, tuple[Sequence[float], Sequence[Sequence[float]]]],
    *,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str = "",
    logy: bool = False,
) -> Path:
    """One line per arm: mean over seeds with a min-max band.

    Args:
        curves: ``{label: (x, values)}`` with ``values`` of shape (seeds, len(x)).
    """
    fig, axes = new_figure(size=(6, 4))
    ax = axes[0, 0]
    for label, (x, values) in curves.items():
        v = np.atleast_2d(np.asarray(values, dtype=float))
        (line,) = ax.plot(x, v.mean(0), label=label)
        if v.shape[0] > 1:
            ax.fill_between(x, v.min(0), v.max(0), color=line.get_color(), alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def bar_ci(
    path: str | os.PathLike,
    summary: Mapping[str, Mapping[str, Mapping[str, float | None]]],
    metrics: Sequence[str],
    *,
    arms: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Seed-means (points) with 95% CI whiskers, one panel per metric (``summary`` as in
    results). Points rather than bars from zero, so that differences of a few hundredths in an
    AUC near 0.95 stay visible; with many arms the panels are stacked."""
    arms = list(arms or summary)
    stacked = len(arms) > 6 and len(metrics) > 1
    width = max(3.0, 0.55 * len(arms) + 1.5)
    fig, grid = new_figure(
        len(metrics) if stacked else 1, 1 if stacked else len(metrics), size=(width, 3.0)
    )
    for ax, metric in zip(grid.flat, metrics):
        means = [summary[a][metric]["mean"] for a in arms]
        errs = [summary[a][metric]["ci95"] or 0.0 for a in arms]
        ax.errorbar(range(len(arms)), means, yerr=errs, fmt="o", capsize=3, color="C0")
        ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
        ax.set(title=metric, xlabel="arm", ylabel=f"{metric} (mean over seeds, CI95)")
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def paired_difference(
    path: str | os.PathLike,
    x: Sequence[float],
    curves: Mapping[str, Sequence[Sequence[float]]],
    baseline: str,
    *,
    xlabel: str = "step",
    ylabel: str = "metric",
    title: str = "",
) -> Path:
    """Curves of ``arm - baseline`` per seed: the mean difference with its Student-t CI95 band.

    Where arms' own curves overlap (five lines within a seed's noise), the paired difference
    shows what the claims judge: above the zero line the arm is ahead of the baseline.

    Args:
        x: the common x values. Shape: (T,).
        curves: ``{arm: values}`` with values of shape (seeds, T), seeds in the same order for
            every arm (pairing by position); must include ``baseline``.
    """
    from scipy import stats

    base = np.atleast_2d(np.asarray(curves[baseline], dtype=float))
    fig, axes = new_figure(size=(6, 4))
    ax = axes[0, 0]
    ax.axhline(0.0, color="k", lw=0.8, label=f"= {baseline}")
    for label, values in curves.items():
        if label == baseline:
            continue
        d = np.atleast_2d(np.asarray(values, dtype=float)) - base
        n = d.shape[0]
        mean = d.mean(0)
        (line,) = ax.plot(x, mean, label=f"{label} - {baseline} (n={n})")
        if n > 1:
            half = stats.t.ppf(0.975, n - 1) * d.std(0, ddof=1) / np.sqrt(n)
            ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=f"{ylabel}: arm - {baseline}")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def paired_effects(
    path: str | os.PathLike,
    arms: Mapping[str, Mapping[str, Sequence[float]]],
    pairs: Sequence[tuple[str, str]],
    metrics: Sequence[str],
    *,
    title: str = "",
) -> Path:
    """Paired per-seed differences ``arm - baseline`` for each pair: mean and Student-t CI95,
    one panel per metric, one row per pair, a zero line. What the claims judge, drawn.

    Args:
        arms: ``{arm: {metric: [value per seed]}}`` (seeds in the same order for every arm).
        pairs: ``(arm, baseline)`` pairs, top to bottom.
    """
    from scipy import stats

    fig, axes = new_figure(1, len(metrics), size=(3.4, 0.35 * len(pairs) + 1.2))
    for ax, metric in zip(axes[0], metrics):
        for row, (arm, base) in enumerate(pairs):
            d = np.asarray(arms[arm][metric], float) - np.asarray(arms[base][metric], float)
            n = d.size
            half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
            ax.errorbar(d.mean(), row, xerr=half, fmt="o", capsize=3, color=f"C{row % 10}")
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_yticks(range(len(pairs)), [f"{a} - {b}" for a, b in pairs], fontsize=7)
        ax.invert_yaxis()
        ax.set(xlabel=f"{metric}: paired difference", ylabel="arm - baseline")
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)
