"""End to end on Flower's Deployment Runtime on loopback: a SuperLink, one SuperNode process per
client and ``flwr run`` of the package's Flower App, with faulty SuperNodes."""

import pytest

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # Python 3.10: flwr depends on tomli
    import tomli as tomllib

pytest.importorskip("flwr")

from paperzoo.federated.repro.deploy import main as deploy_main
from paperzoo.federated.repro.deploy import run_local, write_app
from paperzoo.federated.repro.flower_app import RUN_CONFIG, config_from_run_config

RUN = {
    "preset": "deploy",
    "set": 'datasets=["synthetic"]; data.num_clients=3; fl.clients_per_round=3',
    "arm": "fedmix",
}


def _in_process(run_config, faults):
    """The same federation, faults and strategy settings with the in-process driver."""
    from paperzoo.federated.repro.flower_app import _federation
    from paperzoo.federated.simulation import run_in_process

    fed = _federation(run_config)
    acc = {}
    strategy = fed.strategy(
        "fedmix",
        evaluate_fn=fed.evaluate_fn(lambda r, loss, a: acc.__setitem__(r, a)),
        expected_clients=fed.num_clients,
        min_available_clients=1,
    )
    faults = {str(k): m for k, m in faults.items()}
    run_in_process(
        strategy, fed.client_fn("fedmix", faults), fed.num_clients, fed.cfg.fl.num_rounds
    )
    return [acc[r] for r in sorted(acc)], strategy.dropped


@pytest.mark.slow
def test_deployment_drops_crash_and_nan_and_loses_nothing_else(tmp_path):
    faults = {1: "crash", 2: "nan"}
    summary = run_local(RUN, faults, log_dir=tmp_path, timeout=900)
    assert summary["finished"], summary
    assert summary["means_clients"] == 3, summary  # every node's means crossed the wire once
    reasons = {(d["round"], d["cid"]): d["reason"] for d in summary["dropped"]}
    # named by partition id (get_properties), not by Flower's random node ids
    assert set(reasons) == {(1, "1"), (1, "2"), (2, "1"), (2, "2")}, summary
    assert "injected client crash" in reasons[(1, "1")]
    assert "NaN" in reasons[(1, "2")]
    # nothing else lost: the healthy node's updates give exactly the in-process numbers
    acc, dropped = _in_process(RUN, faults)
    assert summary["accuracy"] == acc, (summary["accuracy"], acc)
    assert {(d["round"], d["cid"]) for d in dropped} == set(reasons)


def test_written_app_is_a_flower_app_with_every_run_config_key(tmp_path):
    app = write_app(tmp_path / "app")
    meta = tomllib.loads((app / "pyproject.toml").read_text())
    flwr = meta["tool"]["flwr"]["app"]
    assert flwr["components"] == {
        "serverapp": "paperzoo_fedmix_app:server_app",
        "clientapp": "paperzoo_fedmix_app:client_app",
    }
    assert flwr["config"] == RUN_CONFIG
    assert meta["project"]["dependencies"] == []  # never installs anything on a node
    assert "paperzoo.federated.repro.flower_app" in (app / "paperzoo_fedmix_app.py").read_text()


def test_run_config_is_checked_before_any_process_starts():
    cfg = config_from_run_config(
        {"set": "data.num_clients=4; fl.clients_per_round=4; fl.fedmix_lam=0.2"}
    )
    assert cfg.fl.clients_per_round == 4 and cfg.fl.fedmix_lam == 0.2
    with pytest.raises(ValueError, match="unknown run config keys"):
        config_from_run_config({"num-rounds": 3})
    with pytest.raises(ValueError, match="only in simulation"):
        config_from_run_config({"arm": "global_mixup"})
    with pytest.raises(ValueError, match="learning_rate"):
        config_from_run_config({"set": "fl.learning_rate=-1"})
    with pytest.raises(ValueError, match="outside"):
        run_local(RUN, {5: "crash"})
    with pytest.raises(ValueError, match="unknown fault modes"):
        run_local(RUN, {1: "explode"})


@pytest.mark.parametrize("preset", ["deploy", "smoke", "quick"])
def test_app_config_is_reproduce_config(preset):
    """The Flower App (and so the deployment) runs the config `paperzoo reproduce federated
    --preset P --set ...` runs, field by field: one home for every hyperparameter."""
    import dataclasses

    from paperzoo.core.presets import build_config

    sets = ["fl.learning_rate=0.05", "data.num_clients=20"]
    got = config_from_run_config({"preset": preset, "set": "; ".join(sets)})
    assert dataclasses.asdict(got) == dataclasses.asdict(
        build_config("federated", preset, overrides=sets)
    )


def test_deploy_cli_builds_the_run_config_from_preset_and_set(monkeypatch):
    import paperzoo.federated.repro.deploy as deploy

    seen = {}

    def fake_run_local(run_config, faults, **kw):
        seen.update(run_config)
        return {"finished": True}

    monkeypatch.setattr(deploy, "run_local", fake_run_local)
    argv = ["local", "--preset", "quick", "--set", "fl.num_rounds=3"]
    argv += ["--set", "data.num_clients=25"]
    assert deploy_main(argv) == 0
    assert seen == {"preset": "quick", "set": "fl.num_rounds=3; data.num_clients=25",
                    "arm": "fedmix", "data-root": ""}  # fmt: skip
    cfg = config_from_run_config(seen)
    assert cfg.fl.num_rounds == 3 and cfg.data.num_clients == 25 and cfg.model == "lenet5"


def test_cli_bad_fault_exits_2(capsys):
    assert deploy_main(["local", "--fault", "x=crash"]) == 2
    assert "K=MODE" in capsys.readouterr().err
    assert deploy_main(["local", "--set", "data.num_clients=2", "--fault", "3=crash"]) == 2
    assert deploy_main(["local", "--set", "fl.learning_rate=-1"]) == 2
    assert "learning_rate" in capsys.readouterr().err
