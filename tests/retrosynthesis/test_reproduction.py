"""The reproduction's plumbing: units and their dependencies, the toy data's splits, claims on
hand-made per-seed results (holds / fails / inconclusive and every gate), the saved model and
the `paperzoo retro predict` command."""

import dataclasses

import pytest
import torch

pytest.importorskip("rdkit")

from paperzoo.cli import main
from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results
from paperzoo.retrosynthesis import RetCLModel, load_model, save_model
from paperzoo.retrosynthesis.data import ReactionData, toy_reactions
from paperzoo.retrosynthesis.repro.claims import claims
from paperzoo.retrosynthesis.repro.experiments import quick, smoke
from paperzoo.retrosynthesis.repro.train import num_negatives, units


def test_units_pair_seeds_and_baselines_repeat_their_first_seed():
    cfg = dataclasses.replace(smoke(), seeds=[3, 4])
    us = {u.key: u for u in units(cfg)}
    assert set(us) == {f"{a}/seed{s}" for a in cfg.arms for s in (3, 4)}
    assert us["RetroSim/seed4"].deps == ("RetroSim/seed3",)
    assert us["RetCL-N4/seed4"].deps == ()
    assert num_negatives("RetCL-N4") == 4 and num_negatives("RetCL-N12") == 12
    assert num_negatives("RetroSim") is None
    with pytest.raises(ValueError, match="unknown arm"):
        units(dataclasses.replace(cfg, arms=["RetCL-4"]))


def test_toy_data_has_an_unseen_template_and_full_candidates():
    data = ReactionData(*toy_reactions()).index()
    assert data.unseen and any(data.unseen) and not all(data.unseen)
    # every recorded reactant of every split is a candidate; products come after them
    for split in (data.train, data.val, data.test):
        for r in split:
            assert all(data.row[x] < data.candidates for x in r.reactants)
    sub = data.subset(num_test=3)
    assert len(sub.test) == 3 and sub.candidates == data.candidates
    assert sub.unseen == data.unseen[:3]
    with_products = ReactionData(*toy_reactions()).index("products")
    assert with_products.candidates > data.candidates


N = 4  # a headline is judged on at least 4 paired seeds


def _four(v):
    """Two hand-made seeds repeated (N = 4 paired seeds); a scalar for every seed."""
    return list(v) * 2 if isinstance(v, (list, tuple)) else [v] * N


def _claims(n4, n0, rs=(0.3, 0.3), drop4=(0.1, 0.12), dropsim=(0.5, 0.5), top1drop4=(0.12, 0.13),
            top1dropsim=(0.4, 0.4), change=(0.0, 0.01), refreshes=(8.0, 8.0), coverage=1.0,
            seeds=N):  # fmt: skip
    cfg = dataclasses.replace(quick(), seeds=list(range(seeds)))

    def arm(top1, top10, drop, extra, top1drop=(0.2, 0.2)):
        return {
            "eval/top1": _four(top1),
            "eval/top10": [v + 0.2 for v in _four(top10)],
            "eval/top10_drop": _four(drop),
            "eval/top1_drop_all": _four(top1drop),
            "data/gt_coverage": _four(coverage),
            **extra,
        }

    retcl = {"train/val_top1_change": _four(change)}
    arms = {
        "RetCL-N4": arm(
            n4,
            n4,
            drop4,
            {**retcl, "train/refreshes": _four(refreshes)},
            top1drop4,
        ),
        "RetCL-N0": arm(n0, n0, drop4, {**retcl, "train/refreshes": _four(0.0)}),
        "RetroSim": arm(rs, rs, dropsim, {}, top1dropsim),
        "Popularity": arm((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), {}),
    }
    arms = {a: {k: v[:seeds] for k, v in m.items()} for a, m in arms.items()}
    return {c.id: c for c in judge_all(claims(Results(cfg, cfg.seeds, arms)), arms)}


def _judge(*args, **kw):
    return {i: c.verdict for i, c in _claims(*args, **kw).items()}


def test_claims_hold_fail_and_inconclusive():
    v = _judge(n4=(0.45, 0.46), n0=(0.40, 0.41))
    assert v == {
        "negatives_help_top1": "holds",
        "negatives_help_top10": "holds",
        "smaller_unseen_drop_than_retrosim": "holds",
        "unseen_top1_drop_smaller": "holds",
        "retcl_beats_retrosim_top1": "holds",
    }
    v = _judge(n4=(0.40, 0.41), n0=(0.45, 0.46), drop4=(0.6, 0.6), top1drop4=(0.5, 0.5))
    assert v["negatives_help_top1"] == "fails"
    assert v["smaller_unseen_drop_than_retrosim"] == "fails"
    assert v["unseen_top1_drop_smaller"] == "fails"
    # a smaller drop than RetroSim's but by less than the margin (0.05) fails too
    v = _judge(n4=(0.45, 0.46), n0=(0.40, 0.41), top1drop4=(0.38, 0.38))
    assert v["unseen_top1_drop_smaller"] == "fails"
    v = _judge(n4=(0.45, 0.40), n0=(0.40, 0.45))  # +0.05 and -0.05: the CI spans zero
    assert v["negatives_help_top1"] == "inconclusive"


