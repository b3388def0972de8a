"""Monotonic attention maths: the parallel expected alignment against the recurrence, the
mutually-constrained alignment against a Monte Carlo simulation of head-synchronous forcing,
its limits and gradients, and the hard decisions."""

import pytest
import torch

from paperzoo.asr.monotonic import (
    expected_alignment,
    expected_alignment_naive,
    hard_monotonic_boundaries,
    head_synchronous_boundaries,
    mutually_constrained_alignment,
)


def _probs(*shape, seed=0, scale=1.5, bias=-1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.sigmoid(scale * torch.randn(*shape, generator=g, dtype=torch.float64) + bias)


def _prev(*shape, seed=1):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(*shape, generator=g, dtype=torch.float64) ** 3
    return a / a.sum(-1, keepdim=True)


def test_parallel_alignment_equals_the_recurrence_and_hand_values():
    p, prev = _probs(3, 4, 12), _prev(3, 4, 12)
    assert torch.allclose(expected_alignment(p, prev), expected_alignment_naive(p, prev))
    # by hand, T = 3, start at frame 0: alpha = [p0, (1-p0) p1, (1-p0)(1-p1) p2]
    p = torch.tensor([0.5, 0.25, 1.0], dtype=torch.float64)
    got = expected_alignment(p, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    assert torch.allclose(got, torch.tensor([0.5, 0.125, 0.375], dtype=torch.float64))


def _simulate(p, prev, eps, n=200_000, seed=0):
    """Sample HSD: each head's previous boundary ~ prev (independently), it stops at the first
    frame j >= previous with prob p_j, then the leftmost-plus-eps forcing is applied."""
    g = torch.Generator().manual_seed(seed)
    h, t = p.shape
    start = torch.stack([torch.multinomial(prev[k], n, True, generator=g) for k in range(h)], 1)
    stop = torch.rand(n, h, t, generator=g, dtype=torch.float64) < p  # (n, H, T)
    frames = torch.arange(t)
    ok = stop & (frames >= start.unsqueeze(-1))
    first = torch.where(ok, frames, t).min(-1).values
    natural = torch.where(first < t, first, torch.full_like(first, -1))
    forced, _ = head_synchronous_boundaries(natural, eps, t)
    hist = torch.zeros(h, t, dtype=torch.float64)
    for k in range(h):
        b = forced[:, k]
        hist[k] = torch.bincount(b[b >= 0], minlength=t).double() / n
    return hist


@pytest.mark.parametrize("eps", [0, 1, 3])
def test_constrained_alignment_matches_a_simulation_of_forcing(eps):
    p, prev = _probs(4, 16, seed=eps, bias=-1.5), _prev(4, 16, seed=eps + 10)
    want = _simulate(p, prev, eps)
    got = mutually_constrained_alignment(p, prev, eps)
    assert (got - want).abs().max() < 4e-3  # sampling error of 200k draws: ~1e-3


def test_constrained_alignment_limits_and_mass():
    p, prev = _probs(2, 3, 10), _prev(2, 3, 10)
    natural = expected_alignment(p, prev)
    far = mutually_constrained_alignment(p, prev, eps_frames=10)
    assert torch.allclose(far, natural)  # eps >= T: nothing can be forced
    tight = mutually_constrained_alignment(p, prev, eps_frames=0)
    # forcing only moves mass earlier or rescues heads that never stop: mass never drops
    assert (tight.sum(-1) >= natural.sum(-1) - 1e-12).all()
    assert (tight.sum(-1) <= 1 + 1e-12).all()
    # heads on dim 1 instead of -2
    moved = mutually_constrained_alignment(p.transpose(1, 2), prev.transpose(1, 2), 0, head_dim=2)
    assert torch.allclose(moved.transpose(1, 2), tight)
    with pytest.raises(ValueError):
        mutually_constrained_alignment(p, prev, -1)


def test_constrained_alignment_gradients():
    p = _probs(3, 7).requires_grad_(True)
    prev = _prev(3, 7)
    assert torch.autograd.gradcheck(lambda x: mutually_constrained_alignment(x, prev, 1), (p,))
    # detaching the others changes the gradient but not the value
    x = p.detach().clone().requires_grad_(True)
    y = p.detach().clone().requires_grad_(True)
    a = mutually_constrained_alignment(x, prev, 1)
    b = mutually_constrained_alignment(y, prev, 1, detach_others=True)
    assert torch.allclose(a, b)
    a[0].sum().backward()
    b[0].sum().backward()
    assert y.grad[1:].abs().max() == 0 and x.grad[1:].abs().max() > 0


def test_hard_boundaries_and_forcing_by_hand():
    p = torch.tensor([[0.1, 0.7, 0.2, 0.9], [0.1, 0.2, 0.3, 0.4], [0.6, 0.1, 0.1, 0.8]])
    b = hard_monotonic_boundaries(p, torch.tensor([0, 0, 1]))
    assert b.tolist() == [1, -1, 3]
    forced, mask = head_synchronous_boundaries(b, eps_frames=1, num_frames=4)
    assert forced.tolist() == [1, 2, 2] and mask.tolist() == [False, True, True]
    forced, mask = head_synchronous_boundaries(torch.tensor([3, -1]), 2, num_frames=4)
    assert forced.tolist() == [3, -1] and mask.tolist() == [False, True]  # past the end: none
    forced, mask = head_synchronous_boundaries(torch.tensor([-1, -1]), 2, num_frames=4)
    assert forced.tolist() == [-1, -1] and not mask.any()


def test_gradients_stay_finite_where_float32_saturates():
    from paperzoo.asr.attention import chunkwise_attention

    e = torch.tensor([[-30.0, 40.0, 25.0, -5.0, 60.0, 2.0]], requires_grad=True)
    p = torch.sigmoid(e)  # exactly 1.0 and ~0 in float32
    prev = torch.tensor([[1.0, 0, 0, 0, 0, 0]])
    a = expected_alignment(p, prev)
    u = torch.tensor([[0.0, -1e4, -1e4, 3.0, -1e4, 1.0]], requires_grad=True)
    (chunkwise_attention(a, u, 3) * torch.arange(6.0)).sum().backward()
    assert torch.isfinite(e.grad).all() and torch.isfinite(u.grad).all()
    assert torch.allclose(a, expected_alignment_naive(p.detach(), prev), atol=1e-6)
