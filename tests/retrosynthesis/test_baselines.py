"""Top-k exact match on hand-made lists; RetroSim transfers a template from a similar product;
the popularity floor ranks by training frequency."""

import numpy as np
import pytest

pytest.importorskip("rdchiral")

from paperzoo.retrosynthesis import (
    PopularityBaseline,
    RetroSim,
    canonical_set,
    first_hit_ranks,
    topk_accuracy,
)


def test_first_hit_ranks_skip_repeats_and_ignore_order():
    truth = [("A", "B"), ("C",), ("D",)]
    preds = [
        [("X",), ("B", "A")],  # rank 2, order within a set does not matter
        [("X",), ("X",), ("Y",), ("C",)],  # the repeated X counts once: rank 3
        [("E",)],  # miss
    ]
    ranks = first_hit_ranks(preds, truth)
    assert ranks.tolist() == [2, 3, 0]
    assert topk_accuracy(ranks, (1, 2, 3)) == {1: 0.0, 2: 1 / 3, 3: 2 / 3}
    with pytest.raises(ValueError):
        first_hit_ranks(preds[:2], truth)
    with pytest.raises(ValueError):
        topk_accuracy(np.array([]))


def _template():
    from rdchiral.template_extractor import extract_from_reaction

    mapped = (
        "[CH3:1][C:2](=[O:3])Cl.[NH2:4][c:5]1[cH:6][cH:7][cH:8][cH:9][cH:10]1"
        ">>[CH3:1][C:2](=[O:3])[NH:4][c:5]1[cH:6][cH:7][cH:8][cH:9][cH:10]1"
    )
    r, p = mapped.split(">>")
    t = extract_from_reaction({"reactants": r, "products": p, "_id": 0})["reaction_smarts"]
    assert "." not in t.split(">>")[0]  # a retro template: product >> reactants
    return t


def test_retrosim_transfers_the_neighbours_template():
    tmpl = _template()
    rs = RetroSim(num_neighbours=2).fit(
        ["CC(=O)Nc1ccccc1", "CCOC(C)=O"],
        [canonical_set("CC(=O)Cl.Nc1ccccc1"), canonical_set("CCO.CC(=O)O")],
        [tmpl, "[C:1]-[O;H0:2]-[C:3]=[O:4]>>[C:1]-[OH:2].[OH]-[C:3]=[O:4]"],
    )
    preds = rs.predict("CC(=O)Nc1ccc(C)cc1", top_k=5)
    assert preds, "the amide template should apply to a para-methyl anilide"
    assert preds[0][0] == canonical_set("CC(=O)Cl.Cc1ccc(N)cc1")
    assert 0 < preds[0][1] <= 1
    # restricted to a stock without the aniline, the same template yields nothing
    only = RetroSim(num_neighbours=2, candidates={"CC(=O)Cl"}).fit(
        ["CC(=O)Nc1ccccc1"], [canonical_set("CC(=O)Cl.Nc1ccccc1")], [tmpl]
    )
    assert only.predict("CC(=O)Nc1ccc(C)cc1") == []


def test_popularity_ranks_by_frequency_within_the_stock():
    sets = [("A", "B")] * 3 + [("C",)] * 2 + [("D",)]
    pop = PopularityBaseline().fit(sets)
    assert [s for s, _ in pop.predict("Z", 3)] == [("A", "B"), ("C",), ("D",)]
    assert pop.predict("Z", 1)[0][1] == pytest.approx(0.5)
    assert [s for s, _ in PopularityBaseline({"C", "D"}).fit(sets).predict("Z")] == [
        ("C",),
        ("D",),
    ]
    assert ("C",) not in [s for s, _ in pop.predict("C")]  # the product is never its reactant
