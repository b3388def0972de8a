"""RetCL reproduction units: RetCL trained with N mined hard negatives (arm x seed), RetroSim
and the popularity floor; every arm is scored on the same test reactions and candidate set.

RetroSim and Popularity have no randomness: their first seed computes, the other seeds' units
depend on it and repeat its record (so claims can still pair seeds).
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import torch

from paperzoo.core import Unit, UnitContext, seed_everything
from paperzoo.core.engine import absolute_change

from ..baselines import PopularityBaseline, RetroSim
from ..chem import MolGraph, batch_graphs, mol_graph
from ..contrastive import ReactionBatch, batch_table, contrastive_loss
from ..data import ReactionData
from ..encoder import Embeddings, RetCLModel
from ..metrics import first_hit_ranks, topk_accuracy
from ..predict import save_model
from ..selection import embed_graphs, propose
from .config import Config
from .recipe import load_data, make_model, make_optimizer

__all__ = ["num_negatives", "preflight", "run_unit", "units"]

_RETCL = re.compile(r"^RetCL-N(\d+)$")
_BASELINES = ("RetroSim", "Popularity")


def num_negatives(arm: str) -> int | None:
    """N of a ``RetCL-N<N>`` arm, None for a baseline."""
    m = _RETCL.match(arm)
    return int(m.group(1)) if m else None


# --- data, cached per worker process ---------------------------------------------------------


def _cached(cfg: Config, ctx: UnitContext) -> tuple[ReactionData, list[MolGraph]]:
    key = ("retrosynthesis", repr(cfg.data), str(ctx.data_root))
    data = ctx.cache(key, lambda: load_data(cfg, ctx.data_root))
    graphs = ctx.cache((*key, "graphs"), lambda: [mol_graph(s) for s in data.molecules])
    return data, graphs


def preflight(cfg: Config, data_root: Any) -> None:
    """Fail at once on missing data or unknown arms."""
    for a in cfg.arms:
        if num_negatives(a) is None and a not in _BASELINES:
            raise ValueError(f"unknown arm {a!r}: RetCL-N<k>, RetroSim or Popularity")
    if cfg.data.source == "uspto50k":
        from paperzoo.datasets import load_uspto50k

        load_uspto50k("test", data_root)


def units(cfg: Config) -> list[Unit]:
    """Arm x seed; a baseline's later seeds depend on its first (deterministic) seed."""
    out = []
    first = cfg.seeds[0]
    for a in cfg.arms:
        n = num_negatives(a)
        if n is None and a not in _BASELINES:
            raise ValueError(f"unknown arm {a!r}: RetCL-N<k>, RetroSim or Popularity")
        for s in cfg.seeds:
            deps = (f"{a}/seed{first}",) if n is None and s != first else ()
            cost = 1.0 + 0.5 * (n or 0) if n is not None else (0.5 if not deps else 0.01)
            out.append(Unit(f"{a}/seed{s}", a, s, {"arm": a}, deps=deps, cost=cost))
    return out


# --- embedding and scoring helpers -----------------------------------------------------------


def _score(
    model: RetCLModel,
    data: ReactionData,
    reactions: list,
    universe: Embeddings,
    cfg: Config,
    beam: int,
    rescoring: bool,
    desc: str,
    ctx: UnitContext,
) -> tuple[np.ndarray, list[list[tuple[str, ...]]]]:
    """First-hit ranks of each reaction's recorded reactants, and the top-10 predictions."""
    cands = universe.index(torch.arange(data.candidates))
    preds_all, truths = [], []
    for r in ctx.progress(reactions, total=len(reactions), desc=desc):
        p, _ = data.rows(r)
        prod = universe.index(torch.tensor([p]))
        cls = r.reaction_class if cfg.model.class_known else None
        exclude = (p,) if p < data.candidates else ()
        sets = propose(model, prod, cands, exclude, beam, cfg.eval.max_reactants, cls,
                       rescore_top=beam if rescoring else 0)  # fmt: skip
        preds_all.append([tuple(sorted(data.molecules[j] for j in s)) for s, _ in sets[:10]])
        truths.append(r.reactants)
    return first_hit_ranks(preds_all, truths), preds_all


