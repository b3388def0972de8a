"""The federated reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]


def claims(results: Results) -> list[ClaimSpec]:
    """Table 1: FedMix beats FedAvg and NaiveMix on every data set, in final accuracy (the
    paper's metric) and in the area under the accuracy curve (where the spec expects the signal
    under strong non-IID: early and middle rounds)."""
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
        metrics = (
            (
                "final_acc",
                "test/final_acc",
                f"final accuracy (mean of the last {cfg.final_rounds} evaluations)",
                cc.min_effect,
            ),
            (
                "auc",
                "test/auc",
                "area under the accuracy curve (mean accuracy over the evaluated rounds)",
                cc.min_effect_auc,
            ),
        )
        for short, metric, what, effect in metrics:
            for worse in ("fedavg", "naivemix"):
                if f"{ds}/{worse}" not in results.arms:
                    continue
                suffix = "" if short == "final_acc" else f"_{short}"
                out.append(
                    ClaimSpec(
                        f"{ds}_fedmix_beats_{worse}{suffix}",
                        f"{ds}: FedMix's {what} exceeds {worse}'s by at least {effect:g}",
                        metric,
                        f"{ds}/fedmix",
                        (f"{ds}/{worse}",),
                        threshold=effect,
                        gates=tuple(gates),
                    )
                )
    return out
