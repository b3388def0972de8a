"""Localisation metrics against hand-computed values and scikit-learn."""

import numpy as np
import pytest
import torch

from paperzoo.compression import (
    localization_scores,
    map_agreement,
    minmax_normalize,
    pixel_auc,
    pointing_game,
    upsample_maps,
)


def test_pixel_auc_matches_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    g = torch.Generator().manual_seed(0)
    maps = torch.randint(0, 4, (3, 6, 6), generator=g).float()  # many ties
    masks = torch.rand(3, 6, 6, generator=g) > 0.6
    ours = pixel_auc(maps, masks)
    for i in range(3):
        ref = roc_auc_score(masks[i].flatten().numpy(), maps[i].flatten().numpy())
        assert ours[i] == pytest.approx(ref)


def test_pixel_auc_perfect_and_degenerate():
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, :2] = True
    assert pixel_auc(mask.float() * 5, mask)[0] == pytest.approx(1.0)
    assert pixel_auc(1 - mask.float(), mask)[0] == pytest.approx(0.0)
    assert np.isnan(pixel_auc(torch.rand(1, 4, 4), torch.zeros(1, 4, 4, dtype=torch.bool))[0])


def test_pointing_game_and_tolerance():
    maps = torch.zeros(2, 5, 5)
    maps[0, 1, 1] = 1.0
    maps[1, 4, 4] = 1.0
    masks = torch.zeros(2, 5, 5, dtype=torch.bool)
    masks[:, 1, 1] = True
    masks[1, 3, 3] = True
    assert pointing_game(maps, masks).tolist() == [True, False]
    assert pointing_game(maps, masks, tolerance=1).tolist() == [True, True]


def test_localization_scores_use_correct_samples_only():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[:, :4, :4] = True
    good = torch.zeros(1, 2, 2)
    good[0, 0, 0] = 1.0
    bad = torch.zeros(1, 2, 2)
    bad[0, 1, 1] = 1.0
    maps = torch.cat([good, bad])
    s = localization_scores(maps, masks, torch.tensor([True, False]))
    assert s["num_correct"] == 1.0 and s["pointing"] == 1.0 and s["auc"] > 0.9
    s_all = localization_scores(maps, masks, torch.tensor([True, True]))
    assert s_all["pointing"] == 0.5


def test_agreement_normalize_and_upsample():
    a = torch.rand(3, 4, 4)
    assert map_agreement(a, 2.0 * a) == pytest.approx(np.ones(3), abs=1e-6)
    n = minmax_normalize(a)
    assert n.flatten(1).min(1).values.abs().max() < 1e-7
    assert (n.flatten(1).max(1).values - 1).abs().max() < 1e-6
    assert upsample_maps(a, 8).shape == (3, 8, 8)


def test_captum_pixel_method_runs():
    pytest.importorskip("captum")
    from paperzoo.compression import SmallVGG, captum_attribution

    torch.manual_seed(0)
    model = SmallVGG(widths=(4, 4, 4), image_size=16, hidden_dim=8).eval()
    x = torch.rand(2, 1, 16, 16)
    y = torch.tensor([1, 2])
    attr = captum_attribution(model, x, y, "input_x_gradient")
    assert attr.shape == (2, 16, 16) and (attr >= 0).all()
    cam = captum_attribution(model, x, y, "layer_gradcam", layer=model.features)
    assert cam.shape == (2, 4, 4)
