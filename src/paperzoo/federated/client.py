"""Flower clients for FedAvg, FedProx, NaiveMix, FedMix and global mixup (pluggable local loss).

Paper: FedMix: Approximation of Mixup under Mean Augmented Federated Learning
(Yoon, Shin, Hwang, Yang; ICLR 2021), https://arxiv.org/abs/2107.00233, Algorithm 1.

A :class:`MeanAugmentedClient` is a Flower ``NumPyClient`` that answers two kinds of ``fit``
instructions (the ``"task"`` config value):

* ``"means"`` (sent once, before round 1, by ``strategy.MeanAugmentedFedAvg``): return
  ``[x_means, y_means]``, averages of ``M_k`` local samples (``means.client_means``); this is
  the only data-derived payload a client ever sends besides model weights.
* ``"train"``: the first ``num_model_arrays`` arrays are the global model, any further two arrays
  are the pooled means ``(pool_x, pool_y)`` of the *other* clients; run local SGD with the
  client's :class:`~paperzoo.federated.local_training.LocalObjective` and return the weights.

The objective decides the algorithm, so FedAvg/FedProx/NaiveMix/FedMix clients are the same class
with a different local loss; :func:`make_client` builds one by arm name. This module imports
``flwr``; ``paperzoo.federated`` exposes it lazily.

Deviations from the paper:
  * Global mixup (the non-private reference) reads raw samples of all clients from
    ``raw_partners``, which only an in-process simulation can provide.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from flwr.client import NumPyClient
from flwr.common import NDArrays, Scalar
from torch import Tensor, nn

from .local_training import LocalObjective, evaluate_accuracy, local_sgd, make_objective
from .means import client_means, privatize_means

__all__ = [
    "FIT_KEYS",
    "FaultyClient",
    "MeanAugmentedClient",
    "get_weights",
    "make_client",
    "set_weights",
]


def get_weights(model: nn.Module) -> NDArrays:
    """The model's state as float32 numpy arrays, in ``state_dict`` order."""
    return [v.detach().cpu().numpy().copy() for v in model.state_dict().values()]


def set_weights(model: nn.Module, arrays: NDArrays) -> None:
    """Load arrays (``state_dict`` order) into ``model``; wrong counts/shapes raise ValueError."""
    state = model.state_dict()
    if len(arrays) != len(state):
        raise ValueError(f"expected {len(state)} weight arrays, got {len(arrays)}")
    new = {}
    for (k, v), a in zip(state.items(), arrays):
        if tuple(a.shape) != tuple(v.shape):
            raise ValueError(f"weight {k}: expected shape {tuple(v.shape)}, got {tuple(a.shape)}")
        new[k] = torch.as_tensor(np.asarray(a), dtype=v.dtype)
    model.load_state_dict(new)


#: the round config keys a training instruction must carry (the server's ``on_fit_config_fn``)
FIT_KEYS = ("learning_rate", "batch_size", "local_epochs", "seed")


def _required(config: dict[str, Scalar], key: str) -> Scalar:
    """A hyperparameter of the round config; missing is an error, never a silent default (a
    client that trained at a fallback learning rate would give wrong numbers without a word)."""
    if key not in config:
        raise KeyError(
            f"the fit instruction has no {key!r}: the server must send {', '.join(FIT_KEYS)} "
            f"(got {sorted(config)})"
        )
    return config[key]


