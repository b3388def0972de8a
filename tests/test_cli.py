"""The command line, run as a user runs it (subprocesses), and its exit codes."""

import json
import os
import subprocess
import sys

import pytest

from paperzoo.core.registry import list_experiments


def paperzoo(*args, cwd=None, env=None):
    e = {**os.environ, "PAPERZOO_PROGRESS": "plain", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "paperzoo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=e,
        timeout=300,
    )


def _smoke_methods():
    return sorted({e.method for e in list_experiments() if e.preset == "smoke"})


def test_help_explains_every_command():
    r = paperzoo("--help")
    assert r.returncode == 0 and "reproduce" in r.stdout and "examples:" in r.stdout
    r = paperzoo("reproduce", "--help")
    assert r.returncode == 0
    for opt in (
        "--preset",
        "--seeds",
        "--set",
        "--out",
        "--device",
        "--data-root",
        "--resume",
        "--workers",
        "--threads",
        "--executor",
        "--address",
        "--verbose",
    ):
        assert opt in r.stdout
    assert paperzoo("finalize", "--help").returncode == 0
    assert paperzoo("data", "prepare", "--help").returncode == 0


def test_list_shows_each_preset_with_minutes():
    r = paperzoo("list")
    assert r.returncode == 0
    for e in list_experiments():
        assert f"{e.method}/{e.preset}" in r.stdout
    rows = r.stdout.splitlines()[1:]  # after the header that explains the time column
    assert all(" min " in ln or " h " in ln or " d " in ln for ln in rows)
    assert any("measured" in ln for ln in rows) and any("estimate" in ln for ln in rows)


def test_measured_minutes_come_from_the_committed_results(tmp_path):
    import json

    from paperzoo.core.registry import measured_minutes

    (tmp_path / "m" / "quick").mkdir(parents=True)
    (tmp_path / "m" / "quick" / "results.json").write_text(
        json.dumps({"runtime_s": 1800.0, "workers": 2})
    )
    assert measured_minutes("m", "quick", tmp_path) == (30.0, 2)
    assert measured_minutes("m", "paper", tmp_path) is None
    from dataclasses import dataclass

    from paperzoo.core.config import to_toml

    @dataclass
    class C:
        steps: int = 3

    (tmp_path / "m" / "quick" / "config.toml").write_text(to_toml(C()))
    assert measured_minutes("m", "quick", tmp_path, config=C()) == (30.0, 2)
    assert measured_minutes("m", "quick", tmp_path, config=C(steps=4)) is None  # preset changed
    (tmp_path / "m" / "quick" / "results.json").write_text(json.dumps({"runtime_s": None}))
    assert measured_minutes("m", "quick", tmp_path) is None


def test_bad_usage_exits_2_with_one_line_reason(tmp_path):
    r = paperzoo("reproduce", "no_such_method")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "unknown method 'no_such_method'" in r.stderr
    methods = _smoke_methods()
    if methods:
        r = paperzoo("reproduce", methods[0], "--preset", "nope")
        assert r.returncode == 2 and "known presets" in r.stderr
        r = paperzoo(
            "reproduce",
            methods[0],
            "--preset",
            "smoke",
            "--set",
            "no_such_key=1",
            "--out",
            str(tmp_path),
        )
        assert r.returncode == 2 and "unknown config key 'no_such_key'; valid keys" in r.stderr
        assert not (tmp_path / methods[0]).exists()  # nothing ran
    r = paperzoo("reproduce", "x", "--seeds", "two")
    assert r.returncode == 2  # argparse
    for bad, why in (
        (["--workers", "0"], "--workers must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--address", "auto"], "--address needs --executor ray"),
    ):
        r = paperzoo("reproduce", "neural_processes", "--preset", "smoke", *bad)
        assert r.returncode == 2 and why in r.stderr, r.stderr


def test_data_status_and_prepare_errors(tmp_path):
    r = paperzoo("data", "status", "--data-root", str(tmp_path))
    assert r.returncode == 0 and "mnist" in r.stdout and "missing" in r.stdout
    (tmp_path / "empty").mkdir()
    r = paperzoo(
        "data", "prepare", "mnist", "--from", str(tmp_path / "empty"), "--data-root", str(tmp_path)
    )
    assert r.returncode == 2 and "train-images-idx3-ubyte" in r.stderr
    r = paperzoo("data", "prepare", "imagenet", "--data-root", str(tmp_path))
    assert r.returncode == 2 and "unknown dataset 'imagenet'" in r.stderr


