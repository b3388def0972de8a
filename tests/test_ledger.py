"""The pre-registration ledger: written before any unit runs, kept by a resume; a verdict whose
declaration changed afterwards is marked post hoc with what changed; a rerun of a judged preset
is a second look."""

import dataclasses
import json
from types import SimpleNamespace

import pytest

from paperzoo.app.ledger import LEDGER_FILE, post_hoc, spec_record
from paperzoo.app.reproduce import refinalize, reproduce
from paperzoo.core.claims import ClaimSpec, Gate


@dataclasses.dataclass
class _Claims:
    margin: float = 0.1


def _ledger(specs, seeds=(0, 1, 2, 3), margin=0.1):
    return {"claims": [spec_record(s) for s in specs], "seeds": list(seeds),
            "config_claims": {"margin": margin}, "second_look_of": []}  # fmt: skip


CFG = SimpleNamespace(seeds=[0, 1, 2, 3], claims=_Claims())
BASE = ClaimSpec("a_beats_b", "A beats B", "acc", "a", ("b",), threshold=0.01, role="headline",
                 gates=(Gate("converged", "change", 0.05, "max"),))  # fmt: skip


def test_an_unchanged_declaration_is_not_post_hoc():
    assert post_hoc(_ledger([BASE]), [BASE], CFG) == {"a_beats_b": []}


def test_every_material_change_is_named():
    later = dataclasses.replace(
        BASE,
        threshold=0.02,
        role="secondary",
        gates=(Gate("converged", "change", 0.1, "max"), Gate("reference", "acc", 0.9)),
        statement="reworded: not material",
    )
    (changes,) = post_hoc(_ledger([BASE]), [later], CFG).values()
    text = "; ".join(changes)
    assert "threshold: 0.01 -> 0.02" in text and "role: 'headline' -> 'secondary'" in text
    assert "gate reference added after pre-registration" in text
    assert "gate converged.reference: 0.05 -> 0.1" in text
    assert "reworded" not in text


def test_new_claims_config_and_seed_changes_mark_every_claim():
    extra = ClaimSpec("new", "", "acc", "a", ("b",))
    cfg = SimpleNamespace(seeds=[0, 1, 2, 3, 4], claims=_Claims(margin=0.2))
    got = post_hoc(_ledger([BASE]), [BASE, extra], cfg)
    assert "not in the pre-registration" in got["new"][0]
    for changes in got.values():
        assert "claims config margin: 0.1 -> 0.2" in changes
        assert "seeds [0, 1, 2, 3] -> [0, 1, 2, 3, 4]" in changes
    assert post_hoc(None, [BASE], CFG) == {"a_beats_b": ["no pre-registration ledger for this run"]}
    recon = {**_ledger([BASE]), "reconstructed": True, "known_post_hoc": {"a_beats_b": ["x"]}}
    assert post_hoc(recon, [BASE], CFG)["a_beats_b"] == ["(reconstructed ledger) x"]


@pytest.mark.slow
def test_a_run_writes_its_ledger_first_and_marks_what_changed_later(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERZOO_DATA", raising=False)
    run = reproduce("neural_processes", "smoke", out=tmp_path, device="cpu")
    ledger = json.loads((run / LEDGER_FILE).read_text())
    res = json.loads((run / "results.json").read_text())
    assert ledger["seeds"] == res["seeds"] and ledger["claims"] and ledger["second_look_of"] == []
    assert set(ledger["git"]) == {"commit", "dirty"} and len(ledger["claims_code_sha256"]) == 64
    res = json.loads((run / "results.json").read_text())
    assert all(c["post_hoc"] == [] for c in res["claims"])
    # a threshold moved after the run began: re-judging says so, in results and report
    ledger["claims"][0]["threshold"] += 1.0
    (run / LEDGER_FILE).write_text(json.dumps(ledger))
    res = refinalize(run)
    first = res["claims"][0]
    assert first["id"] == ledger["claims"][0]["id"] and "threshold" in first["post_hoc"][0]
    assert "**post hoc**" in (run / "report.md").read_text()
    # a second run of the same preset is a second look at the first
    again = reproduce("neural_processes", "smoke", out=tmp_path, device="cpu")
    assert json.loads((again / LEDGER_FILE).read_text())["second_look_of"] == [str(run)]


def test_publishing_a_run_copies_its_ledger(tmp_path):
    """``report --update-docs`` (``collect_reports``) copies ``preregistration.json`` with the
    run, so published verdicts stay checkable against what was declared before the run."""
    from paperzoo.app.report import collect_reports

    run = tmp_path / "runs" / "m" / "quick" / "20260101-000000"
    run.mkdir(parents=True)
    res = {"method": "m", "preset": "quick", "seeds": [0], "arms": {}, "claims": []}
    (run / "results.json").write_text(json.dumps(res))
    (run / "meta.json").write_text(json.dumps({"git_sha": "abc"}))
    (run / LEDGER_FILE).write_text(json.dumps({"claims": []}))
    docs = tmp_path / "docs"
    collect_reports(tmp_path / "runs", docs)
    assert json.loads((docs / "m" / "quick" / LEDGER_FILE).read_text()) == {"claims": []}
