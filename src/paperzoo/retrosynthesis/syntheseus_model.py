"""RetCL as a `syntheseus <https://github.com/microsoft/syntheseus>`_ single-step model, so
multi-step planners (Retro*, MCTS, PDVN in syntheseus' search module) can expand molecules with
it:

    from paperzoo.retrosynthesis import load_model
    from paperzoo.retrosynthesis.syntheseus_model import RetCLBackwardModel

    model = RetCLBackwardModel(load_model("retcl.pt"), candidates="stock.smi")
    [reactions] = model([Molecule("CC(=O)Nc1ccccc1")], num_results=10)

Each :class:`syntheseus.SingleProductReaction` carries ``metadata["score"]`` (RetCL's Eq. 7
score) and ``metadata["probability"]``: a softmax of the scores over the returned results
(RetCL scores are cosines, not log-probabilities; planners that turn probabilities into costs
get a ranking-consistent value, normalised per call). The product is never its own reactant.
Imports syntheseus when this module is imported (``pip install syntheseus``); the package's
other modules never do.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(single-step retrosynthesis; the paper names multi-step planning as future work). syntheseus:
Maziarz et al., "Re-evaluating Retrosynthesis Algorithms with Syntheseus", 2023,
https://arxiv.org/abs/2310.19796.

Two molecule sets, kept apart. RetCL can only propose molecules of its candidate set, so if the
planner's purchasable inventory is that same set, every proposal is purchasable and every route
the planner finds is one step. For multi-step planning, select from a set that also holds
intermediates (every reactant and product of a reaction corpus, say), and give the planner a
separate inventory of building blocks: :func:`building_blocks` keeps the reactants that never
occur as a product, and :func:`building_block_inventory` wraps them for syntheseus:

    reactions = [(r.reactants, r.product) for r in train]  # (reactant SMILES, product SMILES)
    expand = RetCLBackwardModel(model, [m for rs, p in reactions for m in (*rs, p)])
    inventory = building_block_inventory(reactions)
    search = AndOr_BreadthFirstSearch(reaction_model=expand, mol_inventory=inventory, ...)

Deviations from the paper: the paper has no multi-step use; ``probability`` (a softmax of the
scores at ``temperature``) is ours, for planners that need one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from syntheseus import BackwardReactionModel, Bag, Molecule, SingleProductReaction
from syntheseus.search.mol_inventory import SmilesListInventory

from .chem import canonical_smiles
from .encoder import RetCLModel
from .index import IndexKind
from .predict import Retrosynthesizer
from .selection import CandidateSet

__all__ = ["RetCLBackwardModel", "building_block_inventory", "building_blocks"]


class RetCLBackwardModel(BackwardReactionModel):
    """syntheseus' ``BackwardReactionModel`` over a :class:`~.predict.Retrosynthesizer`.

    Args:
        model: a trained RetCL model.
        candidates: the stock to select reactants from (a :class:`~.selection.CandidateSet`,
            a SMILES file or SMILES).
        beam_size, max_reactants, index: as :class:`~.predict.Retrosynthesizer`.
        temperature: softmax temperature turning scores into ``probability``.
        **kwargs: syntheseus' options (``use_cache``, ``default_num_results``, ...).
    """

    def __init__(
        self,
        model: RetCLModel,
        candidates: CandidateSet | str | Path | Iterable[str],
        beam_size: int = 50,
        max_reactants: int = 4,
        index: IndexKind = "exact",
        temperature: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.retro = Retrosynthesizer(model, candidates, beam_size, max_reactants, index=index)
        self.temperature = temperature

    def is_forward(self) -> bool:
        return False

    def get_parameters(self) -> Any:
        return self.retro.model.parameters()

    def _get_reactions(
        self, inputs: list[Molecule], num_results: int
    ) -> list[Sequence[SingleProductReaction]]:
        out = []
        for mol in inputs:
            preds = self.retro.predict(mol.smiles, top_k=num_results)
            if not preds:
                out.append([])
                continue
            top = max(p.score for p in preds)
            w = [math.exp((p.score - top) / self.temperature) for p in preds]
            z = sum(w)
            out.append([
                SingleProductReaction(
                    reactants=Bag([Molecule(s) for s in p.reactants]),
                    product=mol,
                    metadata={"score": p.score, "probability": wi / z},
                )
                for p, wi in zip(preds, w)
            ])  # fmt: skip
        return out


def building_blocks(
    reactions: Iterable[tuple[Iterable[str], str]], stereo: bool = True
) -> list[str]:
    """The reactants of ``reactions`` that never occur as a product: a purchasable stock apart
    from the selection set, so that a planner expands intermediates instead of buying them.

    Args:
        reactions: (reactant SMILES, product SMILES) pairs.
        stereo: keep stereochemistry in the canonical form (as :class:`~.selection.CandidateSet`).

    Returns:
        Canonical SMILES, de-duplicated, in first-seen order.

    Raises:
        MoleculeError: a SMILES cannot be parsed (named).
    """
    pairs = [([canonical_smiles(r, stereo) for r in rs], canonical_smiles(p, stereo))
             for rs, p in reactions]  # fmt: skip
    made = {p for _, p in pairs}
    # a dict keeps the first-seen order and drops repeats
    return list(dict.fromkeys(r for rs, _ in pairs for r in rs if r not in made))


def building_block_inventory(
    reactions: Iterable[tuple[Iterable[str], str]], stereo: bool = True
) -> SmilesListInventory:
    """syntheseus' purchasable inventory of :func:`building_blocks` (the planner's stock)."""
    return SmilesListInventory(building_blocks(reactions, stereo))
