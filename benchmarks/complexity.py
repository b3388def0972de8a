"""Speed of Neural Complexity's two hot loops, ours vs the official code, as interleaved ratios.

Measures (CPU, 1 thread by default) at the NC widths of the ``quick`` (128) and ``paper`` (512,
official) presets; every other size and rate is the ``paper`` preset's config (``build_config``),
which holds the official ``run.py`` defaults (encoder depth 3, decoder depth 2, 8 heads, mean
pooling, Adam 5e-4, learners 1-40-40-1 trained 16 SGD steps at 1e-2 on 10 + 15 points):
  * ms per NC training step: sample 512 snapshots from a memory bank of 100k, NC forward, MSE,
    backward, Adam;
  * ms per learner update: one SGD step of 64 task learners (MLP 1-40-40-1, 10 train and 15
    test points), without and with NC in the loss.

The official code (github.com/yoonholee/neural-complexity, checked out OUTSIDE this repository)
does the same operations: its ``NeuralComplexity1D`` and ``ParallelNeuralNetwork`` modules are
imported from DIR/1d_regression at run time (nothing of it is copied here); ``run.py`` itself
cannot be imported (it needs torchmeta, tensorboard, loguru and CUDA and starts training at
import), so its loop body is re-expressed below with its modules and its memory-bank sampling
(``random.sample`` + fancy indexing).

The machine is shared and noisy, so the two implementations are timed in alternation (ours,
official, ours, official, ...) within each round and the report is the median over rounds of
the per-round ratio ours / official (< 1: ours is faster), with the parameter counts of both
NC networks (the same work per step).

    python benchmarks/complexity.py --official /tmp/neural-complexity [--rounds 5]

Prints a table and writes benchmarks/out/complexity.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from paperzoo.complexity import (
    LearnerMLP,
    MemoryBank,
    NeuralComplexity,
    SinusoidTasks,
    init_learner_params,
    nc_penalty,
    train_learners,
)
from paperzoo.core.presets import build_config

BANK = 100_000
"""Snapshots in the memory bank sampled from: deliberately 100k, not the official 1M
(``meta.memory_capacity``), so that both implementations' banks fit in memory together; a
minibatch draw indexes the bank, so its cost hardly depends on the bank's size."""
CLOCK = "cpu"


def _time(fn: Callable[[], None], repeats: int) -> float:
    """Median wall ms per call of ``fn`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def ours(width: int, cfg: Any) -> tuple[dict[str, Callable[[], None]], int]:
    """The three operations with our modules, and NC's parameter count."""
    n, meta, reg, lc = cfg.nc, cfg.meta, cfg.official, cfg.learner
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    nc = NeuralComplexity(width, n.encoder_depth, n.decoder_depth, n.num_heads, n.pool)
    opt = torch.optim.Adam(nc.parameters(), lr=meta.learning_rate)
    bank = MemoryBank(BANK, reg.num_train, reg.num_test)
    bank.add(
        torch.randn(BANK, reg.num_test, 2),
        torch.randn(BANK, reg.num_train, 3),
        torch.randn(BANK),
    )

    def nc_step() -> None:
        te, tr, trxy, gap = bank.sample(meta.batch_size, g)
        loss = (nc.forward_snapshot(te, tr, trxy) - gap).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    learner = LearnerMLP(lc.hidden_dim, lc.num_layers)
    tasks = SinusoidTasks(reg.num_train, reg.num_test).sample(meta.task_batch_size, g)
    init = init_learner_params(learner, meta.task_batch_size, g)
    pen = nc_penalty(nc, meta.nc_weight)

    def learners(penalty) -> Callable[[], None]:
        return lambda: train_learners(
            learner,
            init,
            tasks,
            num_steps=reg.inner_steps,
            learning_rate=reg.inner_learning_rate,
            penalty=penalty,
        )

    ops = {"nc_step": nc_step, "learner_x16": learners(None), "learner_nc_x16": learners(pen)}
    return ops, _params(nc)


