"""CPQ claims on hand-made per-seed results (4 paired seeds, the fewest a headline claim is
judged on): holds, fails, inconclusive (FP32 and heterogeneous-bits gates, read per seed; a data
set without a declared FP32 level), the standard finite gate, and the declared roles."""

import dataclasses

import pytest

from paperzoo.app.ledger import spec_record
from paperzoo.core.claims import ROLES, judge_all
from paperzoo.core.engine import Results
from paperzoo.core.presets import build_config
from paperzoo.quantization.repro.claims import claims
from paperzoo.quantization.repro.config import EstimatorConfig, QuantConfig
from paperzoo.quantization.repro.experiments import quick

SEEDS = [0, 1, 2, 3]


def _specs_and_arms(
    cpq_err,
    fp32_err=(0.8, 0.9, 0.85, 0.88),
    hetero=(1.0, 1.0, 1.0, 1.0),
    contrast=(18.0, 9.0, 20.0, 15.0),
    learned_bits=(2.6, 2.9, 2.7, 2.8),
    scratch=(1.2, 1.25, 1.3, 1.22),
    rq_err=(2.5, 2.4, 2.6, 2.45),
    cfg=None,
):
    cfg = dataclasses.replace(
        cfg or quick(),
        seeds=SEEDS,
        quant=QuantConfig(bit_widths=[2], methods=["lsq", "rq", "cpq", "cpq_dropbits"]),
        estimator=EstimatorConfig(bit_widths=[2], drop_rates=[0.1]),
    )
    e = lambda v: {"eval/test_error": list(v)}  # noqa: E731
    arms = {
        "estimator/b2/ste": {"estimator/bias_sq": [0.36] * 4},
        "estimator/b2/ste_dropbits_p0.1": {"estimator/bias_sq": [0.26, 0.29, 0.27, 0.28]},
        "fp32": e(fp32_err),
        "W2A2/lsq": {**e([2.0, 2.1, 2.2, 2.05]), "eval/clustering_index": [0.26] * 4},
        "W2A2/rq": {**e(rq_err), "eval/clustering_index": [0.26] * 4},
        "W2A2/cpq": {
            **e([1.5, 1.6, 1.7, 1.55]),
            "eval/clustering_index": [0.20, 0.21, 0.19, 0.20],
            "eval/slope_contrast": list(contrast),
        },
        "W2A2/cpq_dropbits": e(cpq_err),
    }
    for arm, base in (("learned", "uniform"), ("learned_scratch", "uniform_scratch")):
        arms[f"bits/{arm}"] = {
            **e([1.5, 1.6, 1.55, 1.58] if arm == "learned" else [0.8, 0.9, 0.85, 0.82]),
            "bits/param_weighted": list(learned_bits),
            "bits/heterogeneous": list(hetero),
        }
        arms[f"bits/{base}"] = {
            **e(scratch if base == "uniform_scratch" else [1.9, 1.95, 2.0, 1.98]),
            "bits/param_weighted": [3.0] * 4,
            "bits/heterogeneous": [0.0] * 4,
        }
    return claims(Results(cfg, cfg.seeds, arms)), arms


def _verdicts(cpq_err, **kw):
    specs, arms = _specs_and_arms(cpq_err, **kw)
    return {c.id: c for c in judge_all(specs, arms)}


def test_holds_and_fails():
    v = _verdicts([1.2, 1.3, 1.25, 1.28])
    assert v["dropbits_lowers_ste_bias_b2"].verdict == "holds"
    assert v["cpq_dropbits_beats_lsq_rq_b2"].verdict == "holds"
    assert v["cpq_beats_rq_b2"].verdict == "holds"
    assert v["dropbits_improves_cpq_b2"].verdict == "holds"
    assert v["cpq_clusters_more_than_lsq_b2"].verdict == "holds"
    assert v["learned_bits_match_uniform"].verdict == "holds"
    assert v["heterogeneous_scratch_beats_fixed"].verdict == "holds"  # 0.35-0.45 lower
    worse = _verdicts([3.0, 3.1, 3.2, 3.05])
    assert worse["cpq_dropbits_beats_lsq_rq_b2"].verdict == "fails"
    assert worse["dropbits_improves_cpq_b2"].verdict == "fails"


