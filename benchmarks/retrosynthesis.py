"""RetCL speed and memory on CPU: featurising and embedding a candidate set, products per second
at inference over the full set, and the training step with N = 0 vs N = 4 hard negatives.

    python benchmarks/retrosynthesis.py --data-root ../shared/data [--products 200] [--rounds 3]
    python benchmarks/retrosynthesis.py --toy            # no data: the built-in toy reactions

Inference: ``Retrosynthesizer.predict`` per product (embedding the product, beam search over every
candidate, Eq. 7 rescoring) at beam 1, 10 and 50. Training: steps of the preset's model (the
encoder, batch and optimiser: ``--preset quick`` = Structure2Vec 3 x 128, batch 32, Adam 1e-3;
``--set`` overrides as ``paperzoo reproduce``) for N = 0 and N = 4, run interleaved (N0, N4, N0,
N4, ...) in ``--rounds`` rounds; the median of each and their ratio are reported (the machine is
shared, so only the ratio is comparable across runs). Peak memory is the process's max RSS after
each phase. The model is untrained: speed does not depend on the weights.

Prints a table and writes benchmarks/out/retrosynthesis.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="data root holding uspto50k/ (default $PAPERZOO_DATA)")
    p.add_argument("--toy", action="store_true", help="use the built-in toy reactions")
    p.add_argument("--products", type=int, default=200, help="test products timed per beam")
    p.add_argument("--steps", type=int, default=40, help="training steps per arm and round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--preset", default="quick", help="config preset of model and optimiser")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path, default=Path("benchmarks/out/retrosynthesis.json"))
    args = p.parse_args()

    import torch

    from paperzoo.core.presets import build_config
    from paperzoo.retrosynthesis import (
        Retrosynthesizer,
        batch_graphs,
        batch_table,
        contrastive_loss,
        mol_graph,
    )
    from paperzoo.retrosynthesis.data import ReactionData, load_reactions, toy_reactions
    from paperzoo.retrosynthesis.repro.recipe import make_model, make_optimizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    res: dict = {
        "platform": platform.platform(),
        "threads": args.threads,
        "torch": torch.__version__,
        "preset": args.preset,
        "overrides": args.overrides,
    }
    cfg = build_config("retrosynthesis", args.preset, overrides=args.overrides)
    t = time.perf_counter()
    data = ReactionData(*(toy_reactions() if args.toy else load_reactions(args.data_root))).index()
    res["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    graphs = [mol_graph(s) for s in data.molecules]
    res["featurise_s"] = time.perf_counter() - t
    res["molecules"] = len(graphs)
    res["candidates"] = data.candidates
    model = make_model(cfg)

    # --- embedding the candidate set + inference ----------------------------------------
    t = time.perf_counter()
    pred = Retrosynthesizer(model, data.molecules[: data.candidates], beam_size=1)
    res["embed_candidates_s"] = time.perf_counter() - t  # includes canonicalising them
    res["rss_after_embed_mb"] = _rss_mb()
    products = [r.product for r in data.test[: args.products]]
    for beam in (1, 10, 50):
        pred.beam_size = beam
        t = time.perf_counter()
        for s in products:
            pred.predict(s, top_k=10)
        res[f"products_per_s_beam{beam}"] = len(products) / (time.perf_counter() - t)
    res["rss_after_inference_mb"] = _rss_mb()
    try:  # exact matrix product vs FAISS (flat, exact) at beam 10, interleaved rounds
        fa = Retrosynthesizer(model, data.molecules[: data.candidates], 10, index="faiss-flat")
        pred.beam_size = 10
        per: dict[str, list[float]] = {"exact": [], "faiss": []}
        sub_products = products[: max(1, len(products) // 4)]
        for _ in range(args.rounds):
            for name, r in (("exact", pred), ("faiss", fa)):
                t = time.perf_counter()
                for s in sub_products:
                    r.predict(s, top_k=10)
                per[name].append(len(sub_products) / (time.perf_counter() - t))
        res["products_per_s_beam10_exact"] = statistics.median(per["exact"])
        res["products_per_s_beam10_faiss_flat"] = statistics.median(per["faiss"])
        res["faiss_over_exact_speed"] = statistics.median(
            f / e for f, e in zip(per["faiss"], per["exact"])
        )
    except ImportError:
        res["faiss"] = "not installed"

    # --- training steps, N0 vs N4 interleaved -------------------------------------------
    rows_of = [data.rows(r) for r in data.train]
    with torch.no_grad():
        model.eval()
        keys = torch.cat(
            [
                model.embed(batch_graphs(graphs[i : i + 1024])).key
                for i in range(0, len(graphs), 1024)
            ]
        )
        bank = torch.nn.functional.normalize(keys, dim=-1)
    model.train()
    opt, _ = make_optimizer(cfg, model.parameters())
    gen = torch.Generator().manual_seed(0)
    times: dict[int, list[float]] = {0: [], 4: []}
    sizes: dict[int, list[int]] = {0: [], 4: []}
    for _ in range(args.rounds):
        for n in (0, 4):
            t = time.perf_counter()
            for _ in range(args.steps):
                batch_size = min(cfg.train.batch_size, len(rows_of))
                idx = torch.randint(len(rows_of), (batch_size,), generator=gen)
                rows, batch = batch_table([rows_of[i] for i in idx.tolist()], bank, n)
                loss, _ = contrastive_loss(
                    model, model.embed(batch_graphs([graphs[r] for r in rows])), batch
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
                sizes[n].append(len(rows))
            times[n].append((time.perf_counter() - t) / args.steps)
    for n in (0, 4):
        res[f"train_step_ms_N{n}"] = 1000 * statistics.median(times[n])
        res[f"molecules_per_step_N{n}"] = statistics.mean(sizes[n])
    res["step_ratio_N4_over_N0"] = statistics.median(a / b for a, b in zip(times[4], times[0]))
    res["rss_after_training_mb"] = _rss_mb()
    res["parameters"] = sum(p.numel() for p in model.parameters())

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:>28}: {v:.4g}" if isinstance(v, float) else f"{k:>28}: {v}")


if __name__ == "__main__":
    main()
