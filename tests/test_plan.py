"""``paperzoo plan``: the power of the CI95 to resolve a threshold (noncentral t) against a
brute-force simulation, hand cases, the command on a committed run and its bad input."""

import json
import math
import shutil
import types
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t

from paperzoo.app.plan import CAP, plan, power, render_plan, seeds_needed
from paperzoo.cli import main
from paperzoo.core.claims import MIN_HEADLINE_SEEDS, ClaimSpec

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"
FEDERATED = RESULTS / "federated" / "quick"
ASR = RESULTS / "asr" / "quick"
DRAWS = 4000


def _simulated_power(n, mean, sd, tau, rng, draws=DRAWS):
    """Share of ``draws`` pilots of n seeds, d ~ N(mean, sd), whose CI95 excludes tau."""
    d = rng.normal(mean, sd, size=(draws, n))
    m, s = d.mean(1), d.std(1, ddof=1)
    half = t.ppf(0.975, n - 1) * s / math.sqrt(n)
    return float(np.mean((m - half > tau) | (m + half < tau)))


def _se(p, draws=DRAWS):
    return math.sqrt(p * (1 - p) / draws)


@pytest.mark.parametrize(
    "n, mean, sd, tau",
    [(3, 0.01, 0.004, 0.005), (5, 0.2, 1.0, -0.5), (12, -0.3, 0.5, 0.0), (30, 0.5, 1.0, 0.1)],
)
def test_power_matches_a_simulation(n, mean, sd, tau):
    sim = _simulated_power(n, mean, sd, tau, np.random.default_rng(n))
    assert abs(power(n, mean, sd, tau) - sim) < 4 * _se(0.5) + 1e-3


@pytest.mark.parametrize(
    "mean, sd, tau", [(2.0, 1.0, 0.0), (1.0, 1.5, 0.2), (0.004, 0.003, 0.005), (-0.3, 0.4, 0.1)]
)
def test_seeds_needed_is_the_first_n_with_80_percent_power(mean, sd, tau):
    n = seeds_needed(mean, sd, tau)
    assert n is not None and 3 <= n <= CAP
    assert power(n, mean, sd, tau) >= 0.8 > power(n - 1, mean, sd, tau)
    rng = np.random.default_rng(0)
    at_n, below = (_simulated_power(k, mean, sd, tau, rng) for k in (n, n - 1))
    assert at_n >= 0.8 - 3 * _se(0.8)  # reaches 80 %, within Monte Carlo error
    assert below < 0.8 + 3 * _se(0.8)  # one seed fewer does not
    for k, sim in ((n, at_n), (n - 1, below)):
        assert abs(sim - power(k, mean, sd, tau)) < 4 * _se(0.8), k


def test_hand_cases():
    assert seeds_needed(10.0, 0.1, 0.0) == 2  # a large effect: the smallest n
    assert seeds_needed(-10.0, 0.1, 0.0) == 2  # a clear failure resolves as fast
    assert seeds_needed(0.5, 0.0, 0.1) == 2  # no spread: two seeds fix the interval
    assert seeds_needed(0.3, 1.0, 0.3) is None  # effect = threshold: no n ever resolves it
    assert seeds_needed(0.3, 0.0, 0.3) is None
    assert power(np.arange(2, 50), 0.3, 1.0, 0.3) == pytest.approx(0.05)  # the test's level
    assert seeds_needed(0.101, 1.0, 0.1) is None  # tiny effect: beyond the cap
    assert seeds_needed(10.0, 0.1, 0.0, floor=MIN_HEADLINE_SEEDS) == MIN_HEADLINE_SEEDS
    ns = np.arange(2, CAP + 1)
    p = power(ns, 0.2, 1.0, 0.0)
    assert np.all(np.diff(p) > 0) and np.all(np.isfinite(p))
    assert np.all(power(ns, 1e9, 1.0, 0.0) == 1.0)  # scipy's series give up: power 1


