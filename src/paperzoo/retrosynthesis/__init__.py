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
    "CandidateSet",
    "Embeddings",
    "ExactIndex",
    "FaissIndex",
    "MoleculeEncoder",
    "MoleculeError",
    "PopularityBaseline",
    "Prediction",
    "ReactionBatch",
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
    "make_index",
    "mol_graph",
    "nearest_neighbours",
    "parse_reaction",
    "propose",
    "rescore",
    "retrosynthesize",
    "save_model",
    "topk_accuracy",
]

_WHERE = {
    "CandidateSet": ".selection",
    "Embeddings": ".encoder",
    "ExactIndex": ".index",
    "FaissIndex": ".index",
    "make_index": ".index",
    "MoleculeEncoder": ".encoder",
    "MoleculeError": ".chem",
    "PopularityBaseline": ".baselines",
    "Prediction": ".selection",
    "ReactionBatch": ".contrastive",
    "RetCLModel": ".encoder",
    "RetroSim": ".baselines",
    "Retrosynthesizer": ".predict",
    "Structure2Vec": ".encoder",
    "batch_graphs": ".chem",
    "batch_table": ".contrastive",
    "beam_search": ".selection",
    "canonical_set": ".chem",
    "canonical_smiles": ".chem",
    "contrastive_loss": ".contrastive",
    "embed_graphs": ".selection",
    "first_hit_ranks": ".metrics",
    "load_model": ".predict",
    "mol_graph": ".chem",
    "nearest_neighbours": ".contrastive",
    "parse_reaction": ".chem",
    "propose": ".selection",
    "rescore": ".selection",
    "save_model": ".predict",
    "retrosynthesize": ".predict",
    "topk_accuracy": ".metrics",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
