"""Figure checks: labelled axes, colour bars on maps, and the paired-difference plot."""

import numpy as np
import pytest

from paperzoo.core.plots import figure_problems, new_figure, paired_difference


def test_unlabelled_panels_and_colour_maps_without_bar_are_reported():
    fig, axes = new_figure(1, 2)
    axes[0, 0].plot([0, 1], [0, 1])
    axes[0, 1].imshow(np.eye(3), cmap="viridis")
    axes[0, 1].set_title("map")
    problems = figure_problems(fig)
    assert "panel 0: no x label" in problems and "panel 0: no y label" in problems
    assert "map: image in colour map 'viridis' without a colour bar" in problems
    axes[0, 0].set(xlabel="x", ylabel="y")
    fig.colorbar(axes[0, 1].images[0], ax=axes[0, 1])
    assert figure_problems(fig) == []


def test_outer_labels_of_a_grid_and_gray_pictures_are_enough():
    fig, axes = new_figure(2, 2)
    for ax in axes.flat:
        ax.plot([0, 1], [1, 0])
    for ax in axes[1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("loss")
    assert figure_problems(fig) == []
    fig2, ax2 = new_figure()
    ax2[0, 0].imshow(np.eye(3), cmap="gray")
    assert figure_problems(fig2) == []


def test_paired_difference_draws_mean_and_t_band(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    captured = {}
    real = plt.Axes.fill_between

    def spy(self, x, low, high, **kw):
        captured["band"] = (np.asarray(low), np.asarray(high))
        return real(self, x, low, high, **kw)

    monkeypatch.setattr(plt.Axes, "fill_between", spy)
    base = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    arm = [[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]]  # differences: mean (2, 2), sd (1, 0)
    out = paired_difference(tmp_path / "d.png", [1, 2], {"b": base, "a": arm}, "b")
    assert out.is_file()
    low, high = captured["band"]
    half = 4.302652729749464 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert low == pytest.approx([2 - half, 2.0]) and high == pytest.approx([2 + half, 2.0])


def test_paired_effects_draws_one_row_per_pair(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from paperzoo.core.plots import paired_effects

    rows = []
    real = plt.Axes.errorbar

    def spy(self, x, y, **kw):
        rows.append((float(x), float(y), float(np.asarray(kw.get("xerr", 0.0)))))
        return real(self, x, y, **kw)

    monkeypatch.setattr(plt.Axes, "errorbar", spy)
    arms = {"t": {"m": [1.0, 1.0, 1.0]}, "a": {"m": [2.0, 3.0, 4.0]}, "b": {"m": [1.0, 1.0, 1.0]}}
    out = paired_effects(tmp_path / "e.png", arms, [("a", "t"), ("b", "t")], ["m"])
    assert out.is_file()
    half = 4.302652729749464 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd(1, 2, 3) / sqrt(3)
    assert rows[0] == pytest.approx((2.0, 0.0, half)) and rows[1] == pytest.approx((0.0, 1.0, 0.0))
