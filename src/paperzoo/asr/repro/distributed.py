"""Training the streaming recogniser on several processes or machines with PyTorch DDP.

    torchrun --nproc_per_node 2 -m paperzoo.asr.repro.distributed --data-root ../shared/data \\
        --arm mcmma_eps1 --steps 4000 --batch-size 16 --out model.pt

Each process draws its own share of every global batch (``batch_size / world size``
utterances, generator seeded by ``seed + rank``) from the same utterances; DDP averages the
gradients, so the replicas stay identical (tested with 2 processes on loopback). Rank 0 writes
the model with :func:`~.model.save_recognizer`. Backend gloo on CPU, nccl with ``--device
cuda``. The energy noise and HeadDrop draws differ per rank (their generator is the rank's).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from paperzoo.core.distributed import process_group

from ..data import DIGITS
from ..model import MMARecognizer, Vocabulary, save_recognizer

__all__ = ["main", "parser", "train_distributed"]


class _Loss(nn.Module):
    def __init__(self, model: MMARecognizer) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, lens: torch.Tensor, targets: list, gen: Any) -> torch.Tensor:
        return self.model.loss(x, lens, targets, generator=gen)[0]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node N -m paperzoo.asr.repro.distributed",
        description="Train one arm of the streaming recogniser with DDP; rank 0 saves it.",
    )
    p.add_argument("--data", choices=["fsdd", "tones"], default="fsdd")
    p.add_argument("--data-root", help="data root holding speech/fsdd (default $PAPERZOO_DATA)")
    p.add_argument("--arm", default="mma", help="offline, mma or mcmma_eps<k>")
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--batch-size", type=int, default=16, help="global utterances per step")
    p.add_argument("--num-train", type=int, default=3000)
    p.add_argument("--dim", type=int, default=96)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("asr_model.pt"))
    return p


def train_distributed(args: argparse.Namespace) -> dict[str, Any]:
    """One process's part (the process group must be initialised); returns its rank, the
    final loss and a parameter checksum (equal on every rank when the replicas agree)."""
    from .config import Config, DataConfig, ModelConfig
    from .recipe import batch_features, build_corpus, model_kwargs

    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} is not divisible by {world}")
    cfg = Config(
        data=DataConfig(source=args.data, num_train=args.num_train, num_test=32),
        model=ModelConfig(dim=args.dim, ff=max(32, 2 * args.dim), heads=2 if args.dim < 32 else 4),
    )
    data = build_corpus(cfg, args.data_root, args.seed)  # the same utterances on every rank
    vocab = Vocabulary(DIGITS)
    kwargs = model_kwargs(cfg, args.arm)
    torch.manual_seed(args.seed)  # the same initial model on every rank
    dev = torch.device(args.device)
    model = MMARecognizer(vocab, **kwargs).to(dev)
    ddp = nn.parallel.DistributedDataParallel(_Loss(model))
    opt = torch.optim.Adam(ddp.parameters(), args.learning_rate)
    gen = torch.Generator().manual_seed(args.seed + 1000 * (rank + 1))
    loss = torch.zeros(())
    for _ in range(args.steps):
        idx = torch.randint(len(data["train"]), (args.batch_size // world,), generator=gen)
        utts = [data["train"][i] for i in idx.tolist()]
        x, lens, targets = batch_features(utts, data["features"], vocab, data["cache"])
        loss = ddp(x.to(dev), lens, targets, gen)
        opt.zero_grad()
        loss.backward()  # DDP averages the gradients across ranks here
        opt.step()
    if rank == 0:
        save_recognizer(model, data["features"], args.out, **kwargs)
    checksum = float(sum(p.detach().double().sum() for p in model.parameters()))
    return {"rank": rank, "loss": float(loss.detach()), "checksum": checksum}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with process_group(args.device) as args.device:
        out = train_distributed(args)
    if out["rank"] == 0:
        print(f"final loss {out['loss']:.4f}; model: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
