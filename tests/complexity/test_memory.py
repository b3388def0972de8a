"""The snapshot memory bank is FIFO at its cap."""

import pytest
import torch

from paperzoo.complexity import MemoryBank


def _batch(start, n, num_train=3, num_test=4):
    ids = torch.arange(start, start + n, dtype=torch.float32)
    te = ids[:, None, None].expand(n, num_test, 2).clone()
    tr = ids[:, None, None].expand(n, num_train, 3).clone()
    return te, tr, ids


def test_fifo_keeps_newest_at_capacity():
    bank = MemoryBank(capacity=10, num_train=3, num_test=4)
    for start, n in [(0, 4), (4, 4), (8, 5), (13, 2)]:
        bank.add(*_batch(start, n))
    assert len(bank) == 10
    te, tr, gap = bank.ordered()
    torch.testing.assert_close(gap, torch.arange(5, 15, dtype=torch.float32))
    assert torch.equal(te[:, 0, 0], gap) and torch.equal(tr[:, 0, 0], gap)


def test_add_larger_than_capacity_and_state_roundtrip():
    bank = MemoryBank(capacity=6, num_train=3, num_test=4)
    bank.add(*_batch(0, 9))
    assert bank.ordered()[2].tolist() == [3, 4, 5, 6, 7, 8]
    other = MemoryBank(capacity=6, num_train=3, num_test=4)
    other.load_state_dict(bank.state_dict())
    other.add(*_batch(9, 2))
    assert other.ordered()[2].tolist() == [5, 6, 7, 8, 9, 10]
    assert other.total_added == 11


def test_sample_is_consistent_and_without_replacement():
    bank = MemoryBank(capacity=20, num_train=3, num_test=4)
    bank.add(*_batch(0, 12))
    te, tr_xp, tr_xyp, gap = bank.sample(8, torch.Generator().manual_seed(0))
    assert gap.unique().numel() == 8
    assert torch.equal(te[:, 0, 0], gap) and torch.equal(tr_xp[:, 0, 0], gap)
    assert tr_xp.shape == (8, 3, 2) and tr_xyp.shape == (8, 3, 3)


def test_shape_errors():
    bank = MemoryBank(capacity=5, num_train=3, num_test=4)
    with pytest.raises(ValueError, match="expected"):
        bank.add(torch.zeros(2, 5, 2), torch.zeros(2, 3, 3), torch.zeros(2))
    with pytest.raises(ValueError, match="empty"):
        bank.sample(2)
