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
    forced, _ = head_synchronous_boundaries(natural, eps)
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
    # eps >= T: no natural boundary is moved; only a head that never stops is (to the others'
    # rightmost boundary), so far - natural >= 0 carries exactly the never-stopping mass times
    # P(some other head stops)
    extra = far - natural
    assert (extra >= -1e-12).all()
    never = 1 - natural.sum(-1)  # (2, 3)
    none_other = torch.stack([(never[:, [1, 2]]).prod(-1), never[:, [0, 2]].prod(-1),
                              never[:, [0, 1]].prod(-1)], -1)  # fmt: skip
    assert torch.allclose(extra.sum(-1), never * (1 - none_other))
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
    forced, mask = head_synchronous_boundaries(b, eps_frames=1)
    # L = 1, R = 3: head 1 (none) -> min(3, 2) = 2, head 2 (3 > 2) -> 2
    assert forced.tolist() == [1, 2, 2] and mask.tolist() == [False, True, True]
    with pytest.raises(ValueError):
        head_synchronous_boundaries(b, -1)


@pytest.mark.parametrize(
    ("natural", "eps", "want", "moved"),
    [
        # L = 3, R = 9, L + eps = 5: the late head and the missing one both go to 5
        ([3, -1, 9, 4], 2, [3, 5, 5, 4], [0, 1, 1, 0]),
        # L = 3, R = 4 < 5: the missing head stops at R = 4, not at L + eps (neural_sp's min)
        ([3, -1, 4, 3], 2, [3, 4, 4, 3], [0, 1, 0, 0]),
        # a boundary exactly at L + eps stays and is not counted as forced
        ([3, 5, -1], 2, [3, 5, 5], [0, 0, 1]),
        # one head found: the others join it (R = L)
        ([-1, 6, -1], 3, [6, 6, 6], [1, 0, 1]),
        # eps = 0: every head at the leftmost boundary
        ([2, 5, -1], 0, [2, 2, 2], [0, 1, 1]),
        # no head found: nothing to synchronise with
        ([-1, -1], 2, [-1, -1], [0, 0]),
    ],
)
def test_forcing_matches_neural_sp_by_hand(natural, eps, want, moved):
    forced, mask = head_synchronous_boundaries(torch.tensor(natural), eps)
    assert forced.tolist() == want and mask.tolist() == [bool(m) for m in moved]
    # the rule is applied per row of a batch
    two, _ = head_synchronous_boundaries(torch.tensor([natural, natural]), eps)
    assert two.tolist() == [want, want]


def test_forcing_while_streaming_waits_until_the_outcome_is_settled():
    # R = 4 < L + eps = 5: the missing head may still stop (at >= 5 -> forced to 5) or never
    # (-> 4), so it stays undecided
    forced, mask = head_synchronous_boundaries(torch.tensor([3, -1, 4]), 2, complete=False)
    assert forced.tolist() == [3, -1, 4] and not mask.any()
    # R >= L + eps: whatever comes later, the missing head ends at L + eps
    forced, mask = head_synchronous_boundaries(torch.tensor([3, -1, 9]), 2, complete=False)
    assert forced.tolist() == [3, 5, 5] and mask.tolist() == [False, True, True]


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


def test_multi_step_drift_of_the_closed_form_against_sampled_hsd():
    """Several output steps of HSD, sampled, against the recurrence of the closed form.

    The closed form is exact for one step *given* each head's previous boundary distribution
    and heads independent. Over steps that assumption breaks: HSD moves forced heads onto the
    same frame, so the heads' boundaries become correlated, while the recurrence passes each
    head's marginal alone to the next step. So step 0 (all heads start at frame 0: independent)
    must match the samples to sampling error, and later steps drift beyond it.

    Tolerance: a histogram bin is a proportion with standard error sqrt(q (1 - q) / n) <=
    0.5 / sqrt(n); 5 of those bounds every one of the H * T = 64 bins with a false-alarm
    probability of ~1e-5.
    """
    h, t, steps, eps, n = 4, 16, 3, 1, 100_000
    tol = 5 * 0.5 / n**0.5  # 7.9e-3
    p = _probs(steps, h, t, seed=1, bias=-1.5)
    prev = torch.zeros(h, t, dtype=torch.float64)
    prev[:, 0] = 1.0
    g = torch.Generator().manual_seed(2)
    start = torch.zeros(n, h, dtype=torch.long)  # each sample's heads' previous boundaries
    live = torch.ones(n, dtype=torch.bool)  # a sample where no head stopped attends to nothing
    frames = torch.arange(t)
    errors = []
    for i in range(steps):
        prev = mutually_constrained_alignment(p[i], prev, eps)
        stop = torch.rand(n, h, t, generator=g, dtype=torch.float64) < p[i]
        first = torch.where(stop & (frames >= start.unsqueeze(-1)), frames, t).min(-1).values
        natural = torch.where((first < t) & live[:, None], first, torch.full_like(first, -1))
        forced, _ = head_synchronous_boundaries(natural, eps)
        live = (forced >= 0).all(-1)  # after forcing, all heads have a boundary or none does
        start = torch.where(forced >= 0, forced, start)
        hist = torch.stack(
            [torch.bincount(forced[:, k][forced[:, k] >= 0], minlength=t) for k in range(h)]
        )
        errors.append(float((prev - hist.double() / n).abs().max()))
    # measured (seeds above): [3.7e-03, 1.8e-02, 8.2e-02]
    assert errors[0] < tol  # one step: the closed form is the sampled HSD
    assert max(errors[1:]) > 5 * tol  # later steps: a real drift, not sampling noise
    assert max(errors) < 0.2  # ... of bounded size (guards against a regression)
