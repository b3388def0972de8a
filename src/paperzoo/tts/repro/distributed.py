"""Training StyleSpeech on several processes or machines with PyTorch DDP.

    torchrun --nproc_per_node 2 -m paperzoo.tts.repro.distributed --data-root ../shared/data \\
        --conditioning saln --steps 6000 --batch-size 16 --out tts.pt

Every rank builds the same corpus (same seed) and the same initial model; each draws its own
``batch_size / world size`` utterances per step (generator seeded by ``seed + rank``), and DDP
averages the gradients, so the replicas stay identical (tested with 2 processes on loopback).
Rank 0 writes the generator with :func:`~.synthesis.save_tts`, ready for ``paperzoo tts say``.
Backend gloo on CPU, nccl with ``--device cuda``. The StyleSpeech stage only: the meta stage's
two optimisers and discriminators run single-process (``paperzoo reproduce tts``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from paperzoo.core.distributed import process_group

from ..model import StyleSpeech, generator_loss, noam
from ..synthesis import save_tts
from ..text import SYMBOLS

__all__ = ["main", "parser", "train_distributed"]


class _Loss(nn.Module):
    """Style encoder + generator + loss as one module, so DDP sees one forward per step."""

    def __init__(self, model: StyleSpeech) -> None:
        super().__init__()
        self.model = model

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        w = self.model.style(b["mel"], b["mel_mask"])
        out = self.model(b["tokens"], w, b["durations"], b["pitch"], b["energy"],
                         max_frames=b["mel"].shape[1])  # fmt: skip
        return generator_loss(out, b["mel"], b["durations"], b["pitch"], b["energy"])[0]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node N -m paperzoo.tts.repro.distributed",
        description="Train StyleSpeech (or the additive baseline) with DDP; rank 0 saves it.",
    )
    p.add_argument("--data", choices=["fsdd", "synth", "tones"], default="fsdd")
    p.add_argument("--data-root", help="data root holding speech/fsdd (default $PAPERZOO_DATA)")
    p.add_argument("--conditioning", choices=["saln", "add"], default="saln")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--batch-size", type=int, default=16, help="global utterances per step")
    p.add_argument("--num-train", type=int, default=6000)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--warmup", type=int, default=1000, help="Noam warm-up steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", type=Path, default=Path("tts.pt"))
    return p


def train_distributed(args: argparse.Namespace) -> dict[str, Any]:
    """One process's part (the process group must be initialised); returns its rank, the
    final loss and a parameter checksum (equal on every rank when the replicas agree)."""
    from ..data import build_corpus, collate
    from .config import DataConfig

    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} is not divisible by {world}")
    data = DataConfig(source=args.data, num_train=args.num_train, num_val=8,
                      refs_per_identity=1, texts_per_ref=1)  # fmt: skip
    corpus = build_corpus(data, args.data_root, args.seed)  # the same on every rank
    kwargs = {
        "n_mels": corpus.mel_config.n_mels,
        "dim": args.dim,
        "style_dim": args.dim,
        "layers": 2,
        "heads": 2,
        "ff": 4 * args.dim,
        "conditioning": args.conditioning,
    }
    torch.manual_seed(args.seed)  # the same initial model on every rank
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_flush_denormal(True)  # subnormals slow a trained model's CPU step 2.5x
    model = StyleSpeech(len(SYMBOLS), **kwargs).to(dev)
    ddp = nn.parallel.DistributedDataParallel(_Loss(model))
    opt = torch.optim.Adam(ddp.parameters(), 1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: noam(s + 1, args.dim, args.warmup))
    gen = torch.Generator().manual_seed(args.seed + 1000 * (rank + 1))
    loss = torch.zeros(())
    for _ in range(args.steps):
        idx = torch.randint(len(corpus.train), (args.batch_size // world,), generator=gen)
        b = {k: v.to(dev) for k, v in collate([corpus.train[i] for i in idx.tolist()]).items()}
        loss = ddp(b)
        opt.zero_grad()
        loss.backward()  # DDP averages the gradients across ranks here
        torch.nn.utils.clip_grad_norm_(ddp.parameters(), 1.0)
        opt.step()
        sched.step()
    if rank == 0:
        save_tts(model.cpu(), args.out, corpus.mel_config_name, **kwargs)
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
