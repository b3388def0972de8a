"""Matching losses: zero for equal maps, scale invariance, finite-difference gradients."""

import pytest
import torch

from paperzoo.compression import (
    AttributionMatchingLoss,
    SmallVGG,
    attention_map,
    normalized_map_distance,
    random_channel_mask,
)


def test_distance_zero_for_identical_maps():
    m = torch.rand(4, 5, 5)
    assert normalized_map_distance(m, m.clone()).item() == pytest.approx(0.0, abs=1e-12)


def test_distance_invariant_to_positive_scaling():
    torch.manual_seed(0)
    a, b = torch.rand(3, 6, 6), torch.rand(3, 6, 6)
    scale = torch.tensor([0.1, 3.0, 250.0]).view(3, 1, 1)
    d = normalized_map_distance(a, b)
    torch.testing.assert_close(normalized_map_distance(a * scale, b), d)
    torch.testing.assert_close(normalized_map_distance(a, b * scale), d)
    assert normalized_map_distance(a, 7.0 * a).item() == pytest.approx(0.0, abs=1e-12)


def test_distance_hand_computed():
    a = torch.tensor([[[3.0, 4.0]]])  # normalises to (0.6, 0.8)
    b = torch.tensor([[[1.0, 0.0]]])
    expected = ((0.6 - 1.0) ** 2 + 0.8**2) / 2
    assert normalized_map_distance(a, b).item() == pytest.approx(expected)


def test_attention_map_and_channel_mask():
    f = torch.tensor([[[[1.0]], [[3.0]]]])  # (1, 2, 1, 1)
    assert attention_map(f).item() == pytest.approx((1 + 9) / 2)
    g = torch.Generator().manual_seed(0)
    mask = random_channel_mask(64, 0.3, generator=g)
    assert int((mask == 0).sum()) == int(64 * 0.3)
    g2 = torch.Generator().manual_seed(0)
    assert torch.equal(mask, random_channel_mask(64, 0.3, generator=g2))


def _pair(student_div: int = 2):
    torch.manual_seed(0)
    teacher = SmallVGG(widths=(4, 8), image_size=8, hidden_dim=8, num_pooled=1).double().eval()
    student = SmallVGG(
        widths=(4, 8), width_divisor=student_div, image_size=8, hidden_dim=8, num_pooled=1
    )
    return teacher, student.double()


@pytest.mark.parametrize("kind", ["wcam", "at"])
def test_gradient_matches_finite_differences(kind):
    teacher, student = _pair()
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    loss_fn = AttributionMatchingLoss(teacher, student, "features", "features", kind=kind, beta=1.0)
    loss_fn(x).loss.backward()  # double backprop for WCAM
    gen = torch.Generator().manual_seed(1)
    eps = 1e-6
    checked = 0
    for name, p in student.named_parameters():
        if p.grad is None or "features" not in name:
            continue
        flat_grad, flat = p.grad.view(-1), p.data.view(-1)
        for j in torch.randperm(flat.numel(), generator=gen)[:3].tolist():
            orig = flat[j].item()
            flat[j] = orig + eps
            up = loss_fn(x).loss.item()
            flat[j] = orig - eps
            down = loss_fn(x).loss.item()
            flat[j] = orig
            assert flat_grad[j].item() == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-9)
            checked += 1
    assert checked >= 6
    assert any(p.grad.abs().sum() > 0 for p in student.parameters() if p.grad is not None)


def test_different_widths_and_teacher_untouched():
    teacher, student = _pair(student_div=4)
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    out = AttributionMatchingLoss(teacher, student, "features", "features", beta=100.0)(x)
    assert out.loss.item() == pytest.approx(100.0 * out.distance.item())
    assert out.teacher_map.shape == out.student_map.shape == (2, 4, 4)
    out.loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.requires_grad for p in teacher.parameters())  # restored after the call
    assert student.features[0].weight.grad is not None
    torch.testing.assert_close(out.target, teacher(x).argmax(1))


def test_identical_networks_give_zero_loss():
    teacher, _ = _pair()
    import copy

    student = copy.deepcopy(teacher)
    x = torch.rand(3, 1, 8, 8, dtype=torch.float64)
    out = AttributionMatchingLoss(teacher, student, "features", "features")(x)
    assert out.distance.item() == pytest.approx(0.0, abs=1e-20)


def test_stochastic_drop_changes_teacher_map_reproducibly():
    teacher, student = _pair()
    x = torch.rand(4, 1, 8, 8, dtype=torch.float64)

    def maps(seed):
        g = torch.Generator().manual_seed(seed)
        loss = AttributionMatchingLoss(
            teacher, student, "features", "features", stochastic_drop=0.5, generator=g
        )
        return loss.teacher_maps(x)[0]

    full = AttributionMatchingLoss(teacher, student, "features", "features").teacher_maps(x)[0]
    assert torch.equal(maps(3), maps(3))
    assert not torch.allclose(maps(3), full)


