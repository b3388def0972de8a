"""The Flower App of the FedMix package: a ``ServerApp`` and a ``ClientApp`` for Flower's
Deployment Runtime (SuperLink + SuperNodes + ``flwr run``) and Simulation Runtime.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233.

Both apps build the same :class:`~paperzoo.federated.repro.federation.Federation` from the run
config (``[tool.flwr.app.config]`` of the app's ``pyproject.toml``, overridable with
``flwr run --run-config``), so a SuperNode started with ``--node-config "partition-id=K"`` holds
exactly the data the simulation gives client K, and only its means and model updates leave it.
The ServerApp runs :class:`~paperzoo.federated.strategy.MeanAugmentedFedAvg` in Flower's
``Server`` loop (Flower's compatibility layer for strategies); it writes a JSON summary (per-round
test accuracy, dropped clients with reasons) to the run config's ``out`` when set.

Run config keys (all optional; defaults in :data:`RUN_CONFIG`): ``arm``, ``dataset``,
``data-root``, ``num-clients``, ``clients-per-round`` (0 = all), ``classes-per-client``,
``num-train`` (0 = all), ``num-rounds``, ``local-epochs``, ``learning-rate``, ``lam``, ``seed``,
``mean-dp-epsilon`` (0 = exact means), ``round-timeout`` (s, 0 = none), ``wait-timeout`` (s),
``out``. Node config keys: ``partition-id`` (required), ``fault`` (``crash``, ``nan``,
``shape``, ``slow``, ``exit``: misbehave in training rounds, for reliability drills),
``fault-delay`` (s, for ``slow``).

This module imports ``flwr`` at import time; ``paperzoo.federated`` never imports it eagerly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flwr.client import ClientApp
from flwr.server import ServerApp, ServerAppComponents, ServerConfig

__all__ = ["RUN_CONFIG", "client_app", "config_from_run_config", "server_app"]

#: the app's run config and its defaults (the ``[tool.flwr.app.config]`` table)
RUN_CONFIG: dict[str, Any] = {
    "arm": "fedmix",
    "dataset": "digits",
    "data-root": "",
    "num-clients": 2,
    "clients-per-round": 0,
    "classes-per-client": 5,
    "num-train": 0,
    "num-rounds": 2,
    "local-epochs": 1,
    "learning-rate": 0.1,
    "lam": 0.1,
    "seed": 0,
    "mean-dp-epsilon": 0.0,
    "round-timeout": 60.0,
    "wait-timeout": 300.0,
    "out": "",
}


def config_from_run_config(run_config: dict[str, Any]) -> Any:
    """A :class:`~paperzoo.federated.repro.config.Config` from a Flower run config (unknown keys are
    refused, so a typo in ``--run-config`` fails instead of being ignored)."""
    from .config import Config, DataConfig, FederationConfig

    unknown = sorted(set(run_config) - set(RUN_CONFIG))
    if unknown:
        raise ValueError(f"unknown run config keys {unknown}; known: {sorted(RUN_CONFIG)}")
    rc = {**RUN_CONFIG, **run_config}
    if rc["arm"] == "global_mixup":
        raise ValueError("global_mixup shares raw samples; it exists only in simulation")
    n = int(rc["num-clients"])
    return Config(
        seeds=[int(rc["seed"])],
        datasets=[str(rc["dataset"])],
        arms=[str(rc["arm"])],
        model="lenet5" if rc["dataset"] in ("mnist", "fashion_mnist") else "mlp",
        model_width=4,
        data=DataConfig(
            num_train=int(rc["num-train"]),
            num_test=500,
            num_clients=n,
            classes_per_client=int(rc["classes-per-client"]),
        ),
        fl=FederationConfig(
            num_rounds=int(rc["num-rounds"]),
            clients_per_round=int(rc["clients-per-round"]) or n,
            local_epochs=int(rc["local-epochs"]),
            learning_rate=float(rc["learning-rate"]),
            fedmix_lam=float(rc["lam"]),
            naivemix_lam=float(rc["lam"]),
            mean_dp_epsilon=float(rc["mean-dp-epsilon"]),
            round_timeout=float(rc["round-timeout"]),
        ),
    )


def _federation(run_config: dict[str, Any]) -> Any:
    import torch

    from .federation import build_federation

    torch.set_num_threads(1)  # one SuperNode per core; threads would only contend
    cfg = config_from_run_config(run_config)
    root = str(run_config.get("data-root", "")) or None
    return build_federation(cfg, cfg.datasets[0], cfg.seeds[0], root)


def _server_fn(context: Any) -> ServerAppComponents:
    rc = dict(context.run_config)
    fed = _federation(rc)
    cfg, arm = fed.cfg, fed.cfg.arms[0]
    out = str(rc.get("out", ""))
    acc: dict[int, float] = {}
    stamps: dict[int, float] = {}
    events: list[dict[str, Any]] = []
    start = time.time()

    def write() -> None:  # called from on_round, after `strategy` below exists
        if not out:
            return
        summary = {
            "arm": arm,
            "rounds": cfg.fl.num_rounds,
            "accuracy": [acc[r] for r in sorted(acc)],
            "round_times": [stamps[r] for r in sorted(stamps)],
            "dropped": strategy.dropped,
            "means_clients": len(strategy.means),
            "events": events,
            "seconds": time.time() - start,
            "finished": len(acc) == cfg.fl.num_rounds + 1,
        }
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=1))
        tmp.replace(path)  # atomic: a reader never sees half a file

    def on_round(r: int, loss: float, a: float) -> None:
        acc[r], stamps[r] = a, time.time()
        write()  # after every round: a run cut short still leaves its rounds

    timeout = cfg.fl.round_timeout or None
    strategy = fed.strategy(
        arm,
        evaluate_fn=fed.evaluate_fn(on_round),
        on_event=events.append,
        expected_clients=fed.num_clients,
        min_available_clients=1,  # after the initial wait a lost node must not stall rounds
        client_timeout=timeout,
        wait_timeout=float(rc.get("wait-timeout", RUN_CONFIG["wait-timeout"])),
    )
    return ServerAppComponents(
        strategy=strategy,
        config=ServerConfig(num_rounds=cfg.fl.num_rounds, round_timeout=timeout),
    )


def _client_fn(context: Any) -> Any:
    from ..client import FaultyClient

    rc, nc = dict(context.run_config), dict(context.node_config)
    if "partition-id" not in nc:
        raise ValueError(
            "this SuperNode has no partition: start it with --node-config 'partition-id=K'"
        )
    fed = _federation(rc)
    k = int(nc["partition-id"])
    if not 0 <= k < fed.num_clients:
        raise ValueError(f"partition-id {k} outside [0, {fed.num_clients})")
    client = fed.client_fn(fed.cfg.arms[0])(str(k))
    if nc.get("fault"):
        client = FaultyClient(client, str(nc["fault"]), delay=float(nc.get("fault-delay", 5.0)))
    return client.to_client()


server_app = ServerApp(server_fn=_server_fn)
client_app = ClientApp(client_fn=_client_fn)
