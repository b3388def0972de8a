"""Beam de-duplication as the official search: one partial beam per distinct unordered set of
picks (its best ordering), so a beam as wide as the number of distinct sets is exhaustive."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from paperzoo.retrosynthesis.encoder import Embeddings, RetCLModel
from paperzoo.retrosynthesis.selection import beam_search, best_per_set

N_CANDIDATES = 6
EXCLUDE = 2


def _toy(seed: int, dim: int = 6) -> tuple[RetCLModel, Embeddings, Embeddings]:
    """Random embeddings for six candidates and one product, and a model with a random halt."""
    g = torch.Generator().manual_seed(seed)
    cands = Embeddings(*(torch.randn(N_CANDIDATES, dim, generator=g) for _ in range(3)))
    prod = Embeddings(*(torch.randn(1, dim, generator=g) for _ in range(3)))
    m = RetCLModel(dim, 1).eval()
    with torch.no_grad():
        m.halt.copy_(torch.randn(dim, generator=g))
    return m, prod, cands


def _exhaustive(
    m: RetCLModel, prod: Embeddings, cands: Embeddings, max_reactants: int
) -> dict[tuple[int, ...], float]:
    """Every distinct reactant set of 1..max_reactants allowed candidates, scored by its best
    ordering's cumulative step scores (picks, then halt) / (n + 1): brute force."""
    keys = m.keys(cands).detach()
    rows = [r for r in range(N_CANDIDATES) if r != EXCLUDE]
    out: dict[tuple[int, ...], float] = {}
    for n in range(1, max_reactants + 1):
        for seq in itertools.permutations(rows, n):
            score = 0.0
            for t in range(n + 1):
                q = prod.product_query[0] - cands.reactant_query[list(seq[:t])].sum(0)
                k = keys[seq[t]] if t < n else keys[-1]
                score += float(F.normalize(q, dim=-1) @ k)
            key = tuple(sorted(seq))
            out[key] = max(out.get(key, -math.inf), score / (n + 1))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_beam_as_wide_as_the_distinct_sets_is_exhaustive(seed: int) -> None:
    m, prod, cands = _toy(seed)
    want = _exhaustive(m, prod, cands, 3)
    # 5 allowed candidates: at most C(5, 2) = C(5, 3) = 10 distinct partial sets per step, but
    # 20 and 60 orderings. Beam 10 covers every set only when reorderings are merged, and it
    # is at least the 7 options (5 candidates, the excluded row, halt) each beam may take.
    got = beam_search(m, prod, cands, exclude=[EXCLUDE], beam_size=10, max_reactants=3)
    assert len({k for k, _ in got}) == len(got)  # no set returned twice
    assert {k for k, _ in got} == set(want)
    for k, v in got:
        assert v == pytest.approx(want[k], abs=1e-5)
    assert [v for _, v in got] == sorted((v for _, v in got), reverse=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_narrow_beam_returns_distinct_sets_with_exhaustive_scores(seed: int) -> None:
    m, prod, cands = _toy(seed)
    want = _exhaustive(m, prod, cands, 3)
    for beam in (1, 2, 4):
        got = beam_search(m, prod, cands, exclude=[EXCLUDE], beam_size=beam, max_reactants=3)
        assert len({k for k, _ in got}) == len(got)
        # a closed set's score is one ordering's, so never above its best ordering's
        for k, v in got:
            assert v <= want[k] + 1e-5


def test_best_per_set_keeps_the_best_ordering_of_each_set_once() -> None:
    grown = [((1, 2), 0.5), ((2, 1), 0.9), ((3,), 0.7), ((1, 3), 0.1), ((3, 1), 0.2)]
    assert best_per_set(grown, 10) == [((2, 1), 0.9), ((3,), 0.7), ((3, 1), 0.2)]
    # the cut counts distinct sets, not orderings
    assert best_per_set(grown, 2) == [((2, 1), 0.9), ((3,), 0.7)]
    # a repeated pick is a multiset of its own, as in the official key
    assert best_per_set([((4, 4), 1.0), ((4,), 0.5)], 5) == [((4, 4), 1.0), ((4,), 0.5)]


def test_without_merging_reorderings_the_same_beam_would_miss_sets() -> None:
    """The exhaustive test above has teeth: cutting to the 10 best orderings (the old search)
    loses some of the 10 distinct two-molecule sets for these seeds."""
    missed = 0
    for seed in range(4):
        m, prod, cands = _toy(seed)
        keys = m.keys(cands).detach()
        q0 = F.normalize(prod.product_query[0], dim=-1)
        rows = [r for r in range(N_CANDIDATES) if r != EXCLUDE]
        pairs = []
        for a, b in itertools.permutations(rows, 2):
            q1 = F.normalize(prod.product_query[0] - cands.reactant_query[a], dim=-1)
            pairs.append(((a, b), float(q0 @ keys[a]) + float(q1 @ keys[b])))
        pairs.sort(key=lambda x: -x[1])
        ordered = {tuple(sorted(p)) for p, _ in pairs[:10]}
        kept = {tuple(sorted(p)) for p, _ in best_per_set(pairs, 10)}
        assert len(kept) == 10
        missed += 10 - len(ordered)
    assert missed > 0
