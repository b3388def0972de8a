"""The MQL / MaPER reproduction's claims, declared before the run: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]

_PRIORITIZED = ("SAC+PER", "MaPER")
_MODEL = ("MQL", "MaPER")


def _gates(cfg: Config, arm: str, baselines: tuple[str, ...], arms: set[str]) -> list[Gate]:
    cc = cfg.claims
    gates = []
    if "SAC" in arms:
        gates.append(
            Gate(
                "sac_learned",
                "eval/final_return",
                cc.reference_return,
                "min",
                arms=("SAC",),
                reason="the SAC baseline did not reach its reference return",
            )
        )
    for a in (arm, *baselines):
        if a in _PRIORITIZED:
            gates.append(
                Gate(
                    f"{a.lower().replace('+', '_')}_priorities_engaged",
                    "replay/priority_ess",
                    cc.max_priority_ess,
                    "max",
                    arms=(a,),
                    reason="priorities stayed nearly uniform: prioritization never engaged",
                )
            )
        if a in _MODEL:
            gates.append(
                Gate(
                    f"{a.lower()}_model_learned",
                    "model/reward_error_ratio",
                    cc.max_model_error_ratio,
                    "max",
                    arms=(a,),
                    reason="the reward head's error did not fall: the model never engaged",
                )
            )
    return gates


def claims(results: Results) -> list[ClaimSpec]:
    """The paper's claims at this scale.

    * Sample efficiency (claim 2 of the paper: prioritizing by model error improves sample
      efficiency): MaPER's area under the learning curve exceeds SAC's and SAC+PER's, and the
      model-augmented critic alone (MQL, uniform replay) exceeds SAC's, each by ``auc_effect``.
    * Estimation bias (claim 1: the estimated-reward target reduces over/under-estimation): the
      magnitude of the mean Q-estimation bias, averaged over the fixed checkpoints, is smaller
      for MQL and for MaPER than for SAC by ``bias_effect``.

    Gates: SAC reaches ``reference_return``; every prioritized arm compared has priorities whose
    effective sample size is below ``max_priority_ess``; every model-augmented arm compared has
    a reward-head error that fell below ``max_model_error_ratio`` of its first value; for the
    bias claims, the compared arms converged (return change over the last 20% of evaluations
    at most ``max_return_change``).
    """
    cfg: Config = results.config
    cc = cfg.claims
    if cc.report_only:
        return []
    arms = set(results.arms)
    out = []
    for arm, baselines in (("MaPER", ("SAC",)), ("MaPER", ("SAC+PER",)), ("MQL", ("SAC",))):
        if arm not in arms or not set(baselines) <= arms:
            continue
        out.append(
            ClaimSpec(
                f"{arm.lower()}_auc_vs_{baselines[0].lower().replace('+', '_')}",
                f"{arm}'s area under the learning curve (mean evaluation return over training) "
                f"exceeds {baselines[0]}'s by at least {cc.auc_effect:g}",
                "eval/auc",
                arm,
                baselines,
                threshold=cc.auc_effect,
                gates=tuple(_gates(cfg, arm, baselines, arms)),
            )
        )
    for arm in _MODEL:
        if arm not in arms or "SAC" not in arms:
            continue
        converged = Gate(
            "converged",
            "eval/return_change",
            cc.max_return_change,
            "max",
            arms=(arm, "SAC"),
            reason="evaluation return still moving at the end",
        )
        out.append(
            ClaimSpec(
                f"{arm.lower()}_bias_vs_sac",
                f"{arm}'s Q-estimation bias |mean Q - soft Monte Carlo return| (mean over the "
                f"fixed checkpoints) is smaller than SAC's by at least {cc.bias_effect:g}",
                "bias/magnitude_mean",
                arm,
                ("SAC",),
                higher_is_better=False,
                threshold=cc.bias_effect,
                gates=(*_gates(cfg, arm, ("SAC",), arms), converged),
            )
        )
    return out