def test_missing_dataset_exits_2_naming_the_fix(tmp_path):
    needs = [e for e in list_experiments() if "mnist" in e.needs_data]
    if not needs:
        pytest.skip("no registered preset reads MNIST yet")
    e = needs[0]
    r = paperzoo(
        "reproduce",
        e.method,
        "--preset",
        e.preset,
        "--data-root",
        str(tmp_path),
        "--out",
        str(tmp_path / "runs"),
        "--device",
        "cpu",
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert "paperzoo data prepare mnist" in r.stderr


def test_reproduce_smoke_then_report(tmp_path):
    methods = _smoke_methods()
    if not methods:
        pytest.skip("no method registered yet")
    method = "neural_processes" if "neural_processes" in methods else methods[0]
    r = paperzoo(
        "reproduce",
        method,
        "--preset",
        "smoke",
        "--out",
        str(tmp_path / "runs"),
        "--device",
        "cpu",
        "--seeds",
        "1",
        "--workers",
        "1",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / r.stdout.strip().splitlines()[-1]
    assert (run / "report.md").is_file()
    res = json.loads((run / "results.json").read_text())
    assert res["seeds"] == [0]
    assert res["workers"] == 1 and res["executor"] == "local" and res["cpu_s"] > 0
    assert all(c["verdict"] == "inconclusive" for c in res["claims"])  # one seed
    # finalize re-judges the stored units without training again
    (run / "results.json").unlink()
    r = paperzoo("finalize", str(run))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "inconclusive" in r.stdout and (run / "results.json").is_file()
    assert paperzoo("finalize", str(tmp_path)).returncode == 2
    r = paperzoo("report", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "docs"))
    assert r.returncode == 0, r.stderr
    index = (tmp_path / "docs" / "README.md").read_text()
    assert f"{method}/smoke" in index
    assert (tmp_path / "docs" / method / "smoke" / "results.json").is_file()


def test_unreachable_ray_cluster_exits_2_at_once(tmp_path):
    pytest.importorskip("ray")
    r = paperzoo(
        "reproduce",
        "complexity",
        "--preset",
        "smoke",
        "--executor",
        "ray",
        "--address",
        "127.0.0.1:9",
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 2 and "nothing listens at 127.0.0.1:9" in r.stderr, r.stderr[-2000:]


def test_rejected_config_exits_2_and_leaves_nothing(tmp_path):
    r = paperzoo(
        "reproduce",
        "neural_processes",
        "--preset",
        "smoke",
        "--set",
        'arms=["XNP"]',
        "--out",
        str(tmp_path),
    )
    assert r.returncode == 2 and "'XNP' is not allowed" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_sigterm_keeps_finished_units_and_resume_finishes(tmp_path):
    import signal
    import time

    args = "reproduce neural_processes --preset smoke --device cpu --workers 1 --threads 1"
    args = [*args.split(), "--out", str(tmp_path)]
    cmd = [sys.executable, "-m", "paperzoo", *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAPERZOO_PROGRESS": "plain"},
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob("*/*/*/units/*.json")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "continue with --resume" in err, err[-2000:]
    run = next(tmp_path.glob("neural_processes/smoke/*"))
    done = {p.name: p.stat().st_mtime_ns for p in (run / "units").glob("*.json")}
    assert done and not (run / "results.json").exists() and not (run / "run.lock").exists()
    r = paperzoo(*args, "--resume")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (run / "results.json").is_file()
    assert all((run / "units" / n).stat().st_mtime_ns == t for n, t in done.items())


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.learning_rate=-1", "train.learning_rate = -1.0 is out of range: it must be > 0"),
        ("train.stream_size=0", "train.stream_size = 0 is out of range: it must be >= 1"),
        ("train.memory_size=-5", "train.memory_size = -5 is out of range: it must be >= 1"),
        ("stream.noise_fraction=2", "stream.noise_fraction = 2.0 is out of range"),
        ("train.learning_rate=nan", "train.learning_rate = nan is not a number"),
        ('settings=["bogus"]', "settings[0] = 'bogus' is not allowed: choose from balanced"),
        ("train.lr=0.1", "unknown config key 'train.lr' (did you mean 'learning_rate'?)"),
    ],
)
def test_out_of_range_values_exit_2_with_one_line_and_create_nothing(tmp_path, override, message):
    r = paperzoo(
        "reproduce", "continual", "--preset", "smoke", "--set", override, "--out", str(tmp_path)
    )
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert not any(tmp_path.iterdir())


def test_wrong_data_content_exits_2_and_own_data_records_it(tmp_path):
    import numpy as np

    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    x = np.zeros((60, 28, 28), np.uint8)
    y = np.arange(60) % 10
    np.savez(root / "mnist" / "mnist.npz", x_train=x, y_train=y, x_test=x[:20], y_test=y[:20])
    env = {"PAPERZOO_CACHE": str(tmp_path / "cache")}
    base = ["reproduce", "continual", "--preset", "smoke", "--data-root", str(root)]
    base += ["--set", "stream.source=mnist", "--set", "stream.train_per_task=50"]
    base += ["--set", "stream.test_per_task=20", "--seeds", "1", "--workers", "1"]
    r = paperzoo(*base, "--out", str(tmp_path / "runs"), env=env)
    assert r.returncode == 2 and "mnist.npz has sha256" in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "runs").exists()
    r = paperzoo(
        *base,
        "--set",
        'arms=["Finetune"]',
        "--set",
        'settings=["balanced"]',
        "--own-data",
        "--out",
        str(tmp_path / "runs"),
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / r.stdout.strip().splitlines()[-1]
    meta = json.loads((run / "meta.json").read_text())
    (entry,) = meta["data"].values()
    assert entry["dataset"] == "mnist" and entry["status"].startswith("own")
