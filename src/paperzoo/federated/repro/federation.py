"""Wiring of one federated experiment: data, partition, model factory, clients and strategy.

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233.

:func:`build_federation` loads a data set, splits it over clients and returns a
:class:`Federation` whose ``client_fn(cid)`` and ``strategy(...)`` plug into any of the three
runners: ``simulation.run_in_process``, ``simulation.run_flower_simulation`` and the loopback
deployment in ``deploy.py``. Clients are rebuilt from the deterministic partition on every call,
so a client process of the deployment holds exactly the data the simulation gives that client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from paperzoo.datasets import ArraySplit, stratified_subset

from ..models import build_model
from ..partition import classes_per_client_partition, dirichlet_partition, iid_partition
from .config import Config

__all__ = ["Federation", "build_federation", "load_dataset", "make_lr_schedule"]


def _synthetic(
    num_train: int = 1200, num_test: int = 300, num_classes: int = 10
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """10 random 8x8 class prototypes plus Gaussian noise, clipped to [0, 1]; fixed seed."""
    g = torch.Generator().manual_seed(1234)
    protos = torch.rand(num_classes, 1, 8, 8, generator=g)
    y = torch.arange(num_train + num_test) % num_classes
    x = (protos[y] + 0.3 * torch.randn(len(y), 1, 8, 8, generator=g)).clamp(0, 1)
    return x[:num_train], y[:num_train], x[num_train:], y[num_train:], num_classes


def load_dataset(
    name: str, data_root: str | Path | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """``(x_train, y_train, x_test, y_test, num_classes)``; inputs float in [0, 1], NCHW.

    ``synthetic`` (generated) and ``digits`` (scikit-learn's) need no data root; any other name
    goes to :func:`paperzoo.datasets.load_images` (a catalog set, a set under the data root, or a
    path to your own ``.npz``).

    Shape:
        x_*: (N, C, H, W) float32; y_*: (N,) int64.
    """
    if name == "synthetic":  # generated, no I/O and no scikit-learn import (fast processes)
        return _synthetic()
    from paperzoo.datasets import load_images

    train, test = load_images(name, data_root)
    return train.x, train.y, test.x, test.y, train.num_classes


def make_lr_schedule(cfg: Config) -> Callable[[int], dict[str, Any]]:
    """``server_round -> config``: lr ``lr0 * decay^(round-1)`` and the local-training settings."""
    fl = cfg.fl

    def round_config(server_round: int) -> dict[str, Any]:
        return {
            "learning_rate": fl.learning_rate * fl.learning_rate_decay ** (server_round - 1),
            "local_epochs": fl.local_epochs,
            "batch_size": fl.batch_size,
            "seed": server_round,
        }

    return round_config


@dataclass
class Federation:
    """Everything one (data set, seed) federation needs; arms differ only in ``client_fn``.

    Attributes:
        x_train, y_train: the whole (subsampled) training set, (N, C, H, W) / (N,).
        x_test, y_test: the server's evaluation set.
        parts: one index array into the training set per client.
        num_classes, input_shape, seed: as named.
        model_fn: builds a fresh model (deterministic initial weights when seeded first).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    parts: list[np.ndarray]
    num_classes: int
    cfg: Config
    seed: int
    model_fn: Callable[[], nn.Module] = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def mean_dp(self) -> tuple[float, float] | None:
        """``(epsilon, delta)`` of the Gaussian mechanism on the shared means, or None."""
        fl = self.cfg.fl
        return (fl.mean_dp_epsilon, fl.mean_dp_delta) if fl.mean_dp_epsilon > 0 else None

    @property
    def num_clients(self) -> int:
        return len(self.parts)

    def lam(self, arm: str) -> float:
        fl = self.cfg.fl
        return {"fedmix": fl.fedmix_lam, "naivemix": fl.naivemix_lam}.get(arm, fl.global_mixup_lam)

    def client_fn(self, arm: str, faults: dict[str, str] | None = None) -> Callable[[str], Any]:
        """``cid -> Flower NumPyClient`` for ``arm``; ``faults`` maps cids to FaultyClient modes."""
        from ..client import FaultyClient, make_client

        onehot = torch.nn.functional.one_hot(self.y_train, self.num_classes).float()

        def fn(cid: str) -> Any:
            k = int(cid)
            idx = torch.as_tensor(self.parts[k])
            raw = None
            if arm == "global_mixup":  # raw samples of all other clients (non-private reference)
                mask = torch.ones(len(self.y_train), dtype=torch.bool)
                mask[idx] = False
                raw = (self.x_train[mask], onehot[mask])
            client = make_client(
                arm,
                self.model_fn,
                self.x_train[idx],
                self.y_train[idx],
                self.num_classes,
                lam=self.lam(arm),
                proximal_mu=self.cfg.fl.proximal_mu,
                mean_batch_size=self.cfg.fl.mean_batch_size,
                seed=self.seed * 1000 + k,
                raw_partners=raw,
                partition_id=cid,
                mean_dp=self.mean_dp,
            )
            if faults and cid in faults:
                return FaultyClient(client, faults[cid])
            return client

        return fn

    def evaluate_fn(self, on_round: Callable[[int, float, float], None] | None = None) -> Callable:
        """Flower ``evaluate_fn``: test loss/accuracy of the global model on the server, in
        round 0 (the initial model) and the rounds of ``Config.eval_rounds`` (None otherwise,
        which Flower skips)."""
        from ..client import set_weights
        from ..local_training import evaluate_accuracy

        model = self.model_fn()
        k, last = self.cfg.eval_every, self.cfg.fl.num_rounds

        def evaluate(server_round: int, arrays: list, config: dict) -> tuple[float, dict] | None:
            if server_round % k and server_round != last:
                return None
            set_weights(model, arrays)
            loss, acc = evaluate_accuracy(model, self.x_test, self.y_test)
            if on_round is not None:
                on_round(server_round, loss, acc)
            return loss, {"accuracy": acc}

        return evaluate

    def strategy(self, arm: str, **kwargs: Any) -> Any:
        """A ``MeanAugmentedFedAvg`` for ``arm`` with seeded initial weights and lr schedule."""
        from flwr.common import ndarrays_to_parameters

        from ..client import get_weights
        from ..strategy import MeanAugmentedFedAvg

        with torch.random.fork_rng(devices=[]):  # seeded init; the caller's RNG is left alone
            torch.manual_seed(self.seed)
            init = get_weights(self.model_fn())
        kwargs.setdefault("expected_clients", self.num_clients)
        kwargs.setdefault("min_available_clients", self.num_clients)
        return MeanAugmentedFedAvg(
            collect_means=arm in ("naivemix", "fedmix"),
            clients_per_round=min(self.cfg.fl.clients_per_round, self.num_clients),
            round_config=make_lr_schedule(self.cfg),
            seed=self.seed,
            initial_parameters=ndarrays_to_parameters(init),
            **kwargs,
        )


def build_federation(cfg: Config, dataset: str, seed: int, data_root: Any = None) -> Federation:
    """Load ``dataset``, subsample (stratified), partition over clients (seeded), wire a model."""
    xtr, ytr, xte, yte, num_classes = load_dataset(dataset, data_root)
    d = cfg.data
    if d.num_train and d.num_train < len(ytr):
        keep = stratified_subset(ArraySplit(np.arange(len(ytr)), ytr.numpy()), d.num_train, seed=0)
        xtr, ytr = xtr[keep.x], ytr[keep.x]
    if d.num_test and d.num_test < len(yte):
        keep = stratified_subset(ArraySplit(np.arange(len(yte)), yte.numpy()), d.num_test, seed=0)
        xte, yte = xte[keep.x], yte[keep.x]
    labels = ytr.numpy()
    if d.partition == "iid":
        parts = iid_partition(labels, d.num_clients, seed)
    elif d.partition == "classes":
        parts = classes_per_client_partition(labels, d.num_clients, d.classes_per_client, seed)
    else:
        parts = dirichlet_partition(labels, d.num_clients, d.dirichlet_alpha, seed)
    input_shape = tuple(xtr.shape[1:])

    def model_fn() -> nn.Module:
        return build_model(cfg.model, input_shape, num_classes, cfg.model_width)

    return Federation(xtr, ytr, xte, yte, parts, num_classes, cfg, seed, model_fn)
