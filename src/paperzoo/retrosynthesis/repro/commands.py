"""``paperzoo retro predict``: single-step retrosynthesis of product SMILES with a trained RetCL
model over a candidate set (a file of SMILES, or all USPTO-50k reactants from the data root).

Imports nothing heavy at module level: ``paperzoo --help`` imports this module.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["COMMAND", "HELP", "add_arguments", "run"]

COMMAND = "retro"
HELP = "single-step retrosynthesis with RetCL: propose reactant sets from a candidate set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="retro_command", metavar="ACTION", required=True)
    pr = sub.add_parser(
        "predict",
        help="rank reactant sets for one or more products",
        description="Rank reactant sets for each product SMILES, selecting reactants from the "
        "candidate set. The product is never proposed as its own reactant. Swapping --candidates "
        "needs no retraining (only the candidates are embedded).",
        epilog="example:\n  paperzoo retro predict 'CC(=O)Nc1ccccc1' --model "
        "runs/retrosynthesis/quick/<time>/artifacts/RetCL-N4__seed0/model.pt --candidates "
        "stock.smi --top-k 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pr.add_argument("smiles", nargs="+", help="product SMILES (one molecule each)")
    pr.add_argument(
        "--model",
        type=Path,
        required=True,
        help="model.pt written by a RetCL unit of `paperzoo reproduce retrosynthesis` "
        "(artifacts/RetCL-N4__seed0/model.pt) or by paperzoo.retrosynthesis.save_model",
    )
    pr.add_argument(
        "--candidates",
        type=Path,
        help="file with one candidate SMILES per line (your stock); default: every reactant "
        "of USPTO-50k under the data root",
    )
    pr.add_argument("--data-root", help="data root for the default candidates (USPTO-50k)")
    pr.add_argument("--top-k", type=int, default=10, help="reactant sets to print (default 10)")
    pr.add_argument("--beam", type=int, default=50, help="beam size (official 50)")
    pr.add_argument("--max-reactants", type=int, default=4, help="most reactants per set")
    pr.add_argument(
        "--reaction-class", type=int, help="reaction class 1-10 (class-known models only)"
    )
    pr.add_argument(
        "--index",
        choices=["exact", "faiss-flat", "faiss-hnsw"],
        default="exact",
        help="candidate search: exact matrix product (default), FAISS exact, or FAISS HNSW "
        "(approximate; for stocks beyond a million molecules; needs faiss-cpu)",
    )
    pr.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def _default_candidates(root: str | None) -> list[str]:
    from paperzoo.retrosynthesis.data import ReactionData, load_reactions

    data = ReactionData(*load_reactions(root)).index()
    return data.molecules[: data.candidates]


def run(args: argparse.Namespace) -> int:
    from paperzoo.core.errors import UsageError
    from paperzoo.retrosynthesis.chem import MoleculeError
    from paperzoo.retrosynthesis.predict import Retrosynthesizer, load_model

    if args.top_k < 1 or args.beam < 1 or args.max_reactants < 1:
        raise UsageError("--top-k, --beam and --max-reactants must be >= 1")
    if not args.model.is_file():
        raise UsageError(
            f"no model file {args.model}; train one with `paperzoo reproduce retrosynthesis "
            "--preset quick` (it writes artifacts/RetCL-N4__seed0/model.pt in the run directory)"
        )
    try:
        model = load_model(args.model)
    except (ValueError, RuntimeError) as e:
        raise UsageError(str(e)) from None
    if args.reaction_class is not None and model.num_classes == 0:
        raise UsageError("--reaction-class given, but this model was trained class-unknown")
    try:
        cands = (
            args.candidates if args.candidates is not None else _default_candidates(args.data_root)
        )
        if isinstance(cands, Path) and not cands.is_file():
            raise UsageError(f"no candidate file {cands}")
        predictor = Retrosynthesizer(model, cands, args.beam, args.max_reactants, index=args.index)
        for smi in args.smiles:
            preds = predictor.predict(smi, args.top_k, args.reaction_class)
            if args.json:
                rows = [{"rank": i + 1, "reactants": list(p.reactants), "score": p.score}
                        for i, p in enumerate(preds)]  # fmt: skip
                print(json.dumps({"product": smi, "predictions": rows}))
                continue
            print(f"{smi}  ({len(predictor.candidates)} candidates)")
            for i, p in enumerate(preds, 1):
                print(f"  {i:>2}. {p.score:7.4f}  {'.'.join(p.reactants)}")
            if not preds:
                print("  (no reactant set: the beam halted on nothing)", file=sys.stderr)
    except (MoleculeError, ImportError) as e:  # ImportError: --index faiss-* without faiss
        raise UsageError(str(e)) from None
    return 0
