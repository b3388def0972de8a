import pytest
import torch

from paperzoo.quantization import (
    bit_levels,
    grid_codes,
    integer_range,
    level_drop_probabilities,
    nearest_codes,
    sample_dropped_bits,
    sample_level_mask,
)


def test_integer_range_and_codes():
    assert integer_range(2, True) == (-2, 1)
    assert integer_range(3, False) == (0, 7)
    assert grid_codes(2, True).tolist() == [-2, -1, 0, 1]
    with pytest.raises(ValueError):
        integer_range(0, True)


def test_bit_levels_by_hand():
    assert bit_levels(2, True).tolist() == [1, 2, 0, 2]  # codes -2, -1, 0, 1
    assert bit_levels(3, False).tolist() == [0, 3, 2, 3, 1, 3, 2, 3]  # codes 0..7


@pytest.mark.parametrize("signed", [True, False])
def test_levels_up_to_k_form_a_k_bit_grid(signed):
    b = 4
    codes, levels = grid_codes(b, signed), bit_levels(b, signed)
    for k in range(1, b + 1):
        kept = codes[levels <= k]
        qmin, qmax = integer_range(k, signed)
        expected = torch.arange(qmin, qmax + 1) * 2 ** (b - k)
        assert kept.tolist() == expected.tolist()


def test_drop_probabilities_decay_towards_coarse_levels():
    p = level_drop_probabilities(4, 0.5)
    assert p.tolist() == [0.0, 0.0, 0.125, 0.25, 0.5]
    with pytest.raises(ValueError):
        level_drop_probabilities(3, 1.0)


@pytest.mark.parametrize("signed", [True, False])
def test_mask_never_drops_zero_or_the_coarsest_level(signed):
    g = torch.Generator().manual_seed(0)
    mask = sample_level_mask(3, signed, 0.9, 5000, generator=g)
    levels = bit_levels(3, signed)
    assert mask[:, levels <= 1].all()
    # finer levels are dropped more often: empirical keep rate of level 3 < level 2
    assert mask[:, levels == 3].float().mean() < mask[:, levels == 2].float().mean()
    assert abs(1 - mask[:, levels == 3].float().mean().item() - 0.9) < 0.02


def test_nearest_codes_rounds_and_clips():
    x = torch.tensor([-5.0, -0.74, -0.26, 0.24, 0.6, 9.0])
    assert nearest_codes(x, torch.tensor(0.5), -2, 1).tolist() == [-2, -1, -1, 0, 1, 1]


@pytest.mark.parametrize("signed", [True, False])
def test_a_dropped_bit_removes_every_finer_level_and_leaves_a_coarser_grid(signed):
    """DropBits removes the d least significant bits: the survivors are exactly the
    (b - d)-bit grid with step 2^d (multiples of 2^d), never a coarse level without the finer."""
    b, g = 4, torch.Generator().manual_seed(1)
    codes, levels = grid_codes(b, signed), bit_levels(b, signed)
    d = sample_dropped_bits(b, 0.6, 4000, generator=g)
    mask = sample_level_mask(b, signed, 0.6, 4000, generator=torch.Generator().manual_seed(1))
    assert int(d.min()) >= 0 and int(d.max()) <= b - 1
    for row, dr in zip(mask[:200], d[:200]):
        kept = codes[row]
        qmin, qmax = integer_range(b - int(dr), signed)
        assert kept.tolist() == (torch.arange(qmin, qmax + 1) * 2 ** int(dr)).tolist()
        kept_levels = set(levels[row].tolist())
        assert kept_levels == set(range(b - int(dr) + 1))  # contiguous from level 0
    # P(d >= j) = p^j, and so level k's marginal drop rate is p^(b-k+1)
    for j in range(1, b):
        assert abs(float((d >= j).float().mean()) - 0.6**j) < 0.03
    marginal = 1 - mask.float().mean(0)
    expected = level_drop_probabilities(b, 0.6)[levels]
    assert torch.allclose(marginal, expected, atol=0.03)


def test_zero_drop_rate_keeps_everything():
    assert sample_dropped_bits(3, 0.0, 100).eq(0).all()
    with pytest.raises(ValueError):
        sample_dropped_bits(3, 1.0, 10)
