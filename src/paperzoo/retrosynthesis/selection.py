"""Selecting reactants from a candidate set: the candidate index, beam search with a learned
halt, and forward/backward rescoring.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(Section 3.1, 3.4). Official code https://github.com/hankook/RetCL
(``trainers/retrosynthesis.py``; read only).

Inference for a product P over candidates C (keys k(m), unit norm, plus the halt key):

1. step t of a beam R_<t: score every candidate by cos(q_t, k(m)), q_t = f_P(P) - sum f_R(R_<t);
   the product itself and the beam's earlier picks are excluded; picking halt closes the set;
2. beams keep the ``beam_size`` best cumulative scores, for at most ``max_reactants`` steps,
   one beam per distinct unordered set of picks (its best-scoring ordering), as the official
   search does after every step (:func:`best_per_set`);
3. closed sets are de-duplicated as unordered sets (each keeps its best score);
4. rescoring (Eq. 7): (forward score + best-ordering backward score) / (n + 2), with
   forward = cos(sum_r f_R(r), k(P)) and backward = max over orderings of the n + 1 step scores.

The default index is a plain matrix product with top-k (exact; ~50k candidates x 128 dims is a
few milliseconds per query batch on a CPU core); ``index.py`` adds FAISS for larger sets.
Swapping the candidate set (a user's own stock) only re-embeds it; the model is unchanged.

Deviations from the official code (commit d649b75, ``trainers/retrosynthesis.py``):

* a beam never picks the same molecule twice; the official search may, and its multiset key
  keeps such a set (``[a, a]``) apart from ``[a]``, so it can only waste a beam slot;
* the official loop runs 4 selection steps and only a halt closes a set, so it closes at most
  3 reactants (and can close the empty set); ``max_reactants`` here is the most reactants
  closed (4 by default; no USPTO-50k reaction has more than 3), and the empty set is never
  proposed;
* Eq. 7 rescoring: the official evaluator rescores every closed set whenever the beam is
  larger than 1 (lines 160-167), and ranks by the cumulative score / (n + 1) only at beam 1;
  :func:`propose` rescores the ``rescore_top`` best sets by that cumulative score.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .chem import MolGraph, batch_graphs, canonical_smiles, mol_graph
from .encoder import Embeddings, RetCLModel
from .index import KeyIndex

__all__ = [
    "CandidateSet",
    "Prediction",
    "beam_search",
    "best_per_set",
    "embed_graphs",
    "propose",
    "rescore",
]


class CandidateSet:
    """The molecules RetCL may select from (canonical, de-duplicated, in first-seen order).

    Args:
        smiles: candidate SMILES (atom maps and explicit hydrogens are removed).
        stereo: keep stereochemistry in the canonical form (default, the stricter match).

    Raises:
        MoleculeError: a candidate cannot be parsed (named).
    """

    def __init__(self, smiles: Iterable[str], stereo: bool = True) -> None:
        self.stereo = stereo
        self.smiles: list[str] = []
        self.index: dict[str, int] = {}
        for s in smiles:
            c = canonical_smiles(s, stereo)
            if c not in self.index:
                self.index[c] = len(self.smiles)
                self.smiles.append(c)
        if not self.smiles:
            raise ValueError("a candidate set needs at least one molecule")
        self._graphs: dict[int, MolGraph] = {}

    @classmethod
    def from_file(cls, path: str | Path, stereo: bool = True) -> CandidateSet:
        """One SMILES per line (the first whitespace- or comma-separated field; ``#`` lines and
        a ``smiles`` header are skipped)."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"candidate file {p} does not exist")
        rows = []
        for line in p.read_text("utf-8").splitlines():
            field = line.replace(",", " ").split()
            if field and not field[0].startswith("#") and field[0].lower() != "smiles":
                rows.append(field[0])
        return cls(rows, stereo)

    def __len__(self) -> int:
        return len(self.smiles)

    def __contains__(self, smiles: str) -> bool:
        return canonical_smiles(smiles, self.stereo) in self.index

    def graph(self, row: int) -> MolGraph:
        if row not in self._graphs:
            self._graphs[row] = mol_graph(self.smiles[row])
        return self._graphs[row]

    def embed(self, model: RetCLModel, batch_size: int = 1024) -> Embeddings:
        """Embeddings of every candidate (model in eval mode; its mode is restored)."""
        return embed_graphs(model, [self.graph(r) for r in range(len(self))], batch_size)