def test_invalid_arguments():
    teacher, student = _pair()
    with pytest.raises(ValueError):
        AttributionMatchingLoss(teacher, student, "features", "features", kind="lrp")
    with pytest.raises(ValueError):
        AttributionMatchingLoss(teacher, student, "features", "features", kind="at",
                                stochastic_drop=0.3)  # fmt: skip
    with pytest.raises(ValueError):
        normalized_map_distance(torch.rand(2, 3, 3), torch.rand(3, 3, 3))


def test_functional_loss_matches_captum_layer_gradcam_maps():
    captum_attr = pytest.importorskip("captum.attr")
    from paperzoo.compression import attribution_preserving_loss

    torch.manual_seed(3)  # a seed whose random nets give non-zero maps for every image
    teacher = SmallVGG(widths=(4, 6, 8), image_size=16, hidden_dim=12).eval()
    student = SmallVGG(widths=(4, 6, 8), width_divisor=2, image_size=16, hidden_dim=12).eval()
    x = torch.rand(6, 1, 16, 16)
    out = attribution_preserving_loss(student, teacher, x, "features", beta=100.0)
    assert (out.teacher_map.flatten(1).sum(1) > 0).all()
    assert (out.student_map.flatten(1).sum(1) > 0).all()
    target = teacher(x).argmax(1)  # WCAM explains the teacher's predicted class
    assert torch.equal(out.target, target)
    for net, got in ((teacher, out.teacher_map), (student, out.student_map)):
        ref = captum_attr.LayerGradCam(net, net.features).attribute(
            x, target=target, relu_attributions=True
        )
        h, w = got.shape[1:]
        torch.testing.assert_close(
            got.detach(), ref.squeeze(1).detach() * h * w, rtol=1e-4, atol=1e-6
        )
    # the functional form is the module's forward
    ref_loss = AttributionMatchingLoss(teacher, student, "features", "features")(x).loss
    torch.testing.assert_close(out.loss, ref_loss)
    out.loss.backward()
    assert student.features[0].weight.grad.abs().sum() > 0


def _official_teacher_map(teacher, x, dropped):
    """The teacher's stochastic map as the official code defines it (pascal/model/vgg.py,
    ``cal_grad`` with TS='Teacher', commit ed5008a), written out independently: the gradient
    of the full teacher's top logit w.r.t. the matched features, the *features* of the dropped
    channels zeroed afterwards (the weights keep the full gradient), the weights the spatial
    sum, then ReLU of the weighted channel sum."""
    feats = {}
    hook = teacher.features.register_forward_hook(lambda m, i, o: feats.update(a=o))
    logits = teacher(x)
    hook.remove()
    a = feats["a"]
    top = logits.argmax(1)
    (grad,) = torch.autograd.grad(logits.gather(1, top[:, None]).sum(), a)
    a = a.detach().clone()
    a[:, dropped] = 0.0  # the same channels for every sample of the batch
    weights = grad.sum(dim=(2, 3))
    return torch.relu((weights[:, :, None, None] * a).sum(1)), top


def test_stochastic_matching_is_the_official_teacher_channel_erasure():
    teacher, student = _pair()
    x = torch.rand(5, 1, 8, 8, dtype=torch.float64)
    channels = 8  # the teacher's matched layer (the official: 512 of VGG16's last block)
    loss = AttributionMatchingLoss(
        teacher,
        student,
        "features",
        "features",
        stochastic_drop=0.3,
        generator=torch.Generator().manual_seed(11),
    )
    plain = AttributionMatchingLoss(teacher, student, "features", "features")
    replay = torch.Generator().manual_seed(11)  # the same draws, to know which were dropped
    drawn = []
    for _ in range(6):  # six batches: a fresh draw each
        mask = random_channel_mask(channels, 0.3, generator=replay)
        dropped = (mask == 0).nonzero().flatten()
        assert dropped.numel() == int(channels * 0.3)  # random.sample(range(512), int(512*p))
        drawn.append(tuple(dropped.tolist()))
        out = loss(x)
        want, top = _official_teacher_map(teacher, x, dropped)
        torch.testing.assert_close(out.teacher_map, want)
        # the class explained is the full teacher's prediction, not the dropped map's
        assert torch.equal(out.target, top)
        # the student's map is never dropped: equal to deterministic WCAM's
        torch.testing.assert_close(out.student_map, plain(x).student_map)
    assert len(set(drawn)) > 1  # drawn afresh per batch, not once per run
    full, _ = _official_teacher_map(teacher, x, torch.tensor([], dtype=torch.long))
    torch.testing.assert_close(plain(x).teacher_map, full)
