"""Two ways to run a federation in one process: Flower's Ray simulation engine, and an in-process
driver of the same Flower ``Server``, strategy and client objects.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233.

:func:`run_in_process` registers one :class:`InProcessClientProxy` per client with Flower's own
``SimpleClientManager`` and runs Flower's own ``Server.fit`` loop: ``configure_fit``,
``fit_clients``, ``aggregate_fit`` and ``evaluate`` are Flower's code paths, only the transport is
a direct call (as Flower's Ray engine does through actors). :func:`run_flower_simulation` hands
the same strategy and client factory to Flower's Simulation Runtime (``run_simulation``: a
ServerApp whose legacy ``Server`` loop reaches virtual SuperNodes through Flower's Grid, clients
in Ray actors). Both give the same per-round numbers for the same seed (a test checks it).

Deviations:
  * The quick reproduction uses :func:`run_in_process`: on the shared 2-core machine Ray's start
    and actor round trips dominate small rounds (``benchmarks/federated.py`` measures both).
  * In-process timeouts are enforced by waiting on a worker thread; a timed-out client's thread
    cannot be killed and finishes in the background (its result is discarded).

This module imports ``flwr``; ``paperzoo.federated`` exposes it lazily.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable
from typing import Any

from flwr.client import Client, NumPyClient
from flwr.common import (
    DisconnectRes,
    EvaluateIns,
    EvaluateRes,
    FitIns,
    FitRes,
    GetParametersIns,
    GetParametersRes,
    GetPropertiesIns,
    GetPropertiesRes,
    ReconnectIns,
)
from flwr.server import History, Server, ServerConfig, SimpleClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import Strategy

from .strategy import ClientFailure

__all__ = ["InProcessClientProxy", "flower_apps", "run_flower_simulation", "run_in_process"]

ClientFn = Callable[[str], NumPyClient | Client]


def _as_client(c: NumPyClient | Client) -> Client:
    return c.to_client() if isinstance(c, NumPyClient) else c


class InProcessClientProxy(ClientProxy):
    """A ``ClientProxy`` that builds the client with ``client_fn(cid)`` and calls it directly.

    Args:
        cid: client id (the partition id as a string).
        client_fn: ``cid -> NumPyClient | Client``; called per instruction, so clients keep no
            state between rounds (as in Flower's simulation).
        recorder: optional ``(cid, instruction, reply)`` callback that sees every payload.
    """

    def __init__(
        self,
        cid: str,
        client_fn: ClientFn,
        recorder: Callable[[str, Any, Any], None] | None = None,
    ) -> None:
        super().__init__(cid)
        self.client_fn, self.recorder = client_fn, recorder

    def _call(self, method: str, ins: Any, timeout: float | None) -> Any:
        def work() -> Any:
            return getattr(_as_client(self.client_fn(self.cid)), method)(ins)

        try:
            if timeout is None:
                res = work()
            else:
                pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
                try:
                    res = pool.submit(work).result(timeout=timeout)
                finally:
                    pool.shutdown(wait=False)
        except concurrent.futures.TimeoutError as e:
            raise ClientFailure(self.cid, f"timed out after {timeout} s") from e
        except Exception as e:
            raise ClientFailure(self.cid, f"{type(e).__name__}: {e}") from e
        if self.recorder is not None:
            self.recorder(self.cid, ins, res)
        return res

    def fit(self, ins: FitIns, timeout: float | None, group_id: int | None) -> FitRes:
        return self._call("fit", ins, timeout)

    def evaluate(
        self, ins: EvaluateIns, timeout: float | None, group_id: int | None
    ) -> EvaluateRes:
        return self._call("evaluate", ins, timeout)

    def get_parameters(
        self, ins: GetParametersIns, timeout: float | None, group_id: int | None
    ) -> GetParametersRes:
        return self._call("get_parameters", ins, timeout)

    def get_properties(
        self, ins: GetPropertiesIns, timeout: float | None, group_id: int | None
    ) -> GetPropertiesRes:
        return self._call("get_properties", ins, timeout)

    def reconnect(
        self, ins: ReconnectIns, timeout: float | None, group_id: int | None
    ) -> DisconnectRes:
        return DisconnectRes(reason="")


def run_in_process(
    strategy: Strategy,
    client_fn: ClientFn,
    num_clients: int,
    num_rounds: int,
    *,
    round_timeout: float | None = None,
    recorder: Callable[[str, Any, Any], None] | None = None,
    verbose: bool = False,
) -> History:
    """Run Flower's ``Server.fit`` with ``num_clients`` in-process clients (one at a time).

    Clients run sequentially (``max_workers=1``): on a small CPU machine threads only contend,
    and results are then independent of thread scheduling. Flower's per-round INFO lines are
    held back unless ``verbose`` (warnings, e.g. a dropped client, always show); the returned
    ``History`` has every round's metrics.
    """
    import logging

    manager = SimpleClientManager()
    for i in range(num_clients):
        manager.register(InProcessClientProxy(str(i), client_fn, recorder))
    server = Server(client_manager=manager, strategy=strategy)
    server.set_max_workers(1)
    flwr_log = logging.getLogger("flwr")
    level = flwr_log.level
    if not verbose:
        flwr_log.setLevel(max(level, logging.WARNING))
    try:
        history, _ = server.fit(num_rounds=num_rounds, timeout=round_timeout)
    finally:
        flwr_log.setLevel(level)
    return history


class _DropDeprecationNotice:
    """``logging`` filter: drops Flower's "DEPRECATED FEATURE" records."""

    def filter(self, record: Any) -> bool:
        return "DEPRECATED FEATURE" not in str(record.msg)


def flower_apps(
    strategy: Strategy,
    client_fn: ClientFn,
    num_rounds: int,
    *,
    round_timeout: float | None = None,
) -> tuple[Any, Any]:
    """``(ServerApp, ClientApp)`` for Flower's Simulation Runtime: the strategy runs in Flower's
    ``Server`` loop behind the ServerApp's compatibility layer (every client proxy talks to a
    virtual SuperNode through Flower's Grid), and each SuperNode builds its client with
    ``client_fn(str(partition-id))`` from its node config."""
    from flwr.client import ClientApp
    from flwr.server import ServerApp, ServerAppComponents

    config = ServerConfig(num_rounds=num_rounds, round_timeout=round_timeout)

    def server_fn(context: Any) -> Any:
        return ServerAppComponents(strategy=strategy, config=config)

    def flower_client_fn(context: Any) -> Client:
        return _as_client(client_fn(str(int(context.node_config["partition-id"]))))

    return ServerApp(server_fn=server_fn), ClientApp(client_fn=flower_client_fn)


def run_flower_simulation(
    strategy: Strategy,
    client_fn: ClientFn,
    num_clients: int,
    num_rounds: int,
    *,
    round_timeout: float | None = None,
    num_cpus: int = 1,
    verbose: bool = False,
) -> None:
    """Run the same strategy and clients on Flower's Simulation Runtime (Ray backend,
    ``flwr.simulation.run_simulation``: the runtime ``flwr run`` uses for a local simulation).

    ``num_clients`` virtual SuperNodes; Ray is started locally with ``num_cpus`` CPUs, one per
    client, no dashboard. The strategy object lives in this process, so its ``evaluate_fn`` and
    event hooks record as with :func:`run_in_process`; client sampling, local shuffling and the
    aggregation order are seeded from the run seed and the clients' partition ids (not from
    Ray's scheduling or node ids), so both runners give the same numbers (tested).
    """
    import logging
    import warnings

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # CPU only: no GPU tip
    from flwr.simulation import run_simulation

    server_app, client_app = flower_apps(
        strategy, client_fn, num_rounds, round_timeout=round_timeout
    )
    flwr_log = logging.getLogger("flwr")
    level = flwr_log.level
    # run_simulation's deprecation notice points to `flwr run`, which deploy.py uses; in a
    # reproduction it is noise (dropped-client warnings still show)
    quiet = _DropDeprecationNotice()
    if not verbose:
        flwr_log.setLevel(max(level, logging.WARNING))
        flwr_log.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            run_simulation(
                server_app,
                client_app,
                num_supernodes=num_clients,
                backend_config={
                    "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                    "init_args": {
                        "num_cpus": num_cpus,
                        "include_dashboard": False,
                        "ignore_reinit_error": True,
                        "log_to_driver": False,
                    },
                },
            )
    finally:
        flwr_log.setLevel(level)
        flwr_log.removeFilter(quiet)