@torch.no_grad()
def embed_graphs(
    model: RetCLModel, graphs: Sequence[MolGraph], batch_size: int = 1024
) -> Embeddings:
    """Embeddings of molecule graphs in batches, the model in eval mode (its mode is restored).

    Raises:
        ValueError: no graphs.
    """
    if not graphs:
        raise ValueError("no molecules to embed")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    try:
        parts = [
            model.embed(batch_graphs(graphs[i : i + batch_size]).to(dev))
            for i in range(0, len(graphs), batch_size)
        ]
        return Embeddings.cat(parts)
    finally:
        model.train(was)


@dataclass(frozen=True)
class Prediction:
    """One proposed reactant set: canonical SMILES (sorted), candidate rows, score."""

    reactants: tuple[str, ...]
    rows: tuple[int, ...]
    score: float


@torch.no_grad()
def beam_search(
    model: RetCLModel,
    product: Embeddings,
    candidates: Embeddings,
    exclude: Sequence[int] = (),
    beam_size: int = 50,
    max_reactants: int = 4,
    reaction_class: int | None = None,
    index: KeyIndex | None = None,
) -> list[tuple[tuple[int, ...], float]]:
    """Closed reactant sets for one product, best first, by cumulative score / (n + 1).

    Args:
        product: the product's embeddings (one row).
        candidates: the candidate set's embeddings.
        exclude: candidate rows never to pick (the product itself when it is a candidate).
        beam_size: beams kept per step (official 50).
        max_reactants: most reactants in a set (official 4).
        reaction_class: 1-based class for a class-known model, else None.
        index: a :class:`~.index.KeyIndex` over the candidates' keys (without halt); None
            scores every candidate with one matrix product. With an index, each beam asks for
            its ``beam_size`` + (excluded rows) best keys, so the allowed top ``beam_size``
            are the same as the full product's (exactly so for an exact index).

    Returns:
        (sorted candidate rows, normalised cumulative score) per distinct set. Partial beams
        are de-duplicated after every step (:func:`best_per_set`), so ``beam_size`` counts
        distinct sets, never reorderings of one set.
    """
    keys = model.keys(candidates)  # (C + 1, dim), halt last
    halt = keys.shape[0] - 1
    cls = None if reaction_class is None else torch.tensor([reaction_class])
    beams: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    closed: dict[tuple[int, ...], float] = {}
    for _ in range(max_reactants + 1):
        chosen = torch.full((len(beams), max(1, max(len(b) for b, _ in beams))), -1)
        for i, (b, _) in enumerate(beams):
            if b:
                chosen[i, : len(b)] = torch.tensor(b)
        # q_t = f_P(P) - sum of f_R over the beam's picks (rows of the candidate set)
        q = product.product_query.expand(len(beams), -1) - (
            (candidates.reactant_query[chosen.clamp(min=0)] * (chosen >= 0).unsqueeze(-1)).sum(1)
        )
        if cls is not None:
            q = q + model.class_term(cls.expand(len(beams)), backward=True)
        qn = F.normalize(q, dim=-1)
        last = len(beams[0][0]) >= max_reactants  # last step: only halting is allowed
        if index is None:
            s = qn @ keys.T  # (beams, C + 1)
            if exclude:
                s[:, list(exclude)] = float("-inf")
            for i, (b, _) in enumerate(beams):
                if b:
                    s[i, list(b)] = float("-inf")
            if last:
                s[:, :halt] = float("-inf")
            top = s.topk(min(beam_size, s.shape[1]), dim=1)
            options = [list(zip(top.values[i].tolist(), top.indices[i].tolist()))
                       for i in range(len(beams))]  # fmt: skip
        else:
            options = _index_options(qn, keys[halt], index, beams, exclude, beam_size, last, halt)
        grown: list[tuple[tuple[int, ...], float]] = []
        for i, (b, score) in enumerate(beams):
            for v, j in options[i]:
                if v == float("-inf"):
                    continue
                if j == halt:
                    if b:  # an empty set is not a prediction
                        key = tuple(sorted(b))
                        total = (score + v) / (len(b) + 1)
                        closed[key] = max(closed.get(key, float("-inf")), total)
                else:
                    grown.append(((*b, j), score + v))
        if not grown:
            break
        beams = best_per_set(grown, beam_size)
    return sorted(closed.items(), key=lambda x: -x[1])


