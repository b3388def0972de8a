"""Flower integration in process: mean collection, array broadcast, privacy, robustness."""

import numpy as np
import pytest
import torch

pytest.importorskip("flwr")

from flwr.common import FitIns, FitRes, GetPropertiesRes, parameters_to_ndarrays

from paperzoo.federated import (
    MLP,
    make_client,
    run_in_process,
    set_weights,
    validate_update,
)
from paperzoo.federated.partition import classes_per_client_partition
from paperzoo.federated.repro.config import Config, DataConfig, FederationConfig
from paperzoo.federated.repro.federation import Federation


def _federation(num_clients=4, mean_batch_size=0, seed=0):
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 6, generator=g) * 2
    y = torch.arange(120) % 3
    x = centers[y] + torch.randn(120, 6, generator=g)
    cfg = Config(
        seeds=[seed],
        datasets=["synthetic"],
        model="mlp",
        data=DataConfig(num_clients=num_clients),
        fl=FederationConfig(
            num_rounds=2,
            clients_per_round=2,
            local_epochs=1,
            learning_rate=0.1,
            mean_batch_size=mean_batch_size,
        ),
    )
    parts = classes_per_client_partition(y.numpy(), num_clients, 2, seed=0)
    return Federation(x, y, x[:30], y[:30], parts, 3, cfg, seed, lambda: MLP(6, 3, hidden=8))


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, cid, ins, res):
        self.calls.append((cid, ins, res))


def _run(fed, arm, faults=None, timeout=None, rounds=2, recorder=None):
    acc = {}
    strategy = fed.strategy(
        arm, evaluate_fn=fed.evaluate_fn(lambda r, loss, a: acc.__setitem__(r, a))
    )
    run_in_process(
        strategy,
        fed.client_fn(arm, faults),
        fed.num_clients,
        rounds,
        round_timeout=timeout,
        recorder=recorder,
    )
    return strategy, acc


def test_means_collected_once_and_pool_broadcast_as_arrays():
    fed = _federation()
    rec = Recorder()
    strategy, acc = _run(fed, "fedmix", rounds=3, recorder=rec)
    means_calls = [
        c for c in rec.calls if isinstance(c[1], FitIns) and c[1].config["task"] == "means"
    ]
    assert sorted(c[0] for c in means_calls) == ["0", "1", "2", "3"]  # once per client
    n_model = len(fed.model_fn().state_dict())
    train_calls = [
        c for c in rec.calls if isinstance(c[1], FitIns) and c[1].config["task"] == "train"
    ]
    assert len(train_calls) == 3 * 2
    for cid, ins, _ in train_calls:
        arrays = parameters_to_ndarrays(ins.parameters)
        assert len(arrays) == n_model + 2  # model + (pool_x, pool_y) as tensors
        assert arrays[n_model].shape == (3, 6) and arrays[n_model + 1].shape == (
            3,
            3,
        )  # others only
        own = strategy.means[cid][0]
        assert not any(np.array_equal(row, own[0]) for row in arrays[n_model])
        # config carries only scalars, never arrays or lists
        assert all(isinstance(v, (int, float, str, bool, bytes)) for v in ins.config.values())
    assert len(acc) == 4 and all(np.isfinite(list(acc.values())))


