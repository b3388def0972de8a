"""Benchmark of the federated package: the cost of FedMix's double backprop, and the three runners.

Measures
  1. wall time per local SGD step (batch 10) for FedAvg, NaiveMix and FedMix on LeNet-5 (28x28)
     and on the MLP of the quick preset;
  2. wall time per round (after start-up) and start-up time of the same federation (digits, MLP,
     4 clients, 2 per round, FedMix) run by the in-process driver, Flower's Ray simulation engine
     and a loopback deployment (server + 4 client processes over gRPC).

Usage::

    nice -n 10 .venv/bin/python benchmarks/federated.py [--rounds 3] [--no-ray] [--no-deploy]

Prints a table and writes ``benchmarks/out/federated.json`` (+ ``docs/results/federated/
benchmark.png`` with ``--figure``). Times on a shared machine vary; the JSON records the load.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def step_times(steps: int = 60) -> dict[str, dict[str, float]]:
    from paperzoo.federated import MLP, LeNet5, local_sgd, make_objective

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(steps * 10, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (steps * 10,), generator=g)
    pool = (torch.rand(19, 1, 28, 28, generator=g), torch.softmax(torch.rand(19, 10), 1))
    out: dict[str, dict[str, float]] = {}
    for name, make in (("lenet5", lambda: LeNet5(10, 1, 6)), ("mlp128", lambda: MLP(784, 10, 128))):
        out[name] = {}
        # warm-up, then 3 interleaved repetitions; the minimum is the least disturbed by other
        # processes on a shared machine
        for arm in ("fedavg", *(("fedavg", "naivemix", "fedmix") * 3)):
            model = make()
            t = time.perf_counter()
            local_sgd(
                model,
                x,
                y,
                make_objective(arm, lam=0.1),
                learning_rate=0.01,
                batch_size=10,
                local_epochs=1,
                partners=pool,
                generator=g,
            )
            ms = (time.perf_counter() - t) / steps * 1e3  # ms per step
            out[name][arm] = min(out[name].get(arm, ms), ms)
        out[name]["fedmix_over_fedavg"] = out[name]["fedmix"] / out[name]["fedavg"]
    return out


def _federation():
    from paperzoo.federated.config import Config, DataConfig, FederationConfig
    from paperzoo.federated.federation import build_federation

    cfg = Config(
        seeds=[0],
        datasets=["digits"],
        model="mlp",
        model_width=4,
        data=DataConfig(num_clients=4, classes_per_client=5),
        fl=FederationConfig(clients_per_round=2, local_epochs=1, learning_rate=0.1),
    )
    return build_federation(cfg, "digits", 0)


def runner_times(rounds: int, engine: str) -> dict[str, float]:
    """Start-up (to the round-0 evaluation) and mean per-round wall time of one engine."""
    from paperzoo.federated import run_flower_simulation, run_in_process

    fed = _federation()
    stamps: dict[int, float] = {}
    strategy = fed.strategy(
        "fedmix",
        evaluate_fn=fed.evaluate_fn(lambda r, loss, a: stamps.__setitem__(r, time.perf_counter())),
    )
    t0 = time.perf_counter()
    run = run_in_process if engine == "in_process" else run_flower_simulation
    run(strategy, fed.client_fn("fedmix"), fed.num_clients, rounds)
    return {"startup_s": stamps[0] - t0, "per_round_s": (stamps[rounds] - stamps[0]) / rounds}


def deploy_times(rounds: int) -> dict[str, float]:
    """Loopback deployment: server + 4 client processes; start-up and per-round wall time."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = ROOT / "benchmarks" / "out" / "federated_deploy.json"
    common = [
        "--address",
        f"127.0.0.1:{port}",
        "--num-clients",
        "4",
        "--arm",
        "fedmix",
        "--classes-per-client",
        "5",
        "--clients-per-round",
        "2",
    ]
    py = [sys.executable, "-m", "paperzoo.federated.deploy"]
    t0 = time.time()
    server = subprocess.Popen(
        [*py, "server", *common, "--rounds", str(rounds), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    clients = [
        subprocess.Popen(
            [*py, "client", *common, "--partition-id", str(k)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in range(4)
    ]
    server.wait(timeout=900)
    total = time.time() - t0
    for c in clients:
        c.wait(timeout=60)
    stamps = json.loads(out.read_text())["round_times"]  # wall clock at each evaluation
    return {
        "startup_s": stamps[0] - t0,  # process starts + connect + means exchange + round-0 eval
        "per_round_s": (stamps[-1] - stamps[0]) / rounds,
        "total_s": total,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-ray", action="store_true")
    p.add_argument("--no-deploy", action="store_true")
    p.add_argument(
        "--figure", action="store_true", help="write docs/results/federated/benchmark.png"
    )
    args = p.parse_args()
    import logging

    logging.getLogger("flwr").setLevel(logging.WARNING)
    res: dict = {
        "load_avg_start": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
    }
    res["step_ms"] = step_times()
    res["runners"] = {"in_process": runner_times(args.rounds, "in_process")}
    if not args.no_deploy:
        res["runners"]["loopback_deploy"] = deploy_times(args.rounds)
    if not args.no_ray:
        res["runners"]["flower_ray_simulation"] = runner_times(args.rounds, "flower_simulation")
    res["load_avg_end"] = os.getloadavg()
    out = ROOT / "benchmarks" / "out" / "federated.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print("ms per local step (batch 10):")
    for model, r in res["step_ms"].items():
        print(
            f"  {model:7s} fedavg {r['fedavg']:7.2f}  naivemix {r['naivemix']:7.2f}  "
            f"fedmix {r['fedmix']:7.2f}  fedmix/fedavg {r['fedmix_over_fedavg']:.2f}x"
        )
    print(f"runners ({args.rounds} rounds, digits MLP, 4 clients, 2 per round, FedMix):")
    for name, r in res["runners"].items():
        print(f"  {name:22s} start-up {r['startup_s']:7.1f} s  per round {r['per_round_s']:6.2f} s")
    print(f"load average {res['load_avg_start']} -> {res['load_avg_end']}; wrote {out}")
    if args.figure:
        from paperzoo.core.plots import new_figure, save_figure

        fig, ax = new_figure(1, 2, size=(4.5, 3.2))
        names = ["fedavg", "naivemix", "fedmix"]
        for i, (model, r) in enumerate(res["step_ms"].items()):
            ax[0, 0].bar([j + 0.4 * i for j in range(3)], [r[n] for n in names], 0.4, label=model)
        ax[0, 0].set_xticks([0.2, 1.2, 2.2], names)
        ax[0, 0].set(ylabel="ms per local step (batch 10)", title="double-backprop cost")
        ax[0, 0].legend()
        rn = list(res["runners"])
        ax[0, 1].bar(
            range(len(rn)), [res["runners"][n]["startup_s"] for n in rn], 0.4, label="start-up"
        )
        ax[0, 1].bar(
            [i + 0.4 for i in range(len(rn))],
            [res["runners"][n]["per_round_s"] for n in rn],
            0.4,
            label="per round",
        )
        ax[0, 1].set_xticks([i + 0.2 for i in range(len(rn))], rn, rotation=15, fontsize=7)
        ax[0, 1].set(ylabel="seconds", title="runners (shared 2-core CPU)")
        ax[0, 1].legend()
        save_figure(fig, ROOT / "docs" / "results" / "federated" / "benchmark.png")


if __name__ == "__main__":
    main()
