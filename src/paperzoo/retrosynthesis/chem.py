"""Chemistry for RetCL: canonical SMILES, reactant sets, and molecule graphs with atom/bond
features.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795 (the
molecule graphs the encoder reads). Official code https://github.com/hankook/RetCL
(``datasets/molecule.py``; read only).

A molecule is identified by its canonical SMILES without atom-map numbers and without explicit
hydrogens (RDKit). Exact match, the field's top-k metric, compares *unordered multisets* of
canonical reactant SMILES. Stereochemistry is kept by default (``isomericSmiles``), the stricter
convention; ``stereo=False`` drops it (some papers report both).

Graphs are plain tensors (no DGL / PyG objects), so the encoder is ordinary torch:
``x`` (atoms, ATOM_DIM), ``edge_index`` (2, 2 * bonds) with both directions of every bond and
``edge_attr`` (2 * bonds, BOND_DIM).

Deviations from the official code: the official featuriser is dgllife's canonical one (74 atom
features); ours is a smaller one-hot set (element, degree, formal charge, hydrogens,
hybridisation, aromaticity, ring) that covers every atom of USPTO-50k, with an ``other`` bucket.

RDKit is imported inside the functions (``paperzoo.retrosynthesis`` imports without it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

__all__ = [
    "ATOM_DIM",
    "BOND_DIM",
    "GraphBatch",
    "MolGraph",
    "MoleculeError",
    "batch_graphs",
    "canonical_set",
    "canonical_smiles",
    "mol_graph",
    "parse_reaction",
]

# Elements of USPTO-50k by frequency; anything else falls in the last ("other") slot.
ELEMENTS = (
    "C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se", "Sn", "Mg", "Zn", "Cu",
    "Li", "Na", "K", "Pd", "H",
)  # fmt: skip
DEGREES = (0, 1, 2, 3, 4, 5)
CHARGES = (-1, 0, 1)
NUM_HS = (0, 1, 2, 3)
HYBRIDISATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")

# one-hot blocks with an "other" slot each, + aromatic + in ring
ATOM_DIM = (
    len(ELEMENTS) + 1 + len(DEGREES) + 1 + len(CHARGES) + 1 + len(NUM_HS) + 1
    + len(HYBRIDISATIONS) + 1 + 2
)  # fmt: skip
# bond type one-hot + conjugated + in ring
BOND_DIM = len(BOND_TYPES) + 2


class MoleculeError(ValueError):
    """A SMILES string RDKit cannot parse (the message names it)."""


def _chem() -> Any:
    try:
        from rdkit import Chem, RDLogger
    except ImportError as e:  # pragma: no cover - the chem extra is part of dev installs
        raise ImportError(
            "paperzoo.retrosynthesis needs RDKit: pip install 'paperzoo[chem]'"
        ) from e
    RDLogger.DisableLog("rdApp.*")  # RDKit prints parse warnings to stderr otherwise
    return Chem


def _mol(smiles: str) -> Any:
    Chem = _chem()
    if not isinstance(smiles, str) or not smiles.strip():
        raise MoleculeError(f"not a SMILES string: {smiles!r}")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise MoleculeError(f"RDKit cannot parse the SMILES {smiles!r}")
    return mol


@lru_cache(maxsize=200_000)
def canonical_smiles(smiles: str, stereo: bool = True) -> str:
    """RDKit-canonical SMILES without atom maps or explicit hydrogens.

    >>> canonical_smiles("[CH3:1][OH:2]")
    'CO'

    Raises:
        MoleculeError: RDKit cannot parse ``smiles``.
    """
    Chem = _chem()
    mol = _mol(smiles)
    for atom in mol.GetAtoms():
        atom.SetAtomMapNum(0)
    mol = Chem.RemoveHs(mol)
    return Chem.MolToSmiles(mol, isomericSmiles=stereo)


def canonical_set(smiles: str | Iterable[str], stereo: bool = True) -> tuple[str, ...]:
    """An unordered reactant (multi)set as a sorted tuple of canonical SMILES.

    ``smiles`` is a dot-separated string (``"CCO.CC(=O)Cl"``) or an iterable of SMILES; two
    sets match exactly when their tuples are equal.
    """
    parts = smiles.split(".") if isinstance(smiles, str) else list(smiles)
    return tuple(sorted(canonical_smiles(p, stereo) for p in parts))


def parse_reaction(rxn: str, stereo: bool = True) -> tuple[tuple[str, ...], str]:
    """``"reactants>reagents>product"`` -> (canonical reactant set, canonical product).

    Reagents are dropped (USPTO-50k has none). Raises :class:`MoleculeError` naming the
    reaction when it is malformed.
    """
    parts = rxn.split(">")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise MoleculeError(f"not a reaction SMILES 'reactants>reagents>product': {rxn!r}")
    return canonical_set(parts[0], stereo), canonical_smiles(parts[2], stereo)


@dataclass(frozen=True)
class MolGraph:
    """One molecule as tensors.

    Shape:
        x: (atoms, ATOM_DIM) float one-hot features.
        edge_index: (2, 2 * bonds) long, source row 0, target row 1, both directions.
        edge_attr: (2 * bonds, BOND_DIM) float.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor

    @property
    def num_atoms(self) -> int:
        return int(self.x.shape[0])