def _claims(*specs):
    return types.SimpleNamespace(load_claims=lambda: lambda results: list(specs))


def test_headline_floor_order_and_preset_seeds(monkeypatch):
    """A headline claim gets at least MIN_HEADLINE_SEEDS and comes first; the preset's seeds are
    the most its headline and secondary claims need, checks aside."""
    arm, base = "mnist/fedmix", "mnist/fedavg"
    specs = (
        ClaimSpec("check_hard", "", "test/final_acc", arm, (base,), threshold=0.0028),
        ClaimSpec("easy", "", "test/final_acc", arm, (base,), threshold=-0.5, role="headline"),
        ClaimSpec(
            "vs_both",
            "",
            "test/auc",
            arm,
            (base, "mnist/naivemix"),
            threshold=-0.003,
            role="secondary",
        ),
    )
    monkeypatch.setattr("paperzoo.app.plan.get_experiment", lambda m, p: _claims(*specs))
    p = plan("federated", "quick", FEDERATED)
    rows = {r["id"]: r for r in p["claims"]}
    assert [r["id"] for r in p["claims"]] == ["easy", "vs_both", "check_hard"]
    assert rows["easy"]["seeds_needed"] == MIN_HEADLINE_SEEDS
    both = rows["vs_both"]  # the deciding comparison: the baseline needing the most seeds
    assert len(both["comparisons"]) == 2
    needs = [c["seeds_needed"] for c in both["comparisons"]]
    assert both["seeds_needed"] == max(needs) and min(needs) < max(needs)
    assert rows["check_hard"]["needed"] == f"> {CAP}"
    assert p["preset_seeds"]["seeds"] == both["seeds_needed"]
    per_seed = p["pilot_cpu_s"] / 3
    assert rows["easy"]["cpu_s_estimate"] == pytest.approx(per_seed * MIN_HEADLINE_SEEDS)


