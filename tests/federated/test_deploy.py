"""End to end over Flower's real gRPC transport on loopback: client processes + a server.

The server runs in the test process (Flower's ``start_server`` must own the main thread for its
signal handlers), the clients are separate ``python -m paperzoo.federated.deploy client``
processes that talk to it over gRPC on 127.0.0.1.
"""

import json
import signal
import socket
import subprocess
import sys

import pytest

pytest.importorskip("flwr")

from paperzoo.federated.deploy import main as deploy_main

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _federate(tmp_path, arm, faults=None, num_clients=2, round_timeout=30, delay=5.0):
    port = _free_port()
    common = ["--address", f"127.0.0.1:{port}", "--num-clients", str(num_clients), "--arm", arm]
    common += ["--dataset", "synthetic"]  # no scikit-learn import: faster client processes
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "paperzoo.federated.deploy", "client", *common]
            + ["--partition-id", str(k), "--max-retries", "60", "--wait-timeout", "300"]
            + (["--fault", faults[k]] if faults and k in faults else [])
            + ["--fault-delay", str(delay)],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"client{k}.log", "w"),  # noqa: SIM115
        )
        for k in range(num_clients)
    ]
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    out = tmp_path / "server.json"
    try:
        deploy_main(
            [
                "server",
                *common,
                "--rounds",
                "2",
                "--round-timeout",
                str(round_timeout),
                "--wait-timeout",
                "300",  # clients import torch first: minutes on a heavily shared machine
                "--out",
                str(out),
            ]
        )
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        codes = []
        for c in clients:
            try:
                c.wait(timeout=30)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
            codes.append(c.returncode)
    for k in range(num_clients):  # show the clients' logs when a test fails
        print(f"--- client {k} ---\n" + (tmp_path / f"client{k}.log").read_text()[-3000:])
    return json.loads(out.read_text()), codes


def test_two_clients_two_rounds_over_grpc(tmp_path):
    summary, codes = _federate(tmp_path, "fedmix")
    assert codes == [0, 0], codes
    assert summary["means_clients"] == 2, summary  # means crossed the wire once per client
    assert summary["dropped"] == [], summary
    acc = summary["accuracy"]
    assert len(acc) == 3 and acc[-1] > acc[0], summary


def test_crashing_client_is_dropped_and_training_continues(tmp_path):
    summary, codes = _federate(tmp_path, "fedavg", faults={1: "crash"})
    assert codes[0] == 0 and codes[1] != 0, codes  # the faulty process died mid-round
    dropped = summary["dropped"]
    assert dropped and dropped[0]["round"] == 1, summary
    # named by its partition (it said so through get_properties), not by Flower's node id
    assert dropped[0]["cid"] == "1" and dropped[0]["node"] != "1", summary
    assert dropped[0]["reason"]
    acc = summary["accuracy"]
    # the healthy client's updates were aggregated
    assert len(acc) == 3 and acc[-1] > acc[0], summary


def test_nan_wrong_shape_and_slow_updates_are_dropped_over_grpc(tmp_path):
    summary, _ = _federate(
        tmp_path,
        "fedavg",
        faults={1: "nan", 2: "shape", 3: "slow"},
        num_clients=4,
        round_timeout=10,
        delay=25.0,
    )
    reasons = {(d["round"], d["cid"]): d["reason"] for d in summary["dropped"]}
    assert "NaN" in reasons[(1, "1")] and "NaN" in reasons[(2, "1")], summary
    assert "shape" in reasons[(1, "2")] and "shape" in reasons[(2, "2")], summary
    assert (1, "3") in reasons, summary  # the slow client missed the round timeout
    assert all(cid != "0" for _, cid in reasons), summary
    acc = summary["accuracy"]
    assert len(acc) == 3 and acc[-1] > acc[0], summary  # the healthy client carried on
