"""Encoder invariances, the contrastive loss against a brute-force computation, hard-negative
mining, beam search against exhaustive enumeration, and rescoring (Eq. 7)."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("rdkit")

from paperzoo.retrosynthesis import (
    CandidateSet,
    Embeddings,
    ReactionBatch,
    RetCLModel,
    Retrosynthesizer,
    batch_graphs,
    beam_search,
    contrastive_loss,
    mol_graph,
    nearest_neighbours,
    rescore,
)
from paperzoo.retrosynthesis.chem import MoleculeError


def _model(seed=0, dim=32, classes=0):
    torch.manual_seed(seed)
    return RetCLModel(dim, 3, num_classes=classes).eval()


def test_embedding_ignores_atom_order_and_batch_company():
    m = _model()
    alone = m.embed(batch_graphs([mol_graph("OCC(=O)Nc1ccccc1")]))
    reordered = m.embed(batch_graphs([mol_graph("c1ccc(NC(=O)CO)cc1")]))
    together = m.embed(batch_graphs([mol_graph("CCO"), mol_graph("OCC(=O)Nc1ccccc1")]))
    for a, b in [(alone, reordered), (alone, together.index(torch.tensor([1])))]:
        assert torch.allclose(a.key, b.key, atol=1e-5)
        assert torch.allclose(a.product_query, b.product_query, atol=1e-5)


def test_class_embedding_starts_at_zero():
    m = _model(classes=10)
    emb = m.embed(batch_graphs([mol_graph("CCO"), mol_graph("CN")]))
    p, c = torch.tensor([0]), torch.tensor([[1]])
    assert torch.equal(m.backward_query(emb, p, c, torch.tensor([3])), m.backward_query(emb, p, c))


def _brute_loss(m, emb, products, reactants, tau):
    keys = m.keys(emb)
    halt = keys.shape[0] - 1

    def nce(q, pos, ignore):
        s = F.normalize(q, dim=-1) @ keys.T / tau
        keep = [j for j in range(keys.shape[0]) if j == pos or j not in ignore]
        return torch.logsumexp(s[keep], 0) - s[pos]

    total = []
    for p, rs in zip(products, reactants):
        best = None
        for perm in itertools.permutations(rs):
            loss = 0.0
            for t in range(len(perm) + 1):
                q = emb.product_query[p] - sum(
                    (emb.reactant_query[r] for r in perm[:t]), torch.zeros(keys.shape[1])
                )
                loss = loss + nce(q, perm[t] if t < len(perm) else halt, {p})
            best = loss if best is None else torch.minimum(best, loss)
        fwd = nce(emb.reactant_query[list(rs)].sum(0), p, set(rs))
        total.append(best + fwd)
    return torch.stack(total).mean()


def test_loss_equals_brute_force_min_over_orderings():
    m = _model(seed=1)
    mols = ["CC(=O)Nc1ccccc1", "CC(=O)Cl", "Nc1ccccc1", "CCOC(C)=O", "CCO", "CC(=O)O", "CBr"]
    emb = m.embed(batch_graphs([mol_graph(s) for s in mols]))
    products, reactants = [0, 3], [[1, 2], [4, 5, 6]]
    got, info = contrastive_loss(m, emb, ReactionBatch(products, reactants), temperature=0.1)
    want = _brute_loss(m, emb, products, reactants, 0.1)
    assert got.item() == pytest.approx(want.item(), rel=1e-5)
    assert 0.0 <= info["acc"] <= 1.0
    # gradients reach the encoder and the halt key
    m.train()
    emb = m.embed(batch_graphs([mol_graph(s) for s in mols]))
    contrastive_loss(m, emb, ReactionBatch(products, reactants))[0].backward()
    assert m.halt.grad is not None and m.halt.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        contrastive_loss(m, emb, ReactionBatch([0], [[1]]), temperature=0)


def test_nearest_neighbours_match_sorting_and_skip_self():
    g = torch.Generator().manual_seed(0)
    keys = torch.randn(50, 8, generator=g)
    got = nearest_neighbours(keys, 4, chunk=7)
    k = F.normalize(keys, dim=-1)
    sim = k @ k.T
    sim.fill_diagonal_(-math.inf)
    assert torch.equal(got, sim.argsort(1, descending=True)[:, :4])
    assert nearest_neighbours(keys, 0).shape == (50, 0)
    with pytest.raises(ValueError):
        nearest_neighbours(keys, 50)


def _toy(dim=6, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    cands = Embeddings(*(torch.randn(n, dim, generator=g) for _ in range(3)))
    prod = Embeddings(*(torch.randn(1, dim, generator=g) for _ in range(3)))
    m = RetCLModel(dim, 1).eval()
    with torch.no_grad():
        m.halt.copy_(torch.randn(dim, generator=g))
    return m, prod, cands


def test_beam_search_with_a_wide_beam_equals_exhaustive_search():
    m, prod, cands = _toy()
    keys = m.keys(cands).detach()
    halt = keys.shape[0] - 1
    want: dict[tuple, float] = {}
    exclude = 2
    rows = [r for r in range(6) if r != exclude]
    for n in (1, 2):
        for seq in itertools.permutations(rows, n):
            score = 0.0
            for t in range(n + 1):
                q = prod.product_query[0] - cands.reactant_query[list(seq[:t])].sum(0)
                k = keys[seq[t]] if t < n else keys[halt]
                score += float(F.normalize(q, dim=-1) @ k)
            key = tuple(sorted(seq))
            want[key] = max(want.get(key, -math.inf), score / (n + 1))
    got = dict(beam_search(m, prod, cands, exclude=[exclude], beam_size=100, max_reactants=2))
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-5)
    # the ranking is by score, and a narrow beam returns a subset of the same scores
    narrow = beam_search(m, prod, cands, exclude=[exclude], beam_size=2, max_reactants=2)
    assert [s for _, s in narrow] == sorted((s for _, s in narrow), reverse=True)
    for k, v in narrow:
        assert v == pytest.approx(want[k], abs=1e-5)


def test_rescore_is_eq7():
    m, prod, cands = _toy(seed=3)
    keys = m.keys(cands).detach()
    (got,) = rescore(m, prod, cands, [(1, 4)])
    fwd = float(
        F.normalize(cands.reactant_query[[1, 4]].sum(0), dim=-1) @ F.normalize(prod.key[0], dim=-1)
    )
    best = -math.inf
    for a, b in [(1, 4), (4, 1)]:
        q0 = prod.product_query[0]
        q1 = q0 - cands.reactant_query[a]
        q2 = q1 - cands.reactant_query[b]
        s = sum(
            float(F.normalize(q, dim=-1) @ k)
            for q, k in [(q0, keys[a]), (q1, keys[b]), (q2, keys[-1])]
        )
        best = max(best, s)
    assert got == pytest.approx((fwd + best) / 4, abs=1e-5)


def test_predictor_never_proposes_the_product_and_swaps_stock():
    m = _model(seed=2)
    stock = ["CC(=O)Nc1ccccc1", "CC(=O)Cl", "Nc1ccccc1", "CCO", "CC(=O)O"]
    r = Retrosynthesizer(m, stock, beam_size=10, max_reactants=2)
    preds = r.predict("c1ccc(NC(C)=O)cc1", top_k=20)
    assert preds and all("CC(=O)Nc1ccccc1" not in p.reactants for p in preds)
    assert [p.score for p in preds] == sorted((p.score for p in preds), reverse=True)
    before = [p.clone() for p in m.parameters()]
    r.set_candidates(CandidateSet(["CCN", "CCCl"]))
    preds = r.predict("CCNCC", top_k=5)
    assert {x for p in preds for x in p.reactants} <= {"CCN", "CCCl"}
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))
    with pytest.raises(MoleculeError, match="C1CC"):
        r.predict("C1CC")


def test_batch_table_adds_each_molecules_nearest_others_once():
    from paperzoo.retrosynthesis import batch_table

    bank = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [-1.0, 0]]))
    rows, batch = batch_table([(0, [2]), (0, [2, 4])], bank, num_negatives=1)
    # batch molecules 0, 2, 4 first; nearest others: 0 -> 1, 2 -> 3, 4 -> 2 (already in)
    assert rows == [0, 2, 4, 1, 3]
    assert list(batch.products) == [0, 0] and [list(r) for r in batch.reactants] == [[1], [1, 2]]
    assert batch_table([(0, [2])])[0] == [0, 2]
    with pytest.raises(ValueError):
        batch_table([(0, [2])], None, num_negatives=2)