def _topk_metrics(cfg: Config, ranks: np.ndarray, unseen: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    ks = sorted(set(cfg.eval.top_k) | {1, 10})
    for name, mask in (("", np.ones_like(unseen)), ("_seen", ~unseen), ("_unseen", unseen)):
        if mask.any():
            for k, v in topk_accuracy(ranks[mask], ks).items():
                out[f"eval/top{k}{name}"] = v
    if "eval/top10_unseen" in out and "eval/top10_seen" in out:
        out["eval/top10_drop"] = out["eval/top10_seen"] - out["eval/top10_unseen"]
    if "eval/top1_unseen" in out:
        # all minus unseen is (seen share) x (seen minus unseen); at top-1 it is not the top-10
        # drop above rescaled, so the claim that reads it says something of its own
        out["eval/top1_drop_all"] = out["eval/top1"] - out["eval/top1_unseen"]
    return out


def _common(cfg: Config, data: ReactionData) -> dict[str, float]:
    covered = [all(data.row.get(x, data.candidates) < data.candidates for x in r.reactants)
               for r in data.test]  # fmt: skip
    return {
        "data/gt_coverage": float(np.mean(covered)),
        "data/num_candidates": float(data.candidates),
        "data/num_test": float(len(data.test)),
        "data/num_unseen": float(sum(data.unseen)),
    }


def _examples(data: ReactionData, preds: list, n: int = 6) -> list[dict[str, Any]]:
    """The first ``n`` test reactions with the arm's top-3 sets (for the report's drawings)."""
    return [
        {"product": r.product, "truth": list(r.reactants), "top3": [list(x) for x in p[:3]]}
        for r, p in zip(data.test[:n], preds[:n])
    ]


# --- units --------------------------------------------------------------------------------


def run_unit(cfg: Config, unit: Unit, ctx: UnitContext) -> dict[str, float]:
    arm = unit.params["arm"]
    if unit.deps:  # a deterministic baseline's later seed: the same record
        rec = ctx.dep(unit.deps[0])
        for k, v in rec.artifacts.items():
            ctx.artifact(k, v)
        return dict(rec.metrics)
    data, graphs = _cached(cfg, ctx)
    seed_everything(unit.seed)
    n = num_negatives(arm)
    if n is None:
        return _run_baseline(cfg, arm, data, ctx)
    return _run_retcl(cfg, n, data, graphs, unit.seed, ctx)


def _run_baseline(cfg: Config, arm: str, data: ReactionData, ctx: UnitContext) -> dict[str, float]:
    cands = set(data.molecules[: data.candidates])
    if arm == "RetroSim":
        model: Any = RetroSim(cfg.eval.retrosim_neighbours, cands, cfg.data.stereo).fit(
            [r.product for r in data.train],
            [r.reactants for r in data.train],
            [r.template for r in data.train],
        )
    else:
        model = PopularityBaseline(cands).fit([r.reactants for r in data.train])
    t0 = time.perf_counter()
    preds = [
        [s for s, _ in model.predict(r.product, 10)]
        for r in ctx.progress(data.test, total=len(data.test), desc="test")
    ]
    ranks = first_hit_ranks(preds, [r.reactants for r in data.test])
    ctx.artifact("ranks", ranks.tolist())
    ctx.artifact("unseen", list(data.unseen))
    ctx.artifact("examples", _examples(data, preds))
    out = {**_common(cfg, data), **_topk_metrics(cfg, ranks, np.array(data.unseen, bool))}
    # wall times are artifacts, not metrics: metrics must repeat exactly under the same seed
    ctx.artifact("seconds_per_product", (time.perf_counter() - t0) / max(1, len(data.test)))
    return out


def _run_retcl(
    cfg: Config, n_neg: int, data: ReactionData, graphs: list[MolGraph], seed: int, ctx: UnitContext
) -> dict[str, float]:
    t, m = cfg.train, cfg.model
    model = make_model(cfg).to(ctx.device)
    best = make_model(cfg)
    best.load_state_dict(model.state_dict())
    opt, sched = make_optimizer(cfg, model.parameters())
    gen = torch.Generator().manual_seed(seed)
    curve: list[list[float]] = []  # [step, val top-1]
    losses: list[float] = []
    bank: dict[str, Any] = {}  # normalised keys of the last refresh (not checkpointed: rebuilt)
    train_rows = [data.rows(r) for r in data.train]

    def refresh(step: int) -> None:
        emb = embed_graphs(model, graphs)
        if n_neg > 0:
            bank["keys"] = torch.nn.functional.normalize(emb.key, dim=-1)
        ranks, _ = _score(model, data, data.val, emb, cfg, 1, False, "val", ctx)
        top1 = topk_accuracy(ranks, (1,))[1]
        if not curve or top1 > max(v for _, v in curve):
            best.load_state_dict(model.state_dict())
        curve.append([float(step), top1])
        ctx.log({"step": step, "val/top1": top1})

    state = {"model": model, "best": best, "opt": opt, "sched": sched, "gen": gen}
    state |= {"curve": curve, "losses": losses}
    t0, done = time.perf_counter(), 0
    for step in ctx.steps(t.num_steps, state, desc="train"):
        if (step - 1) % t.refresh_every == 0:
            refresh(step - 1)
        elif n_neg > 0 and "keys" not in bank:  # resumed mid-interval: rebuild the bank only
            emb = embed_graphs(model, graphs)
            bank["keys"] = torch.nn.functional.normalize(emb.key, dim=-1)
        model.train()
        idx = torch.randint(len(train_rows), (min(t.batch_size, len(train_rows)),), generator=gen)
        rows, batch = batch_table([train_rows[i] for i in idx.tolist()], bank.get("keys"), n_neg)
        if m.class_known:
            batch = ReactionBatch(
                batch.products,
                batch.reactants,
                [data.train[i].reaction_class for i in idx.tolist()],
            )
        emb = model.embed(batch_graphs([graphs[r] for r in rows]).to(ctx.device))
        loss, _ = contrastive_loss(model, emb, batch, t.temperature, t.forward_loss)
        opt.zero_grad()
        loss.backward()
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        done += 1
        if step % 50 == 0:
            ctx.log({"step": step, "train/loss": float(np.mean(losses[-50:]))})
    per_step = (time.perf_counter() - t0) / max(1, done)
    if not curve or curve[-1][0] != t.num_steps:
        refresh(t.num_steps)

    # --- test with the best validation model over the candidate set -------------------------
    best.eval()
    save_model(best, ctx.file("model.pt"))  # `paperzoo retro predict --model` loads it
    universe = embed_graphs(best, graphs)
    ranks, preds = _score(
        best, data, data.test, universe, cfg, cfg.eval.beam_size, cfg.eval.rescore, "test", ctx
    )
    vals = [v for _, v in curve]
    out = {**_common(cfg, data), **_topk_metrics(cfg, ranks, np.array(data.unseen, bool))}
    out |= {
        "train/val_top1_best": max(vals),
        "train/val_top1_final": vals[-1],
        "train/val_top1_change": absolute_change(vals) if len(vals) > 2 else float("inf"),
        "train/final_loss": float(np.mean(losses[-100:])) if losses else float("nan"),
        # neighbour tables that fed training (one per refresh before the last step)
        "train/refreshes": float(sum(s < t.num_steps for s, _ in curve) if n_neg > 0 else 0),
    }
    ctx.artifact("seconds_per_step", per_step)
    ctx.artifact("val_curve", curve)
    ctx.artifact(
        "loss_curve", [float(np.mean(losses[i : i + 50])) for i in range(0, len(losses), 50)]
    )
    ctx.artifact("ranks", ranks.tolist())
    ctx.artifact("unseen", list(data.unseen))
    ctx.artifact("examples", _examples(data, preds))
    return out
