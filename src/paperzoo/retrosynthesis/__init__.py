"""RetCL: single-step retrosynthesis by selecting reactants from a candidate set with
contrastive learning (Lee et al., IJCAI 2021, https://arxiv.org/abs/2105.00795).

    from paperzoo.retrosynthesis import RetCLModel, Retrosynthesizer
    model = RetCLModel(hidden_dim=128, num_layers=3)        # train it, or load weights
    predictor = Retrosynthesizer(model, ["CCO", "CC(=O)Cl", "c1ccccc1N"])
    predictor.predict("CC(=O)Nc1ccccc1", top_k=5)

Needs the ``chem`` extra (RDKit, rdchiral); importing this package does not import them.
``index="faiss-flat"`` / ``"faiss-hnsw"`` searches candidates with FAISS (``faiss-cpu``);
``paperzoo.retrosynthesis.syntheseus_model.RetCLBackwardModel`` plugs RetCL into syntheseus'
multi-step planners.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "ATOM_DIM",
    "BOND_DIM",
    "CandidateSet",
    "Embeddings",
    "ExactIndex",
    "FaissIndex",
    "GraphBatch",
    "KeyIndex",
    "MolGraph",
    "MoleculeEncoder",
    "MoleculeError",
    "PopularityBaseline",
    "Prediction",
    "Reaction",
    "ReactionBatch",
    "ReactionData",
    "RetCLModel",
    "RetroSim",
    "Retrosynthesizer",
    "Structure2Vec",
    "batch_graphs",
    "batch_table",
    "beam_search",
    "canonical_set",
    "canonical_smiles",
    "contrastive_loss",
    "embed_graphs",
    "first_hit_ranks",
    "load_model",
    "load_reactions",
    "make_index",
    "mol_graph",
    "nearest_neighbours",
    "parse_reaction",
    "propose",
    "rescore",
    "retrosynthesize",
    "save_model",
    "topk_accuracy",
    "toy_reactions",
]

_WHERE = {
    "ATOM_DIM": ".chem",
    "BOND_DIM": ".chem",
    "GraphBatch": ".chem",
    "MolGraph": ".chem",
    "MoleculeError": ".chem",
    "batch_graphs": ".chem",
    "canonical_set": ".chem",
    "canonical_smiles": ".chem",
    "mol_graph": ".chem",
    "parse_reaction": ".chem",
    "Reaction": ".data",
    "ReactionData": ".data",
    "load_reactions": ".data",
    "toy_reactions": ".data",
    "Embeddings": ".encoder",
    "MoleculeEncoder": ".encoder",
    "RetCLModel": ".encoder",
    "Structure2Vec": ".encoder",
    "ReactionBatch": ".contrastive",
    "batch_table": ".contrastive",
    "contrastive_loss": ".contrastive",
    "nearest_neighbours": ".contrastive",
    "CandidateSet": ".selection",
    "Prediction": ".selection",
    "beam_search": ".selection",
    "embed_graphs": ".selection",
    "propose": ".selection",
    "rescore": ".selection",
    "ExactIndex": ".index",
    "FaissIndex": ".index",
    "KeyIndex": ".index",
    "make_index": ".index",
    "first_hit_ranks": ".metrics",
    "topk_accuracy": ".metrics",
    "PopularityBaseline": ".baselines",
    "RetroSim": ".baselines",
    "Retrosynthesizer": ".predict",
    "load_model": ".predict",
    "retrosynthesize": ".predict",
    "save_model": ".predict",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
