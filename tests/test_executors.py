"""The same seeds give the same per-unit numbers in this process, in 2 local worker processes
and as Ray tasks (a local Ray cluster), on a registered smoke preset. Also: no method builds a
judged ``Claim`` itself (only core judges)."""

import json
import re
from pathlib import Path

import pytest

from paperzoo.app.reproduce import reproduce

SRC = Path(__file__).resolve().parents[1] / "src" / "paperzoo"


def _units(run: Path) -> dict:
    return {p.name: json.loads(p.read_text())["metrics"] for p in (run / "units").glob("*.json")}


def _run(tmp_path, name, **kw):
    return reproduce(
        "neural_processes",
        "smoke",
        out=tmp_path / name,
        device="cpu",
        data_root=tmp_path / "no-data",
        threads=1,
        **kw,
    )


@pytest.mark.slow
def test_serial_and_two_processes_agree(tmp_path):
    serial = _run(tmp_path, "serial", workers=1)
    parallel = _run(tmp_path, "parallel", workers=2)
    assert _units(serial) == _units(parallel) and len(_units(serial)) == 3
    a = json.loads((serial / "results.json").read_text())
    b = json.loads((parallel / "results.json").read_text())
    assert a["arms"] == b["arms"] and b["workers"] == 2
    assert [c["verdict"] for c in a["claims"]] == [c["verdict"] for c in b["claims"]]


@pytest.mark.slow
def test_ray_agrees_with_serial(tmp_path):
    pytest.importorskip("ray")
    serial = _run(tmp_path, "serial", workers=1)
    ray_run = _run(tmp_path, "ray", workers=2, executor="ray")
    assert _units(serial) == _units(ray_run)
    assert json.loads((ray_run / "results.json").read_text())["executor"] == "ray"


def test_no_claim_is_built_outside_core():
    offenders = []
    for f in SRC.rglob("*.py"):
        if f.parent.name == "core":
            continue
        if re.search(r"(?<![A-Za-z_.])Claim\(", f.read_text()):
            offenders.append(str(f.relative_to(SRC)))
    assert not offenders, f"judged Claim objects are built only by core.claims.judge: {offenders}"
