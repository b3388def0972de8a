"""CPQ claims on hand-made per-seed results: holds, fails, inconclusive (FP32 and
heterogeneous-bits gates)."""

import dataclasses

from paperzoo.core.claims import judge_all
from paperzoo.core.engine import Results
from paperzoo.quantization.repro.claims import claims
from paperzoo.quantization.repro.config import EstimatorConfig, QuantConfig
from paperzoo.quantization.repro.experiments import quick


def _verdicts(
    cpq_err,
    fp32_err=(0.8, 0.9, 0.85),
    hetero=(1.0, 1.0, 1.0),
    contrast=(18.0, 9.0, 20.0),
    learned_bits=(2.6, 2.9, 2.7),
    scratch=(1.2, 1.25, 1.3),
):
    cfg = dataclasses.replace(
        quick(),
        seeds=[0, 1, 2],
        quant=QuantConfig(bit_widths=[2], methods=["lsq", "rq", "cpq", "cpq_dropbits"]),
        estimator=EstimatorConfig(bit_widths=[2], drop_rates=[0.1]),
    )
    e = lambda v: {"eval/test_error": list(v)}  # noqa: E731
    arms = {
        "estimator/b2/ste": {"estimator/bias_sq": [0.36, 0.36, 0.36]},
        "estimator/b2/ste_dropbits_p0.1": {"estimator/bias_sq": [0.26, 0.29, 0.27]},
        "fp32": e(fp32_err),
        "W2A2/lsq": {**e([2.0, 2.1, 2.2]), "eval/clustering_index": [0.26, 0.26, 0.26]},
        "W2A2/rq": {**e([2.5, 2.4, 2.6]), "eval/clustering_index": [0.26, 0.26, 0.26]},
        "W2A2/cpq": {
            **e([1.5, 1.6, 1.7]),
            "eval/clustering_index": [0.20, 0.21, 0.19],
            "eval/slope_contrast": list(contrast),
        },
        "W2A2/cpq_dropbits": e(cpq_err),
    }
    for arm, base in (("learned", "uniform"), ("learned_scratch", "uniform_scratch")):
        arms[f"bits/{arm}"] = {
            **e([1.5, 1.6, 1.55] if arm == "learned" else [0.8, 0.9, 0.85]),
            "bits/param_weighted": list(learned_bits),
            "bits/heterogeneous": list(hetero),
        }
        arms[f"bits/{base}"] = {
            **e(scratch if base == "uniform_scratch" else [1.9, 1.95, 2.0]),
            "bits/param_weighted": [3.0] * 3,
            "bits/heterogeneous": [0.0] * 3,
        }
    res = Results(cfg, cfg.seeds, arms)
    return {c.id: c for c in judge_all(claims(res), arms)}


def test_holds_and_fails():
    v = _verdicts([1.2, 1.3, 1.25])
    assert v["dropbits_lowers_ste_bias_b2"].verdict == "holds"
    assert v["cpq_dropbits_beats_lsq_rq_b2"].verdict == "holds"
    assert v["cpq_beats_rq_b2"].verdict == "holds"
    assert v["dropbits_improves_cpq_b2"].verdict == "holds"
    assert v["cpq_clusters_more_than_lsq_b2"].verdict == "holds"
    assert v["learned_bits_match_uniform"].verdict == "holds"
    assert v["heterogeneous_scratch_beats_fixed"].verdict == "holds"  # 0.35-0.45 lower
    worse = _verdicts([3.0, 3.1, 3.2])
    assert worse["cpq_dropbits_beats_lsq_rq_b2"].verdict == "fails"
    assert worse["dropbits_improves_cpq_b2"].verdict == "fails"


def test_gates_make_verdicts_inconclusive():
    weak_fp32 = _verdicts([1.2, 1.3, 1.25], fp32_err=(7.0, 7.5, 7.2))
    assert all(
        c.verdict == "inconclusive"
        for k, c in weak_fp32.items()
        if "estimator" not in k and not k.startswith("dropbits_lowers") and "scratch" not in k
    )
    assert weak_fp32["dropbits_lowers_ste_bias_b2"].verdict == "holds"  # the toy needs no FP32
    assert weak_fp32["heterogeneous_scratch_beats_fixed"].verdict == "holds"  # no FP32 involved
    uniform = _verdicts([1.2, 1.3, 1.25], hetero=(1.0, 0.0, 1.0))
    for cid in ("learned_bits_match_uniform", "heterogeneous_scratch_beats_fixed"):
        c = uniform[cid]
        assert c.verdict == "inconclusive" and "uniform in some seed" in c.reason
    small = _verdicts([1.2, 1.3, 1.25], learned_bits=(1.45, 1.41, 1.45))  # 1.5 bits vs 3
    for cid in ("learned_bits_match_uniform", "heterogeneous_scratch_beats_fixed"):
        c = small[cid]
        assert c.verdict == "inconclusive" and "near_budget" in c.reason
    slow = _verdicts([1.2, 1.3, 1.25], scratch=(2.4, 2.6, 2.9))
    c = slow["heterogeneous_scratch_beats_fixed"]
    assert c.verdict == "inconclusive" and "scratch_converged" in c.reason
    flat = _verdicts([1.2, 1.3, 1.25], contrast=(1.1, 1.08, 1.2))  # sigma/step ~ 1/3
    c = flat["cpq_clusters_more_than_lsq_b2"]
    assert c.verdict == "inconclusive" and "cluster_promoting_regime" in c.reason
    assert flat["cpq_beats_rq_b2"].verdict == "holds"  # the regime gates clustering only
