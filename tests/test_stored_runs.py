"""Every committed run's config still loads into its method's current Config (fields renamed
since are read under their new names through the config's ``RENAMED``)."""

from pathlib import Path

import pytest
import tomllib

from paperzoo.core.config import config_from_dict, validate
from paperzoo.core.registry import get_experiment

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
RUNS = sorted(p.parent for p in RESULTS.glob("*/*/config.toml"))


@pytest.mark.parametrize("run", RUNS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_config_loads(run):
    method, preset = run.parent.name, run.name
    exp = get_experiment(method, "smoke")
    cls = type(exp.make_config())
    stored = tomllib.loads((run / "config.toml").read_text())
    cfg = config_from_dict(cls, stored)
    validate(cfg)  # still inside every field's declared range
    assert cfg.seeds == stored["seeds"], preset


RESULTS_FILES = sorted(RESULTS.glob("*/*/results.json"))


@pytest.mark.parametrize(
    "path", RESULTS_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}"
)
def test_committed_verdicts_recompute_from_their_numbers(path):
    """Each committed verdict and effect is what today's claims code computes from the run's
    stored per-seed numbers (a moved or renamed module must not change a verdict)."""
    import json

    from paperzoo.app.reproduce import judge_results
    from paperzoo.core.engine import Results

    stored = json.loads(path.read_text())
    exp = get_experiment(stored["method"], stored["preset"])
    cfg = config_from_dict(
        type(exp.make_config()), tomllib.loads((path.parent / "config.toml").read_text())
    )
    results = Results(cfg, stored["seeds"], stored["arms"])
    # as `paperzoo report --rejudge-docs` judges a stored run: a claim declared after it that
    # reads what it never recorded is inconclusive, not an error
    claims = judge_results(exp, results, stored=True)
    got = {c.id: (c.verdict, c.effect["mean"]) for c in claims}
    want = {c["id"]: (c["verdict"], c["effect"]["mean"]) for c in stored["claims"]}
    assert got == want
