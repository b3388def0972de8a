"""A Flower FedAvg strategy for mean-augmented FL: collects client means once, broadcasts the pool.

Paper: FedMix: Approximation of Mixup under Mean Augmented Federated Learning
(Yoon, Shin, Hwang, Yang; ICLR 2021), https://arxiv.org/abs/2107.00233, Algorithm 1 (MAFL).

:class:`MeanAugmentedFedAvg` subclasses Flower's ``FedAvg`` and adds:

* **Mean collection, once.** ``initialize_parameters`` (Flower's "round 0") waits for the
  expected clients and sends each a ``fit`` instruction with ``{"task": "means"}``; each answers
  with ``[x_means, y_means]`` (``means.client_means``). The server keeps them per client id.
* **Broadcast as arrays.** Every training instruction carries the global model's arrays followed
  by ``[pool_x, pool_y]``, the pooled means of all *other* clients, as ordinary ``Parameters``
  tensors; only scalars travel in the config (``num_model_arrays``, learning rate, seed), which is
  what a real transport can carry (the Flower baseline put Python lists in the config).
* **Robust aggregation.** A client that crashed, timed out, answered with a non-OK status, or
  returned NaN/inf or wrongly shaped weights is dropped from that round's average with a logged
  reason (``dropped`` keeps them all); the round goes on with the rest.
* **Deterministic sampling and aggregation.** Clients are sampled with the strategy's own seeded
  RNG, and results are averaged in client-id order, so a seeded run repeats exactly.

Deviations from the paper: Algorithm 1 assumes every client is reachable; the robust
aggregation and the round-0 mean collection over Flower's protocol are ours (the paper's
simulation passes means in memory).

This module imports ``flwr``; ``paperzoo.federated`` exposes it lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from logging import INFO, WARNING
from typing import Any

import numpy as np
from flwr.common import (
    Code,
    FitIns,
    FitRes,
    GetPropertiesIns,
    NDArrays,
    Parameters,
    Scalar,
    log,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.server.client_manager import ClientManager
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import FedAvg

__all__ = ["ClientFailure", "MeanAugmentedFedAvg", "validate_update"]


class ClientFailure(RuntimeError):
    """A client's failure that knows which client failed (raised by in-process proxies)."""

    def __init__(self, cid: str, reason: str) -> None:
        super().__init__(f"client {cid}: {reason}")
        self.cid, self.reason = cid, reason


def validate_update(arrays: NDArrays, reference: NDArrays) -> str | None:
    """Why ``arrays`` cannot be averaged into a model shaped like ``reference`` (None if fine)."""
    if len(arrays) != len(reference):
        return f"returned {len(arrays)} arrays, expected {len(reference)}"
    for i, (a, r) in enumerate(zip(arrays, reference)):
        if a.shape != r.shape:
            return f"array {i} has shape {a.shape}, expected {r.shape}"
        if not np.all(np.isfinite(a)):
            return f"array {i} contains NaN or inf"
    return None


def _no_metrics(metrics: list[tuple[int, dict[str, Scalar]]]) -> dict[str, Scalar]:
    return {}


class _NamedProxy(ClientProxy):
    """Delegates to a client proxy, turning its exceptions into :class:`ClientFailure`.

    Flower's server loop reports a raising client only by its exception; wrapping the proxies we
    hand out keeps the client id, so every dropped update is logged with *which* client failed.
    """

    def __init__(self, inner: ClientProxy) -> None:
        super().__init__(inner.cid)
        self.inner = inner
        self.node_id = getattr(inner, "node_id", 0)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.inner, method)(*args)
        except ClientFailure:
            raise
        except Exception as e:
            raise ClientFailure(self.cid, f"{type(e).__name__}: {e!r}") from e

    def fit(self, ins, timeout, group_id):
        return self._call("fit", ins, timeout, group_id)

    def evaluate(self, ins, timeout, group_id):
        return self._call("evaluate", ins, timeout, group_id)

    def get_parameters(self, ins, timeout, group_id):
        return self._call("get_parameters", ins, timeout, group_id)

    def get_properties(self, ins, timeout, group_id):
        return self._call("get_properties", ins, timeout, group_id)

    def reconnect(self, ins, timeout, group_id):
        return self._call("reconnect", ins, timeout, group_id)


