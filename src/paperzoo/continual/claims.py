"""The continual reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results

from .config import Config

__all__ = ["claims"]


def claims(results: Results) -> list[ClaimSpec]:
    """OCS beats Uniform/ER-Reservoir in every setting, keeps a cleaner coreset under noise, and
    Finetune forgets more than OCS on the balanced stream."""
    cfg: Config = results.config
    cc, arms = cfg.claims, set(cfg.arms)
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
            )
        )
    return out
