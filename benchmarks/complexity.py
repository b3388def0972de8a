"""Speed of Neural Complexity's two hot loops at the official sizes, ours vs the official code.

Measures (CPU, median over repeats; process CPU time by default, see ``--clock``):
  * ms per NC training step: sample 512 snapshots from a memory bank of 100k, NC forward
    (width 512, encoder depth 3, decoder depth 2, 8 heads, mean pooling), MSE, backward, Adam;
  * ms per batch of 64 learner updates: one SGD step of 64 task learners (MLP 1-40-40-1, 10 train
    and 15 test points), with and without NC in the loss.

``--official DIR`` also times the official code (github.com/yoonholee/neural-complexity, checked
out OUTSIDE this repository) doing the same operations on CPU: its ``NeuralComplexity1D`` and
``ParallelNeuralNetwork`` modules are imported from DIR/1d_regression at run time (nothing of it
is copied here); ``run.py`` itself cannot be imported (it needs torchmeta, tensorboard, loguru
and CUDA and starts training at import), so its loop body is re-expressed below with its modules
and its memory-bank sampling (``random.sample`` + fancy indexing).

    python benchmarks/complexity.py [--official /tmp/complexity-official] [--threads 1]

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
from pathlib import Path
from types import SimpleNamespace

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

BANK = 100_000
BATCH = 512
TASKS = 64
INNER = 16
CLOCK = "cpu"


def _time(fn, repeats: int, warmup: int = 1) -> float:
    """Median ms per call. With --clock cpu this is the process's CPU time, which on a shared
    machine approximates the wall time an idle machine would give (1 thread); --clock wall uses
    perf_counter."""
    for _ in range(warmup):
        fn()
    clock = time.process_time if CLOCK == "cpu" else time.perf_counter
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return 1000 * statistics.median(times)


def ours(repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    nc = NeuralComplexity(512, 3, 2, 8, "mean")
    opt = torch.optim.Adam(nc.parameters(), lr=5e-4)
    bank = MemoryBank(BANK, 10, 15)
    bank.add(torch.randn(BANK, 15, 2), torch.randn(BANK, 10, 3), torch.randn(BANK))

    def nc_step():
        te, tr, trxy, gap = bank.sample(BATCH, g)
        loss = (nc.forward_snapshot(te, tr, trxy) - gap).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    learner = LearnerMLP(40, 2)
    tasks = SinusoidTasks(10, 15).sample(TASKS, g)
    init = init_learner_params(learner, TASKS, g)
    pen = nc_penalty(nc, 1.0)

    def learners(penalty):
        # INNER steps per call; reported per step
        train_learners(learner, init, tasks, num_steps=INNER, learning_rate=1e-2, penalty=penalty)

    return {
        "nc_step_ms": _time(nc_step, repeats),
        "learner_step_ms": _time(lambda: learners(None), max(3, repeats // 3)) / INNER,
        "learner_step_nc_ms": _time(lambda: learners(pen), max(3, repeats // 3)) / INNER,
    }


def official(root: Path, repeats: int) -> dict[str, float]:
    sys.path.insert(0, str(root / "1d_regression"))
    from model.neural_complexity import NeuralComplexity1D  # the official module
    from model.nn_learner import get_learner

    torch.manual_seed(0)
    args = SimpleNamespace(
        batch_size=BATCH, hid_dim=512, enc_depth=3, dec_depth=2, num_heads=8, pool="mean"
    )
    model = NeuralComplexity1D(args)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    mse = torch.nn.MSELoss(reduction="none")
    bank = {
        "te_xp": torch.randn(BANK, 15, 2),
        "tr_xp": torch.randn(BANK, 10, 2),
        "tr_xyp": torch.randn(BANK, 10, 3),
    }
    gaps = torch.randn(BANK)

    def nc_step():  # run.py: memory_bank.get_batch + NC regression step (.cuda() dropped)
        idxs = random.sample(range(BANK), k=BATCH)
        batch = {k: v[idxs] for k, v in bank.items()}
        loss = mse(model(batch).squeeze(), gaps[idxs].squeeze()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    g = torch.Generator().manual_seed(0)
    tasks = SinusoidTasks(10, 15).sample(TASKS, g)
    x_tr, y_tr, x_te, _ = tasks.tensors()

    def learners(regularize: bool):  # run.py: run_regression's inner loop, INNER steps
        h = get_learner(batch_size=TASKS, layers=2, hidden_size=40, activation="relu")
        h_opt = torch.optim.SGD(h.parameters(), lr=1e-2)
        for _ in range(INNER):
            p_tr, p_te = h(x_tr), h(x_te)
            meta = {
                "te_xp": torch.cat([x_te, p_te], -1),
                "tr_xp": torch.cat([x_tr, p_tr], -1),
                "tr_xyp": torch.cat([x_tr, y_tr, p_tr], -1),
            }
            h_loss = mse(p_tr.squeeze(), y_tr.squeeze()).mean(-1).sum()
            if regularize:
                h_loss = h_loss + model(meta).sum()
            h_opt.zero_grad()
            h_loss.backward()
            h_opt.step()

    return {
        "nc_step_ms": _time(nc_step, repeats),
        "learner_step_ms": _time(lambda: learners(False), max(3, repeats // 3)) / INNER,
        "learner_step_nc_ms": _time(lambda: learners(True), max(3, repeats // 3)) / INNER,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", type=Path, help="checkout of yoonholee/neural-complexity")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="what to time")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/complexity.json"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    global CLOCK
    CLOCK = a.clock
    res = {"ours": ours(a.repeats)}
    if a.official is not None:
        res["official"] = official(a.official, a.repeats)
    print(
        f"{'metric':<22}{'ours':>12}"
        + (f"{'official':>12}{'official/ours':>15}" if a.official else "")
    )
    for k, v in res["ours"].items():
        line = f"{k:<22}{v:>12.2f}"
        if a.official is not None:
            o = res["official"][k]
            line += f"{o:>12.2f}{o / v:>15.2f}"
        print(line)
    res["env"] = {
        "torch": torch.__version__,
        "threads": a.threads,
        "clock": a.clock,
        "platform": platform.platform(),
        "sizes": {"bank": BANK, "batch": BATCH, "tasks": TASKS, "nc_width": 512},
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
