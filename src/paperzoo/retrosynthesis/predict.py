"""The user-facing predictor: a trained RetCL model plus a candidate set (a stock) ->
ranked reactant sets for any product SMILES.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(inference: beam search over the candidate set, then rescoring; official ``evaluate.py`` in
https://github.com/hankook/RetCL). The search itself is :mod:`.selection`.

The candidate embeddings are computed once per candidate set; :meth:`Retrosynthesizer.
set_candidates` swaps the stock without retraining. The product is never proposed as its own
reactant.

Deviations from the paper: the inference of :mod:`.selection` (a beam never picks a molecule
twice; Eq. 7 rescoring by default); a product with several fragments is refused, and the
stock can be swapped or searched with FAISS (a user-facing API the paper does not have).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from .chem import MoleculeError, batch_graphs, canonical_smiles, mol_graph
from .encoder import RetCLModel
from .index import IndexKind, make_index
from .selection import CandidateSet, Prediction, propose

__all__ = ["Retrosynthesizer", "load_model", "retrosynthesize", "save_model"]


def save_model(model: RetCLModel, path: str | Path) -> Path:
    """Write the model's size and weights (tensors and ints only: loadable with
    ``weights_only=True``), atomically."""
    from paperzoo.core.checkpoint import save_checkpoint

    meta = {
        "hidden_dim": model.dim,
        "num_layers": len(model.encoder.gnn.w1) + 1,
        "num_classes": model.num_classes,
    }
    return save_checkpoint(path, {"retcl": meta, "state_dict": model.state_dict()})


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> RetCLModel:
    """A model written by :func:`save_model` (in eval mode).

    Raises:
        FileNotFoundError: no such file. ValueError: the file is not a RetCL model.
    """
    from paperzoo.core.checkpoint import load_checkpoint

    ck = load_checkpoint(path, map_location)
    if ck is None:
        raise FileNotFoundError(f"no RetCL model at {path}")
    if "retcl" not in ck:
        raise ValueError(f"{path} is not a RetCL model file (written by save_model)")
    meta = ck["retcl"]
    model = RetCLModel(int(meta["hidden_dim"]), int(meta["num_layers"]), int(meta["num_classes"]))
    model.load_state_dict(ck["state_dict"])
    return model.eval()


class Retrosynthesizer:
    """Single-step retrosynthesis by selection from a candidate set.

    Args:
        model: a trained :class:`~.encoder.RetCLModel`.
        candidates: a :class:`~.selection.CandidateSet`, a path to a SMILES file, or SMILES.
        beam_size: beams per step (official 50).
        max_reactants: most reactants per set (official 4).
        rescore: rank by Eq. 7 (forward + best backward) / (n + 2) instead of the beam score.
        index: nearest-neighbour search over the candidates: ``exact`` (one matrix product,
            the default), ``faiss-flat`` (exact, FAISS) or ``faiss-hnsw`` (approximate; for
            sets beyond a million molecules). Needs ``faiss-cpu`` for the FAISS kinds.
    """

    def __init__(
        self,
        model: RetCLModel,
        candidates: CandidateSet | str | Path | Iterable[str],
        beam_size: int = 50,
        max_reactants: int = 4,
        rescore: bool = True,
        index: IndexKind = "exact",
    ) -> None:
        if beam_size < 1 or max_reactants < 1:
            raise ValueError("beam_size and max_reactants must be >= 1")
        if index not in ("exact", "faiss-flat", "faiss-hnsw"):
            raise ValueError(f"unknown index {index!r}; choose exact, faiss-flat or faiss-hnsw")
        self.index_kind = index
        self.model = model.eval()
        self.beam_size, self.max_reactants, self.rescore = beam_size, max_reactants, rescore
        self.set_candidates(candidates)

    def set_candidates(self, candidates: CandidateSet | str | Path | Iterable[str]) -> None:
        """Use another stock: only its embeddings are computed, the model is unchanged."""
        if isinstance(candidates, (str, Path)):
            candidates = CandidateSet.from_file(candidates)
        elif not isinstance(candidates, CandidateSet):
            candidates = CandidateSet(candidates)
        self.candidates = candidates
        self.embeddings = candidates.embed(self.model)
        self.index = None
        if self.index_kind != "exact":
            keys = self.model.keys(self.embeddings)[:-1]  # without the halt key
            self.index = make_index(keys, self.index_kind)

    @torch.no_grad()
    def predict(
        self, product: str, top_k: int = 10, reaction_class: int | None = None
    ) -> list[Prediction]:
        """The ``top_k`` best reactant sets for one product SMILES.

        Raises:
            MoleculeError: ``product`` is not a valid SMILES (the message names it).
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        try:
            p = canonical_smiles(product, self.candidates.stereo)
        except MoleculeError as e:
            raise MoleculeError(f"invalid product SMILES {product!r}: {e}") from None
        if "." in p:
            raise MoleculeError(f"the product {product!r} has several fragments; give one")
        prod = self.model.embed(batch_graphs([mol_graph(p)]))
        own = self.candidates.index.get(p)
        sets = propose(
            self.model,
            prod,
            self.embeddings,
            exclude=() if own is None else (own,),
            beam_size=self.beam_size,
            max_reactants=self.max_reactants,
            reaction_class=reaction_class,
            rescore_top=max(top_k, self.beam_size) if self.rescore else 0,
            index=self.index,
        )
        return [
            Prediction(tuple(sorted(self.candidates.smiles[r] for r in rows)), rows, float(sc))
            for rows, sc in sets[:top_k]
        ]


def retrosynthesize(
    product: str,
    model: RetCLModel,
    candidates: CandidateSet | str | Path | Iterable[str],
    top_k: int = 10,
    **kwargs: object,
) -> list[Prediction]:
    """One-off convenience: ``Retrosynthesizer(model, candidates, **kwargs).predict(...)``.

    For many products build a :class:`Retrosynthesizer` once (embedding the candidates is the
    expensive part).
    """
    return Retrosynthesizer(model, candidates, **kwargs).predict(product, top_k)  # type: ignore[arg-type]
