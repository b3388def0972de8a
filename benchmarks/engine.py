"""The reproduction engine's parallel speed-up and per-unit overhead.

Usage::

    .venv/bin/python benchmarks/engine.py [--rounds 3] [--workload continual|neural_processes]

Runs a multi-unit preset through the real command line, in interleaved rounds (A, B, A, B, ...)
so both settings see the same machine load. Workloads (no data root needed):

* ``continual`` (default): the OCS ``smoke`` preset enlarged to 10 tasks of all 1,347 digits and
  the official 10 passes (15 units: 3 settings x 5 strategies; a small MLP, stream batches of
  10: Python-bound work, like most of this project's CPU presets);
* ``neural_processes``: the ``demo`` preset cut to 400 steps (6 units: CNP and BNP x 3 seeds;
  larger matrices, where torch's intra-op threads already use both cores).

Settings:

* A: ``--workers 1 --threads 2`` (one process, both cores for torch's intra-op threads);
* B: ``--workers 2 --threads 1`` (two unit processes, one thread each).

Reported per setting: the median wall time over rounds (the CLI's whole run, process start
included) and its ratio A/B; the engine overhead as a fraction of unit time,
``(wall * workers - sum of unit wall times) / sum of unit wall times`` (process start, imports,
data building, scheduling, figures and report); and whether the per-unit numbers agree: a third
setting C (``--workers 1 --threads 1``) must equal B exactly (same threads, same seeds), while A
may differ from B in the last digits because a reduction's order depends on the thread count.

Writes ``benchmarks/out/engine_<workload>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = {
    "A_1worker_2threads": ["--workers", "1", "--threads", "2"],
    "B_2workers_1thread": ["--workers", "2", "--threads", "1"],
}


WORKLOADS = {
    "continual": "continual --preset smoke --set stream.num_tasks=10 "
    "--set stream.train_per_task=1347 --set train.num_passes=10",
    "neural_processes": "neural_processes --preset demo --set train.num_steps=400 "
    "--set train.val_every=40",
}


def _run(args: list[str], workload: str, out: Path) -> tuple[float, Path]:
    cmd = [sys.executable, "-m", "paperzoo", "reproduce", *WORKLOADS[workload].split()]
    cmd += ["--device", "cpu", "--out", str(out), *args]
    env = {**os.environ, "PAPERZOO_PROGRESS": "off"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - t0, Path(proc.stdout.strip().splitlines()[-1])


def _units(run: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((run / "units").glob("*.json"))}


def _max_diff(a: dict[str, dict], b: dict[str, dict]) -> float:
    return max(abs(a[k]["metrics"][m] - b[k]["metrics"][m]) for k in a for m in a[k]["metrics"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="continual")
    args = ap.parse_args()
    walls: dict[str, list[float]] = {k: [] for k in SETTINGS}
    overhead: dict[str, list[float]] = {k: [] for k in SETTINGS}
    units: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, flags in SETTINGS.items():  # interleaved: A, B, A, B, ...
                wall, run = _run(flags, args.workload, Path(tmp) / f"{name}-{r}")
                u = _units(run)
                workers = int(flags[1])
                unit_time = sum(x["wall_s"] for x in u.values())
                walls[name].append(wall)
                overhead[name].append((wall * workers - unit_time) / unit_time)
                units[name] = u
                print(f"round {r} {name}: {wall:.1f} s wall, {len(u)} units", flush=True)
        _, run_c = _run(["--workers", "1", "--threads", "1"], args.workload, Path(tmp) / "C")
        units["C_1worker_1thread"] = _units(run_c)
    a, b = (statistics.median(walls[k]) for k in SETTINGS)
    out = {
        "workload": WORKLOADS[args.workload],
        "units": len(units["B_2workers_1thread"]),
        "rounds": args.rounds,
        "wall_s": walls,
        "median_wall_s": {k: statistics.median(v) for k, v in walls.items()},
        "speedup_A_over_B": a / b,
        "overhead_fraction_median": {k: statistics.median(v) for k, v in overhead.items()},
        "max_abs_metric_diff_B_vs_C": _max_diff(
            units["B_2workers_1thread"], units["C_1worker_1thread"]
        ),
        "max_abs_metric_diff_A_vs_B": _max_diff(
            units["A_1worker_2threads"], units["B_2workers_1thread"]
        ),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_at_end": os.getloadavg(),
        },
    }
    dest = Path(__file__).parent / "out" / f"engine_{args.workload}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))
    print(
        json.dumps(
            {
                k: out[k]
                for k in (
                    "median_wall_s",
                    "speedup_A_over_B",
                    "overhead_fraction_median",
                    "max_abs_metric_diff_B_vs_C",
                    "max_abs_metric_diff_A_vs_B",
                )
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