def official(root: Path, width: int, cfg: Any) -> tuple[dict[str, Callable[[], None]], int]:
    """The same operations with the official modules (run.py's loop body re-expressed)."""
    n, meta, reg, lc = cfg.nc, cfg.meta, cfg.official, cfg.learner
    batch_size, num_tasks = meta.batch_size, meta.task_batch_size
    if str(root / "1d_regression") not in sys.path:
        sys.path.insert(0, str(root / "1d_regression"))
    from model.neural_complexity import NeuralComplexity1D  # the official module
    from model.nn_learner import get_learner

    torch.manual_seed(0)
    args = SimpleNamespace(
        batch_size=batch_size,
        hid_dim=width,
        enc_depth=n.encoder_depth,
        dec_depth=n.decoder_depth,
        num_heads=n.num_heads,
        pool=n.pool,
    )
    model = NeuralComplexity1D(args)
    opt = torch.optim.Adam(model.parameters(), lr=meta.learning_rate)
    mse = torch.nn.MSELoss(reduction="none")
    bank = {
        "te_xp": torch.randn(BANK, reg.num_test, 2),
        "tr_xp": torch.randn(BANK, reg.num_train, 2),
        "tr_xyp": torch.randn(BANK, reg.num_train, 3),
    }
    gaps = torch.randn(BANK)

    def nc_step() -> None:  # run.py: memory_bank.get_batch + NC regression step
        idxs = random.sample(range(BANK), k=batch_size)
        batch = {k: v[idxs] for k, v in bank.items()}
        loss = mse(model(batch).squeeze(), gaps[idxs].squeeze()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    g = torch.Generator().manual_seed(0)
    tasks = SinusoidTasks(reg.num_train, reg.num_test).sample(num_tasks, g)
    x_tr, y_tr, x_te, _ = tasks.tensors()

    def learners(regularize: bool) -> Callable[[], None]:  # run.py: run_regression
        def run() -> None:
            h = get_learner(
                batch_size=num_tasks,
                layers=lc.num_layers,
                hidden_size=lc.hidden_dim,
                activation=lc.activation,
            )
            h_opt = torch.optim.SGD(h.parameters(), lr=reg.inner_learning_rate)
            for _ in range(reg.inner_steps):
                p_tr, p_te = h(x_tr), h(x_te)
                meta_batch = {
                    "te_xp": torch.cat([x_te, p_te], -1),
                    "tr_xp": torch.cat([x_tr, p_tr], -1),
                    "tr_xyp": torch.cat([x_tr, y_tr, p_tr], -1),
                }
                h_loss = mse(p_tr.squeeze(), y_tr.squeeze()).mean(-1).sum()
                if regularize:
                    h_loss = h_loss + model(meta_batch).sum()
                h_opt.zero_grad()
                h_loss.backward()
                h_opt.step()

        return run

    ops = {"nc_step": nc_step, "learner_x16": learners(False), "learner_nc_x16": learners(True)}
    return ops, _params(model)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", type=Path, required=True, help="yoonholee/neural-complexity")
    ap.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=None,
        help="NC widths (default: the quick and paper presets', 128 and 512)",
    )
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median ratio)")
    ap.add_argument("--repeats", type=int, default=5, help="calls timed per side and round")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/complexity.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = build_config("complexity", "paper")  # the official run.py's sizes and rates
    widths = a.widths or [build_config("complexity", "quick").nc.hidden_dim, cfg.nc.hidden_dim]
    res: dict = {"widths": {}}
    print(
        f"{'width':>6} {'operation':<16}{'ours ms':>10}{'official ms':>13}{'ratio':>8}  per round"
    )
    inner = cfg.official.inner_steps
    for width in widths:
        mine, n_ours = ours(width, cfg)
        theirs, n_official = official(a.official, width, cfg)
        row: dict = {"params": {"ours": n_ours, "official": n_official}}
        for op in mine:
            t_o, t_f, ratios = [], [], []
            for _ in range(a.rounds):  # A, B, A, B ... in one time window
                t_o.append(_time(mine[op], a.repeats))
                t_f.append(_time(theirs[op], a.repeats))
                ratios.append(t_o[-1] / t_f[-1])
            per = inner if op != "nc_step" else 1
            row[op] = {
                "ours_ms": statistics.median(t_o) / per,
                "official_ms": statistics.median(t_f) / per,
                "ratio": statistics.median(ratios),
                "ratios": ratios,
            }
            r = row[op]
            print(
                f"{width:>6} {op:<16}{r['ours_ms']:>10.2f}{r['official_ms']:>13.2f}"
                f"{r['ratio']:>8.2f}  " + " ".join(f"{x:.2f}" for x in ratios)
            )
        print(f"{width:>6} NC parameters: ours {n_ours:,}, official {n_official:,}")
        res["widths"][str(width)] = row
    res["env"] = {
        "torch": torch.__version__,
        "threads": a.threads,
        "rounds": a.rounds,
        "repeats": a.repeats,
        "platform": platform.platform(),
        "sizes": {
            "bank": BANK,
            "batch": cfg.meta.batch_size,
            "tasks": cfg.meta.task_batch_size,
            "inner_steps": inner,
        },
        "note": "learner_* ms are per learner SGD step (INNER steps per call); ratio = ours / "
        "official, median of per-round ratios",
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
