"""Benchmark of the federated package: the Taylor term's cost per local step, and rounds per
second of FedMix vs FedAvg on each engine, against Flower's own FedAvg strategy.

Measures (this machine is shared and noisy: only ratios from interleaved runs mean anything)
  1. ms per local SGD step (the quick preset's LeNet-5, batch, lr and λ; 28x28) of FedAvg,
     NaiveMix and FedMix, run interleaved (A, B, C, A, B, C, ...) for ``--repeats`` rounds;
     per round the ratios FedMix / FedAvg and FedMix / NaiveMix (the Taylor term's double
     backprop is the only difference between NaiveMix-at-(1-λ)x and FedMix), then their
     medians.
  2. rounds per second of one federation (LeNet-5, 10 clients x 100 random 28x28 images, 5 per
     round, 1 local epoch) for: Flower's own ``flwr.server.strategy.FedAvg``, our
     ``MeanAugmentedFedAvg`` as FedAvg, and FedMix; each in process (Flower's ``Server`` loop,
     clients called directly), interleaved per repeat; medians of the per-repeat ratios to
     Flower's FedAvg (rates from the end of round 1 on: start-up and round 1 are reported
     apart). Every arm trains the same model (parameter count printed) on the same
     clients; only the strategy and the local loss differ.
  3. ``--simulation``: the same three on Flower's Simulation Runtime (Ray; start-up reported
     apart from the per-round time). ``--deploy``: FedAvg and FedMix on the Deployment Runtime
     (SuperLink + SuperNodes + ``flwr run``, one process per client and message).

Usage::

    nice -n 10 .venv/bin/python benchmarks/federated.py [--repeats 3] [--rounds 3] \\
        [--simulation] [--deploy] [--figure]

Writes ``benchmarks/out/federated.json`` (+ ``docs/results/federated/benchmark.png`` with
``--figure``); the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]


def _config(overrides: list[str]) -> Any:
    """The quick preset's config (model, batch, learning rate, λ) with the benchmark's sizes."""
    from paperzoo.core.presets import build_config

    return build_config("federated", "quick", overrides=overrides)


def step_times(steps: int, repeats: int) -> dict[str, Any]:
    """Interleaved per-step times of the local objectives; medians and median ratios.

    ``steps`` must be even (``fedavg_2b`` takes half as many steps of twice the batch).

    Each arm is timed by the wall clock and by this thread's CPU time (``time.thread_time``,
    which leaves out the time other processes held the core); ratios are taken within a round.
    """
    from paperzoo.federated import LeNet5, local_sgd, make_objective
    from paperzoo.federated.local_training import FedMixObjective

    fl, width = (cfg := _config([])).fl, cfg.model_width

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(steps * fl.batch_size, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (steps * fl.batch_size,), generator=g)
    pool = (torch.rand(19, 1, 28, 28, generator=g), torch.softmax(torch.rand(19, 10), 1))
    # "fedmix" is the default (forward-mode tangent, ``tangent.py``); "fedmix_double_backprop"
    # the former route (input gradient differentiated again), kept for the before/after ratio.
    # "fedavg_2b": FedAvg on batches of 2B rows (half the steps), the floor of an exact Taylor
    # term computed by one extra pass over the batch.
    arms = ("fedavg", "naivemix", "fedmix", "fedmix_double_backprop", "fedavg_2b")
    ms: dict[str, list[float]] = {a: [] for a in arms}
    cpu: dict[str, list[float]] = {a: [] for a in arms}

    def objective(arm: str) -> Any:
        if arm == "fedmix_double_backprop":
            return FedMixObjective(fl.fedmix_lam, method="double_backprop")
        if arm == "fedavg_2b":
            return make_objective("fedavg")
        return make_objective(arm, lam=fl.fedmix_lam if arm == "fedmix" else fl.naivemix_lam)

    for rep in range(repeats + 1):  # the first pass warms up and is not counted
        for arm in arms:
            torch.manual_seed(0)
            model = LeNet5(10, 1, width)
            double = arm == "fedavg_2b"
            t, c = time.perf_counter(), time.thread_time()
            local_sgd(
                model,
                x,
                y,
                objective(arm),
                learning_rate=fl.learning_rate,
                batch_size=fl.batch_size * (2 if double else 1),
                local_epochs=1,
                partners=pool,
                generator=torch.Generator().manual_seed(rep),
            )
            n = steps // 2 if double else steps
            if rep:
                ms[arm].append((time.perf_counter() - t) / n * 1e3)
                cpu[arm].append((time.thread_time() - c) / n * 1e3)

    def ratio(times: dict[str, list[float]], a: str, b: str) -> float:
        return statistics.median(p / q for p, q in zip(times[a], times[b], strict=True))

    pairs = {
        "fedmix_over_fedavg": ("fedmix", "fedavg"),
        "double_backprop_over_fedavg": ("fedmix_double_backprop", "fedavg"),
        "fedmix_over_naivemix": ("fedmix", "naivemix"),
        "fedmix_over_double_backprop": ("fedmix", "fedmix_double_backprop"),
        "fedavg_2b_over_fedavg": ("fedavg_2b", "fedavg"),
        "fedmix_over_fedavg_2b": ("fedmix", "fedavg_2b"),
    }
    return {
        "ms": {a: statistics.median(v) for a, v in ms.items()},
        "cpu_ms": {a: statistics.median(v) for a, v in cpu.items()},
        **{k: ratio(ms, a, b) for k, (a, b) in pairs.items()},
        "cpu_ratios": {k: ratio(cpu, a, b) for k, (a, b) in pairs.items()},
        "fedmix_over_fedavg_range": [
            min(f / a for f, a in zip(ms["fedmix"], ms["fedavg"], strict=True)),
            max(f / a for f, a in zip(ms["fedmix"], ms["fedavg"], strict=True)),
        ],
        "params": sum(p.numel() for p in LeNet5(10, 1, width).parameters()),
    }


def _federation(rounds: int) -> Any:
    from paperzoo.federated.models import LeNet5
    from paperzoo.federated.partition import classes_per_client_partition
    from paperzoo.federated.repro.federation import Federation

    g = torch.Generator().manual_seed(0)
    y = torch.arange(1000) % 10
    x = torch.rand(1000, 1, 28, 28, generator=g)
    sizes = ['datasets=["synthetic"]', "data.num_clients=10", "fl.clients_per_round=5",
             f"fl.num_rounds={rounds}", "eval_every=1", "final_rounds=1"]  # fmt: skip
    cfg = _config(sizes)
    parts = classes_per_client_partition(y.numpy(), 10, 2, seed=0)
    width = cfg.model_width
    return Federation(x, y, x[:200], y[:200], parts, 10, cfg, 0, lambda: LeNet5(10, 1, width))


def _flower_fedavg(fed: Any, evaluate_fn: Any) -> Any:
    """Flower's own FedAvg with the same initial weights, sampling size and lr schedule."""
    from flwr.common import ndarrays_to_parameters
    from flwr.server.strategy import FedAvg

    from paperzoo.federated.client import get_weights
    from paperzoo.federated.repro.federation import make_lr_schedule

    torch.manual_seed(fed.seed)
    n = fed.cfg.fl.clients_per_round
    return FedAvg(
        fraction_fit=n / fed.num_clients,
        fraction_evaluate=0.0,
        min_fit_clients=n,
        min_evaluate_clients=0,
        min_available_clients=fed.num_clients,
        evaluate_fn=evaluate_fn,
        on_fit_config_fn=make_lr_schedule(fed.cfg),
        fit_metrics_aggregation_fn=lambda metrics: {},
        initial_parameters=ndarrays_to_parameters(get_weights(fed.model_fn())),
    )


