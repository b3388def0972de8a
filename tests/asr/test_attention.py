"""Monotonic multihead attention: chunkwise distribution by hand and brute force, the training
forward against an explicit recurrence, HeadDrop, the mutual constraint's limit, and hard
decoding steps with head-synchronous forcing."""

import pytest
import torch

from paperzoo.asr.attention import MonotonicMultiheadAttention, chunkwise_attention
from paperzoo.asr.monotonic import expected_alignment_naive


def test_chunkwise_attention_against_brute_force():
    g = torch.Generator().manual_seed(0)
    alpha = torch.rand(2, 9, generator=g, dtype=torch.float64)
    u = torch.randn(2, 9, generator=g, dtype=torch.float64)
    w = 3
    want = torch.zeros_like(alpha)
    for j in range(9):
        for k in range(j, min(j + w, 9)):
            lo = max(0, k - w + 1)
            want[:, j] += alpha[:, k] * torch.exp(u[:, j]) / torch.exp(u[:, lo : k + 1]).sum(-1)
    got = chunkwise_attention(alpha, u, w)
    assert torch.allclose(got, want)
    assert torch.allclose(got.sum(-1), alpha.sum(-1))  # chunking redistributes, keeps mass
    assert torch.equal(chunkwise_attention(alpha, u, 1), alpha)
    with pytest.raises(ValueError):
        chunkwise_attention(alpha, u, 0)


def _mma(**kw):
    torch.manual_seed(0)
    return MonotonicMultiheadAttention(8, 2, **kw).double()


def test_forward_is_the_expected_alignment_recurrence():
    m = _mma(noise_std=0.0, headdrop=0.0).train()
    q, mem = torch.randn(1, 3, 8, dtype=torch.float64), torch.randn(1, 5, 8, dtype=torch.float64)
    out, alpha = m(q, mem)
    p = torch.sigmoid(m.energies(q, mem))
    prev = torch.zeros(1, 2, 5, dtype=torch.float64)
    prev[..., 0] = 1
    for i in range(3):
        prev = expected_alignment_naive(p[:, :, i], prev)
        assert torch.allclose(alpha[:, :, i], prev)
    v = m.v(mem).view(1, 5, 2, 4).transpose(1, 2)
    ctx = (alpha @ v).transpose(1, 2).reshape(1, 3, 8)
    assert torch.allclose(out, m.out(ctx))


def test_mutual_constraint_with_a_wide_window_is_plain_mma_and_masks_hold():
    q, mem = torch.randn(2, 4, 8, dtype=torch.float64), torch.randn(2, 6, 8, dtype=torch.float64)
    plain = _mma(noise_std=0.0, headdrop=0.0).eval()
    wide = _mma(noise_std=0.0, headdrop=0.0, constraint="mutual", eps_train=6).eval()
    a_plain, a_wide = plain(q, mem)[1][:, :, 0], wide(q, mem)[1][:, :, 0]  # first step
    # eps >= T moves no natural boundary; a head that never stops joins the other's
    # boundary (neural_sp's min(R, L + eps) = R), so the difference is exactly that mass
    never = 1 - a_plain.sum(-1)  # (B, 2)
    assert (a_wide - a_plain >= -1e-12).all()
    assert torch.allclose((a_wide - a_plain).sum(-1), never * (1 - never.flip(-1)))
    tight = _mma(noise_std=0.0, headdrop=0.0, constraint="mutual", eps_train=0).eval()
    assert not torch.allclose(plain(q, mem)[1], tight(q, mem)[1])
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False
    _, alpha = plain(q, mem, memory_mask=mask)
    assert alpha[1, :, :, 4:].abs().max() == 0  # padding frames never hold a boundary


@pytest.mark.parametrize("eps", [0, 1, 2])
def test_mutual_constraint_puts_no_forced_mass_on_padding(eps):
    torch.manual_seed(4)
    m = MonotonicMultiheadAttention(8, 4, constraint="mutual", eps_train=eps, init_r=-3.0,
                                    noise_std=0.0, headdrop=0.0).double().eval()  # fmt: skip
    q, mem = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 9, 8, dtype=torch.float64)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False  # utterance 1 has 6 valid frames
    out, alpha = m(q, mem, memory_mask=mask)
    assert alpha[1, :, :, 6:].abs().max() == 0  # exactly: no forced mass on padding
    # the closed form itself (before the layer's mask) already gives exactly 0 there
    from paperzoo.asr.monotonic import mutually_constrained_alignment

    p = torch.rand(4, 9, dtype=torch.float64) * 0.3
    p[:, 6:] = 0.0
    prev = torch.zeros(4, 9, dtype=torch.float64)
    prev[:, 0] = 1.0
    assert mutually_constrained_alignment(p, prev, eps)[:, 6:].abs().max() == 0
    # the padded utterance alone, unpadded, gives the same alignments and outputs
    out1, alpha1 = m(q[1:], mem[1:, :6])
    assert torch.allclose(alpha[1:, :, :, :6], alpha1, atol=1e-12)
    assert torch.allclose(out[1:], out1, atol=1e-12)
    # under neural_sp's forcing every head has a boundary iff some head stopped, so every
    # head's mass is P(some head stops): the same for all heads of the layer
    mass = alpha1.sum(-1)  # (1, H, L)
    assert torch.allclose(mass, mass[:, :1].expand_as(mass), atol=1e-12)


def test_headdrop_zeroes_whole_heads_and_rescales_in_training_only():
    m = _mma(noise_std=0.0, headdrop=0.5, chunk=1)
    q, mem = torch.randn(64, 2, 8, dtype=torch.float64), torch.randn(64, 5, 8, dtype=torch.float64)
    m.eval()
    ref, _ = m(q, mem)
    m.train()
    g = torch.Generator().manual_seed(3)
    out, _ = m(q, mem, generator=g)
    assert not torch.allclose(out, ref)
    m.headdrop = 0.0
    assert torch.allclose(m(q, mem)[0], ref)  # no noise, no drop: train = eval


def test_hard_steps_are_monotonic_and_hsd_bounds_the_spread():
    torch.manual_seed(1)
    m = MonotonicMultiheadAttention(16, 4, chunk=2, init_r=0.0).eval()
    mem = torch.randn(3, 20, 16)
    for eps in (None, 1):
        state = m.initial_state(3)
        last = state.boundary.clone()
        for _ in range(6):
            out, state, bnd, forced = m.step(torch.randn(3, 16), mem, state, eps_frames=eps)
            assert out.shape == (3, 16)
            assert (state.boundary >= last).all()  # never moves left
            last = state.boundary.clone()
            if eps is not None:
                for row in bnd:
                    found = row[row >= 0]
                    if len(found) == len(row):  # every head stopped (or was forced)
                        assert found.max() - found.min() <= eps
            else:
                assert not forced.any()