def best_per_set(
    grown: Iterable[tuple[tuple[int, ...], float]], beam_size: int
) -> list[tuple[tuple[int, ...], float]]:
    """The ``beam_size`` best partial beams, one per distinct unordered set of picks.

    As the official search (``trainers/retrosynthesis.py``: sort by cumulative score, keep the
    first entry per sorted index key, then cut to the beam), each set keeps its best-scoring
    ordering. The later steps' queries, f_P(P) - sum f_R(picks), depend on the set only, so the
    best ordering of every larger set extends the best ordering of one of its subsets: keeping
    the others would only spend beam slots on reorderings that can never win.

    Args:
        grown: (picked candidate rows in pick order, cumulative score) entries.
        beam_size: how many distinct sets to keep.

    Returns:
        At most ``beam_size`` entries, best cumulative score first (ties keep input order).
    """
    kept: dict[tuple[int, ...], tuple[tuple[int, ...], float]] = {}
    for rows, score in sorted(grown, key=lambda x: -x[1]):  # stable: ties keep input order
        key = tuple(sorted(rows))  # a multiset key, as the official one
        if key not in kept:
            kept[key] = (rows, score)
            if len(kept) >= beam_size:
                break
    return list(kept.values())


def _index_options(
    qn: torch.Tensor,
    halt_key: torch.Tensor,
    index: KeyIndex,
    beams: Sequence[tuple[tuple[int, ...], float]],
    exclude: Sequence[int],
    beam_size: int,
    last: bool,
    halt: int,
) -> list[list[tuple[float, int]]]:
    """Per beam, its ``beam_size`` best allowed (score, row) options, halt included."""
    halt_s = (qn @ halt_key).tolist()
    if last:
        return [[(v, halt)] for v in halt_s]
    banned = set(exclude)
    extra = len(banned) + max(len(b) for b, _ in beams)
    values, rows = index.search(qn, beam_size + extra)
    out = []
    for i, (b, _) in enumerate(beams):
        skip = banned | set(b)
        opts = [(v, j) for v, j in zip(values[i].tolist(), rows[i].tolist())
                if j not in skip and v != float("-inf")]  # fmt: skip
        opts.append((halt_s[i], halt))
        opts.sort(key=lambda x: -x[0])
        out.append(opts[:beam_size])
    return out


@torch.no_grad()
def rescore(
    model: RetCLModel,
    product: Embeddings,
    candidates: Embeddings,
    sets: Sequence[tuple[int, ...]],
    reaction_class: int | None = None,
) -> list[float]:
    """Eq. 7: (forward + best-ordering backward score) / (n + 2) for each candidate-row set."""
    keys = model.keys(candidates)
    halt = keys[-1]
    k_product = F.normalize(product.key[0], dim=-1)
    cls = None if reaction_class is None else torch.tensor([reaction_class])
    out = []
    for rows in sets:
        r = torch.tensor(rows).unsqueeze(0)
        fwd = F.normalize(model.forward_query(candidates, r, cls)[0], dim=-1) @ k_product
        best = float("-inf")
        for perm in itertools.permutations(rows):
            total = 0.0
            for t in range(len(perm) + 1):
                q = product.product_query[0] - candidates.reactant_query[list(perm[:t])].sum(0)
                if cls is not None:
                    q = q + model.class_term(cls, backward=True)[0]
                k = keys[perm[t]] if t < len(perm) else halt
                total += float(F.normalize(q, dim=-1) @ k)
            best = max(best, total)
        out.append((float(fwd) + best) / (len(rows) + 2))
    return out


def propose(
    model: RetCLModel,
    product: Embeddings,
    candidates: Embeddings,
    exclude: Sequence[int] = (),
    beam_size: int = 50,
    max_reactants: int = 4,
    reaction_class: int | None = None,
    rescore_top: int = 0,
    index: KeyIndex | None = None,
) -> list[tuple[tuple[int, ...], float]]:
    """Beam search, then (``rescore_top`` > 0) Eq. 7 rescoring of its ``rescore_top`` best
    sets, re-ranked: the ranked (candidate rows, score) list every caller uses."""
    sets = beam_search(
        model, product, candidates, exclude, beam_size, max_reactants, reaction_class, index
    )
    if rescore_top > 0 and sets:
        pool = [rows for rows, _ in sets[:rescore_top]]
        scores = rescore(model, product, candidates, pool, reaction_class)
        sets = sorted(zip(pool, scores), key=lambda x: -x[1])
    return sets
