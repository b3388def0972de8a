"""The engine: dependency order, equal numbers across executors, retry, failure, resume."""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from paperzoo.core.engine import (
    Results,
    Unit,
    UnitRecord,
    UnitsFailed,
    check_units,
    late_new_high,
    relative_change,
    run_units,
)

TOY = Path(__file__).parent / "toy"


@dataclass
class Cfg:
    seeds: list[int] = field(default_factory=lambda: [0, 1])


@pytest.fixture
def toy(monkeypatch):
    # Spawned workers inherit sys.path, so they can import the toy module too.
    monkeypatch.syspath_prepend(str(TOY))
    sys.modules.pop("toy_method", None)
    import toy_method

    return toy_method


def _run(toy, path, **kw):
    path.mkdir(parents=True, exist_ok=True)
    cfg = Cfg()
    return run_units(
        "toy_method",
        cfg,
        toy.units(cfg),
        path,
        device=torch.device("cpu"),
        data_root=None,
        threads=1,
        **kw,
    )


def _metrics(records):
    return {r.key: r.metrics for r in records}


def test_check_units_rejects_bad_plans():
    with pytest.raises(ValueError, match="duplicate"):
        check_units([Unit("a", "x", 0), Unit("a", "x", 1)], [0, 1])
    with pytest.raises(ValueError, match="unknown"):
        check_units([Unit("a", "x", 0, deps=("t",))], [0])
    with pytest.raises(ValueError, match="before it"):
        check_units([Unit("a", "x", 0, deps=("b",)), Unit("b", "y", 0)], [0])
    with pytest.raises(ValueError, match="seeds"):
        check_units([Unit("a", "x", 0)], [0, 1])
    check_units([Unit("t", "t", 5, role="aux"), Unit("a", "x", 0, deps=("t",))], [0])


def test_late_new_high():
    """0 for a plateau or a fall after a peak; the rise above the earlier best otherwise."""
    assert late_new_high([0.5, 0.8, 0.8, 0.8, 0.8]) == 0.0
    assert late_new_high([0.5, 0.9, 0.8, 0.7, 0.6]) == 0.0  # fell after the peak
    # 10 points: cut at 8; the last two reach 0.95 against an earlier best of 0.9
    v = [0.5, 0.9, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.95, 0.8]
    assert late_new_high(v) == pytest.approx(0.05)
    assert late_new_high(v, fraction=0.5) == pytest.approx(0.05)
    assert late_new_high([0.1, 0.2]) == pytest.approx(0.1)
    assert late_new_high([1.0]) == float("inf")


def test_relative_change():
    assert relative_change([1.0, 2.0, 4.0, 4.0, 4.0]) == 0.0
    # 10 points, window 1: the last point (10) against the one ending the first 80% (8)
    assert relative_change([float(i + 1) for i in range(10)]) == pytest.approx(0.2)
    # 20 points, window 2: mean(19, 20) = 19.5 against mean(15, 16) = 15.5
    assert relative_change([float(i + 1) for i in range(20)]) == pytest.approx(4 / 19.5)
    # a noisy but flat curve: window means cancel the alternation
    assert relative_change([1.0, 3.0] * 10) == pytest.approx(0.0)
    assert relative_change([1.0]) == float("inf")


def test_serial_and_two_workers_give_the_same_numbers(toy, tmp_path):
    serial = _run(toy, tmp_path / "s", workers=1)
    parallel = _run(toy, tmp_path / "p", workers=2)
    assert _metrics(serial) == _metrics(parallel)
    assert [r.key for r in serial] == [u.key for u in toy.units(Cfg())]
    assert all(r.metrics.get("threads", 1.0) == 1.0 for r in parallel)
    res = Results.from_records(Cfg(), [0, 1], serial)
    assert set(res.arms) == {"a", "b"} and len(res.arms["a"]["score"]) == 2
    assert res.unit("a", 1).artifacts["seen"] == list(range(1, 11))
    assert "teacher/seed0" in res.units  # aux units kept, not in arms


def test_crash_is_retried_and_resumes_from_the_checkpoint(toy, tmp_path):
    ref = _run(toy, tmp_path / "ref", workers=1)
    run = tmp_path / "run"
    run.mkdir()
    (run / "crash_a_seed1").touch()
    recs = _run(toy, run, workers=1)
    rec = {r.key: r for r in recs}["a/seed1"]
    assert rec.attempts == 2
    # The retry resumed after the checkpoint at step 4: steps 1-4 restored, 5-10 rerun.
    assert rec.artifacts["seen"] == list(range(1, 11))
    assert rec.artifacts["first_step"] == 5
    assert {r.key: r for r in ref}["a/seed1"].artifacts["first_step"] == 1
    assert _metrics(recs) == _metrics(ref)  # RNG and optimiser state restored exactly
    assert not list((run / "checkpoints").glob("*.pt"))

    # Steps 5 (logged before the crash) is logged again by the retry: one row per step remains,
    # with the retry's values, which equal the uninterrupted run's.
    def rows(path):
        lines = (path / "metrics.jsonl").read_text().splitlines()
        return [r for r in map(json.loads, lines) if r.get("unit") == "a/seed1"]

    got, want = rows(run), rows(tmp_path / "ref")
    assert [r["step"] for r in got] == list(range(1, 11))
    assert [r["seq"] for r in got] == list(range(10))
    assert [r["loss"] for r in got] == [r["loss"] for r in want]


