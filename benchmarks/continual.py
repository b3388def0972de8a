"""Speed and peak memory of one OCS selection step, ours vs the official code (CPU).

One selection step = per-sample gradients of a streamed batch of 100 on the official MLP
(784-256-256-10, dropout 0.2, train mode) + the OCS scores (minibatch similarity, sample
diversity, coreset affinity to a given memory gradient) + the top-10 pick. Routes:

  * ``ours-linear``: :func:`paperzoo.continual.linear_gradient_gram` (exact Gram trick, the
    default ``grad_method="auto"`` for the MLP) + :func:`ocs_scores`;
  * ``ours-vmap``: ``torch.func.vmap(grad)`` per-sample gradients, one (B,P)@(P,B) product;
  * ``official``: ``autograd_hacks`` hooks (``add_hooks``, forward, backward, ``compute_grad1``,
    ``flatten_grads``, ``flatten_example_grads``) + ``sample_selection`` from
    ``core/train_methods_mnist.py`` of github.com/jaehong31/OCS, checked out OUTSIDE this
    repository (``--official DIR``). That module imports jax/neural-tangents at import time (for
    its bilevel-coreset baseline), so ``sample_selection`` is taken from its source with ``ast``
    and executed as is; nothing is copied into this repository.

Each route runs in a fresh subprocess: peak memory is the growth of the process's max RSS
during the timed steps (after model and data are built). ``--with-memory-grad`` adds the
per-step memory-gradient computation (200 memory samples) that both implementations also do.

    python benchmarks/continual.py [--official /tmp/continual-official] [--threads 1]
    python benchmarks/continual.py --figure docs/results/continual/benchmark_selection_step.png

Prints a table and writes benchmarks/out/continual.json. The sizes and hyperparameters (hidden
width, dropout, stream batch, kappa, memory size, tau, SGD learning rate and momentum) are the
``official`` preset's config (``build_config``), which holds the official ``ocs_mnist.py`` values.
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUTES = ("ours-linear", "ours-vmap", "official")


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker(route: str, official: str | None, repeats: int, threads: int, memgrad: bool) -> dict:
    import torch
    import torch.nn.functional as F

    from paperzoo.core.presets import build_config

    t = build_config("continual", "official").train
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(t.stream_size, 784)
    y = torch.randint(0, 10, (t.stream_size,))
    mem_x, mem_y = torch.rand(t.memory_size, 784), torch.randint(0, 10, (t.memory_size,))

    if route.startswith("ours"):
        from paperzoo.continual import OfficialMLP, gradient_gram, ocs_scores, select_top_k

        model = OfficialMLP(hidden=t.hidden_dim, dropout=t.dropout).train()
        params = list(model.parameters())
        ref_fixed = torch.randn(sum(p.numel() for p in params))
        method = route.split("-")[1]

        def step() -> torch.Tensor:
            ref = ref_fixed
            if memgrad:
                loss = F.cross_entropy(model(mem_x), mem_y)
                ref = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])
            gram = gradient_gram(model, x, y, ref, method=method)
            return select_top_k(ocs_scores(gram, t.tau).score, t.pick_size)

    else:
        sys.path.insert(0, official)
        import core.autograd_hacks as autograd_hacks
        from core.models import MLP
        from core.utils import flatten_example_grads, flatten_grads

        src = Path(official, "core", "train_methods_mnist.py").read_text()
        fn = next(
            n
            for n in ast.parse(src).body
            if isinstance(n, ast.FunctionDef) and n.name == "sample_selection"
        )
        ns: dict = {"torch": torch}
        exec(compile(ast.Module([fn], []), "official_sample_selection", "exec"), ns)
        sample_selection = ns["sample_selection"]
        config = {"mlp_hiddens": t.hidden_dim, "dropout": t.dropout, "tau": t.tau}
        model = MLP(config).train()
        autograd_hacks.add_hooks(model)
        criterion = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=t.learning_rate, momentum=t.momentum)
        ref_fixed = torch.randn(sum(p.numel() for p in model.parameters()))

        def step() -> torch.Tensor:  # the body of train_ocs_single_step's selection branch
            ref = ref_fixed
            if memgrad:
                autograd_hacks.disable_hooks()
                opt.zero_grad()
                criterion(model(mem_x, None), mem_y).backward()
                ref = flatten_grads(model).clone()
                autograd_hacks.enable_hooks()
            opt.zero_grad()
            autograd_hacks.clear_backprops(model)
            loss = criterion(model(x, None), y)
            loss.backward()
            autograd_hacks.compute_grad1(model)
            order = sample_selection(
                flatten_grads(model), flatten_example_grads(model), config, ref
            )
            autograd_hacks.clear_backprops(model)
            return torch.as_tensor(order[: t.pick_size])

    rss0 = _maxrss_mb()
    pick = step()  # warm-up (first-call overheads)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pick = step()
        times.append(time.perf_counter() - t0)
    return {
        "route": route,
        "ms_median": 1000 * statistics.median(times),
        "ms_min": 1000 * min(times),
        "peak_rss_growth_mb": _maxrss_mb() - rss0,
        "pick": pick.tolist(),
    }


def _figure(path: Path) -> None:
    """Bars of ms per selection step (log scale) for the two JSON files in benchmarks/out/."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(__file__).resolve().parent / "out"
    files = [("scoring only", "continual.json"), ("+ memory gradient", "continual_memgrad.json")]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (title, name) in zip(axes, files):
        res = json.loads((out / name).read_text())
        rows = [r for r in res["rows"] if "error" not in r]
        ms = [r["ms_median"] for r in rows]
        ax.bar([r["route"] for r in rows], ms, color=["C2", "C1", "C7"][: len(rows)])
        for i, r in enumerate(rows):
            ax.text(
                i,
                ms[i],
                f"{ms[i]:.0f} ms\n{r['peak_rss_growth_mb']:.0f} MB",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_yscale("log")
        ax.set_ylim(top=max(ms) * 6)
        ax.set_ylabel("ms per selection step (median)")
        ax.set_title(f"OCS selection, batch 100, MLP ({title})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--official", default=None, help="checkout of jaehong31/OCS (outside repo)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--with-memory-grad", action="store_true")
    ap.add_argument("--figure", default=None, help="PNG of both JSONs in benchmarks/out/")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.figure:
        _figure(Path(args.figure))
        return
    if args.worker:
        res = _worker(args.worker, args.official, args.repeats, args.threads, args.with_memory_grad)
        print(json.dumps(res))
        return
    routes = [r for r in ROUTES if r != "official" or args.official]
    rows = []
    for route in routes:
        cmd = [sys.executable, __file__, "--worker", route, "--repeats", str(args.repeats)]
        cmd += ["--threads", str(args.threads)]
        if args.official:
            cmd += ["--official", args.official]
        if args.with_memory_grad:
            cmd.append("--with-memory-grad")
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{route}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            rows.append({"route": route, "error": out.stderr[-2000:]})
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    by = {r["route"]: r for r in rows if "error" not in r}
    if "official" in by:
        for r in by.values():
            r["speedup_vs_official"] = by["official"]["ms_median"] / r["ms_median"]
    print(f"{'route':<12} {'ms/step (median)':>17} {'min':>8} {'peak RSS +MB':>13} {'speedup':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['route']:<12} failed")
            continue
        sp = r.get("speedup_vs_official")
        print(
            f"{r['route']:<12} {r['ms_median']:17.1f} {r['ms_min']:8.1f} "
            f"{r['peak_rss_growth_mb']:13.1f} {'' if sp is None else f'{sp:7.1f}x':>8}"
        )
    import os

    import torch

    result = {
        "benchmark": "OCS selection step, batch 100, official MLP 784-256-256-10, CPU",
        "with_memory_grad": args.with_memory_grad,
        "threads": args.threads,
        "repeats": args.repeats,
        "load_average": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "rows": rows,
    }
    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(exist_ok=True)
    name = "continual_memgrad.json" if args.with_memory_grad else "continual.json"
    (out_dir / name).write_text(json.dumps(result, indent=2))
    print(f"wrote {out_dir / name}")


if __name__ == "__main__":
    main()