def test_no_raw_sample_leaves_a_client():
    fed = _federation(mean_batch_size=5)
    rec = Recorder()
    _run(fed, "fedmix", recorder=rec)
    n_model = len(fed.model_fn().state_dict())
    model_shapes = [tuple(v.shape) for v in fed.model_fn().state_dict().values()]
    for cid, ins, res in rec.calls:
        if isinstance(res, GetPropertiesRes):  # the client's name, nothing else
            assert res.properties == {"partition_id": cid}
            continue
        assert isinstance(res, FitRes)
        raw = fed.x_train[fed.parts[int(cid)]].numpy()
        arrays = parameters_to_ndarrays(res.parameters)
        if ins.config["task"] == "means":
            xm, ym = arrays
            assert xm.shape == (len(raw) // 5, 6) and ym.shape == (len(raw) // 5, 3)
            # every shared row is a mean of exactly 5 samples: label rows are multiples of 1/5
            assert np.allclose(ym * 5, np.round(ym * 5)) and np.allclose(ym.sum(1), 1)
            dist = np.abs(xm[:, None, :] - raw[None]).sum(-1)
            assert dist.min() > 1e-3  # no mean equals a raw sample
        else:
            assert len(arrays) == n_model
            assert [a.shape for a in arrays] == model_shapes


def test_failing_clients_are_dropped_with_reasons_and_training_continues():
    fed = _federation(num_clients=4)
    fed.cfg.fl.clients_per_round = 4
    faults = {"1": "crash", "2": "nan", "3": "shape"}
    strategy, acc = _run(fed, "fedavg", faults=faults)
    reasons = {(d["round"], d["cid"]): d["reason"] for d in strategy.dropped}
    for r in (1, 2):
        assert "injected client crash" in reasons[(r, "1")]
        assert "NaN" in reasons[(r, "2")]
        assert "shape" in reasons[(r, "3")]
    assert all(cid != "0" for _, cid in reasons)  # the healthy client is never dropped
    assert {r for r, _ in reasons} == {1, 2} and len(acc) == 3 and acc[2] > 0
    assert all(d["cid"] == d["node"] for d in strategy.dropped)  # in process: node = partition


def test_timed_out_client_is_dropped():
    fed = _federation(num_clients=2)
    fed.cfg.fl.clients_per_round = 2
    fed.client_fn  # noqa: B018
    from paperzoo.federated import FaultyClient

    base = fed.client_fn("fedavg")

    def client_fn(cid):
        c = base(cid)
        return FaultyClient(c, "slow", delay=1.0) if cid == "1" else c

    strategy = fed.strategy("fedavg", evaluate_fn=fed.evaluate_fn())
    run_in_process(strategy, client_fn, 2, 1, round_timeout=0.3)
    assert [d["cid"] for d in strategy.dropped] == ["1"]
    assert "timed out" in strategy.dropped[0]["reason"]


def test_seeded_runs_repeat_exactly():
    a = _run(_federation(), "fedmix")[1]
    b = _run(_federation(), "fedmix")[1]
    assert a == b


def test_validate_update():
    ref = [np.zeros((2, 3), np.float32), np.zeros(3, np.float32)]
    assert validate_update([np.ones((2, 3)), np.ones(3)], ref) is None
    assert "arrays" in validate_update([np.ones((2, 3))], ref)
    assert "shape" in validate_update([np.ones((3, 2)), np.ones(3)], ref)
    assert "NaN" in validate_update([np.ones((2, 3)), np.array([1, np.inf, 0])], ref)


def test_fedprox_stays_closer_to_the_global_model():
    fed = _federation()
    idx = torch.as_tensor(fed.parts[0])
    torch.manual_seed(0)
    init = [v.numpy().copy() for v in fed.model_fn().state_dict().values()]
    config = {
        "task": "train",
        "num_model_arrays": len(init),
        "learning_rate": 0.5,
        "local_epochs": 3,
        "batch_size": 10,
        "seed": 0,
    }

    def drift(arm, mu):
        c = make_client(arm, fed.model_fn, fed.x_train[idx], fed.y_train[idx], 3, proximal_mu=mu)
        new, _, _ = c.fit(init, config)
        return sum(float(((a - b) ** 2).sum()) for a, b in zip(new, init))

    assert drift("fedprox", 2.0) < drift("fedavg", 0.0)


def test_client_errors():
    fed = _federation()
    with pytest.raises(ValueError, match="raw_partners"):
        make_client("global_mixup", fed.model_fn, fed.x_train, fed.y_train, 3)
    with pytest.raises(ValueError, match="unknown objective"):
        make_client("fedfoo", fed.model_fn, fed.x_train, fed.y_train, 3)
    with pytest.raises(ValueError, match="shape"):
        set_weights(fed.model_fn(), [np.zeros((1, 1))] * 4)
    c = make_client("fedmix", fed.model_fn, fed.x_train, fed.y_train, 3)
    init = [v.numpy() for v in fed.model_fn().state_dict().values()]
    with pytest.raises(ValueError, match="pooled means"):
        c.fit(init, {"task": "train", "num_model_arrays": 4})


@pytest.mark.parametrize("missing", ["learning_rate", "batch_size", "local_epochs", "seed"])
def test_client_refuses_a_round_config_without_a_hyperparameter(missing):
    """No hidden defaults: a training instruction without the learning rate (or batch size,
    local epochs, seed) fails loudly instead of training at a fallback value."""
    fed = _federation()
    c = make_client("fedavg", fed.model_fn, fed.x_train[:20], fed.y_train[:20], 3)
    init = [v.numpy() for v in fed.model_fn().state_dict().values()]
    config = {"task": "train", "learning_rate": 0.1, "batch_size": 10, "local_epochs": 1,
              "seed": 1}  # fmt: skip
    del config[missing]
    with pytest.raises(KeyError, match=missing):
        c.fit(init, config)


def test_in_process_and_flower_simulation_give_identical_rounds():
    """One engine, same numbers: Flower's Simulation Runtime (Ray, random node ids, clients in
    actors) and the in-process driver give the same accuracy after every round of the smoke
    preset, because sampling, shuffling and aggregation order follow the seed and partition ids."""
    import dataclasses

    pytest.importorskip("ray")
    from paperzoo.federated.repro.experiments import smoke
    from paperzoo.federated.repro.federation import build_federation
    from paperzoo.federated.repro.train import run_arm

    cfg = smoke()
    fed = build_federation(cfg, "digits", 0)
    curves = {}
    for engine in ("in_process", "flower_simulation"):
        c = dataclasses.replace(cfg, fl=dataclasses.replace(cfg.fl, engine=engine))
        curves[engine] = run_arm(dataclasses.replace(fed, cfg=c), "fedmix")["acc"]
    assert len(curves["in_process"]) == cfg.fl.num_rounds
    assert curves["in_process"] == curves["flower_simulation"]


def test_private_means_are_wired_from_the_config_and_reported():
    import dataclasses

    from paperzoo.federated.means import client_means

    fed = _federation()
    fl = dataclasses.replace(fed.cfg.fl, mean_dp_epsilon=2.0, mean_dp_delta=1e-6)
    fed = dataclasses.replace(fed, cfg=dataclasses.replace(fed.cfg, fl=fl))
    strategy, acc = _run(fed, "fedmix", rounds=1)
    assert set(strategy.mean_info) == {"0", "1", "2", "3"}
    for cid, info in strategy.mean_info.items():
        assert info["dp_epsilon"] == 2.0 and info["dp_delta"] == 1e-6 and info["dp_sigma"] > 0
        idx = torch.as_tensor(fed.parts[int(cid)])
        exact = client_means(fed.x_train[idx].clamp(0, 1), fed.y_train[idx], 3)[0].numpy()
        shared = strategy.means[cid][0]
        assert shared.shape == exact.shape and not np.allclose(shared, exact)
        assert shared.min() >= 0 and shared.max() <= 1  # clipped back into the data's range
    assert np.isfinite(list(acc.values())).all()