class MeanAugmentedClient(NumPyClient):
    """A federated client holding ``(x, y)`` locally; what it trains with is ``objective``.

    Args:
        model_fn: builds a fresh model (same architecture as the server's).
        x, y: the local data set (never sent).
        num_classes: label count (width of the one-hot label means).
        objective: the local loss (see ``local_training``).
        mean_batch_size: ``M_k``, samples per shared mean (0 = all local samples).
        seed: base seed; round ``r``'s local RNG is seeded from ``(seed, r)`` sent by the server.
        raw_partners: ``(x_all, onehot_all)`` raw samples of other clients, only for global mixup.
        partition_id: the client's name, answered to ``get_properties`` (server logs use it).
        mean_dp: ``(epsilon, delta)``: release the means through the Gaussian mechanism
            (``means.privatize_means``, inputs clipped to [0, 1]); None = exact means.

    Shape:
        x: (N, *input_shape) float32; y: (N,) int64.
    """

    def __init__(
        self,
        model_fn: Callable[[], nn.Module],
        x: Tensor,
        y: Tensor,
        num_classes: int,
        objective: LocalObjective,
        *,
        mean_batch_size: int = 0,
        seed: int = 0,
        raw_partners: tuple[Tensor, Tensor] | None = None,
        partition_id: str | None = None,
        mean_dp: tuple[float, float] | None = None,
    ) -> None:
        if x.shape[0] != y.shape[0] or x.shape[0] == 0:
            raise ValueError(f"client data: x {tuple(x.shape)} and y {tuple(y.shape)} mismatch")
        self.model_fn, self.x, self.y = model_fn, x, y
        self.num_classes, self.objective = num_classes, objective
        self.mean_batch_size, self.seed = mean_batch_size, seed
        self.raw_partners = raw_partners
        self.partition_id = partition_id
        self.mean_dp = mean_dp

    def get_parameters(self, config: dict[str, Scalar]) -> NDArrays:
        return get_weights(self.model_fn())

    def get_properties(self, config: dict[str, Scalar]) -> dict[str, Scalar]:
        """``{"partition_id": ...}``: lets the server name this client by its data partition
        (over gRPC Flower knows it only by a node id)."""
        return {} if self.partition_id is None else {"partition_id": str(self.partition_id)}

    def _means(self) -> tuple[NDArrays, int, dict[str, Scalar]]:
        g = torch.Generator().manual_seed(self.seed)
        x_range = (0.0, 1.0) if self.mean_dp is not None else None
        xm, ym = client_means(self.x, self.y, self.num_classes, self.mean_batch_size, g, x_range)
        m = self.x.shape[0] if self.mean_batch_size in (0,) else self.mean_batch_size
        m = min(m, self.x.shape[0])
        info: dict[str, Scalar] = {"samples_per_mean": int(m)}
        if self.mean_dp is not None:
            eps, delta = self.mean_dp
            xm, ym, sigma = privatize_means(xm, ym, m, eps, delta, g, (0.0, 1.0))
            info.update({"dp_epsilon": float(eps), "dp_delta": float(delta), "dp_sigma": sigma})
        return [xm.numpy(), ym.numpy()], int(xm.shape[0]), info

    def fit(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[NDArrays, int, dict[str, Scalar]]:
        if config.get("task", "train") == "means":
            return self._means()
        n_model = int(config.get("num_model_arrays", len(parameters)))
        model = self.model_fn()
        set_weights(model, parameters[:n_model])
        extra = parameters[n_model:]
        partners = None
        if self.objective.needs_partners:
            if self.raw_partners is not None:
                partners = self.raw_partners
            elif len(extra) == 2:
                partners = (torch.as_tensor(extra[0]), torch.as_tensor(extra[1]))
            else:
                raise ValueError(
                    f"{type(self.objective).__name__} needs the pooled means, but the fit "
                    f"instruction carried {len(extra)} extra arrays (expected 2)"
                )
        g = torch.Generator().manual_seed(int(_required(config, "seed")) * 100_003 + self.seed)
        start = time.perf_counter()
        stats = local_sgd(
            model,
            self.x,
            self.y,
            self.objective,
            learning_rate=float(_required(config, "learning_rate")),
            batch_size=int(_required(config, "batch_size")),
            local_epochs=int(_required(config, "local_epochs")),
            partners=partners,
            generator=g,
        )
        stats["fit_seconds"] = time.perf_counter() - start
        return get_weights(model), int(self.x.shape[0]), stats

    def evaluate(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[float, int, dict[str, Scalar]]:
        model = self.model_fn()
        set_weights(model, parameters[: int(config.get("num_model_arrays", len(parameters)))])
        loss, acc = evaluate_accuracy(model, self.x, self.y)
        return loss, int(self.x.shape[0]), {"accuracy": acc}


class FaultyClient(NumPyClient):
    """Wraps a client and misbehaves in ``fit`` (training instructions only), for reliability tests.

    Modes: ``"crash"`` raises, ``"nan"`` returns NaN weights, ``"shape"`` returns a wrongly
    shaped first array, ``"slow"`` sleeps ``delay`` seconds first (a round timeout drops it),
    ``"exit"`` kills the process (a real client dying mid-round).
    """

    MODES = ("crash", "nan", "shape", "slow", "exit")

    def __init__(self, inner: NumPyClient, mode: str, delay: float = 5.0) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown fault mode {mode!r}; choose one of {self.MODES}")
        self.inner, self.mode, self.delay = inner, mode, delay

    def get_parameters(self, config: dict[str, Scalar]) -> NDArrays:
        return self.inner.get_parameters(config)

    def get_properties(self, config: dict[str, Scalar]) -> dict[str, Scalar]:
        return self.inner.get_properties(config)

    def fit(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[NDArrays, int, dict[str, Scalar]]:
        if config.get("task", "train") == "means":
            return self.inner.fit(parameters, config)
        if self.mode == "crash":
            raise RuntimeError("injected client crash")
        if self.mode == "exit":
            import os

            os._exit(3)
        if self.mode == "slow":
            time.sleep(self.delay)
        arrays, n, metrics = self.inner.fit(parameters, config)
        if self.mode == "nan":
            arrays = [np.full_like(a, np.nan) for a in arrays]
        elif self.mode == "shape":
            arrays = [np.zeros((3, 3), np.float32), *arrays[1:]]
        return arrays, n, metrics

    def evaluate(
        self, parameters: NDArrays, config: dict[str, Scalar]
    ) -> tuple[float, int, dict[str, Scalar]]:
        return self.inner.evaluate(parameters, config)


def make_client(
    arm: str,
    model_fn: Callable[[], nn.Module],
    x: Tensor,
    y: Tensor,
    num_classes: int,
    *,
    lam: float = 0.1,
    proximal_mu: float = 0.01,
    mean_batch_size: int = 0,
    seed: int = 0,
    raw_partners: tuple[Tensor, Tensor] | None = None,
    partition_id: str | None = None,
    mean_dp: tuple[float, float] | None = None,
) -> MeanAugmentedClient:
    """A client for arm ``fedavg | fedprox | naivemix | fedmix | global_mixup``; ``partition_id``
    is what the server calls it in logs and in ``dropped``."""
    if arm == "global_mixup" and raw_partners is None:
        raise ValueError("global_mixup needs raw_partners (raw samples of other clients)")
    return MeanAugmentedClient(
        model_fn,
        x,
        y,
        num_classes,
        make_objective(arm, lam=lam, proximal_mu=proximal_mu),
        mean_batch_size=mean_batch_size,
        seed=seed,
        raw_partners=raw_partners if arm == "global_mixup" else None,
        partition_id=partition_id,
        mean_dp=mean_dp,
    )
