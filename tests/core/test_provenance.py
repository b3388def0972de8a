"""Provenance: the git state a session and its units record, reading old unit records, and
the results index (claim roles, each claim id counted once per method, escaped cells)."""

import json
import re
import shutil
import subprocess

import pytest

from paperzoo.app.report import dirty_units, verdict_counts, write_index
from paperzoo.core.engine import UnitRecord
from paperzoo.core.runs import git_sha, git_state

# --- git state --------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_state_of_a_checkout_clean_dirty_and_absent(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    assert git_state(repo) == {"commit": None, "dirty": None}  # no commit yet
    (repo / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-q", "-m", "a")
    state = git_state(repo)
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"]) and state["dirty"] is False
    (repo / "new.py").write_text("untracked files do not count\n")
    assert git_state(repo)["dirty"] is False
    (repo / "a.py").write_text("x = 2\n")  # a change to a tracked file does
    assert git_state(repo) == {"commit": state["commit"], "dirty": True}
    assert git_state(tmp_path) == {"commit": None, "dirty": None}  # not a checkout


def test_git_state_without_git_is_null(monkeypatch):
    monkeypatch.setenv("PATH", "")  # no git executable to find
    assert git_state() == {"commit": None, "dirty": None}
    assert git_sha() == "unknown"


# --- unit records -----------------------------------------------------------------------------


def test_a_unit_record_from_before_provenance_still_loads():
    old = {
        "key": "a/seed0",
        "arm": "a",
        "seed": 0,
        "params": {},
        "role": "arm",
        "metrics": {"acc": 0.5},
        "wall_s": 1.0,
        "cpu_s": 1.0,
        "attempts": 1,
    }
    rec = UnitRecord.from_dict(old)
    assert rec.commit is None and rec.dirty is None and rec.metrics == {"acc": 0.5}
    rec = UnitRecord.from_dict({**old, "commit": "c" * 40, "dirty": True})
    assert rec.commit == "c" * 40 and rec.dirty is True


def test_dirty_units_reads_records_and_falls_back_to_meta_for_old_ones(tmp_path):
    run = tmp_path / "run"
    (run / "units").mkdir(parents=True)
    for key, extra in [("a", {"dirty": True}), ("b", {"dirty": False}), ("c", {"dirty": None})]:
        (run / "units" / f"{key}.json").write_text(json.dumps({"key": key, **extra}))
    (run / "units" / "old.json").write_text(json.dumps({"key": "old"}))  # no field
    (run / "meta.json").write_text(json.dumps({"git_sha": "f" * 40}))
    assert dirty_units(run) == ["a"]
    (run / "meta.json").write_text(json.dumps({"git_sha": "f" * 40 + "+dirty"}))
    assert dirty_units(run) == ["a", "old"]


# --- the results index ------------------------------------------------------------------------


def _claim(cid, verdict, role=None, statement="s"):
    c = {
        "id": cid,
        "statement": statement,
        "verdict": verdict,
        "effect": {"mean": 0.1, "low": 0.0, "high": 0.2, "n": 3},
        "threshold": 0.0,
        "reason": "",
    }
    if role is not None:  # results judged before roles existed have none
        c["role"] = role
    return c


def _results(root, method, preset, claims, seeds=(0, 1, 2)):
    p = root / method / preset / "results.json"
    p.parent.mkdir(parents=True)
    res = {"method": method, "preset": preset, "seeds": list(seeds), "claims": claims}
    p.write_text(json.dumps({**res, "runtime_s": 1.0}))


def _section(text, method):
    body = text.split(f"\n## {method}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in body.splitlines() if line.startswith("| [")]


def test_index_counts_each_claim_once_per_method_headline_first(tmp_path):
    root = tmp_path / "docs"
    _results(
        root,
        "m",
        "quick",
        [
            _claim("gap", "holds", "check", statement="bias |Q - G| is smaller"),
            _claim("main", "fails", "headline"),
            _claim("prune", "inconclusive"),  # no role: a check
        ],
    )
    _results(
        root, "m", "quick_prune", [_claim("prune", "holds"), _claim("side", "holds", "secondary")]
    )
    _results(root, "m", "smoke", [_claim("main", "holds", "headline")], seeds=(0,))
    _results(root, "n", "zeta", [_claim("z", "holds", "headline")])
    _results(root, "n", "alpha", [_claim("z", "fails", "headline")])

    counts = verdict_counts(root)
    # "prune" counts once, from quick (the primary preset); smoke never counts
    assert counts["m"] == {"holds": 2, "fails": 1, "inconclusive": 1}
    assert verdict_counts(root, "headline")["m"] == {"holds": 0, "fails": 1, "inconclusive": 0}
    assert verdict_counts(root, "check")["m"] == {"holds": 1, "fails": 0, "inconclusive": 1}
    # without quick: the first preset by name
    assert counts["n"] == {"holds": 0, "fails": 1, "inconclusive": 0}

    text = write_index(root).read_text()
    rows = _section(text, "m")
    ids = [r.split(" | ")[2] for r in rows]
    assert ids == ["main", "side", "gap", "prune", "prune (repeat, counted in quick)"]
    assert [r.split(" | ")[1] for r in rows] == [
        "headline",
        "secondary",
        "check",
        "check",
        "check",
    ]
    assert "m/smoke" not in "".join(rows) and "[m/smoke](m/smoke/report.md)" in text
    # a | inside a cell is escaped, so every row keeps its 8 cells
    assert "bias \\|Q - G\\| is smaller" in text
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 9
    assert "Totals over the non-smoke runs: 2 hold, 2 fail, 1 inconclusive" in text
    assert "| [m](#m) | quick, quick_prune | 0 / 1 / 0 | 1 / 0 / 0 | 1 / 0 / 1 | 2 / 1 / 1 |" in (
        text
    )
