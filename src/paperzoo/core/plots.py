"""Matplotlib helpers (Agg backend, imported lazily): learning curves and bar charts with CIs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bar_ci", "learning_curves", "new_figure", "save_figure"]


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


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically (temporary file + rename) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=dpi)
    os.replace(tmp, path)
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
    """Bars of seed-means with 95% CI whiskers, one panel per metric (``summary`` as in results)."""
    arms = list(arms or summary)
    fig, axes = new_figure(1, len(metrics), size=(max(3.0, 0.7 * len(arms) + 1.5), 3.5))
    for ax, metric in zip(axes[0], metrics):
        means = [summary[a][metric]["mean"] for a in arms]
        errs = [summary[a][metric]["ci95"] or 0.0 for a in arms]
        ax.bar(range(len(arms)), means, yerr=errs, capsize=3, color="C0", alpha=0.8)
        ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
