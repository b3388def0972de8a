"""Run directories, atomic writes, checkpoints, and --resume after an interruption."""

import json
import os
import sys
import textwrap

import pytest
import torch

from paperzoo.app.reproduce import reproduce
from paperzoo.core import io, registry
from paperzoo.core.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from paperzoo.core.errors import UsageError
from paperzoo.core.runs import RunDir

FAKE = textwrap.dedent(
    '''
    """A fake method: two arms x seeds, one unit each; Ctrl-C once when CRASH_AT is set."""
    import os
    from dataclasses import dataclass, field
    from pathlib import Path

    import torch

    from paperzoo.core import ClaimSpec, Unit


    @dataclass
    class Config:
        seeds: list[int] = field(default_factory=lambda: [0, 1])
        steps: int = 6


    def units(config):
        return [Unit(f"{arm}-{s}", arm, s) for arm in ("good", "bad") for s in config.seeds]


    def run_unit(config, unit, ctx):
        calls = Path(os.environ["FAKE_CALLS"])
        bias = 1.0 if unit.arm == "good" else 0.0
        w = {"w": 0.0}
        for step in ctx.steps(config.steps, {"w": w}, every=1):
            with calls.open("a") as f:
                f.write(f"{unit.key}:{step - 1}\\n")
            w["w"] += bias + 0.1 * unit.seed
            if os.environ.get("CRASH_AT") == f"{unit.key}:{step - 1}":
                os.environ.pop("CRASH_AT")
                raise KeyboardInterrupt
        ctx.log({"w": w["w"]})
        return {"score": w["w"]}


    def claims(results):
        return [ClaimSpec("good_wins", "good beats bad", "score", "good", ("bad",), threshold=0.5)]
    '''
)


