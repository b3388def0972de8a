"""Benchmark: training-step time and memory of plain KD vs KD + attribution matching.

WCAM needs the student's Grad-CAM with ``create_graph=True`` (double backprop); this script
measures what that costs per step compared with plain KD, attention transfer and the stochastic
variant, and the same for fine-tuning a pruned (full-width) network. Each configuration runs in a
fresh subprocess so its peak RSS is its own.

    .venv/bin/python benchmarks/compression.py [--steps 20] [--batch-size N] [--threads 2]
        [--preset quick]

The networks (teacher channels and hidden width, the KD student's width divisor, the canvas
size), the learning rates, the stochastic channel drop and the pruning sparsity are the config
of ``--preset`` (``build_config``, as ``paperzoo reproduce compression --preset P``).

Prints a table and writes ``benchmarks/out/compression.json``. Memory is reported two ways:
the process's peak RSS and the bytes autograd saves for backward during one step (activation
memory, measured with ``torch.autograd.graph.saved_tensors_hooks``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

CASES = ["kd", "kd+at", "kd+wcam", "kd+wcam_stoch", "prune", "prune+wcam"]


def _one(case: str, steps: int, batch_size: int | None, threads: int, preset: str) -> dict:
    from paperzoo.compression import (
        AttributionMatchingLoss,
        DistillationObjective,
        FineTuneObjective,
        SmallVGG,
        global_magnitude_prune,
    )
    from paperzoo.core.presets import build_config

    cfg = build_config("compression", preset)
    t, side = cfg.teacher, cfg.data.canvas_size

    def vgg(width_divisor: int) -> SmallVGG:
        return SmallVGG(
            widths=t.conv_dims,
            width_divisor=width_divisor,
            num_pooled=t.num_pooled,
            image_size=side,
            hidden_dim=t.hidden_dim,
        )

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    teacher = vgg(1).eval()
    comp, _, arm = case.partition("+")
    if comp == "kd":
        student = vgg(cfg.distill.width_divisor)
        lr, batch_size = cfg.distill.learning_rate, batch_size or cfg.distill.batch_size
    else:
        import copy

        student = copy.deepcopy(teacher).train()
        global_magnitude_prune(student, cfg.prune.final_sparsity)
        lr, batch_size = cfg.prune.learning_rate, batch_size or cfg.prune.batch_size
    match = None
    if arm:
        match = AttributionMatchingLoss(
            teacher,
            student,
            "features",
            "features",
            kind="at" if arm == "at" else "wcam",
            beta=cfg.matching.beta,
            stochastic_drop=cfg.matching.stochastic_drop if arm == "wcam_stoch" else 0.0,
            reduction=cfg.matching.reduction,
            generator=torch.Generator().manual_seed(0),
        )
    objective = (
        DistillationObjective(teacher, student, match)
        if comp == "kd"
        else FineTuneObjective(student, match)
    )
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    x = torch.rand(batch_size, 1, side, side)
    y = torch.randint(0, 10, (batch_size,))

    def step() -> None:
        out = objective(x, y)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()

    for _ in range(3):
        step()
    saved = [0]

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {
        "case": case,
        "batch_size": batch_size,
        "step_ms_median": 1000 * statistics.median(times),
        "step_ms_min": 1000 * min(times),
        "saved_for_backward_mb": saved[0] / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="quick", help="compression preset giving the sizes")
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)  # child-process mode
    args = ap.parse_args()
    if args.case:
        print(json.dumps(_one(args.case, args.steps, args.batch_size, args.threads, args.preset)))
        return
    rows = []
    for case in CASES:
        cmd = [sys.executable, __file__, "--case", case, "--steps", str(args.steps),
               "--threads", str(args.threads), "--preset", args.preset]  # fmt: skip
        if args.batch_size:
            cmd += ["--batch-size", str(args.batch_size)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    base = {r["case"]: r for r in rows}
    for r in rows:
        ref = base["kd" if r["case"].startswith("kd") else "prune"]
        r["time_ratio_vs_plain"] = r["step_ms_median"] / ref["step_ms_median"]
    print(f"{'case':<15}{'step ms (median)':>18}{'x plain':>9}{'saved MB':>10}{'peak RSS MB':>13}")
    for r in rows:
        print(f"{r['case']:<15}{r['step_ms_median']:>18.1f}{r['time_ratio_vs_plain']:>9.2f}"
              f"{r['saved_for_backward_mb']:>10.1f}{r['peak_rss_mb']:>13.0f}")  # fmt: skip
    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(exist_ok=True)
    meta = {
        "batch_size": args.batch_size or "preset",
        "steps": args.steps,
        "threads": args.threads,
        "preset": args.preset,
        "torch": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": __import__("os").cpu_count(),
        "loadavg": list(__import__("os").getloadavg()),
    }
    (out_dir / "compression.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {out_dir / 'compression.json'} (load average {meta['loadavg']})")


if __name__ == "__main__":
    main()
