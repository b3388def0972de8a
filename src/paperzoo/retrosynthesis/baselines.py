"""Baselines of the RetCL reproduction: RetroSim (template transfer from similar training
products) and a reactant-set popularity floor.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795 (Table 1
compares template-based and template-free baselines, RetroSim among them, under the same
candidate restriction).

RetroSim: Coley, Rogers, Green, Jensen, "Computer-Assisted Retrosynthesis Based on Molecular
Similarity", ACS Cent. Sci. 2017, https://doi.org/10.1021/acscentsci.7b00355.

For a product P, RetroSim takes the training products most similar to P (Tanimoto on Morgan
fingerprints, radius 2), applies each neighbour's retro template to P (rdchiral), and scores a
resulting precursor set R by

    score(R) = sim(P, P_j) * sim(R, R_j)

(the neighbour's product similarity times the similarity of R, as one molecule, to that
neighbour's recorded reactants), keeping each set's best score. Only the neighbours' templates
are tried, which is RetroSim's own prefilter (applying all ~10k USPTO-50k templates to every
product takes hours). With ``candidates`` set, precursor sets containing a molecule outside the
candidate set are dropped, the same restriction RetCL works under (the RetCL paper compares the
baselines that way).

Popularity: the most frequent training reactant sets, the same list for every product (only sets
wholly inside the candidate set); a floor that says how much a product-blind guess gets.

Deviations from RetroSim and the RetCL paper:
    * One fingerprint (Morgan r=2, 2048 bits; RetroSim picked among several by validation),
      50 neighbours by default (RetroSim 100).
    * The popularity floor is ours, not one of the paper's baselines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from .chem import canonical_set, canonical_smiles

__all__ = ["PopularityBaseline", "RetroSim"]


_GEN: dict[str, Any] = {}


def _fp(smiles: str) -> Any:
    """Morgan (radius 2, 2048-bit) fingerprint; None when RDKit cannot parse ``smiles``."""
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    gen = _GEN.get("morgan")
    if gen is None:
        gen = _GEN["morgan"] = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    mol = Chem.MolFromSmiles(smiles)
    return gen.GetFingerprint(mol) if mol is not None else None


class RetroSim:
    """Similarity-based template transfer (Coley et al. 2017).

    Args:
        num_neighbours: training products whose templates are tried per query (RetroSim 100).
        candidates: canonical SMILES that may appear in a prediction (None = any).
        stereo: canonical form used for matching (keep stereochemistry by default).

    ``fit(products, reactant_sets, templates)`` stores the training reactions;
    ``predict(product, top_k)`` returns ranked reactant sets (sorted tuples of SMILES).
    """

    def __init__(
        self,
        num_neighbours: int = 50,
        candidates: Iterable[str] | None = None,
        stereo: bool = True,
    ) -> None:
        self.num_neighbours = num_neighbours
        self.candidates = None if candidates is None else set(candidates)
        self.stereo = stereo

    def fit(
        self,
        products: Sequence[str],
        reactant_sets: Sequence[tuple[str, ...]],
        templates: Sequence[str],
    ) -> RetroSim:
        if not (len(products) == len(reactant_sets) == len(templates)):
            raise ValueError("products, reactant_sets and templates differ in length")
        self.products_ = list(products)
        self.reactants_ = [tuple(r) for r in reactant_sets]
        self.templates_ = list(templates)
        self.product_fps_ = [_fp(p) for p in products]
        self._reactant_fps: dict[int, Any] = {}
        self._rxn: dict[str, Any] = {}
        return self

    def _reactant_fp(self, j: int) -> Any:
        if j not in self._reactant_fps:
            self._reactant_fps[j] = _fp(".".join(self.reactants_[j]))
        return self._reactant_fps[j]

    def _apply(self, template: str, product: str) -> list[str]:
        from rdchiral.main import rdchiralReactants, rdchiralReaction, rdchiralRun

        rxn = self._rxn.get(template)
        if rxn is None:
            try:
                rxn = rdchiralReaction(template)
            except Exception:  # an unparsable template never applies
                rxn = False
            self._rxn[template] = rxn
        if rxn is False:
            return []
        try:
            return list(rdchiralRun(rxn, rdchiralReactants(product)))
        except Exception:  # rdchiral raises on some exotic valences; the template just fails
            return []

    def predict(self, product: str, top_k: int = 10) -> list[tuple[tuple[str, ...], float]]:
        """Ranked (reactant set, score) for one product SMILES."""
        from rdkit import DataStructs

        p = canonical_smiles(product, self.stereo)
        fp = _fp(p)
        sims = DataStructs.BulkTanimotoSimilarity(fp, self.product_fps_)
        order = sorted(range(len(sims)), key=lambda j: -sims[j])
        scores: dict[tuple[str, ...], float] = {}
        for j in order[: self.num_neighbours]:
            for out in self._apply(self.templates_[j], p):
                try:
                    rs = canonical_set(out, self.stereo)
                except ValueError:
                    continue
                if p in rs:
                    continue
                if self.candidates is not None and not set(rs) <= self.candidates:
                    continue
                s = sims[j] * DataStructs.TanimotoSimilarity(
                    _fp(".".join(rs)), self._reactant_fp(j)
                )
                if s > scores.get(rs, -1.0):
                    scores[rs] = s
        return sorted(scores.items(), key=lambda x: -x[1])[:top_k]


class PopularityBaseline:
    """The training set's most frequent reactant sets, proposed for every product."""

    def __init__(self, candidates: Iterable[str] | None = None) -> None:
        self.candidates = None if candidates is None else set(candidates)

    def fit(self, reactant_sets: Sequence[tuple[str, ...]]) -> PopularityBaseline:
        counts = Counter(tuple(sorted(r)) for r in reactant_sets)
        ok = [
            (s, c)
            for s, c in counts.most_common()
            if self.candidates is None or set(s) <= self.candidates
        ]
        total = sum(counts.values())
        self.ranked_ = [(s, c / total) for s, c in ok]
        return self

    def predict(self, product: str, top_k: int = 10) -> list[tuple[tuple[str, ...], float]]:
        return [(s, f) for s, f in self.ranked_ if product not in s][:top_k]
