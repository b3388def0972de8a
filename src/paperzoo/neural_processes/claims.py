"""The neural processes reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["BOOTSTRAP_PAIRS", "claims", "clean_and_shift"]

BOOTSTRAP_PAIRS = (("BNP", ("CNP", "NP")), ("BANP", ("CANP", "ANP")))
"""Each bootstrapped model and the baselines it is compared with."""


def clean_and_shift(cfg: Config) -> tuple[str, str]:
    """Names of the in-distribution set and the mismatch set the claims compare."""
    return ("seen", "unseen") if cfg.task.kind == "images" else (cfg.task.train_kernel, "tnoise")


def claims(results: Results) -> list[ClaimSpec]:
    """Table 1's claims, declared with the preset's thresholds and a convergence gate."""
    cfg: Config = results.config
    cc = cfg.claims
    arms = set(results.arms)
    clean, shift = clean_and_shift(cfg)
    what = (
        f"Under Student-t noise (gamma {cfg.task.t_noise:g})"
        if shift == "tnoise"
        else "On unseen classes"
    )
    out = []
    for boot, bases in BOOTSTRAP_PAIRS:
        have = tuple(b for b in bases if b in arms)
        if boot not in arms or not have:
            continue
        converged = Gate(
            "converged",
            "val/tar_ll_change",
            cc.converged_change,
            "max",
            arms=(boot, *have),
            reason="validation ll still moving",
        )
        out.append(
            ClaimSpec(
                f"{boot.lower()}_robust_{shift}",
                f"{what}, {boot}'s drop in target log-likelihood is smaller than "
                f"{' and '.join(have)}'s by at least {cc.robustness_effect:g} nats",
                f"{shift}/tar_ll_drop",
                boot,
                have,
                higher_is_better=False,
                threshold=cc.robustness_effect,
                gates=(converged,),
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
                    gates=(converged,),
                )
            )
    return out
