"""Training-step time and peak memory of CNP/NP/BNP/BANP at the official size (hidden 128, K = 4).

Usage::

    nice -n 10 .venv/bin/python benchmarks/neural_processes.py [--batch-size 32] [--steps 30]
        [--official /tmp/neural_processes-official/regression --extra-path /tmp/np_stubs]
        [--preset quick]

Sizes (hidden and latent width, depths, heads), K, the learning rate, the batch size and the GP
tasks are the config of ``--preset`` (``build_config``; ``quick`` has the official architecture
and K). The official models get the same hidden width.

``--official`` points at the ``regression/`` folder of a checkout of
https://github.com/juho-lee/bnp (kept outside this repository); ``--extra-path`` is prepended to
``sys.path`` for it (e.g. a folder with a local ``attrdict`` stand-in, since the ``attrdict``
package does not import on Python >= 3.10). Each (implementation, model) runs in its own
subprocess, several rounds interleaved so that both implementations see the same machine load;
the median step time over all timed steps is reported. Peak memory is the growth of the process's
maximum resident set size during the timed steps over its size after model construction and a
warm-up step (CPU: ``ru_maxrss``; CUDA: ``torch.cuda.max_memory_allocated``).

Writes ``benchmarks/out/neural_processes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKER = "--worker"


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(
    impl: str,
    model: str,
    batch_size: int | None,
    steps: int,
    threads: int,
    official: str,
    preset: str,
) -> dict:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    from paperzoo.core.presets import build_config
    from paperzoo.neural_processes import GPTaskSampler, make_kernel

    cfg = build_config("neural_processes", preset)
    mc, tc, tk = cfg.model, cfg.train, cfg.task
    g = torch.Generator().manual_seed(0)
    kernel = make_kernel(tk.train_kernel, tk.length_range, tk.scale_range)
    sampler = GPTaskSampler(kernel, max_num_points=tk.max_num_points)
    tasks = [sampler.sample(batch_size or tc.batch_size, generator=g) for _ in range(steps + 3)]
    if impl == "ours":
        from paperzoo.neural_processes import make_model

        net = make_model(
            model,
            hidden_dim=mc.hidden_dim,
            latent_dim=mc.latent_dim,
            enc_pre_depth=mc.enc_pre_depth,
            enc_post_depth=mc.enc_post_depth,
            enc_v_depth=mc.enc_v_depth,
            enc_qk_depth=mc.enc_qk_depth,
            dec_depth=mc.dec_depth,
            num_heads=mc.num_heads,
        )

        def step_loss(t):
            return net.loss(t.xc, t.yc, t.x, t.y, tc.num_samples)
    else:
        sys.path.insert(0, official)
        from attrdict import AttrDict  # the caller's local stand-in

        mod = __import__(f"models.{model.lower()}", fromlist=[model])
        net = getattr(mod, model)(dim_x=1, dim_y=1, dim_hid=mc.hidden_dim)

        def step_loss(t):
            b = AttrDict(x=t.x, y=t.y, xc=t.xc, yc=t.yc, xt=t.xt, yt=t.yt)
            return net(b, num_samples=tc.num_samples).loss

    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=tc.learning_rate)

    def one(t):
        opt.zero_grad()
        step_loss(t).backward()
        opt.step()

    for t in tasks[:3]:  # warm-up
        one(t)
    base = _rss_mb()
    times, cpu = [], []
    for t in tasks[3:]:
        t0, c0 = time.perf_counter(), time.thread_time()
        one(t)
        times.append(1000 * (time.perf_counter() - t0))
        # This thread's CPU time: leaves out the time other processes held the core.
        cpu.append(1000 * (time.thread_time() - c0))
    params = sum(p.numel() for p in net.parameters())
    return {
        "times_ms": times,
        "cpu_ms": cpu,
        "peak_mb": _rss_mb() - base,
        "rss_mb": _rss_mb(),
        "params": params,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    p.add_argument("--preset", default="quick", help="neural_processes preset giving the sizes")
    p.add_argument("--steps", type=int, default=30, help="timed steps per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", default="CNP,NP,BNP,BANP")
    p.add_argument("--official", default="", help="path of the official regression/ folder")
    p.add_argument("--extra-path", default="", help="prepended to sys.path for --official")
    p.add_argument("--out", default=str(Path(__file__).parent / "out" / "neural_processes.json"))
    p.add_argument(WORKER, nargs=2, metavar=("IMPL", "MODEL"), help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        res = _worker(
            *args.worker, args.batch_size, args.steps, args.threads, args.official, args.preset
        )
        print(json.dumps(res))
        return

    impls = ["ours"] + (["official"] if args.official else [])
    runs: dict[str, dict[str, list]] = {}
    env = dict(os.environ)
    if args.extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.extra_path, env.get("PYTHONPATH")]))
    for r in range(args.rounds):
        for model in args.models.split(","):
            for impl in impls:
                cmd = [sys.executable, __file__, WORKER, impl, model]
                cmd += ["--steps", str(args.steps), "--preset", args.preset]
                cmd += ["--threads", str(args.threads), "--official", args.official]
                if args.batch_size:
                    cmd += ["--batch-size", str(args.batch_size)]
                out = subprocess.run(
                    cmd, capture_output=True, text=True, env=env, cwd=args.official or None
                )
                if out.returncode:
                    raise SystemExit(f"{impl}/{model} failed:\n{out.stderr[-3000:]}")
                res = json.loads(out.stdout.strip().splitlines()[-1])
                slot = runs.setdefault(
                    f"{impl}/{model}",
                    {"times_ms": [], "peak_mb": [], "round_ms": [], "round_cpu_ms": []},
                )
                slot["times_ms"] += res["times_ms"]
                slot["round_ms"].append(statistics.median(res["times_ms"]))
                slot["round_cpu_ms"].append(statistics.median(res["cpu_ms"]))
                slot["peak_mb"].append(res["peak_mb"])
                slot["params"] = res["params"]
                print(f"round {r} {impl:8s} {model}: {statistics.median(res['times_ms']):7.1f} ms")

    summary = {}
    for key, slot in runs.items():
        summary[key] = {
            "ms_per_step_median": statistics.median(slot["times_ms"]),
            "ms_per_step_mean": statistics.fmean(slot["times_ms"]),
            "peak_mb_median": statistics.median(slot["peak_mb"]),
            "params": slot["params"],
        }
    print(
        f"\nbatch {args.batch_size or 'of the preset'}, preset {args.preset}, "
        f"{args.threads} thread(s), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'impl/model':16s} {'ms/step (median)':>17s} {'peak MB':>8s} {'params':>8s}")
    for key, s in summary.items():
        print(
            f"{key:16s} {s['ms_per_step_median']:17.1f} {s['peak_mb_median']:8.1f} {s['params']:8d}"
        )
    if args.official:
        for model in args.models.split(","):
            o, f = runs[f"ours/{model}"], runs[f"official/{model}"]
            # One ratio per round (both measured back to back), then the median over rounds.
            ratios = [a / b for a, b in zip(o["round_ms"], f["round_ms"])]
            cpu = [a / b for a, b in zip(o["round_cpu_ms"], f["round_cpu_ms"])]
            mem = [a / b if b > 0 else float("nan") for a, b in zip(o["peak_mb"], f["peak_mb"])]
            summary[f"ratio/{model}"] = {
                "ours_over_official_ms": statistics.median(ratios),
                "per_round": ratios,
                "ours_over_official_cpu": statistics.median(cpu),
                "per_round_cpu": cpu,
                "ours_over_official_peak_mb": statistics.median(mem),
                "same_params": o["params"] == f["params"],
            }
            print(
                f"{model}: ours/official time ratio {statistics.median(ratios):.2f} "
                f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; by CPU time "
                f"{statistics.median(cpu):.2f}), peak memory ratio "
                f"{statistics.median(mem):.2f}, parameters {o['params']} vs {f['params']}"
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "config": vars(args),
                "machine": {
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "loadavg": os.getloadavg(),
                },
                "summary": summary,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
