"""The continual reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results
from paperzoo.core.claims import Gate

from .config import Config

__all__ = ["claims", "gates"]


def gates(cfg: Config) -> tuple[Gate, ...]:
    """Validity gates shared by every claim (pre-registered in ``config.claims``): each compared
    arm learned every task (diagonal accuracy) and had stopped improving by the end of it."""
    cc, out = cfg.claims, []
    if cc.min_learn_acc > 0:
        out.append(
            Gate(
                "learned_each_task",
                "eval/learn_acc",
                cc.min_learn_acc,
                "min",
                reason="an arm does not learn its tasks to the reference level: too few steps",
            )
        )
    if cc.max_plateau_gain < 100:
        out.append(
            Gate(
                "converged",
                "train/plateau_gain",
                cc.max_plateau_gain,
                "max",
                reason="current-task accuracy still climbing over the last 20% of a task's steps",
            )
        )
    return tuple(out)


def claims(results: Results) -> list[ClaimSpec]:
    """OCS beats Uniform/ER-Reservoir in every setting, keeps a cleaner coreset under noise,
    Finetune forgets more than OCS on the balanced stream, and (where the preset states the
    official code's number) our OCS is not worse than the official code by more than a margin."""
    cfg: Config = results.config
    cc, arms = cfg.claims, set(cfg.arms)
    g = gates(cfg)
    out = []
    for st in cfg.settings:
        worse = tuple(f"{st}/{a}" for a in ("Uniform", "ER-Reservoir") if a in arms)
        if "OCS" in arms and worse:
            out.append(
                ClaimSpec(
                    f"ocs_accuracy_{st}",
                    f"{st}: OCS's average accuracy exceeds "
                    + " and ".join(w.split("/")[1] for w in worse)
                    + f"'s by at least {cc.min_acc_gain:g} points",
                    "eval/avg_acc",
                    f"{st}/OCS",
                    worse,
                    threshold=cc.min_acc_gain,
                    gates=g,
                )
            )
    if "noisy" in cfg.settings and {"OCS", "Uniform"} <= arms:
        out.append(
            ClaimSpec(
                "ocs_cleaner_coreset_noisy",
                "noisy: OCS's coreset holds a smaller share of noise images than Uniform's (by at "
                f"least {cc.min_noise_reduction:g})",
                "memory/noise_share",
                "noisy/OCS",
                ("noisy/Uniform",),
                higher_is_better=False,
                threshold=cc.min_noise_reduction,
                gates=g,
            )
        )
    if "balanced" in cfg.settings and {"OCS", "Finetune"} <= arms:
        out.append(
            ClaimSpec(
                "finetune_forgets_balanced",
                f"balanced: Finetune forgets more than OCS (by at least {cc.min_forgetting_gap:g})",
                "eval/forgetting",
                "balanced/OCS",
                ("balanced/Finetune",),
                higher_is_better=False,
                threshold=cc.min_forgetting_gap,
                gates=g,
            )
        )
    if cc.official_avg_acc > 0 and "balanced" in cfg.settings and "OCS" in arms:
        out.append(
            ClaimSpec(
                "ocs_matches_official",
                "balanced: our OCS's average accuracy is at most "
                f"{cc.official_margin:g} points below the official code's "
                f"{cc.official_avg_acc:g} % at the same configuration",
                "eval/avg_acc",
                "balanced/OCS",
                threshold=-cc.official_margin,
                reference=cc.official_avg_acc,
                gates=g,
            )
        )
    return out
