"""The quantization reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]


def claims(results: Results) -> list[ClaimSpec]:
    """DropBits lowers the STE's bias (toy); CPQ+DropBits beats LSQ/RQ at the lowest bits; CPQ
    clusters weights more than LSQ; learned bits match uniform ones within the budget. Gated on
    the FP32 model's error and, for learned bits, on a heterogeneous allocation."""
    cfg: Config = results.config
    cc, q, bw = cfg.claims, cfg.quant, cfg.bitwidth
    out = []
    for b in cfg.estimator.bit_widths:
        est = f"estimator/b{b}"
        what = f"DropBits (p={q.drop_rate:g}) lowers the multi-class STE's squared bias ({b}-bit)"
        out.append(
            ClaimSpec(
                f"dropbits_lowers_ste_bias_b{b}",
                what,
                "estimator/bias_sq",
                f"{est}/ste_dropbits_p{q.drop_rate:g}",
                (f"{est}/ste",),
                higher_is_better=False,
                threshold=cc.min_bias_reduction,
            )
        )
    ref = cc.fp32_max_error.get(cfg.data.dataset)
    why = "the FP32 model misses its known error"
    gates = (
        ()
        if ref is None
        else (Gate("fp32_reference", "eval/test_error", ref, "max", ("fp32",), why),)
    )
    low = min(q.bit_widths)
    w = f"W{low}A{low}"
    if {"cpq_dropbits", "lsq", "rq"} <= set(q.methods):
        what = f"CPQ+DropBits has a lower {low}-bit test error than LSQ and RQ"
        out.append(
            ClaimSpec(
                "cpq_dropbits_beats_lsq_rq_low_bits",
                what,
                "eval/test_error",
                f"{w}/cpq_dropbits",
                (f"{w}/lsq", f"{w}/rq"),
                False,
                cc.min_error_gain,
                gates=gates,
            )
        )
    if {"cpq", "lsq"} <= set(q.methods):
        what = f"CPQ's clustering index is below LSQ's ({low}-bit hidden layers; 0.25 = none)"
        out.append(
            ClaimSpec(
                "cpq_clusters_more_than_lsq",
                what,
                "eval/clustering_index",
                f"{w}/cpq",
                (f"{w}/lsq",),
                False,
                cc.min_cluster_gain,
                gates=gates,
            )
        )
    if not bw.enabled:
        return out
    for arm, base, label in (
        ("learned", "uniform", "fine-tuned from FP32"),
        ("learned_scratch", "uniform_scratch", "retrained"),
    ):
        a = (f"bits/{arm}",)
        engaged = (
            Gate(
                "heterogeneous_bits",
                "bits/heterogeneous",
                1.0,
                "min",
                a,
                "the learned allocation equals uniform in some seed",
            ),
            Gate(
                "within_budget",
                "bits/average",
                float(bw.target_bits),
                "max",
                a,
                "the learned average exceeds the budget",
            ),
        )
        what = (
            f"Learned weight bits ({label}) are at most {cc.match_margin:g} points worse "
            f"than uniform {bw.target_bits}-bit weights, within the budget"
        )
        out.append(
            ClaimSpec(
                f"learned_bits_match_uniform_{base}",
                what,
                "eval/test_error",
                a[0],
                (f"bits/{base}",),
                False,
                -cc.match_margin,
                gates=gates + engaged,
            )
        )
    return out
