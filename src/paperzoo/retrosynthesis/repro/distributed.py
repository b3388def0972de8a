"""RetCL training on several processes or machines with PyTorch DDP (``torchrun``).

    torchrun --nproc_per_node 2 -m paperzoo.retrosynthesis.repro.distributed \\
        --data-root ../shared/data --preset quick --arm RetCL-N4 --out model.pt

The config comes from a preset plus ``--set`` overrides, validated exactly as ``paperzoo
reproduce`` does (:func:`paperzoo.core.presets.build_config`): ``--preset quick`` trains the data,
encoder, optimiser, weight decay, clipping, schedule, refresh interval and step count of the
``quick`` reproduction's units, and ``--preset paper`` the official configuration (a test compares
the configs field by field). Every process trains the same model on its own share of each global
batch (``train.batch_size / world size`` reactions, drawn with a generator seeded by ``seed +
rank``); DDP all-reduces the gradients, so the replicas stay identical. At a refresh each process
embeds an equal slice of the molecule universe and the key bank is assembled with ``all_gather``
(the embedding work is split, not repeated). Rank 0 measures validation top-1 (beam 1) at every
refresh and writes the best model with :func:`~paperzoo.retrosynthesis.predict.save_model`. The
backend is ``gloo`` on CPU and ``nccl`` when every process has a GPU (``--device cuda``;
``LOCAL_RANK`` picks the GPU).

Batch norm is per replica (DDP's default, no SyncBatchNorm: it needs CUDA), so with different
local batches the running statistics of the replicas drift apart; rank 0's are the ones saved.
The reproduction engine's units stay single-process (``paperzoo reproduce --workers N`` runs
units in parallel instead).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from paperzoo.core.distributed import local_batch_size, process_group, replica_checksum
from paperzoo.core.presets import add_config_arguments, config_from_args

from ..chem import MolGraph, batch_graphs, mol_graph
from ..contrastive import ReactionBatch, batch_table, contrastive_loss
from ..data import ReactionData
from ..encoder import Embeddings, RetCLModel
from ..metrics import first_hit_ranks, topk_accuracy
from ..predict import save_model
from ..selection import embed_graphs, propose
from .recipe import load_data, make_model, make_optimizer
from .train import num_negatives

__all__ = ["main", "parser", "train_distributed"]

PROG = "torchrun --nproc_per_node N -m paperzoo.retrosynthesis.repro.distributed"


class _Loss(nn.Module):
    """The loss as a module's forward, so DDP sees every parameter used in one call."""

    def __init__(self, model: RetCLModel, temperature: float, forward_loss: bool) -> None:
        super().__init__()
        self.model, self.temperature, self.forward_loss = model, temperature, forward_loss

    def forward(self, graphs: Any, batch: ReactionBatch) -> torch.Tensor:
        emb = self.model.embed(graphs)
        return contrastive_loss(self.model, emb, batch, self.temperature, self.forward_loss)[0]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train RetCL with DDP, with the config of a `paperzoo reproduce "
        "retrosynthesis` preset; rank 0 writes the best-validation model.",
    )
    add_config_arguments(p)
    p.add_argument("--arm", default="RetCL-N4", help="RetCL-N<k>: k mined hard negatives")
    p.add_argument("--seed", type=int, help="seed (default: the config's first seed)")
    p.add_argument("--data-root", help="data root holding uspto50k/ (default $PAPERZOO_DATA)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", type=Path, default=Path("retcl_model.pt"))
    return p