def round_rates(rounds: int, repeats: int, engine: str) -> dict[str, Any]:
    """Rounds per second (after start-up) of Flower's FedAvg, ours as FedAvg, and FedMix."""
    from paperzoo.federated import run_flower_simulation, run_in_process

    fed = _federation(rounds)
    run = run_in_process if engine == "in_process" else run_flower_simulation
    arms = ("flower_fedavg", "fedavg", "fedmix")
    rate: dict[str, list[float]] = {a: [] for a in arms}
    startup: dict[str, list[float]] = {a: [] for a in arms}
    for rep in range(repeats + 1):  # the first pass warms up and is not counted
        for arm in arms:
            stamps: dict[int, float] = {}

            def on_round(r: int, loss: float, a: float, stamps=stamps) -> None:
                stamps[r] = time.perf_counter()

            evaluate = fed.evaluate_fn(on_round)
            if arm == "flower_fedavg":
                strategy, client = _flower_fedavg(fed, evaluate), fed.client_fn("fedavg")
            else:
                strategy, client = fed.strategy(arm, evaluate_fn=evaluate), fed.client_fn(arm)
            t0 = time.perf_counter()
            run(strategy, client, fed.num_clients, rounds)
            if rep:
                # from the end of round 1: Flower's FedAvg hands out its initial model before
                # any client is up, so its round 1 carries the engine's start-up
                rate[arm].append((rounds - 1) / (stamps[rounds] - stamps[1]))
                startup[arm].append(stamps[1] - t0)
    return {
        "rounds_per_s": {a: statistics.median(v) for a, v in rate.items()},
        "startup_s": {a: statistics.median(v) for a, v in startup.items()},
        "over_flower_fedavg": {
            a: statistics.median(r / f for r, f in zip(rate[a], rate["flower_fedavg"]))
            for a in arms
        },
    }


