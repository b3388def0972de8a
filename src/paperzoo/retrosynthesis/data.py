"""Reaction data for the reproduction: USPTO-50k (or a built-in toy set) canonicalised, the
candidate set, and the unseen-template split of the test reactions.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(experiments: USPTO-50k with all 671k USPTO reactants as candidates; generalisation to unseen
templates). Official code https://github.com/hankook/RetCL (``data/uspto_50k``,
``data/uspto_50k_modified``, ``data/uspto_candidates``; read only).

The candidate set is the union of every reactant in USPTO-50k's three splits (so every test
ground truth is selectable, the paper's "all USPTO reactants" assumption on 7.9 % of its 671k
molecules); ``distractors="products"`` adds every product. A test reaction has an *unseen
template* when its rdchiral retro template never occurs among the training reactions (RetCL's
own re-split training set is not available here; its test set is the standard one).

The toy set (for smoke tests, no data root) is made here with RDKit: amide couplings, esters
and Suzuki couplings of a few building blocks for training, plus sulfonamides seen only at test
time (its unseen template).

Deviations from the paper:
    * Candidates: the reactants of USPTO-50k's three splits (plus, optionally, its products)
      instead of the 671k reactants of all of USPTO, which are not available here.
    * Unseen templates are flagged among the standard test reactions instead of re-splitting
      the training set as RetCL's ``uspto_50k_modified`` does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from .chem import canonical_set, canonical_smiles, parse_reaction

__all__ = ["Reaction", "ReactionData", "load_reactions", "toy_reactions"]


@dataclass(frozen=True)
class Reaction:
    """A reaction in canonical form: reactant set (sorted), product, class (1-10), template."""

    reactants: tuple[str, ...]
    product: str
    reaction_class: int
    template: str


@dataclass
class ReactionData:
    """Splits, the candidate set and the molecule universe (candidates first, then products).

    Attributes:
        train, val, test: canonical reactions.
        candidates: number of candidate molecules; ``molecules[:candidates]`` are the candidates.
        molecules: every molecule the runs embed (candidates, then products not among them).
        row: canonical SMILES -> row in ``molecules``.
        unseen: per test reaction, whether its template is absent from train.
    """

    train: list[Reaction]
    val: list[Reaction]
    test: list[Reaction]
    candidates: int = 0
    molecules: list[str] = field(default_factory=list)
    row: dict[str, int] = field(default_factory=dict)
    unseen: list[bool] = field(default_factory=list)

    def index(self, distractors: str = "none") -> ReactionData:
        """Fill the candidate set, the molecule universe and the unseen-template flags."""
        cands: dict[str, None] = {}
        for split in (self.train, self.val, self.test):
            for r in split:
                cands.update(dict.fromkeys(r.reactants))
        if distractors == "products":
            for split in (self.train, self.val, self.test):
                cands.update(dict.fromkeys(r.product for r in split))
        elif distractors != "none":
            raise ValueError(f"distractors must be 'none' or 'products', got {distractors!r}")
        self.molecules = list(cands)
        self.candidates = len(self.molecules)
        for split in (self.train, self.val, self.test):
            for r in split:
                if r.product not in cands:
                    cands[r.product] = None
                    self.molecules.append(r.product)
        self.row = {s: i for i, s in enumerate(self.molecules)}
        seen = {r.template for r in self.train}
        self.unseen = [r.template not in seen for r in self.test]
        return self

    def subset(self, num_train: int = 0, num_val: int = 0, num_test: int = 0) -> ReactionData:
        """The first N reactions of each split (0 = all); call after :meth:`index`, so the
        candidate set and the unseen flags stay those of the full data."""
        cut = lambda xs, n: xs[:n] if n else xs  # noqa: E731
        return ReactionData(
            cut(self.train, num_train),
            cut(self.val, num_val),
            cut(self.test, num_test),
            self.candidates,
            self.molecules,
            self.row,
            cut(self.unseen, num_test),
        )

    def rows(self, r: Reaction) -> tuple[int, list[int]]:
        """(product row, reactant rows) in the molecule universe."""
        return self.row[r.product], [self.row[x] for x in r.reactants]


def load_reactions(
    root: str | Path | None, stereo: bool = True
) -> tuple[list[Reaction], list[Reaction], list[Reaction]]:
    """USPTO-50k train / valid / test in file order, canonical (atom maps removed)."""
    from paperzoo.datasets import load_uspto50k

    out = []
    for split in ("train", "valid", "test"):
        rows = []
        for r in load_uspto50k(split, root):
            reactants, product = parse_reaction(r.reaction, stereo)
            rows.append(Reaction(reactants, product, r.reaction_class, r.retro_template))
        out.append(rows)
    return out[0], out[1], out[2]


# --- the built-in toy set -------------------------------------------------------------------

_TOY_TYPES = {
    # name: (forward SMARTS, rdchiral retro template, class)
    "amide": (
        "[C:1](=[O:2])Cl.[N;H2;!$(NC=O):3]>>[C:1](=[O:2])[N:3]",
        "[C:1](=[O:2])-[N;H1;+0:3]>>Cl-[C:1]=[O:2].[N;H2;+0:3]",
        2,
    ),
    "ester": (
        "[C:1](=[O:2])[OH].[O;H1;$(OC);!$(OC=O):3]>>[C:1](=[O:2])[O:3]",
        "[C:1](=[O:2])-[O;H0;+0:3]-[C;!$(C=O):4]>>O-[C:1]=[O:2].[O;H1;+0:3]-[C:4]",
        2,
    ),
    "suzuki": ("[c:1]Br.[c:2]B(O)O>>[c:1]-[c:2]", "[c:1]-[c:2]>>Br-[c:1].O-B(-O)-[c:2]", 3),
    "sulfonamide": (
        "[S:1](=[O:2])(=[O:3])Cl.[N;H2;!$(NC=O):4]>>[S:1](=[O:2])(=[O:3])[N:4]",
        "[S:1](=[O:2])(=[O:3])-[N;H1;+0:4]>>Cl-[S:1](=[O:2])=[O:3].[N;H2;+0:4]",
        2,
    ),
}
_TOY_BLOCKS = {
    "amide": (
        ["CC(=O)Cl", "O=C(Cl)c1ccccc1", "CCC(=O)Cl", "O=C(Cl)c1ccco1", "O=C(Cl)C1CC1"],
        ["Nc1ccccc1", "NCc1ccccc1", "CCN", "Nc1ccc(F)cc1", "NC1CCCCC1"],
    ),
    "ester": (
        ["CC(=O)O", "O=C(O)c1ccccc1", "CCC(=O)O", "O=C(O)c1ccncc1", "O=C(O)CCl"],
        ["CCO", "OCc1ccccc1", "CC(C)O", "OCC1CC1", "CCCCO"],
    ),
    "suzuki": (
        ["Brc1ccccc1", "Brc1ccc(C)cc1", "Brc1cccnc1", "COc1ccc(Br)cc1", "Brc1ccc(C#N)cc1"],
        ["OB(O)c1ccccc1", "OB(O)c1ccc(F)cc1", "OB(O)c1ccsc1", "OB(O)c1ccc(C(C)=O)cc1"],
    ),
    "sulfonamide": (
        ["CS(=O)(=O)Cl", "Cc1ccc(S(=O)(=O)Cl)cc1"],
        ["Nc1ccccc1", "NCc1ccccc1", "CCN"],
    ),
}


def toy_reactions(seed: int = 0) -> tuple[list[Reaction], list[Reaction], list[Reaction]]:
    """A small synthetic reaction set: 3 reaction types split 70/10/20 % into train / val /
    test, and a 4th type (sulfonamides) only in test (unseen template). Deterministic."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    by_type: dict[str, list[Reaction]] = {}
    for name, (smarts, retro, cls) in _TOY_TYPES.items():
        rxn = AllChem.ReactionFromSmarts(smarts)
        rows = []
        for a in _TOY_BLOCKS[name][0]:
            for b in _TOY_BLOCKS[name][1]:
                prods = rxn.RunReactants((Chem.MolFromSmiles(a), Chem.MolFromSmiles(b)))
                if not prods:
                    continue
                p = canonical_smiles(Chem.MolToSmiles(prods[0][0]))
                rows.append(Reaction(canonical_set([a, b]), p, cls, retro))
        by_type[name] = rows
    rng = random.Random(seed)
    train, val, test = [], [], []
    for name, rows in by_type.items():
        rng.shuffle(rows)
        if name == "sulfonamide":
            test += rows
            continue
        n_val, n_test = max(1, len(rows) // 10), max(1, len(rows) // 5)
        val += rows[:n_val]
        test += rows[n_val : n_val + n_test]
        train += rows[n_val + n_test :]
    return train, val, test
