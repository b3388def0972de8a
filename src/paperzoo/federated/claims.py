"""The federated reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]


def claims(results: Results) -> list[ClaimSpec]:
    """Table 1: FedMix's final accuracy beats FedAvg's and NaiveMix's on every data set."""
    cfg: Config = results.config
    cc = cfg.claims
    out = []
    for ds in cfg.datasets:
        if f"{ds}/fedmix" not in results.arms:
            continue
        gates = []
        if f"{ds}/fedavg" in results.arms:
            gates.append(
                Gate(
                    "fedavg_converged",
                    "test/acc_change",
                    cc.converged_change,
                    "max",
                    arms=(f"{ds}/fedavg",),
                    reason="FedAvg still improving",
                )
            )
            if ds in cc.reference_acc:
                gates.append(
                    Gate(
                        "fedavg_reference",
                        "test/final_acc",
                        cc.reference_acc[ds],
                        "min",
                        arms=(f"{ds}/fedavg",),
                        reason="FedAvg below its reference accuracy",
                    )
                )
        for worse in ("fedavg", "naivemix"):
            if f"{ds}/{worse}" in results.arms:
                out.append(
                    ClaimSpec(
                        f"{ds}_fedmix_beats_{worse}",
                        f"{ds}: FedMix's final accuracy (mean of the last "
                        f"{cfg.final_rounds} rounds) exceeds {worse}'s by at least "
                        f"{cc.min_effect:g}",
                        "test/final_acc",
                        f"{ds}/fedmix",
                        (f"{ds}/{worse}",),
                        threshold=cc.min_effect,
                        gates=tuple(gates),
                    )
                )
    return out
