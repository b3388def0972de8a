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

Run config keys (all optional; defaults in :data:`RUN_CONFIG`): ``preset`` (a ``paperzoo
reproduce federated`` preset, default ``deploy``), ``set`` (``--set`` overrides separated by
``;``, e.g. ``"fl.num_rounds=5; data.num_clients=4"``), ``arm``, ``data-root``,
``wait-timeout`` (s) and ``out``. The federation is the preset's config with the overrides,
validated as ``paperzoo reproduce`` does (:func:`paperzoo.core.presets.build_config`): its
first data set and first seed, ``data.num_clients`` partitions, ``fl.*`` for rounds, local
training, λ, privacy and the round timeout. Nothing is defaulted twice: a hyperparameter has
one home, the config. Node config keys: ``partition-id`` (required), ``fault`` (``crash``,
``nan``, ``shape``, ``slow``, ``exit``: misbehave in training rounds, for reliability drills),
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

__all__ = [
    "RUN_CONFIG",
    "client_app",
    "config_from_run_config",
    "server_app",
    "split_overrides",
]

#: the app's run config and its defaults (the ``[tool.flwr.app.config]`` table)
RUN_CONFIG: dict[str, Any] = {
    "preset": "deploy",
    "set": "",
    "arm": "fedmix",
    "data-root": "",
    "wait-timeout": 300.0,
    "out": "",
}


def split_overrides(text: str) -> list[str]:
    """``"a.b=1; c=[1, 2]"`` -> ``["a.b=1", "c=[1, 2]"]`` (the run config's ``set``)."""
    return [s.strip() for s in str(text).split(";") if s.strip()]


def config_from_run_config(run_config: dict[str, Any]) -> Any:
    """The :class:`~paperzoo.federated.repro.config.Config` of a Flower run config: the preset
    plus the ``set`` overrides, through the same validation as ``paperzoo reproduce``. Unknown
    keys are refused (a typo in ``--run-config`` fails instead of being ignored), and so is an
    arm that exists only in simulation."""
    from paperzoo.core.presets import build_config

    from .config import ARMS

    unknown = sorted(set(run_config) - set(RUN_CONFIG))
    if unknown:
        raise ValueError(
            f"unknown run config keys {unknown}; known: {sorted(RUN_CONFIG)} (hyperparameters "
            "go in `set`, e.g. set='fl.num_rounds=5; data.num_clients=4')"
        )
    rc = {**RUN_CONFIG, **run_config}
    if rc["arm"] == "global_mixup":
        raise ValueError("global_mixup shares raw samples; it exists only in simulation")
    if rc["arm"] not in ARMS:
        raise ValueError(f"arm {rc['arm']!r} is not one of {', '.join(ARMS[:-1])}")
    return build_config("federated", str(rc["preset"]), overrides=split_overrides(rc["set"]))


def _federation(run_config: dict[str, Any]) -> Any:
    import torch

    from .federation import build_federation

    torch.set_num_threads(1)  # one SuperNode per core; threads would only contend
    cfg = config_from_run_config(run_config)
    root = str(run_config.get("data-root", "")) or None
    return build_federation(cfg, cfg.datasets[0], cfg.seeds[0], root)


def _arm(run_config: dict[str, Any]) -> str:
    return str({**RUN_CONFIG, **run_config}["arm"])


def _server_fn(context: Any) -> ServerAppComponents:
    rc = dict(context.run_config)
    fed = _federation(rc)
    cfg, arm = fed.cfg, _arm(rc)
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
    client = fed.client_fn(_arm(rc))(str(k))
    if nc.get("fault"):
        client = FaultyClient(client, str(nc["fault"]), delay=float(nc.get("fault-delay", 5.0)))
    return client.to_client()


server_app = ServerApp(server_fn=_server_fn)
client_app = ClientApp(client_fn=_client_fn)