def deploy_rates(rounds: int) -> dict[str, Any]:
    """FedAvg and FedMix on the Deployment Runtime (the ``deploy`` preset: digits MLP; 4
    SuperNodes, 2 per round)."""
    from paperzoo.federated.repro import run_local

    out: dict[str, Any] = {}
    for arm in ("fedavg", "fedmix"):
        t0 = time.time()
        s = run_local(
            {
                "preset": "deploy",
                "set": f"data.num_clients=4; fl.clients_per_round=2; fl.num_rounds={rounds}",
                "arm": arm,
            },
            timeout=1800,
        )
        stamps = s["round_times"]
        out[arm] = {
            "startup_s": stamps[0] - t0,
            "rounds_per_s": rounds / (stamps[-1] - stamps[0]),
            "total_s": time.time() - t0,
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (>= 3)")
    p.add_argument("--rounds", type=int, default=4, help="federated rounds per repetition (>= 2)")
    p.add_argument("--steps", type=int, default=60, help="local steps per step-time sample")
    p.add_argument("--simulation", action="store_true", help="also Flower's Simulation Runtime")
    p.add_argument("--deploy", action="store_true", help="also the Deployment Runtime")
    p.add_argument("--steps-only", action="store_true", help="only the local step times (1.)")
    p.add_argument(
        "--figure", action="store_true", help="write docs/results/federated/benchmark.png"
    )
    args = p.parse_args()
    if args.steps_only and (args.figure or args.simulation or args.deploy):
        p.error("--steps-only measures the local steps alone; drop --figure/--simulation/--deploy")
    if args.steps % 2:
        p.error("--steps must be even (FedAvg on 2B rows takes half as many steps)")
    if args.rounds < 2:
        p.error("--rounds must be >= 2 (the rate is measured from the end of round 1)")
    import logging

    logging.getLogger("flwr").setLevel(logging.WARNING)
    torch.set_num_threads(1)
    res: dict[str, Any] = {
        "load_avg_start": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
    }
    res["step"] = step_times(args.steps, args.repeats)
    if not args.steps_only:
        res["in_process"] = round_rates(args.rounds, args.repeats, "in_process")
    if args.simulation:
        res["simulation"] = round_rates(args.rounds, args.repeats, "flower_simulation")
    if args.deploy:
        res["deploy"] = deploy_rates(args.rounds)
    res["load_avg_end"] = os.getloadavg()
    out = ROOT / "benchmarks" / "out" / "federated.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    st = res["step"]
    print(f"local step, LeNet-5 ({st['params']} parameters), batch 10, median of {args.repeats}:")
    print("  " + "  ".join(f"{a} {v:.2f} ms" for a, v in st["ms"].items()))
    print(
        f"  FedMix / FedAvg {st['fedmix_over_fedavg']:.2f}x (tangent route; double backprop "
        f"{st['double_backprop_over_fedavg']:.2f}x), FedMix / NaiveMix "
        f"{st['fedmix_over_naivemix']:.2f}x"
    )
    c = st["cpu_ratios"]
    print(
        f"  by CPU time: FedMix / FedAvg {c['fedmix_over_fedavg']:.2f}x, double backprop "
        f"{c['double_backprop_over_fedavg']:.2f}x; FedAvg on 2B rows / FedAvg "
        f"{c['fedavg_2b_over_fedavg']:.2f}x (FedMix / that {c['fedmix_over_fedavg_2b']:.2f}x)"
    )
    for engine in ("in_process", "simulation"):
        if engine in res:
            r = res[engine]
            print(f"{engine}: rounds/s (ratio to Flower's FedAvg, median of interleaved pairs)")
            for a, v in r["rounds_per_s"].items():
                print(
                    f"  {a:14s} {v:6.2f} rounds/s ({r['over_flower_fedavg'][a]:.2f}x), "
                    f"start-up + round 1 {r['startup_s'][a]:.1f} s"
                )
    if "deploy" in res:
        for a, v in res["deploy"].items():
            print(f"deploy {a}: {v['rounds_per_s']:.3f} rounds/s, start-up {v['startup_s']:.1f} s")
    print(f"load average {res['load_avg_start']} -> {res['load_avg_end']}; wrote {out}")
    if args.figure:
        from paperzoo.core.plots import new_figure, save_figure

        fig, ax = new_figure(1, 2, size=(4.5, 3.2))
        names = list(st["ms"])
        ax[0, 0].bar(range(len(names)), [st["ms"][n] for n in names], 0.6)
        ax[0, 0].set_xticks(range(len(names)), names)
        ax[0, 0].set(ylabel="ms per local step (median)", title="LeNet-5, batch 10")
        engines = [e for e in ("in_process", "simulation") if e in res]
        arms = list(res["in_process"]["rounds_per_s"])
        for i, e in enumerate(engines):
            ax[0, 1].bar(
                [j + 0.4 * i for j in range(len(arms))],
                [res[e]["over_flower_fedavg"][a] for a in arms],
                0.4,
                label=e,
            )
        ax[0, 1].axhline(1.0, color="k", lw=0.8)
        ax[0, 1].set_xticks([j + 0.2 for j in range(len(arms))], arms, rotation=15, fontsize=7)
        ax[0, 1].set(ylabel="rounds/s relative to Flower's FedAvg", title="per round")
        ax[0, 1].legend(fontsize=7)
        save_figure(fig, ROOT / "docs" / "results" / "federated" / "benchmark.png")


if __name__ == "__main__":
    main()