class MeanAugmentedFedAvg(FedAvg):
    """FedAvg that (optionally) runs the MAFL mean exchange; robust to failing clients.

    Args:
        collect_means: run the one-off mean collection and ship pools (NaiveMix, FedMix); with
            False the strategy is FedAvg with robust aggregation (FedAvg, FedProx arms).
        expected_clients: how many clients must report means before round 1 (default: the
            ``min_available_clients``).
        clients_per_round: clients sampled per round.
        round_config: ``server_round -> {scalar}`` config for training (learning rate, epochs...).
        client_timeout: seconds to wait for each client's means (None: no limit).
        wait_timeout: seconds to wait for clients to connect before the mean collection.
        seed: seeds client sampling.
        on_event: called with a dict for every dropped client / collected pool (logging hook).
        **fedavg_kwargs: passed to Flower's ``FedAvg`` (``initial_parameters``, ``evaluate_fn``,
            ``min_available_clients``, ...).
    """

    def __init__(
        self,
        *,
        collect_means: bool,
        clients_per_round: int,
        expected_clients: int | None = None,
        round_config: Callable[[int], dict[str, Scalar]] | None = None,
        client_timeout: float | None = None,
        wait_timeout: float = 600.0,
        seed: int = 0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        **fedavg_kwargs: Any,
    ) -> None:
        fedavg_kwargs.setdefault("fit_metrics_aggregation_fn", _no_metrics)  # ours: below
        fedavg_kwargs.setdefault("fraction_evaluate", 0.0)  # centralised evaluation only
        fedavg_kwargs.setdefault("min_evaluate_clients", 0)
        fedavg_kwargs.setdefault("min_available_clients", clients_per_round)
        super().__init__(
            fraction_fit=1e-9,  # sample size comes from min_fit_clients below
            min_fit_clients=clients_per_round,
            accept_failures=True,
            **fedavg_kwargs,
        )
        self.collect_means = collect_means
        self.clients_per_round = clients_per_round
        self.expected_clients = expected_clients or self.min_available_clients
        self.round_config = round_config
        self.client_timeout, self.wait_timeout = client_timeout, wait_timeout
        self.on_event = on_event
        self._rng = np.random.default_rng(seed)
        self._current: NDArrays = []
        #: client id -> (x_means (G, *input_shape), y_means (G, classes)), as received
        self.means: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: client name -> the metrics sent with its means (samples_per_mean, dp_sigma, ...)
        self.mean_info: dict[str, dict[str, Scalar]] = {}
        #: every dropped client: {"round", "cid" (its partition id when it told us), "node"
        #: (Flower's id of the connection), "reason"}
        self.dropped: list[dict[str, Any]] = []
        #: Flower node id -> the client's own name (``get_properties()["partition_id"]``)
        self.names: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MeanAugmentedFedAvg(collect_means={self.collect_means})"

    # -- logging ----------------------------------------------------------------------------
    def _event(self, record: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(record)

    def _drop(self, server_round: int, node: str, reason: str) -> None:
        cid = self.names.get(node, node)
        self.dropped.append({"round": server_round, "cid": cid, "node": node, "reason": reason})
        log(
            WARNING,
            "round %s: dropping client %s (node %s) from the aggregate: %s",
            server_round,
            cid,
            node,
            reason,
        )
        self._event(
            {
                "event": "client_dropped",
                "round": server_round,
                "cid": cid,
                "node": node,
                "reason": reason,
            }
        )

    def _name(self, node: str) -> str:
        return self.names.get(node, node)

    def _order(self, node: str) -> tuple[int, int, str]:
        """Sort key by the client's own name (numeric partition ids in numeric order): client
        sampling, the mean pool and the aggregation order then do not depend on the node ids a
        transport assigns (random in Flower's simulation and gRPC), so every engine computes
        the same numbers for the same seed."""
        name = self._name(node)
        return (0, int(name), "") if name.isdigit() else (1, 0, name)

    def _learn_names(self, client_manager: ClientManager) -> None:
        """Ask every client not yet named for its ``partition_id`` (one small round trip each,
        once per connection), so logs and ``dropped`` name partitions, not Flower node ids."""
        for node, proxy in sorted(client_manager.all().items()):
            if node in self.names:
                continue
            try:
                res = proxy.get_properties(GetPropertiesIns({}), self.client_timeout, 0)
                name = res.properties.get("partition_id") if res.status.code == Code.OK else None
            except Exception:  # a client that cannot answer keeps its node id
                name = None
            self.names[node] = str(name) if name is not None else node

    # -- round 0: collect means -------------------------------------------------------------
    def initialize_parameters(self, client_manager: ClientManager) -> Parameters | None:
        """Flower's round 0: wait for the expected clients, collect their means (once), then
        hand out the initial model."""
        client_manager.wait_for(self.expected_clients, timeout=int(self.wait_timeout))
        self._learn_names(client_manager)
        if self.collect_means and not self.means:
            self._collect_means(client_manager)
        return super().initialize_parameters(client_manager)

    def _collect_means(self, client_manager: ClientManager) -> None:
        ins = FitIns(Parameters(tensors=[], tensor_type="numpy.ndarray"), {"task": "means"})
        shape = None
        for cid, proxy in sorted(client_manager.all().items(), key=lambda kv: self._order(kv[0])):
            try:
                res = proxy.fit(ins, timeout=self.client_timeout, group_id=0)
            except Exception as e:  # a client that fails here contributes no means
                self._drop(0, cid, f"means request failed: {e!r}")
                continue
            if res.status.code != Code.OK:
                self._drop(0, cid, f"means request status {res.status.code}: {res.status.message}")
                continue
            arrays = parameters_to_ndarrays(res.parameters)
            if len(arrays) != 2 or arrays[0].shape[0] != arrays[1].shape[0]:
                self._drop(0, cid, f"malformed means payload {[a.shape for a in arrays]}")
                continue
            xm, ym = arrays
            shape = shape or (xm.shape[1:], ym.shape[1:])
            if (xm.shape[1:], ym.shape[1:]) != shape or not (
                np.all(np.isfinite(xm)) and np.all(np.isfinite(ym))
            ):
                self._drop(0, cid, "means with a different shape or non-finite values")
                continue
            self.means[self._name(cid)] = (xm, ym)
            self.mean_info[self._name(cid)] = dict(res.metrics)
        total = sum(len(v[0]) for v in self.means.values())
        log(INFO, "collected %s means from %s clients", total, len(self.means))
        self._event({"event": "means_collected", "clients": len(self.means), "means": total})

    def pool_for(self, cid: str) -> NDArrays:
        """``[pool_x, pool_y]``: the means of every client except ``cid`` (a node id or the
        client's name; its own means are excluded), in the clients' name order."""
        own = self._name(cid)
        others = [
            self.means[k] for k in sorted(self.means, key=lambda k: self._order(k)) if k != own
        ]
        if not others:
            return []
        return [np.concatenate([o[0] for o in others]), np.concatenate([o[1] for o in others])]

    # -- training rounds --------------------------------------------------------------------
    def configure_fit(
        self, server_round: int, parameters: Parameters, client_manager: ClientManager
    ) -> list[tuple[ClientProxy, FitIns]]:
        """Sample ``clients_per_round`` clients; send model arrays (+ pooled means) as tensors."""
        self._current = parameters_to_ndarrays(parameters)
        sample_size, min_num = self.num_fit_clients(client_manager.num_available())
        client_manager.wait_for(min_num, timeout=int(self.wait_timeout))
        self._learn_names(client_manager)  # clients that joined since the last round
        clients = sorted(client_manager.all().items(), key=lambda kv: self._order(kv[0]))
        if not clients:
            return []
        pick = self._rng.choice(len(clients), size=min(sample_size, len(clients)), replace=False)
        config: dict[str, Scalar] = dict(
            self.round_config(server_round) if self.round_config else {}
        )
        config.update(task="train", num_model_arrays=len(self._current), server_round=server_round)
        config.setdefault("seed", server_round)
        out = []
        for i in sorted(pick):
            cid, proxy = clients[i]
            arrays = self._current + (self.pool_for(cid) if self.collect_means else [])
            out.append((_NamedProxy(proxy), FitIns(ndarrays_to_parameters(arrays), dict(config))))
        return out

    def aggregate_fit(
        self,
        server_round: int,
        results: list[tuple[ClientProxy, FitRes]],
        failures: list[tuple[ClientProxy, FitRes] | BaseException],
    ) -> tuple[Parameters | None, dict[str, Scalar]]:
        """Drop failed or invalid updates (logging why), then FedAvg the rest in client-id order."""
        for f in failures:
            if isinstance(f, ClientFailure):
                self._drop(server_round, f.cid, f.reason)
            elif isinstance(f, BaseException):
                self._drop(server_round, "?", f"{type(f).__name__}: {f!r}")
            else:
                proxy, res = f
                self._drop(
                    server_round, proxy.cid, f"status {res.status.code}: {res.status.message}"
                )
        valid = []
        for proxy, res in results:
            if res.status.code != Code.OK:
                self._drop(
                    server_round, proxy.cid, f"status {res.status.code}: {res.status.message}"
                )
                continue
            reason = validate_update(parameters_to_ndarrays(res.parameters), self._current)
            if reason is None and (res.num_examples <= 0 or not math.isfinite(res.num_examples)):
                reason = f"num_examples = {res.num_examples}"
            if reason is not None:
                self._drop(server_round, proxy.cid, reason)
                continue
            valid.append((proxy, res))
        if not valid:
            log(WARNING, "round %s: no valid client update; keeping the global model", server_round)
            return None, {"num_clients": 0}
        # float sums in a fixed order (by client name): repeatable runs on every engine
        valid.sort(key=lambda pr: self._order(pr[0].cid))
        params, metrics = super().aggregate_fit(server_round, valid, [])
        losses = [(r.num_examples, r.metrics.get("train_loss")) for _, r in valid]
        losses = [(n, float(v)) for n, v in losses if isinstance(v, (int, float))]
        if losses:
            metrics["train_loss"] = sum(n * v for n, v in losses) / sum(n for n, _ in losses)
        metrics["num_clients"] = len(valid)
        return params, metrics