def test_compact_log_keeps_the_last_of_each_unit_line_and_every_event(tmp_path):
    from paperzoo.core.engine import compact_log

    lines = [
        {"event": "resumed"},
        {"unit": "u", "seq": 0, "v": 1},
        {"unit": "u", "seq": 1, "v": 2},
        {"unit": "w", "seq": 0, "v": 9},
        {"unit": "u", "seq": 1, "v": 3},
        {"event": "resumed"},
    ]
    f = tmp_path / "metrics.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"torn')
    compact_log(f)
    out = [json.loads(x) for x in f.read_text().splitlines()]
    assert out == [lines[0], lines[1], lines[3], lines[4], lines[5]]


def test_dead_worker_is_retried(toy, tmp_path):
    ref = _run(toy, tmp_path / "ref", workers=1)
    run = tmp_path / "run"
    run.mkdir()
    (run / "die_b_seed0").touch()
    recs = _run(toy, run, workers=2)
    assert _metrics(recs) == _metrics(ref)


def test_permanent_failure_keeps_other_units_and_resume_redoes_only_it(toy, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "always_teacher_seed1").touch()
    with pytest.raises(UnitsFailed) as e:
        _run(toy, run, workers=1)
    assert set(e.value.failures) == {"teacher/seed1", "a/seed1", "b/seed1"}
    assert (
        "planned permanent failure"
        in json.loads((run / "failures.json").read_text())["teacher/seed1"]
    )
    done = sorted(p.name for p in (run / "units").glob("*.json"))
    assert done == ["a__seed0.json", "b__seed0.json", "teacher__seed0.json"]
    before = (run / "units" / "a__seed0.json").stat().st_mtime_ns
    (run / "always_teacher_seed1").unlink()
    recs = _run(toy, run, workers=1)
    assert len(recs) == 6 and not (run / "failures.json").exists()
    assert (run / "units" / "a__seed0.json").stat().st_mtime_ns == before  # not redone


def test_unit_record_roundtrip():
    r = UnitRecord("k", "a", 0, {}, "arm", {"m": 1.0})
    assert UnitRecord.from_dict({**r.__dict__, "unknown": 1}) == r


def test_results_from_records_multi_arm_units_and_errors():
    def rec(key, arm, seed, metrics=None, arm_metrics=None, role="arm"):
        return UnitRecord(key, arm, seed, {}, role, metrics or {}, arm_metrics=arm_metrics or {})

    recs = [
        rec("g/0", "g", 0, arm_metrics={"g/a": {"m": 1.0}, "g/b": {"m": 2.0}}),
        rec("g/1", "g", 1, arm_metrics={"g/a": {"m": 3.0}, "g/b": {"m": 4.0}}),
        rec("t/0", "t", 0, {"x": 9.0}, role="aux"),
    ]
    res = Results.from_records(Cfg(), [0, 1], recs)
    assert res.arms == {"g/a": {"m": [1.0, 3.0]}, "g/b": {"m": [2.0, 4.0]}}
    assert res.unit("g/b", 1).key == "g/1" and res.mean("g/a", "m") == 2.0
    with pytest.raises(ValueError, match="no unit for seed"):
        Results.from_records(Cfg(), [0, 1], recs[:1])
    bad = [rec("a/0", "a", 0, {"m": 1.0}), rec("a/1", "a", 1, {"other": 1.0})]
    with pytest.raises(ValueError, match="different metrics"):
        Results.from_records(Cfg(), [0, 1], bad)
    twice = [rec("a/0", "a", 0, {"m": 1.0}), rec("a/0b", "a", 0, {"m": 1.0})]
    with pytest.raises(ValueError, match="two units"):
        Results.from_records(Cfg(), [0], twice)


def test_unit_progress_plain_lines(capsys, monkeypatch):
    from paperzoo.core.progress import UnitProgress

    monkeypatch.setenv("PAPERZOO_PROGRESS", "plain")
    bar = UnitProgress(2, done=1)
    bar.started("a/seed0")
    bar.finished("a/seed0", 1.5)
    bar.failed("b/seed0")
    bar.close()
    err = capsys.readouterr().err
    assert "units 1/2: started a/seed0" in err and "units 2/2: finished a/seed0 in 1.5 s" in err
    assert "FAILED b/seed0" in err and "ETA" in err
