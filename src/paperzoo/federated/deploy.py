"""A real deployment on loopback: one Flower server process and several client processes.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233.

The server runs :class:`~paperzoo.federated.strategy.MeanAugmentedFedAvg` in Flower's server loop
behind Flower's gRPC transport (``flwr.server.start_server``); every client is its own process
(``flwr.client.start_client``) holding only its partition. Start them in any order::

    python -m paperzoo.federated.deploy server --address 127.0.0.1:8089 --num-clients 2 \\
        --rounds 2 --arm fedmix --out runs/federated/deploy.json &
    python -m paperzoo.federated.deploy client --address 127.0.0.1:8089 --num-clients 2 \\
        --partition-id 0 --arm fedmix &
    python -m paperzoo.federated.deploy client --address 127.0.0.1:8089 --num-clients 2 \\
        --partition-id 1 --arm fedmix
    wait

``--dataset digits`` (default) and ``synthetic`` need no data; ``mnist``/``fashion_mnist`` read
``--data-root``.
Server and clients must agree on ``--dataset``, ``--num-clients``, ``--seed`` and ``--arm`` (the
partition is derived from them). ``--fault crash|nan|shape|slow|exit`` makes a client misbehave
in training rounds (reliability demos and tests). Run-time dependency installation is disabled
(``FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION=1``; this transport also never ships a FAB), so a
deployment can never pull another torch.

Deviations:
  * Flower 1.42 deprecates ``start_server``/``start_client`` in favour of SuperLink/SuperNode +
    ``flwr run``; they remain the way to run a legacy ``Strategy`` object in a server process
    without packaging a Flower App (FAB), and they use Flower's gRPC transport.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]

# Must be set before flwr is imported anywhere in this process.
os.environ["FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION"] = "1"
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # no phoning home from a test or a lab


def _config(args: argparse.Namespace):
    from .config import Config, DataConfig, FederationConfig

    return Config(
        seeds=[args.seed],
        datasets=[args.dataset],
        model="lenet5" if args.dataset in ("mnist", "fashion_mnist") else "mlp",
        model_width=4,
        data=DataConfig(
            num_train=args.num_train,
            num_test=500,
            num_clients=args.num_clients,
            classes_per_client=args.classes_per_client,
        ),
        fl=FederationConfig(
            num_rounds=args.rounds,
            clients_per_round=args.clients_per_round or args.num_clients,
            local_epochs=1,
            learning_rate=args.learning_rate,
            fedmix_lam=args.lam,
            naivemix_lam=args.lam,
            round_timeout=args.round_timeout,
        ),
    )


def _server(args: argparse.Namespace) -> int:
    import torch
    from flwr.server import ServerConfig, start_server

    from .federation import build_federation

    torch.set_num_threads(1)
    cfg = _config(args)
    fed = build_federation(cfg, args.dataset, args.seed, args.data_root)
    acc: dict[int, float] = {}
    stamps: dict[int, float] = {}  # wall clock (epoch s) at each round's evaluation
    events: list[dict] = []

    def on_round(r: int, loss: float, a: float) -> None:
        acc[r], stamps[r] = a, time.time()

    strategy = fed.strategy(
        args.arm,
        evaluate_fn=fed.evaluate_fn(on_round),
        on_event=events.append,
        min_available_clients=1,  # after the initial wait, a lost client must not stall rounds
        client_timeout=args.round_timeout or None,
        wait_timeout=args.wait_timeout,
    )
    start = time.perf_counter()
    start_server(
        server_address=args.address,
        config=ServerConfig(num_rounds=args.rounds, round_timeout=args.round_timeout or None),
        strategy=strategy,
    )
    summary = {
        "arm": args.arm,
        "rounds": args.rounds,
        "accuracy": [acc[r] for r in sorted(acc)],
        "round_times": [stamps[r] for r in sorted(stamps)],
        "dropped": strategy.dropped,
        "means_clients": len(strategy.means),
        "events": events,
        "seconds": time.perf_counter() - start,
    }
    text = json.dumps(summary, indent=1)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0


def _client(args: argparse.Namespace) -> int:
    import torch
    from flwr.client import start_client

    from .client import FaultyClient
    from .federation import build_federation

    torch.set_num_threads(1)
    cfg = _config(args)
    fed = build_federation(cfg, args.dataset, args.seed, args.data_root)
    if args.arm == "global_mixup":
        raise SystemExit("global_mixup shares raw samples; it exists only in simulation")
    client = fed.client_fn(args.arm)(str(args.partition_id))
    if args.fault:
        client = FaultyClient(client, args.fault, delay=args.fault_delay)
    start_client(
        server_address=args.address,
        client=client.to_client(),
        insecure=True,
        max_retries=args.max_retries,
        max_wait_time=args.wait_timeout,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m paperzoo.federated.deploy``."""
    p = argparse.ArgumentParser(
        prog="python -m paperzoo.federated.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--address", default="127.0.0.1:8089", help="host:port of the server")
    p.add_argument("--arm", default="fedmix", choices=["fedavg", "fedprox", "naivemix", "fedmix"])
    p.add_argument(
        "--dataset", default="digits", choices=["digits", "synthetic", "mnist", "fashion_mnist"]
    )
    p.add_argument("--data-root", default=None)
    p.add_argument("--num-clients", type=int, default=2)
    p.add_argument("--clients-per-round", type=int, default=0, help="0 = all clients")
    p.add_argument("--classes-per-client", type=int, default=5)
    p.add_argument("--num-train", type=int, default=0, help="training subsample (0 = all)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--lam", type=float, default=0.1, help="FedMix / NaiveMix λ")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--round-timeout", type=float, default=60.0, help="seconds; 0 = none")
    p.add_argument("--wait-timeout", type=float, default=60.0, help="seconds to wait for peers")
    p.add_argument("--max-retries", type=int, default=20, help="client connection retries")
    p.add_argument("--partition-id", type=int, default=0)
    p.add_argument("--fault", default="", choices=["", "crash", "nan", "shape", "slow", "exit"])
    p.add_argument("--fault-delay", type=float, default=5.0, help="seconds for --fault slow")
    p.add_argument("--out", default="", help="server: write a JSON summary here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import logging

    logging.getLogger("flwr").setLevel(logging.WARNING if args.role == "client" else logging.INFO)
    return _server(args) if args.role == "server" else _client(args)


if __name__ == "__main__":
    sys.exit(main())