def test_the_headline_needs_four_seeds():
    specs, arms = _specs_and_arms([1.2, 1.3, 1.25, 1.28])
    three = {a: {k: v[:3] for k, v in m.items()} for a, m in arms.items()}
    v = {c.id: c for c in judge_all(specs, three)}
    c = v["cpq_dropbits_beats_lsq_rq_b2"]
    assert c.verdict == "inconclusive" and "at least 4 paired seeds" in c.reason
    assert v["cpq_beats_rq_b2"].verdict == "holds"  # a secondary claim is judged on 3


def test_gates_make_verdicts_inconclusive():
    weak_fp32 = _verdicts([1.2, 1.3, 1.25, 1.28], fp32_err=(7.0, 7.5, 7.2, 7.1))
    assert all(
        c.verdict == "inconclusive"
        for k, c in weak_fp32.items()
        if "estimator" not in k and not k.startswith("dropbits_lowers") and "scratch" not in k
    )
    assert weak_fp32["dropbits_lowers_ste_bias_b2"].verdict == "holds"  # the toy needs no FP32
    assert weak_fp32["heterogeneous_scratch_beats_fixed"].verdict == "holds"  # no FP32 involved
    # Gates read every seed: one FP32 seed above 1% (the mean, 0.94, is below) is enough.
    one_weak = _verdicts([1.2, 1.3, 1.25, 1.28], fp32_err=(0.8, 0.9, 1.2, 0.85))
    c = one_weak["cpq_beats_rq_b2"]
    assert c.verdict == "inconclusive" and "fp32_reference" in c.reason and "seed #2" in c.reason
    uniform = _verdicts([1.2, 1.3, 1.25, 1.28], hetero=(1.0, 0.0, 1.0, 1.0))
    for cid in ("learned_bits_match_uniform", "heterogeneous_scratch_beats_fixed"):
        c = uniform[cid]
        assert c.verdict == "inconclusive" and "uniform in some seed" in c.reason
    small = _verdicts([1.2, 1.3, 1.25, 1.28], learned_bits=(1.45, 1.41, 1.45, 1.43))  # vs 3
    for cid in ("learned_bits_match_uniform", "heterogeneous_scratch_beats_fixed"):
        c = small[cid]
        assert c.verdict == "inconclusive" and "near_budget" in c.reason
    slow = _verdicts([1.2, 1.3, 1.25, 1.28], scratch=(2.4, 2.6, 2.9, 2.5))
    c = slow["heterogeneous_scratch_beats_fixed"]
    assert c.verdict == "inconclusive" and "scratch_converged" in c.reason
    flat = _verdicts([1.2, 1.3, 1.25, 1.28], contrast=(1.1, 1.08, 1.2, 1.15))  # sigma/step ~ 1/3
    c = flat["cpq_clusters_more_than_lsq_b2"]
    assert c.verdict == "inconclusive" and "cluster_promoting_regime" in c.reason
    assert flat["cpq_beats_rq_b2"].verdict == "holds"  # the regime gates clustering only


def test_a_diverged_baseline_is_inconclusive_not_a_huge_effect():
    v = _verdicts([1.2, 1.3, 1.25, 1.28], rq_err=(2.5, 2.4, float("nan"), 2.45))
    for cid in ("cpq_beats_rq_b2", "cpq_dropbits_beats_lsq_rq_b2"):
        c = v[cid]
        assert c.verdict == "inconclusive" and c.gates[0]["name"] == "finite"
        assert not c.gates[0]["passed"] and "W2A2/rq seed #2" in c.reason
    out = _verdicts([1.2, 1.3, 1.25, 1.28], rq_err=(2.5, 2.4, 140.0, 2.45))  # not a percentage
    assert out["cpq_beats_rq_b2"].verdict == "inconclusive"
    assert v["cpq_clusters_more_than_lsq_b2"].gates[0]["passed"]  # another metric