def _onehot(value: Any, choices: Sequence[Any]) -> list[float]:
    out = [0.0] * (len(choices) + 1)
    out[choices.index(value) if value in choices else len(choices)] = 1.0
    return out


def _atom_features(atom: Any) -> list[float]:
    return (
        _onehot(atom.GetSymbol(), ELEMENTS)
        + _onehot(atom.GetDegree(), DEGREES)
        + _onehot(atom.GetFormalCharge(), CHARGES)
        + _onehot(atom.GetTotalNumHs(), NUM_HS)
        + _onehot(str(atom.GetHybridization()), HYBRIDISATIONS)
        + [float(atom.GetIsAromatic()), float(atom.IsInRing())]
    )


def _bond_features(bond: Any) -> list[float]:
    return [
        *_onehot(str(bond.GetBondType()), BOND_TYPES)[:-1],
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


def mol_graph(smiles: str) -> MolGraph:
    """Featurise one molecule (its canonical form; atom maps ignored).

    Raises:
        MoleculeError: RDKit cannot parse ``smiles``.
    """
    Chem = _chem()
    mol = Chem.RemoveHs(_mol(smiles))
    x = torch.tensor([_atom_features(a) for a in mol.GetAtoms()], dtype=torch.float32)
    src, dst, attr = [], [], []
    for b in mol.GetBonds():
        i, j, f = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), _bond_features(b)
        src += [i, j]
        dst += [j, i]
        attr += [f, f]
    edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    edge_attr = torch.tensor(attr, dtype=torch.float32).reshape(-1, BOND_DIM)
    return MolGraph(x.reshape(-1, ATOM_DIM), edge_index, edge_attr)


@dataclass(frozen=True)
class GraphBatch:
    """Several molecules as one disconnected graph.

    Shape:
        x: (total atoms, ATOM_DIM); edge_index: (2, total directed edges) with atom indices
        offset per molecule; edge_attr: (total directed edges, BOND_DIM); batch: (total atoms,)
        the molecule each atom belongs to.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    num_graphs: int

    def to(self, device: torch.device | str) -> GraphBatch:
        return GraphBatch(
            self.x.to(device),
            self.edge_index.to(device),
            self.edge_attr.to(device),
            self.batch.to(device),
            self.num_graphs,
        )


def batch_graphs(graphs: Sequence[MolGraph]) -> GraphBatch:
    """Concatenate molecule graphs, offsetting atom indices (PyG-style batching)."""
    if not graphs:
        raise ValueError("batch_graphs needs at least one molecule")
    sizes = torch.tensor([g.num_atoms for g in graphs])
    offsets = torch.cumsum(sizes, 0) - sizes
    edge_index = torch.cat([g.edge_index + o for g, o in zip(graphs, offsets.tolist())], 1)
    return GraphBatch(
        torch.cat([g.x for g in graphs]),
        edge_index,
        torch.cat([g.edge_attr for g in graphs]),
        torch.repeat_interleave(torch.arange(len(graphs)), sizes),
        len(graphs),
    )