@torch.no_grad()
def _gather_universe(model: RetCLModel, graphs: list[MolGraph]) -> Embeddings:
    """Embeddings of every molecule, each rank embedding an equal slice (all_gather)."""
    rank, world = dist.get_rank(), dist.get_world_size()
    n = len(graphs)
    per = -(-n // world)
    lo, hi = min(rank * per, n), min((rank + 1) * per, n)
    mine = embed_graphs(model, graphs[lo:hi]) if hi > lo else None
    dim = model.dim
    out = []
    for field in ("product_query", "reactant_query", "key"):
        t = torch.zeros(per, dim, device=model.halt.device)
        if mine is not None:
            t[: hi - lo] = getattr(mine, field)
        chunks = [torch.empty_like(t) for _ in range(world)]
        dist.all_gather(chunks, t)
        out.append(torch.cat(chunks)[:n])
    return Embeddings(*out)


def train_distributed(args: argparse.Namespace, cfg: Any) -> dict[str, Any]:
    """One process's part of a DDP run (the process group must be initialised).

    Returns ``{"rank", "steps", "val_top1" (rank 0's curve), "checksum"}``: the checksum is
    the sum of every parameter after training (equal on all ranks when replicas agree).
    """
    rank, t = dist.get_rank(), cfg.train
    per_rank = local_batch_size(t.batch_size)
    negatives = num_negatives(args.arm)
    if negatives is None:
        raise ValueError(f"--arm {args.arm!r} is not a RetCL arm (RetCL-N<k>)")
    if cfg.model.class_known:
        raise ValueError("model.class_known is not supported by the DDP entry point")
    seed = cfg.seeds[0] if args.seed is None else args.seed
    dev = torch.device(args.device)
    data = load_data(cfg, args.data_root)
    graphs = [mol_graph(s) for s in data.molecules]
    torch.manual_seed(seed)  # the same initial model on every rank
    model = make_model(cfg).to(dev)
    ddp = nn.parallel.DistributedDataParallel(_Loss(model, t.temperature, t.forward_loss))
    opt, sched = make_optimizer(cfg, ddp.parameters())
    gen = torch.Generator().manual_seed(seed + 1000 * (rank + 1))
    rows_of = [data.rows(r) for r in data.train]
    bank: torch.Tensor | None = None
    best, curve = -1.0, []
    for step in range(t.num_steps + 1):
        if step % t.refresh_every == 0 or step == t.num_steps:
            uni = _gather_universe(model, graphs)
            bank = F.normalize(uni.key, dim=-1)
            if rank == 0 and data.val:
                top1 = _val_top1(model, data, uni)
                curve.append((step, top1))
                if top1 > best:
                    best = top1
                    save_model(model, args.out)
        if step == t.num_steps:
            break
        idx = torch.randint(len(rows_of), (per_rank,), generator=gen)
        rows, batch = batch_table([rows_of[i] for i in idx.tolist()], bank, negatives)
        loss = ddp(batch_graphs([graphs[r] for r in rows]).to(dev), batch)
        opt.zero_grad()
        loss.backward()  # DDP all-reduces (averages) the gradients here
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(ddp.parameters(), t.grad_clip)
        opt.step()
        sched.step()
    checksum = replica_checksum(model)
    return {"rank": rank, "steps": t.num_steps, "val_top1": curve, "checksum": checksum}


@torch.no_grad()
def _val_top1(model: RetCLModel, data: ReactionData, uni: Embeddings) -> float:
    model.eval()
    cands = uni.index(torch.arange(data.candidates))
    preds = []
    for r in data.val:
        p, _ = data.rows(r)
        sets = propose(model, uni.index(torch.tensor([p])), cands,
                       (p,) if p < data.candidates else (), beam_size=1)  # fmt: skip
        preds.append([tuple(sorted(data.molecules[j] for j in s)) for s, _ in sets[:1]])
    model.train()
    return topk_accuracy(first_hit_ranks(preds, [r.reactants for r in data.val]), (1,))[1]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cfg = config_from_args("retrosynthesis", args, PROG)
    with process_group(args.device) as args.device:
        out = train_distributed(args, cfg)
    if out["rank"] == 0:
        for step, v in out["val_top1"]:
            print(f"step {step}: validation top-1 {v:.3f}")
        print(f"best model: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
