"""A real deployment on Flower's Deployment Runtime: a SuperLink, one SuperNode per client and
``flwr run`` of the package's Flower App (:mod:`paperzoo.federated.repro.flower_app`).

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233.

Everything on one machine (loopback), in one command::

    python -m paperzoo.federated.repro.deploy local --preset deploy --arm fedmix \\
        --set data.num_clients=3 --fault 2=nan --out runs/federated/deploy.json

builds the config exactly as ``paperzoo reproduce federated --preset P --set ...`` does (the
``deploy`` preset by default: sklearn digits, 2 clients, 2 rounds), starts ``flower-superlink``,
``data.num_clients`` ``flower-supernode`` processes (each with
``--node-config "partition-id=K"``), writes the Flower App to a temporary directory, submits it
with ``flwr run --stream`` and stops everything when the run ends; the JSON summary has the
per-round test accuracy and every dropped client with its reason. ``--fault K=MODE`` makes
SuperNode K misbehave in training rounds (``crash``, ``nan``, ``shape``, ``slow``, ``exit``).

On several machines, with the same Python environment (``pip install 'paperzoo[fl]'``)
everywhere::

    python -m paperzoo.federated.repro.deploy app ./fedmix-app          # writes the Flower App
    flower-superlink --insecure --disable-runtime-dependency-installation \
        --host 0.0.0.0 --port 9091                                 # on the server host
    flower-supernode --insecure --superlink SERVER:9091 \
        --node-config "partition-id=0"                             # on client 0's host, etc.
    flwr run ./fedmix-app my-superlink --stream \
        --run-config "preset='deploy' arm='fedmix' set='data.num_clients=2'"

where ``my-superlink`` names a connection in ``$FLWR_HOME/config.toml``
(``[superlink.my-superlink] address = "SERVER:9091"``, ``insecure = true``; the port is the
SuperLink's ``--port``, 9091 in the example). Use TLS (``--ssl-*``) outside a trusted network.
The data set is the config's first (``--set 'datasets=["mnist"]' --set model=lenet5``);
``digits`` (the deploy preset's) and ``synthetic`` need no data, ``mnist`` / ``fashion_mnist``
read the run config's ``data-root`` on each node. The app ships no dependencies and runtime
installation is disabled, so a deployment can never pull another torch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from paperzoo.core.errors import UsageError
from paperzoo.core.presets import add_config_arguments

__all__ = ["main", "run_local", "write_app"]

#: the module of the written app; it re-exports the installed package's apps
APP_MODULE = "paperzoo_fedmix_app"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def write_app(directory: str | Path) -> Path:
    """Write the Flower App (``pyproject.toml`` + a two-line module) into ``directory``.

    The module imports :mod:`paperzoo.federated.repro.flower_app`, so every node needs paperzoo
    installed; the app itself is a few hundred bytes.
    """
    from .flower_app import RUN_CONFIG

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    config = "\n".join(f"{k} = {_toml_value(v)}" for k, v in RUN_CONFIG.items())
    (d / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "paperzoo-fedmix"
version = "1.0.0"
description = "FedMix / NaiveMix / FedAvg under mean-augmented FL (paperzoo)"
license = "MIT"
dependencies = []  # paperzoo must be installed on every node; nothing is installed at run time

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "paperzoo"

[tool.flwr.app.components]
serverapp = "{APP_MODULE}:server_app"
clientapp = "{APP_MODULE}:client_app"

[tool.flwr.app.config]
{config}
"""
    )
    (d / f"{APP_MODULE}.py").write_text(
        '"""FedMix Flower App: the apps live in the installed paperzoo package."""\n\n'
        "from paperzoo.federated.repro.flower_app import client_app, server_app\n\n"
        '__all__ = ["client_app", "server_app"]\n'
    )
    return d


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    """A console script of this interpreter's environment (``flwr``, ``flower-superlink``...)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    """Block until something listens on 127.0.0.1:``port`` (the SuperLink has started)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the SuperLink exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1.0):
            return
        time.sleep(0.3)
    raise TimeoutError(f"the SuperLink did not listen on port {port} within {timeout:.0f} s")


