"""Training StyleSpeech on several processes or machines with PyTorch DDP.

    torchrun --nproc_per_node 2 -m paperzoo.tts.repro.distributed --data-root ../shared/data \\
        --preset quick --arm saln --out tts.pt

The config comes from a preset plus ``--set`` overrides, validated exactly as ``paperzoo
reproduce`` does (:func:`paperzoo.core.presets.build_config`), so ``--preset quick`` trains the
corpus, model, Noam schedule, clipping, batch and step count of the ``quick`` reproduction's
StyleSpeech stage (a test compares the configs field by field). Every rank builds the same
corpus (same seed) and the same initial model; each draws its own ``train.batch_size / world
size`` utterances per step (generator seeded by ``seed + rank``), and DDP averages the
gradients, so the replicas stay identical (tested with 2 processes on loopback). Rank 0 writes
the generator with :func:`~paperzoo.tts.synthesis.save_tts`, ready for ``paperzoo tts say``.
Backend gloo on CPU, nccl with ``--device cuda``. The StyleSpeech stage only (arms ``add`` and
``saln``): the meta stage's two optimisers and discriminators run single-process
(``paperzoo reproduce tts``).
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

from ..data import build_corpus, collate
from ..model import StyleSpeech, generator_loss
from ..synthesis import save_tts
from ..text import SYMBOLS
from .recipe import make_optimizer, model_kwargs

__all__ = ["main", "parser", "train_distributed"]

PROG = "torchrun --nproc_per_node N -m paperzoo.tts.repro.distributed"


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
        prog=PROG,
        description="Train StyleSpeech (or the additive baseline) with DDP, with the config of a "
        "`paperzoo reproduce tts` preset; rank 0 saves it.",
    )
    add_config_arguments(p)
    p.add_argument("--arm", choices=["saln", "add"], default="saln", help="default saln")
    p.add_argument("--seed", type=int, help="seed (default: the config's first seed)")
    p.add_argument("--data-root", help="data root holding speech/fsdd (default $PAPERZOO_DATA)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", type=Path, default=Path("tts.pt"))
    return p


def train_distributed(args: argparse.Namespace, cfg: Any) -> dict[str, Any]:
    """One process's part (the process group must be initialised); returns its rank, the
    final loss and a parameter checksum (equal on every rank when the replicas agree)."""
    rank, t = dist.get_rank(), cfg.train
    per_rank = local_batch_size(t.batch_size)
    seed = cfg.seeds[0] if args.seed is None else args.seed
    corpus = build_corpus(cfg.data, args.data_root, seed)  # the same on every rank
    kwargs = model_kwargs(cfg, args.arm, corpus.mel_config.n_mels)
    torch.manual_seed(seed)  # the same initial model on every rank
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_flush_denormal(True)  # subnormals slow a trained model's CPU step 2.5x
    model = StyleSpeech(len(SYMBOLS), **kwargs).to(dev)
    ddp = nn.parallel.DistributedDataParallel(_Loss(model))
    opt, sched = make_optimizer(cfg, ddp.parameters())
    gen = torch.Generator().manual_seed(seed + 1000 * (rank + 1))
    loss = torch.zeros(())
    for _ in range(t.num_steps):
        idx = torch.randint(len(corpus.train), (per_rank,), generator=gen)
        b = {k: v.to(dev) for k, v in collate([corpus.train[i] for i in idx.tolist()]).items()}
        loss = ddp(b)
        opt.zero_grad()
        loss.backward()  # DDP averages the gradients across ranks here
        if t.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(ddp.parameters(), t.grad_clip)
        opt.step()
        sched.step()
    if rank == 0:
        save_tts(model.cpu(), args.out, corpus.mel_config_name, **kwargs)
    checksum = replica_checksum(model)
    return {"rank": rank, "loss": float(loss.detach()), "checksum": checksum}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cfg = config_from_args("tts", args, PROG)
    with process_group(args.device) as args.device:
        out = train_distributed(args, cfg)
    if out["rank"] == 0:
        print(f"final loss {out['loss']:.4f}; model: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
