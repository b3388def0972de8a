"""Differentiable Grad-CAM: equals Captum's LayerGradCam up to a positive scale, keeps a graph."""

import pytest
import torch

from paperzoo.compression import DifferentiableGradCam, SmallVGG, grad_cam


def _model(seed: int = 0) -> SmallVGG:
    torch.manual_seed(seed)
    return SmallVGG(widths=(4, 6, 8), image_size=16, hidden_dim=12).eval()


def test_matches_captum_layer_gradcam_up_to_positive_scale():
    captum_attr = pytest.importorskip("captum.attr")
    model = _model()
    x = torch.rand(5, 1, 16, 16)
    target = torch.tensor([0, 3, 7, 2, 9])
    ours = grad_cam(model, model.features, x, target, create_graph=False).maps  # sum reduction
    ref = captum_attr.LayerGradCam(model, model.features).attribute(
        x, target=target, relu_attributions=True
    )
    ref = ref.squeeze(1).detach()
    h, w = ours.shape[1:]
    # The official code sums the gradient over space, Captum averages it: a factor H*W.
    torch.testing.assert_close(ours, ref * h * w, rtol=1e-4, atol=1e-6)
    mean_maps = DifferentiableGradCam(model, "features").attribute(x, target, create_graph=False)
    torch.testing.assert_close(mean_maps, ref, rtol=1e-4, atol=1e-7)
    assert ref.abs().sum() > 0


def test_map_is_differentiable_in_parameters():
    model = _model(1)
    x = torch.rand(3, 1, 16, 16)
    maps = grad_cam(model, "features", x, create_graph=True).maps
    assert maps.requires_grad
    maps.pow(2).sum().backward()
    # The first conv only influences the map through the features and through the gradient.
    grad = model.features[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_target_none_uses_prediction_and_shapes():
    model = _model(2)
    x = torch.rand(4, 1, 16, 16)
    r = grad_cam(model, "features", x, create_graph=False)
    assert r.maps.shape == (4, 4, 4) and not r.maps.requires_grad
    assert torch.equal(r.target, r.logits.argmax(1))
    assert (r.maps >= 0).all()


def test_bad_target_shape_raises():
    model = _model()
    with pytest.raises(ValueError, match="target"):
        grad_cam(model, "features", torch.rand(2, 1, 16, 16), torch.tensor([1, 2, 3]))