def _stop(procs: list[subprocess.Popen]) -> None:
    """Terminate each process group (SuperLink / SuperNodes spawn app processes of their own)."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def run_local(
    run_config: dict[str, Any],
    faults: dict[int, str] | None = None,
    *,
    fault_delay: float = 5.0,
    log_dir: str | Path | None = None,
    timeout: float = 1800.0,
) -> dict[str, Any]:
    """Run one federation on loopback with Flower's Deployment Runtime; return its summary.

    Args:
        run_config: keys of :data:`~paperzoo.federated.repro.flower_app.RUN_CONFIG` (``out`` is set
            here).
        faults: partition id -> fault mode of that SuperNode.
        fault_delay: seconds a ``slow`` client sleeps.
        log_dir: where the SuperLink / SuperNode / ``flwr run`` logs go (default: a temporary
            directory, removed afterwards).
        timeout: seconds before the whole run is stopped (``TimeoutError``).

    Returns:
        The ServerApp's summary: ``accuracy`` (rounds 0..R), ``dropped`` (round, cid, reason),
        ``means_clients``, ``round_times``, ``seconds``, ``finished``.
    """
    from ..client import FaultyClient
    from .flower_app import config_from_run_config

    cfg = config_from_run_config(run_config)  # bad keys or values fail here, before any process
    n = cfg.data.num_clients
    faults = faults or {}
    bad = [k for k in faults if not 0 <= k < n]
    if bad:
        raise ValueError(f"--fault partition ids {bad} outside [0, {n})")
    modes = sorted({m for m in faults.values() if m not in FaultyClient.MODES})
    if modes:
        raise ValueError(f"unknown fault modes {modes}; choose from {FaultyClient.MODES}")
    with tempfile.TemporaryDirectory(prefix="paperzoo-flower-") as tmp:
        work = Path(tmp)
        logs = Path(log_dir) if log_dir else work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        home = work / "flwr_home"
        home.mkdir()
        port = _free_port()
        (home / "config.toml").write_text(
            '[superlink]\ndefault = "local-deployment"\n\n'
            f'[superlink.local-deployment]\naddress = "127.0.0.1:{port}"\ninsecure = true\n'
        )
        env = {
            **os.environ,
            "FLWR_HOME": str(home),
            "FLWR_TELEMETRY_ENABLED": "0",
            "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
            "OMP_NUM_THREADS": "1",
            # the SuperLink / SuperNodes start flower-superexec and the app processes by name
            "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        }
        app = write_app(work / "app")
        out = work / "summary.json"
        procs: list[subprocess.Popen] = []

        def spawn(cmd: list[str], name: str) -> subprocess.Popen:
            p = subprocess.Popen(
                cmd,
                env=env,
                cwd=work,
                stdout=open(logs / f"{name}.log", "w"),  # noqa: SIM115 - closed with the process
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: _stop reaches its app processes
            )
            procs.append(p)
            return p

        try:
            link = [
                _bin("flower-superlink"),
                "--insecure",
                "--disable-runtime-dependency-installation",
            ]
            spawn([*link, "--host", "127.0.0.1", "--port", str(port)], "superlink")
            for k in range(n):
                node = f"partition-id={k} num-partitions={n}"
                if k in faults:
                    node += f" fault='{faults[k]}' fault-delay={float(fault_delay)}"
                cmd = [_bin("flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{port}"]
                spawn([*cmd, "--port", str(_free_port()), "--node-config", node], f"supernode{k}")
            _wait_for_port(port, procs[0], timeout=120.0)  # `flwr run` does not retry
            # the run config as a TOML file: `set` holds quotes and spaces that Flower's inline
            # `key=value` parser does not accept
            overrides = work / "run_config.toml"
            overrides.write_text(
                "".join(
                    f"{k} = {_toml_value(v)}\n" for k, v in {**run_config, "out": str(out)}.items()
                )
            )
            run = spawn(
                [_bin("flwr"), "run", str(app), "--stream", "--run-config", str(overrides)],
                "flwr_run",
            )
            start = time.time()
            while run.poll() is None:  # `flwr run --stream` exits when the run ends
                if time.time() - start > timeout:
                    raise TimeoutError(f"the federation did not finish within {timeout:.0f} s")
                time.sleep(0.5)
            if not out.exists():
                tail = (logs / "flwr_run.log").read_text()[-3000:]
                raise RuntimeError(f"the ServerApp wrote no summary; `flwr run` said:\n{tail}")
            return json.loads(out.read_text())
        finally:
            _stop(procs)


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m paperzoo.federated.repro.deploy``."""
    p = argparse.ArgumentParser(
        prog="python -m paperzoo.federated.repro.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("app", help="write the Flower App (pyproject.toml + module) to DIR")
    a.add_argument("directory")
    loc = sub.add_parser("local", help="SuperLink + SuperNodes + `flwr run` on loopback")
    add_config_arguments(loc, default_preset="deploy")
    loc.add_argument("--arm", default="fedmix", choices=["fedavg", "fedprox", "naivemix", "fedmix"])
    loc.add_argument("--data-root", default="", help="data root on every node (real data sets)")
    loc.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="K=MODE",
        help="SuperNode K misbehaves in training: crash, nan, shape, slow, exit (repeatable)",
    )
    loc.add_argument("--fault-delay", type=float, default=5.0, help="seconds for MODE slow")
    loc.add_argument("--timeout", type=float, default=1800.0, help="stop after this many s")
    loc.add_argument("--logs", default="", help="keep the processes' logs in this folder")
    loc.add_argument("--out", default="", help="also write the JSON summary here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "app":
        print(write_app(args.directory))
        return 0
    faults: dict[int, str] = {}
    for spec in args.fault:
        k, sep, mode = spec.partition("=")
        if not sep or not k.isdigit():
            print(f"--fault wants K=MODE (e.g. 1=crash), got {spec!r}", file=sys.stderr)
            return 2
        faults[int(k)] = mode
    run_config = {
        "preset": args.preset,
        "set": "; ".join(args.overrides),
        "arm": args.arm,
        "data-root": args.data_root,
    }
    try:
        summary = run_local(
            run_config,
            faults,
            fault_delay=args.fault_delay,
            log_dir=args.logs or None,
            timeout=args.timeout,
        )
    except (ValueError, UsageError) as e:  # a bad preset, --set or --fault, before any process
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(summary, indent=1)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0 if summary.get("finished") else 1


if __name__ == "__main__":
    sys.exit(main())