def test_roles_are_declared():
    specs, _ = _specs_and_arms([1.2, 1.3, 1.25, 1.28])
    roles = {s.id: s.role for s in specs}
    assert all(r in ROLES for r in roles.values())
    assert [k for k, r in roles.items() if r == "headline"] == ["cpq_dropbits_beats_lsq_rq_b2"]
    assert roles["learned_bits_match_uniform"] == "check"
    assert all(s.threshold_reason for s in specs)
    assert all(s.bounds is not None for s in specs)


WIN = [1.2, 1.3, 1.25, 1.28]
SMOKE_BITS = (1.6, 1.9, 1.7, 1.8)  # the smoke preset's budget is 2 bits
FP32_GATED = ("cpq_beats_rq_b2", "cpq_dropbits_beats_lsq_rq_b2", "learned_bits_match_uniform")


def test_a_data_set_without_a_declared_level_is_inconclusive_never_ungated():
    # fp32_max_error declares mnist and cifar10 only: on Fashion-MNIST the FP32 and from-scratch
    # gates fail with the key to set, whatever the numbers (no other set's bar either).
    cfg = build_config("quantization", "smoke", overrides=["data.dataset=fashion_mnist"])
    v = _verdicts(WIN, cfg=cfg, learned_bits=SMOKE_BITS)
    for cid in FP32_GATED:
        c = v[cid]
        assert c.verdict == "inconclusive", cid
        assert (
            "gate fp32_reference: no reference level for fashion_mnist: set "
            "`claims.fp32_max_error.fashion_mnist`" in c.reason
        )
    c = v["heterogeneous_scratch_beats_fixed"]
    assert c.verdict == "inconclusive"
    assert "no reference level for fashion_mnist: set `claims.scratch_max_error." in c.reason
    assert v["dropbits_lowers_ste_bias_b2"].verdict == "holds"  # the toy has no FP32 gate
    gate = next(g for g in v["cpq_beats_rq_b2"].gates if g["name"] == "fp32_reference")
    assert not gate["passed"] and gate["reference"] is None


DOTTED = ["claims.fp32_max_error.fashion_mnist=13", "claims.scratch_max_error.fashion_mnist=13"]
TABLE = [
    "claims.fp32_max_error={fashion_mnist = 13}",
    "claims.scratch_max_error={fashion_mnist = 13}",
]


@pytest.mark.parametrize(
    "declare",
    [pytest.param(DOTTED, id="dotted"), pytest.param(TABLE, id="table")],
)
def test_a_level_the_user_declares_is_used(declare):
    cfg = build_config("quantization", "smoke", overrides=["data.dataset=fashion_mnist", *declare])
    assert cfg.claims.fp32_max_error["fashion_mnist"] == 13.0
    fp32 = (10.0, 11.0, 12.0, 12.5)  # Fashion-MNIST-like errors
    v = _verdicts(WIN, cfg=cfg, fp32_err=fp32, learned_bits=SMOKE_BITS)
    for cid in (*FP32_GATED, "heterogeneous_scratch_beats_fixed"):
        assert v[cid].verdict == "holds", cid
    gate = next(g for g in v["cpq_beats_rq_b2"].gates if g["name"] == "fp32_reference")
    assert gate["passed"] and gate["reference"] == 13.0
    # the pre-registration ledger records the declared level and the data set it is for
    specs, _ = _specs_and_arms(WIN, cfg=cfg, learned_bits=SMOKE_BITS)
    (rec,) = [
        g
        for s in specs
        if s.id == "cpq_beats_rq_b2"
        for g in spec_record(s)["gates"]
        if g["name"] == "fp32_reference"
    ]
    assert rec["reference"] == 13.0 and rec["dataset"] == "fashion_mnist"
    # the declared level is a bar like any other: one seed above it fails the gate
    worse = _verdicts(WIN, cfg=cfg, fp32_err=(10.0, 11.0, 13.5, 12.5), learned_bits=SMOKE_BITS)
    worse = worse["cpq_beats_rq_b2"]
    assert worse.verdict == "inconclusive" and "13.5 at fp32, seed #2 not <= 13" in worse.reason