@pytest.fixture
def fake_method(tmp_path, monkeypatch):
    (tmp_path / "fake_method_mod.py").write_text(FAKE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("fake_method_mod", None)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_DISCOVERED", True)
    import importlib

    mod = importlib.import_module("fake_method_mod")
    registry.register("fake", "smoke", module="fake_method_mod", cpu_minutes=0.01)(mod.Config)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    return calls


def test_reproduce_writes_contract_files(fake_method, tmp_path):
    run = reproduce("fake", "smoke", out=tmp_path / "runs", device="cpu")
    assert run.parent == tmp_path / "runs" / "fake" / "smoke"
    res = json.loads((run / "results.json").read_text())
    assert list(res) == [
        "method",
        "preset",
        "seeds",
        "arms",
        "summary",
        "claims",
        "runtime_s",
        "cpu_s",
        "workers",
        "executor",
        "versions",
    ]
    assert res["arms"]["good"]["score"] == [6.0, pytest.approx(6.6)]
    # d = 6 for both seeds: zero-width CI above the 0.5 threshold
    assert res["claims"][0]["verdict"] == "holds" and res["claims"][0]["holds"] is True
    meta = json.loads((run / "meta.json").read_text())
    assert {"git_sha", "versions", "hardware", "device"} <= set(meta)
    assert "steps = 6" in (run / "config.toml").read_text()
    assert "| good_wins |" in (run / "report.md").read_text()
    events = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "finished"


def test_resume_continues_without_redoing_finished_work(fake_method, tmp_path, monkeypatch):
    out = tmp_path / "runs"
    monkeypatch.setenv("CRASH_AT", "bad-0:3")
    with pytest.raises(KeyboardInterrupt):
        reproduce("fake", "smoke", out=out, device="cpu")
    first = fake_method.read_text().splitlines()
    assert first[-1] == "bad-0:3" and len(first) == 2 * 6 + 4
    run_dir = next(out.glob("fake/smoke/*"))
    wall_first = json.loads((run_dir / "engine.json").read_text())["sessions"][0]["wall_s"]
    run = reproduce("fake", "smoke", out=out, device="cpu", resume=True)
    second = fake_method.read_text().splitlines()[len(first) :]
    # finished units (good-0, good-1) are skipped; bad-0 redoes the interrupted step from the
    # checkpoint written after the step before it
    assert second[0] == "bad-0:3" and "good-0:0" not in second
    assert len(second) == 3 + 6
    assert len(list(out.glob("fake/smoke/*"))) == 1
    res = json.loads((run / "results.json").read_text())
    assert res["arms"]["bad"]["score"] == [0.0, pytest.approx(0.6)]
    # runtime counts both sessions, not just the resumed one
    sessions = json.loads((run / "engine.json").read_text())["sessions"]
    assert len(sessions) == 2 and res["runtime_s"] >= wall_first
    assert res["runtime_s"] == pytest.approx(sum(x["wall_s"] for x in sessions), abs=0.02)
    # the same numbers as an uninterrupted run
    fresh = reproduce("fake", "smoke", out=tmp_path / "fresh", device="cpu")
    assert json.loads((fresh / "results.json").read_text())["arms"] == res["arms"]


def test_resume_refuses_a_different_config(fake_method, tmp_path, monkeypatch):
    out = tmp_path / "runs"
    monkeypatch.setenv("CRASH_AT", "good-0:1")
    with pytest.raises(KeyboardInterrupt):
        reproduce("fake", "smoke", out=out, device="cpu")
    with pytest.raises(UsageError, match="config differs"):
        reproduce("fake", "smoke", out=out, device="cpu", resume=True, overrides=["steps=3"])


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "a.json"
    io.atomic_write_json(p, {"x": 1})

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.atomic_write_with(p, boom)
    assert json.loads(p.read_text()) == {"x": 1}
    assert [q.name for q in tmp_path.iterdir()] == ["a.json"]  # no temporary left behind
    io.atomic_write_json(p, {"nan": float("nan"), "arr": torch.arange(2)})
    assert json.loads(p.read_text()) == {"nan": None, "arr": [0, 1]}


def test_checkpoint_round_trip_and_rng(tmp_path):
    g = torch.Generator().manual_seed(3)
    state = {"w": torch.randn(3), "step": 4, "rng": rng_state(g), "hist": [1.0, 2.0]}
    save_checkpoint(tmp_path / "c.pt", state)
    expected = torch.rand(2, generator=g)
    back = load_checkpoint(tmp_path / "c.pt")
    assert back["step"] == 4 and torch.equal(back["w"], state["w"])
    set_rng_state(back["rng"], g)
    assert torch.equal(torch.rand(2, generator=g), expected)
    assert load_checkpoint(tmp_path / "none.pt") is None
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(RuntimeError, match="corrupt"):
        load_checkpoint(tmp_path / "bad.pt")


def test_rundir_log(tmp_path):
    run = RunDir(tmp_path / "r")
    run.log({"loss": 0.5})
    with open(run.path / "metrics.jsonl", "a") as f:
        f.write('{"torn": ')  # a crash mid-line
    assert [r.get("loss") for r in run.read_log() if "loss" in r] == [0.5]
    assert run.figure("x").name == "x.png" and run.figure("x").parent.is_dir()


def test_lock_refuses_a_live_owner_and_clears_a_stale_one(tmp_path):
    run = RunDir(tmp_path / "r")
    run.lock()
    with pytest.raises(UsageError, match="in use by process"):
        RunDir(tmp_path / "r").lock()
    run.unlock()
    (tmp_path / "r" / "run.lock").write_text("999999999")  # no such process
    run.lock()
    assert (tmp_path / "r" / "run.lock").read_text() == str(os.getpid())


def test_resume_ignores_a_folder_without_finished_work(fake_method, tmp_path, capsys):
    out = tmp_path / "runs"
    empty = out / "fake" / "smoke" / "20990101-000000"
    empty.mkdir(parents=True)
    (empty / "config.json").write_text("{}")  # a failed start: config, nothing else
    run = reproduce("fake", "smoke", out=out, device="cpu", resume=True)
    assert run != empty and "no unfinished run" in capsys.readouterr().err


def test_sessions_and_units_record_their_git_state_and_report_refuses_dirty(
    fake_method, tmp_path, monkeypatch, capsys
):
    from paperzoo.cli import main
    from paperzoo.core import runs

    state = {"commit": "a" * 40, "dirty": True}  # the first session runs uncommitted code
    monkeypatch.setattr(runs, "git_state", lambda cwd=None: dict(state))
    out = tmp_path / "runs"
    monkeypatch.setenv("CRASH_AT", "bad-0:3")
    with pytest.raises(KeyboardInterrupt):
        reproduce("fake", "smoke", out=out, device="cpu")
    state.update(commit="b" * 40, dirty=False)  # committed, then resumed
    run = reproduce("fake", "smoke", out=out, device="cpu", resume=True)

    assert json.loads((run / "meta.json").read_text())["git_sha"] == "a" * 40 + "+dirty"
    first, second = json.loads((run / "engine.json").read_text())["sessions"]
    assert (first["commit"], first["dirty"]) == ("a" * 40, True)
    assert (second["commit"], second["dirty"]) == ("b" * 40, False)
    for s in (first, second):
        assert s["started"] <= s["ended"] and s["wall_s"] >= 0
    assert first["ended"] <= second["started"]
    units = {p.stem: json.loads(p.read_text()) for p in (run / "units").glob("*.json")}
    assert {k: (u["commit"][0], u["dirty"]) for k, u in units.items()} == {
        "good-0": ("a", True),
        "good-1": ("a", True),
        "bad-0": ("b", False),
        "bad-1": ("b", False),
    }

    # --update-docs refuses the run, naming it and its dirty units, before writing anything
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["report", "--runs", str(out), "--update-docs"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(run) in err and "(good-0, good-1)" in err
    assert "--allow-dirty" in err and not (tmp_path / "docs").exists()
    # --allow-dirty publishes it, marked
    assert main(["report", "--runs", str(out), "--update-docs", "--allow-dirty"]) == 0
    meta = json.loads((tmp_path / "docs/results/fake/smoke/meta.json").read_text())
    assert meta["allow_dirty"] is True and meta["dirty_units"] == ["good-0", "good-1"]
    index = (tmp_path / "docs/results/README.md").read_text()
    assert "[fake/smoke](fake/smoke/report.md) (uncommitted code: 2 units)" in index
    # a folder of one's own (--out) is never refused
    assert main(["report", "--runs", str(out), "--out", str(tmp_path / "mine")]) == 0
