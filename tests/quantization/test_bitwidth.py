import pytest
import torch

from paperzoo.quantization import ClusterPromotingQuantizer, LevelGates, bit_cost, nearest_codes


def test_bit_cost_is_monotone_in_every_gate():
    gates = [LevelGates(4), LevelGates(4)]
    with torch.no_grad():
        gates[0].log_alpha.copy_(torch.tensor([0.0, -1.0, 2.0]))
        gates[1].log_alpha.copy_(torch.tensor([1.0, 0.5, -0.5]))
    base = float(bit_cost(gates, 2.0).detach())
    assert base > 0
    for g in gates:
        for k in range(3):
            with torch.no_grad():
                g.log_alpha[k] += 0.5
            up = float(bit_cost(gates, 2.0).detach())
            assert up > base
            base = up


def test_bit_cost_is_zero_within_budget_and_has_gradient_above():
    gates = [LevelGates(3, init_keep=0.9)]
    assert float(bit_cost(gates, 3.0).detach()) == 0.0
    cost = bit_cost(gates, 1.5)
    cost.backward()
    assert (gates[0].log_alpha.grad > 0).all()


def test_expected_bits_bounds():
    g = LevelGates(4)
    with torch.no_grad():
        g.log_alpha.fill_(50.0)
    assert float(g.expected_bits().detach()) == pytest.approx(4.0, abs=1e-6)
    with torch.no_grad():
        g.log_alpha.fill_(-50.0)
    assert float(g.expected_bits().detach()) == pytest.approx(1.0, abs=1e-6)


def test_learned_bits_count_contiguous_levels_only():
    g = LevelGates(4).eval()
    with torch.no_grad():
        g.log_alpha.copy_(torch.tensor([5.0, -5.0, 5.0]))  # level 3 off -> level 4 unusable
    assert g.learned_bits() == 2
    assert g.sample().tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_learned_bit_quantizer_uses_the_coarser_grid_at_eval():
    q = ClusterPromotingQuantizer(4, True, learn_bits=True)
    x = torch.randn(300, generator=torch.Generator().manual_seed(0))
    q.initialize(x)
    with torch.no_grad():
        q.gates.log_alpha.copy_(torch.tensor([5.0, -5.0, -5.0]))
    q.eval()
    assert q.effective_bits() == 2
    s = q.positive_step().detach() * 4
    assert torch.allclose(q(x), nearest_codes(x, s, -2, 1) * s)
    q.train()
    out = q(x.requires_grad_(True))
    out.sum().backward()
    assert q.gates.log_alpha.grad is not None


def test_gates_reject_bad_arguments():
    with pytest.raises(ValueError):
        LevelGates(1)
    with pytest.raises(ValueError):
        LevelGates(3, init_keep=1.0)
    with pytest.raises(ValueError):
        bit_cost([], 2.0)


def test_allocate_bits_respects_the_budget_and_follows_keep_probabilities():
    from paperzoo.quantization import allocate_bits

    gates = [LevelGates(4) for _ in range(3)]
    with torch.no_grad():
        gates[0].log_alpha.copy_(torch.tensor([3.0, 3.0, 3.0]))  # keeps its levels most
        gates[1].log_alpha.copy_(torch.tensor([2.0, -1.0, -1.0]))
        gates[2].log_alpha.copy_(torch.tensor([1.0, 0.0, -2.0]))
    bits = allocate_bits(gates, 3.0)
    assert sum(bits) / 3 <= 3.0 and sum(bits) == 9
    assert bits[0] == 4 and bits[0] >= bits[1] and bits[0] >= bits[2]
    gates[1].set_bits(2)
    assert gates[1].learned_bits() == 2
    with pytest.raises(ValueError):
        gates[1].set_bits(5)
