"""The neural processes reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["BOOTSTRAP_PAIRS", "claims", "clean_and_shifts"]

BOOTSTRAP_PAIRS = (("BNP", ("CNP", "NP")), ("BANP", ("CANP", "ANP")))
"""Each bootstrapped model and the baselines it is compared with."""


def clean_and_shifts(cfg: Config) -> tuple[str, list[str]]:
    """The in-distribution set and the model-data-mismatch sets the claims compare it with."""
    randomised = ["tnoise_random"] if cfg.task.random_t_noise else []
    if cfg.task.kind == "images":
        return "seen", ["unseen", *randomised]
    if cfg.task.kind == "lotka_volterra":
        return "sim", ["mismatch"]
    return cfg.task.train_kernel, ["tnoise", *randomised]


def _describe(cfg: Config, shift: str) -> str:
    if shift == "tnoise":
        return f"Under Student-t noise (gamma {cfg.task.t_noise:g})"
    if shift == "tnoise_random":
        top = 0.09 if cfg.task.kind == "images" else 0.15  # the official maxima
        return (
            f"Under Student-t noise (random gamma ~ U(0, {top:g}) {cfg.task.random_t_noise_mode})"
        )
    if shift == "mismatch":
        return "On the mismatched predator-prey simulator"
    return "On unseen classes"


def claims(results: Results) -> list[ClaimSpec]:
    """The paper's claims (Table 1; Table 2 for images), declared with the preset's thresholds.

    For each bootstrapped model and each mismatch set: its clean-to-shifted drop in target
    log-likelihood is smaller than each base model's by ``robustness_effect``; and in
    distribution it is at most ``in_distribution_margin`` below its deterministic base.
    Gates: convergence of every compared arm (validation LL still moving), the quality of the
    baselines (``reference_tar_ll``, the official code's level at equal steps) and, for the
    robustness claims, that the baselines do lose likelihood under the shift
    (``min_baseline_drop``).
    """
    cfg: Config = results.config
    cc = cfg.claims
    arms = set(results.arms)
    clean, shifts = clean_and_shifts(cfg)
    out = []
    for boot, bases in BOOTSTRAP_PAIRS:
        have = tuple(b for b in bases if b in arms)
        if boot not in arms or not have:
            continue
        gates = [
            Gate(
                "converged",
                "val/tar_ll_change",
                cc.converged_change,
                "max",
                arms=(boot, *have),
                reason="validation ll still moving",
            )
        ]
        for b in have:
            if b in cc.reference_tar_ll:
                gates.append(
                    Gate(
                        f"{b.lower()}_quality",
                        f"{clean}/tar_ll",
                        cc.reference_tar_ll[b] - cc.quality_tolerance,
                        "min",
                        arms=(b,),
                        reason=f"{b} below the official code's level at equal steps",
                    )
                )
        for shift in shifts:
            mismatch = Gate(
                "mismatch",
                f"{shift}/tar_ll_drop",
                cc.min_baseline_drop,
                "min",
                arms=have,
                reason="the baselines barely lose likelihood: no mismatch to be robust to",
            )
            out.append(
                ClaimSpec(
                    f"{boot.lower()}_robust_{shift}",
                    f"{_describe(cfg, shift)}, {boot}'s drop in target log-likelihood is "
                    f"smaller than {' and '.join(have)}'s by at least "
                    f"{cc.robustness_effect:g} nats",
                    f"{shift}/tar_ll_drop",
                    boot,
                    have,
                    higher_is_better=False,
                    threshold=cc.robustness_effect,
                    gates=(*gates, mismatch),
                )
            )
        if bases[0] in arms:
            out.append(
                ClaimSpec(
                    f"{boot.lower()}_in_distribution",
                    f"In distribution ({clean}), {boot}'s target log-likelihood is at most "
                    f"{cc.in_distribution_margin:g} nats below {bases[0]}'s",
                    f"{clean}/tar_ll",
                    boot,
                    (bases[0],),
                    threshold=-cc.in_distribution_margin,
                    gates=tuple(gates),
                )
            )
    return out
