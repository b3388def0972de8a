"""Nearest-neighbour indices against brute force, beam search through an index equal to the
plain matrix-product search, and the syntheseus single-step adapter."""

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("rdkit")

from paperzoo.retrosynthesis import Embeddings, RetCLModel, Retrosynthesizer, beam_search
from paperzoo.retrosynthesis.index import ExactIndex, FaissIndex, make_index


def _keys(n=200, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=-1), F.normalize(
        torch.randn(5, d, generator=g), dim=-1
    )


@pytest.mark.parametrize("kind", ["exact", "faiss-flat"])
def test_index_top_k_equals_brute_force(kind):
    if kind.startswith("faiss"):
        pytest.importorskip("faiss")
    keys, q = _keys()
    values, rows = make_index(keys, kind).search(q, 7)
    want = (q @ keys.T).topk(7, dim=1)
    assert torch.equal(rows, want.indices)
    assert torch.allclose(values, want.values, atol=1e-5)
    assert make_index(keys, kind).search(q, 500)[1].shape == (5, 200)  # k capped at n


def test_hnsw_finds_the_exact_neighbours_on_a_small_set():
    pytest.importorskip("faiss")
    keys, q = _keys()
    got = FaissIndex(keys, hnsw=True).search(q, 5)[1]
    want = ExactIndex(keys).search(q, 5)[1]
    recall = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(got, want)) / want.numel()
    assert recall >= 0.9


def test_unknown_index_kind_is_an_error():
    with pytest.raises(ValueError, match="faiss-hnsw"):
        make_index(torch.eye(3), "annoy")  # type: ignore[arg-type]


def _toy(dim=6, n=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    cands = Embeddings(*(torch.randn(n, dim, generator=g) for _ in range(3)))
    prod = Embeddings(*(torch.randn(1, dim, generator=g) for _ in range(3)))
    m = RetCLModel(dim, 1).eval()
    with torch.no_grad():
        m.halt.copy_(torch.randn(dim, generator=g))
    return m, prod, cands


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_search_through_an_index_equals_the_matrix_product(seed):
    m, prod, cands = _toy(seed=seed)
    index = ExactIndex(m.keys(cands)[:-1])
    for beam in (1, 3, 8):
        plain = beam_search(m, prod, cands, exclude=[4], beam_size=beam, max_reactants=3)
        via = beam_search(m, prod, cands, exclude=[4], beam_size=beam, max_reactants=3,
                          index=index)  # fmt: skip
        assert [k for k, _ in via] == [k for k, _ in plain]
        assert [s for _, s in via] == pytest.approx([s for _, s in plain], abs=1e-6)


STOCK = ["CC(=O)Nc1ccccc1", "CC(=O)Cl", "Nc1ccccc1", "CCO", "CC(=O)O", "CCN", "CCCl"]


def test_retrosynthesizer_with_faiss_matches_exact():
    pytest.importorskip("faiss")
    torch.manual_seed(2)
    m = RetCLModel(32, 3).eval()
    a = Retrosynthesizer(m, STOCK, beam_size=5, max_reactants=2).predict("CCNCC", top_k=5)
    b = Retrosynthesizer(m, STOCK, beam_size=5, max_reactants=2, index="faiss-flat")
    assert [p.reactants for p in b.predict("CCNCC", top_k=5)] == [p.reactants for p in a]
    with pytest.raises(ValueError, match="unknown index"):
        Retrosynthesizer(m, STOCK, index="annoy")  # type: ignore[arg-type]


def test_syntheseus_adapter():
    syn = pytest.importorskip("syntheseus")
    from paperzoo.retrosynthesis.syntheseus_model import RetCLBackwardModel

    torch.manual_seed(2)
    m = RetCLModel(32, 3).eval()
    model = RetCLBackwardModel(m, STOCK, beam_size=5, max_reactants=2)
    product = syn.Molecule("c1ccc(NC(C)=O)cc1")
    [reactions] = model([product], num_results=4)
    assert 0 < len(reactions) <= 4 and model.is_backward()
    assert sum(r.metadata["probability"] for r in reactions) == pytest.approx(1.0)
    scores = [r.metadata["score"] for r in reactions]
    assert scores == sorted(scores, reverse=True)
    direct = Retrosynthesizer(m, STOCK, beam_size=5, max_reactants=2).predict(product.smiles, 4)
    for r, p in zip(reactions, direct):
        assert r.product == product and product not in r.reactants
        assert sorted(x.smiles for x in r.reactants) == sorted(p.reactants)


# A two-step chain: acetyl chloride + p-phenylenediamine -> the mono-amide (an intermediate),
# then the intermediate + benzoyl chloride -> the bis-amide.
ACCL, DIAMINE, BZCL = "CC(=O)Cl", "Nc1ccc(N)cc1", "O=C(Cl)c1ccccc1"
INTERMEDIATE, TARGET = "CC(=O)Nc1ccc(N)cc1", "CC(=O)Nc1ccc(NC(=O)c2ccccc2)cc1"
CHAIN = [((ACCL, DIAMINE), INTERMEDIATE), ((INTERMEDIATE, BZCL), TARGET)]


def test_building_blocks_are_the_reactants_never_made():
    pytest.importorskip("syntheseus")
    from paperzoo.retrosynthesis.syntheseus_model import building_block_inventory, building_blocks

    assert building_blocks(CHAIN) == [ACCL, DIAMINE, BZCL]
    inv = building_block_inventory(CHAIN)
    assert len(inv) == 3


def test_a_planner_with_a_separate_stock_expands_intermediates():
    """With the candidate set as the planner's stock every proposal is purchasable, so the
    search stops after one step; with the building blocks as the stock, the intermediate is
    not purchasable and the planner expands it into a two-step route (a wide beam enumerates
    every set of at most two candidates, so the route is proposed even by an untrained model)."""
    syn = pytest.importorskip("syntheseus")
    from syntheseus.search.algorithms.breadth_first import AndOr_BreadthFirstSearch
    from syntheseus.search.graph.and_or import AndNode
    from syntheseus.search.mol_inventory import SmilesListInventory

    from paperzoo.retrosynthesis.syntheseus_model import RetCLBackwardModel, building_blocks

    torch.manual_seed(0)
    selection = [ACCL, DIAMINE, BZCL, INTERMEDIATE]
    expand = RetCLBackwardModel(
        RetCLModel(32, 3).eval(), selection, beam_size=10, max_reactants=2,
        default_num_results=10, use_cache=True,
    )  # fmt: skip

    def expanded(stock: list[str]) -> set[tuple[str, frozenset[str]]]:
        """(product, reactants) of every reaction the planner expanded."""
        search = AndOr_BreadthFirstSearch(
            reaction_model=expand,
            mol_inventory=SmilesListInventory(stock),
            limit_iterations=20,
            max_expansion_depth=3,
        )
        graph, _ = search.run_from_mol(syn.Molecule(TARGET))
        return {
            (n.reaction.product.smiles, frozenset(m.smiles for m in n.reaction.reactants))
            for n in graph.nodes()
            if isinstance(n, AndNode)
        }

    def canon(*smiles: str) -> list[str]:
        return [syn.Molecule(x).smiles for x in smiles]

    target, mid = canon(TARGET, INTERMEDIATE)
    # one step: every proposal is in the stock, so only the target is ever expanded
    assert {p for p, _ in expanded(selection)} == {target}
    two_step = expanded(building_blocks(CHAIN))
    assert (target, frozenset(canon(INTERMEDIATE, BZCL))) in two_step
    assert (mid, frozenset(canon(ACCL, DIAMINE))) in two_step
