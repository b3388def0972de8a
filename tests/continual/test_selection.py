"""OCS scores on hand-built gradients: similarity, diversity, affinity, and class balance."""

import pytest
import torch

from paperzoo.continual import GradientGram, class_balanced_selection, ocs_scores, select_top_k


def _official_scores(eg: torch.Tensor, ref: torch.Tensor | None, tau: float) -> torch.Tensor:
    """The official ``sample_selection`` measure written out on explicit gradients."""
    g = eg.mean(0)
    neg = eg.norm(dim=1)
    sim = (eg @ g) / torch.clamp(g.norm() * neg, min=1e-6)
    cross = (eg @ eg.T) / torch.clamp(neg[:, None] * neg[None, :], min=1e-6)
    aff = 0.0 if ref is None else (eg @ ref) / torch.clamp(ref.norm() * neg, min=1e-6)
    return sim - cross.mean(0) + tau * aff


def test_scores_match_official_formula():
    g = torch.Generator().manual_seed(1)
    eg = torch.randn(9, 50, generator=g, dtype=torch.float64)
    ref = torch.randn(50, generator=g, dtype=torch.float64)
    for r in (None, ref):
        got = ocs_scores(GradientGram.from_per_sample(eg, r), tau=3.0).score
        torch.testing.assert_close(got, _official_scores(eg, r, 3.0))


def test_selection_prefers_duplicate_of_mean_gradient():
    g = torch.Generator().manual_seed(0)
    others = torch.randn(9, 2000, generator=g, dtype=torch.float64)  # nearly orthogonal
    eg = torch.cat([others[:4], others.mean(0, keepdim=True), others[4:]])  # sample 4 = mean
    s = ocs_scores(GradientGram.from_per_sample(eg))
    assert torch.argmax(s.similarity) == 4
    assert select_top_k(s.score, 1).item() == 4


def test_diversity_penalises_duplicates():
    e = torch.eye(8, dtype=torch.float64)
    eg = torch.cat([e[:1], e[:1], e[:1], e[1:6]])  # e0 three times, e1..e5 once: batch 8
    s = ocs_scores(GradientGram.from_per_sample(eg))
    torch.testing.assert_close(s.diversity[:3], torch.full((3,), 3 / 8, dtype=torch.float64))
    torch.testing.assert_close(s.diversity[3:], torch.full((5,), 1 / 8, dtype=torch.float64))
    # the diversity term costs each copy more than it costs a unique sample
    assert ((s.score - s.similarity)[:3] < (s.score - s.similarity)[3:].min()).all()


def test_affinity_prefers_alignment_with_memory_gradient():
    e = torch.eye(6, dtype=torch.float64)
    ref = 2.0 * e[3] + 0.1 * e[5]
    s = ocs_scores(GradientGram.from_per_sample(e, ref), tau=1000.0)
    assert s.affinity.argmax() == 3
    assert select_top_k(s.score, 1).item() == 3
    assert s.affinity[0] == 0  # orthogonal to the memory gradient
    # without a memory gradient the affinity term is zero
    assert (ocs_scores(GradientGram.from_per_sample(e)).affinity == 0).all()


def test_zero_gradients_do_not_divide_by_zero():
    eg = torch.zeros(4, 10)
    s = ocs_scores(GradientGram.from_per_sample(eg, torch.ones(10)))
    assert torch.isfinite(s.score).all()


def test_class_balanced_selection_size_and_balance():
    labels = torch.tensor([0] * 20 + [1] * 20 + [2] * 3 + [3] * 20)
    ranking = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    keep = class_balanced_selection(labels, ranking, 21)
    assert len(keep) == 21 and len(set(keep.tolist())) == 21
    counts = torch.bincount(labels[keep], minlength=4).tolist()
    assert counts[2] == 3  # the small class gives up its unused seats ...
    assert sorted(counts[:2] + counts[3:]) == [6, 6, 6]  # ... shared by the others
    # within a class the best-ranked samples are the ones kept
    pos = {int(i): r for r, i in enumerate(ranking)}
    for c in (0, 1, 3):
        kept = sorted(pos[int(i)] for i in keep if labels[i] == c)
        allc = sorted(pos[int(i)] for i in torch.nonzero(labels == c).flatten())
        assert kept == allc[: len(kept)]


@pytest.mark.parametrize("size", [0, 1, 7, 10, 100])
def test_class_balanced_selection_within_size(size):
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    keep = class_balanced_selection(labels, torch.arange(10), size)
    assert len(keep) == min(size, 10)
    counts = torch.bincount(labels[keep], minlength=3)
    if size == 7:  # 2 + 2 + 2, one leftover seat by rank (index 2 is class 0)
        assert counts.tolist() == [3, 2, 2]


def test_class_balanced_selection_rejects_bad_ranking():
    with pytest.raises(ValueError, match="permutation"):
        class_balanced_selection(torch.tensor([0, 1]), torch.tensor([0, 0]), 1)
