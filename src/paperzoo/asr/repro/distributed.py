"""Training the streaming recogniser on several processes or machines with PyTorch DDP.

    torchrun --nproc_per_node 2 -m paperzoo.asr.repro.distributed --data-root ../shared/data \\
        --preset quick --arm mcmma_eps1 --out model.pt

The config comes from a preset plus ``--set`` overrides, validated exactly as ``paperzoo
reproduce`` does (:func:`paperzoo.core.presets.build_config`), so ``--preset quick`` trains the
model, optimiser, warm-up, clipping and step count of the ``quick`` reproduction's units (a
test compares them field by field). Each process draws its own share of every global batch
(``train.batch_size / world size`` utterances, generator seeded by ``seed + rank``) from the
same utterances; DDP averages the gradients, so the replicas stay identical (tested with 2
processes on loopback). Rank 0 writes the model with :func:`~paperzoo.asr.model.save_recognizer`.
Backend gloo on CPU, nccl with ``--device cuda``. The energy noise and HeadDrop draws differ per
rank (their generator is the rank's). Held-out evaluation and decoding stay with ``paperzoo
reproduce``; this entry point trains.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from paperzoo.core.distributed import local_batch_size, process_group, replica_checksum
from paperzoo.core.presets import add_config_arguments, config_from_args

from ..model import MMARecognizer, save_recognizer
from .config import ARMS
from .recipe import batch_features, build_corpus, make_optimizer, model_kwargs

__all__ = ["main", "parser", "train_distributed"]

PROG = "torchrun --nproc_per_node N -m paperzoo.asr.repro.distributed"


class _Loss(nn.Module):
    def __init__(self, model: MMARecognizer) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, lens: torch.Tensor, targets: list, gen: Any) -> torch.Tensor:
        return self.model.loss(x, lens, targets, generator=gen)[0]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train one arm of the streaming recogniser with DDP, with the config of a "
        "`paperzoo reproduce asr` preset; rank 0 saves it.",
    )
    add_config_arguments(p)
    p.add_argument("--arm", default="mma", choices=ARMS, help="the arm to train (default mma)")
    p.add_argument("--seed", type=int, help="seed (default: the config's first seed)")
    p.add_argument("--data-root", help="data root holding speech/fsdd (default $PAPERZOO_DATA)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", type=Path, default=Path("asr_model.pt"))
    return p


def train_distributed(args: argparse.Namespace, cfg: Any) -> dict[str, Any]:
    """One process's part (the process group must be initialised); returns its rank, the
    final loss and a parameter checksum (equal on every rank when the replicas agree)."""
    rank, t = dist.get_rank(), cfg.train
    per_rank = local_batch_size(t.batch_size)
    seed = cfg.seeds[0] if args.seed is None else args.seed
    data = build_corpus(cfg, args.data_root, seed)  # the same utterances on every rank
    vocab = data["vocab"]
    kwargs = model_kwargs(cfg, args.arm)
    torch.manual_seed(seed)  # the same initial model on every rank
    dev = torch.device(args.device)
    model = MMARecognizer(vocab, **kwargs).to(dev)
    ddp = nn.parallel.DistributedDataParallel(_Loss(model))
    opt, sched = make_optimizer(cfg, ddp.parameters())
    gen = torch.Generator().manual_seed(seed + 1000 * (rank + 1))
    loss = torch.zeros(())
    for _ in range(t.num_steps):
        idx = torch.randint(len(data["train"]), (per_rank,), generator=gen)
        utts = [data["train"][i] for i in idx.tolist()]
        x, lens, targets = batch_features(utts, data["features"], vocab, data["cache"])
        loss = ddp(x.to(dev), lens, targets, gen)
        opt.zero_grad()
        loss.backward()  # DDP averages the gradients across ranks here
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(ddp.parameters(), t.grad_clip)
        opt.step()
        sched.step()
    if rank == 0:
        save_recognizer(model, data["features"], args.out, **kwargs)
    checksum = replica_checksum(model)
    return {"rank": rank, "loss": float(loss.detach()), "checksum": checksum}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cfg = config_from_args("asr", args, PROG)
    with process_group(args.device) as args.device:
        out = train_distributed(args, cfg)
    if out["rank"] == 0:
        print(f"final loss {out['loss']:.4f}; model: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
