"""Canonical SMILES, reactant sets and molecule graphs against hand-written cases."""

import pytest
import torch

pytest.importorskip("rdkit")

from paperzoo.retrosynthesis.chem import (
    ATOM_DIM,
    BOND_DIM,
    MoleculeError,
    batch_graphs,
    canonical_set,
    canonical_smiles,
    mol_graph,
    parse_reaction,
)


def test_canonical_smiles_drops_maps_and_hydrogens():
    assert canonical_smiles("[CH3:1][OH:2]") == "CO"
    assert canonical_smiles("OCC") == canonical_smiles("C(O)C") == "CCO"
    assert canonical_smiles("[H]OC([H])([H])[H]") == "CO"


def test_stereo_kept_or_dropped():
    s = "C[C@H](N)C(=O)O"
    assert "@" in canonical_smiles(s)
    assert "@" not in canonical_smiles(s, stereo=False)
    assert canonical_smiles("C[C@@H](N)C(=O)O") != canonical_smiles(s)


def test_sets_are_unordered_multisets():
    assert canonical_set("CC(=O)Cl.Nc1ccccc1") == canonical_set(["c1ccc(N)cc1", "ClC(C)=O"])
    assert canonical_set("CCO.CCO") == ("CCO", "CCO")  # a multiset keeps repeats
    r, p = parse_reaction("[CH3:1][C:2](=[O:3])Cl.[NH2:4]C>>[CH3:1][C:2](=[O:3])[NH:4]C")
    assert r == ("CC(=O)Cl", "CN") and p == "CNC(C)=O"


def test_bad_input_names_itself():
    with pytest.raises(MoleculeError, match="C1CC"):
        canonical_smiles("C1CC")
    with pytest.raises(MoleculeError, match="not a SMILES"):
        canonical_smiles("")
    with pytest.raises(MoleculeError, match="reaction"):
        parse_reaction("CCO")


def test_graph_shapes_and_one_hot_blocks():
    g = mol_graph("CCO")  # 3 heavy atoms, 2 bonds
    assert g.x.shape == (3, ATOM_DIM)
    assert g.edge_index.shape == (2, 4) and g.edge_attr.shape == (4, BOND_DIM)
    # element, degree, charge, Hs and hybridisation blocks are one-hot: 5 ones + aromatic + ring
    assert torch.equal(g.x[:, :-2].sum(1), torch.full((3,), 5.0))
    # both directions of every bond
    pairs = {tuple(e) for e in g.edge_index.T.tolist()}
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1)}
    benzene = mol_graph("c1ccccc1")
    assert benzene.x[:, -2:].eq(1).all()  # aromatic and in a ring
    assert benzene.edge_attr[:, 3].eq(1).all()  # aromatic bonds
    single_atom = mol_graph("[Na+]")
    assert single_atom.edge_index.shape == (2, 0)


def test_batch_offsets_atoms():
    a, b = mol_graph("CCO"), mol_graph("CN")
    batch = batch_graphs([a, b])
    assert batch.num_graphs == 2
    assert batch.batch.tolist() == [0, 0, 0, 1, 1]
    assert batch.edge_index[:, 4:].tolist() == (b.edge_index + 3).tolist()
    with pytest.raises(ValueError):
        batch_graphs([])