@pytest.mark.parametrize(
    "gate",
    [
        {"change": (0.05, 0.06)},
        {"refreshes": (0.0, 0.0)},
        {"coverage": 0.98},
        # one seed is enough: gates read every seed (the means would pass)
        {"change": [0.0, 0.01, 0.0, 0.06]},
        {"refreshes": [8.0, 8.0, 8.0, 0.0]},
    ],
)
def test_every_gate_makes_the_negatives_claim_inconclusive(gate):
    v = _judge(n4=(0.45, 0.46), n0=(0.40, 0.41), **gate)
    assert v["negatives_help_top1"] == "inconclusive"


GATE_FAILURES = {
    "ground_truth_in_candidates": {"coverage": [1.0, 1.0, 1.0, 0.99]},
    "val_plateau": {"change": [0.0, 0.01, 0.0, 0.05]},
    "refresh_ran": {"refreshes": [8.0, 8.0, 0.0, 8.0]},
    "finite": {"top1dropsim": [0.4, 0.4, 0.4, float("nan")]},
}


@pytest.mark.parametrize("name", sorted(GATE_FAILURES))
def test_each_gate_can_fail_and_then_every_claim_it_guards_is_inconclusive(name):
    """No gate passes by construction: each fails on one bad seed, and every claim that
    carries it (all of them hold without the failure) turns inconclusive, with that gate
    recorded as failed."""
    good = _claims(n4=(0.45, 0.46), n0=(0.40, 0.41))
    assert {c.verdict for c in good.values()} == {"holds"}
    bad = _claims(n4=(0.45, 0.46), n0=(0.40, 0.41), **GATE_FAILURES[name])
    guarded = [i for i, c in good.items() if any(g["name"] == name for g in c.gates)]
    if name == "finite":  # the bad seed is in RetroSim's top-1 drop: that claim alone
        guarded = ["unseen_top1_drop_smaller"]
    assert guarded
    for i in guarded:
        assert bad[i].verdict == "inconclusive", i
        assert not next(g for g in bad[i].gates if g["name"] == name)["passed"], i


def test_claims_finite_gate_and_roles():
    c = _claims(n4=(0.45, 0.46), n0=(0.40, 0.41))
    assert c["retcl_beats_retrosim_top1"].gates[0]["name"] == "finite"
    assert c["retcl_beats_retrosim_top1"].gates[0]["passed"]
    for bad in (float("nan"), 1.2):  # not a top-1 fraction: never an effect
        c = _claims(n4=(0.45, 0.46), n0=(0.40, 0.41), rs=[0.3, 0.3, 0.3, bad])
        assert c["retcl_beats_retrosim_top1"].verdict == "inconclusive"
        assert not c["retcl_beats_retrosim_top1"].gates[0]["passed"]

    cfg = dataclasses.replace(quick(), seeds=[0, 1])
    specs = claims(Results(cfg, cfg.seeds, {a: {} for a in cfg.arms}))
    assert {s.role for s in specs} <= set(ROLES)
    assert {s.id for s in specs if s.role == "headline"} == {
        "retcl_beats_retrosim_top1",
        "smaller_unseen_drop_than_retrosim",
    }
    assert all(s.threshold_reason and s.bounds for s in specs)
    assert "71.3" in next(s.paper for s in specs if s.id == "retcl_beats_retrosim_top1")
    # two seeds (the committed quick run): the headlines are inconclusive, the others judged
    v = _judge(n4=(0.45, 0.46), n0=(0.40, 0.41), seeds=2)
    assert v["retcl_beats_retrosim_top1"] == "inconclusive"
    assert v["smaller_unseen_drop_than_retrosim"] == "inconclusive"
    assert v["negatives_help_top1"] == v["unseen_top1_drop_smaller"] == "holds"


def test_saved_model_round_trips(tmp_path):
    torch.manual_seed(0)
    m = RetCLModel(16, 2, num_classes=10).eval()
    path = save_model(m, tmp_path / "m.pt")
    back = load_model(path)
    assert back.num_classes == 10 and back.dim == 16
    for (k, a), (_, b) in zip(m.state_dict().items(), back.state_dict().items()):
        assert torch.equal(a, b), k
    torch.save({"x": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a RetCL model"):
        load_model(tmp_path / "other.pt")


def test_predict_command(tmp_path, capsys):
    torch.manual_seed(0)
    model = save_model(RetCLModel(16, 2), tmp_path / "m.pt")
    stock = tmp_path / "stock.smi"
    stock.write_text("smiles\nCC(=O)Cl\nNc1ccccc1\nCCO\n# a comment\nCC(=O)O\n")
    argv = ["retro", "predict", "CC(=O)Nc1ccccc1", "--model", str(model)]
    assert main([*argv, "--candidates", str(stock), "--top-k", "2", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"product": "CC(=O)Nc1ccccc1"' in out and 'CC(=O)Nc1ccccc1"]' not in out
    assert main([*argv, "--candidates", str(tmp_path / "none.smi")]) == 2
    assert (
        main(["retro", "predict", "C1CC", "--model", str(model), "--candidates", str(stock)]) == 2
    )
    assert "C1CC" in capsys.readouterr().err
    assert main(["retro", "predict", "CCO", "--model", str(tmp_path / "x.pt")]) == 2
    assert main([*argv, "--candidates", str(stock), "--reaction-class", "3"]) == 2