def test_the_command_on_a_committed_run(capsys):
    from paperzoo.core.engine import Results
    from paperzoo.core.presets import build_config
    from paperzoo.core.registry import get_experiment

    stored = json.loads((FEDERATED / "results.json").read_text())
    cfg = build_config("federated", "quick")
    specs = get_experiment("federated", "quick").load_claims()(
        Results(cfg, stored["seeds"], stored["arms"])
    )
    assert specs
    assert main(["plan", "federated", "--preset", "quick", "--from", str(FEDERATED)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for spec in specs:  # one row per claim the preset declares
        assert sum(ln.startswith(spec.id + " ") for ln in lines) == 1, spec.id
    assert "estimate from the pilot's cost per seed" in out
    assert "seeds for federated/quick:" in out
    assert main(["plan", "federated", "--from", str(FEDERATED), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert sorted(c["id"] for c in p["claims"]) == sorted(s.id for s in specs)
    order = ["headline", "secondary", "check"]
    ranks = [order.index(c["role"]) for c in p["claims"]]
    assert ranks == sorted(ranks)  # headline first
    arms = stored["arms"]
    for row in p["claims"]:  # mean d: the paired per-seed differences of the pilot
        sign = 1 if row["direction"] == "higher" else -1
        a, b = (np.asarray(arms[x][row["metric"]]) for x in (row["arm"], row["vs"]))
        assert row["pilot_seeds"] == 3 and row["mean_d"] == pytest.approx(np.mean(sign * (a - b)))
        assert row["sd_d"] == pytest.approx(np.std(sign * (a - b), ddof=1))
    assert render_plan(p) == out  # --json holds what the table shows


def _pilot(tmp_path, src, edit):
    dst = tmp_path / "pilot"
    dst.mkdir()
    shutil.copy(src / "config.toml", dst / "config.toml")
    res = json.loads((src / "results.json").read_text())
    edit(res)
    (dst / "results.json").write_text(json.dumps(res))
    return dst


def _drop_metric(res):
    del res["arms"]["mnist/naivemix"]["test/auc"]


def _one_seed(res):
    res["seeds"] = res["seeds"][:1]
    for arm in res["arms"].values():
        for m in arm:
            arm[m] = arm[m][:1]


@pytest.mark.parametrize(
    "argv, edit, says",
    [
        (["nosuch", "--from", str(FEDERATED)], None, "unknown method"),
        (["federated", "--preset", "nosuch", "--from", str(FEDERATED)], None, "unknown preset"),
        (["federated", "--from", "EMPTY"], None, "no results.json"),
        (["federated", "--from", str(ASR)], None, "comes from asr, not federated"),
        (["asr", "--from", "PILOT"], lambda r: r["arms"].pop("mma"), "no arm 'mma'"),
        (["federated", "--from", "PILOT"], _one_seed, "needs at least 2"),
    ],
    ids=["method", "preset", "no-results", "other-method", "arm", "one-seed"],
)
def test_bad_input_exits_2_with_one_line(argv, edit, says, tmp_path, capsys):
    if "PILOT" in argv:
        src = ASR if argv[0] == "asr" else FEDERATED
        argv = [str(_pilot(tmp_path, src, edit)) if a == "PILOT" else a for a in argv]
    argv = [str(tmp_path) if a == "EMPTY" else a for a in argv]
    assert main(["plan", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_a_claim_the_pilot_never_measured_gets_its_roles_minimum(tmp_path, monkeypatch):
    """A claim declared after the pilot (its metric missing on a compared arm) is not sized from
    numbers it does not have: the row asks for the minimum of its role and says why, and the
    preset's seeds still come from the claims that were measured."""
    arm, base = "mnist/fedmix", "mnist/fedavg"
    specs = (
        ClaimSpec("new", "", "test/auc", arm, ("mnist/naivemix",), role="headline"),
        ClaimSpec("old", "", "test/final_acc", arm, (base,), threshold=-0.5, role="secondary"),
    )
    monkeypatch.setattr("paperzoo.app.plan.get_experiment", lambda m, p: _claims(*specs))
    p = plan("federated", "quick", _pilot(tmp_path, FEDERATED, _drop_metric))
    rows = {r["id"]: r for r in p["claims"]}
    assert rows["new"]["seeds_needed"] == MIN_HEADLINE_SEEDS
    assert rows["new"]["needed"] == f"{MIN_HEADLINE_SEEDS} (no pilot)"
    assert "did not record 'test/auc' of arm 'mnist/naivemix'" in rows["new"]["note"]
    assert rows["old"]["pilot_seeds"] == 3 and rows["old"]["mean_d"] is not None
    assert p["preset_seeds"]["seeds"] == max(MIN_HEADLINE_SEEDS, rows["old"]["seeds_needed"])
    assert "(no pilot)" in render_plan(p)


def test_reference_proposes_a_level_for_the_pilots_data_set(capsys):
    """`plan --reference`: a reference gate's level from the pilot's per-seed values (mean - 2
    sd for a min gate), as a --set line keyed by the pilot's data set (here: its env id)."""
    import json as _json

    import numpy as _np

    from paperzoo.app.plan import reference_levels

    pilot = RESULTS / "rl" / "quick"
    r = reference_levels("rl", "quick", pilot)
    (g,) = [g for g in r["gates"] if g["setting"] == "claims.reference_return"]
    arms = _json.loads((pilot / "results.json").read_text())["arms"]
    vals = [v for a in g["arms"] for v in arms[a][g["metric"]]]
    assert g["dataset"] == "Pendulum-v1" and g["kind"] == "min"
    assert g["proposed"] == pytest.approx(_np.mean(vals) - 2 * _np.std(vals, ddof=1))
    assert main(["plan", "rl", "--reference", "--from", str(pilot)]) == 0
    assert "--set claims.reference_return.Pendulum-v1=" in capsys.readouterr().out
