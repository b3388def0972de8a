"""The compression reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]


def claims(results: Results) -> list[ClaimSpec]:
    """Per compression: plain compression degrades maps; WCAM restores AUC and pointing at no
    accuracy cost; stochastic matching and WCAM vs AT. Gated on the teacher's accuracy."""
    cfg: Config = results.config
    cc, arms = cfg.claims, results.arms
    good_teacher = Gate(
        "teacher_accuracy",
        "eval/accuracy",
        cc.teacher_min_accuracy,
        "min",
        arms=("teacher",),
        reason="the teacher is below its reference accuracy",
    )
    out = []
    for c in ("kd", "prune", "struct"):
        plain, wcam, stoch, at = c, f"{c}+wcam", f"{c}+wcam_stoch", f"{c}+at"
        learned = Gate(
            "student_learned",
            "eval/accuracy_gap",
            cc.student_max_gap,
            "max",
            arms=(plain,),
            reason=f"the plain {c} student is more than {cc.student_max_gap:g} points below "
            "its teacher",
        )
        g = (good_teacher, learned)
        if plain in arms:
            out.append(
                ClaimSpec(
                    f"{c}_degrades_maps",
                    f"plain {c} lowers the localisation AUC below the teacher's",
                    "eval/auc",
                    "teacher",
                    (plain,),
                    threshold=cc.min_auc_gain,
                    gates=g,
                )
            )
        if plain not in arms or wcam not in arms:
            continue
        for metric, what, thr in (
            ("eval/auc", "localisation AUC", cc.min_auc_gain),
            ("eval/pointing", "pointing game", cc.min_pointing_gain),
        ):
            out.append(
                ClaimSpec(
                    f"{c}_wcam_{metric.split('/')[1]}",
                    f"{c}+WCAM raises the {what} over plain {c} (by >= {thr:g})",
                    metric,
                    wcam,
                    (plain,),
                    threshold=thr,
                    gates=g,
                )
            )
        out.append(
            ClaimSpec(
                f"{c}_wcam_accuracy",
                f"{c}+WCAM accuracy is at most {cc.accuracy_margin:g} points below plain {c}'s",
                "eval/accuracy",
                wcam,
                (plain,),
                threshold=-cc.accuracy_margin,
                gates=g,
            )
        )
        if stoch in arms:
            out.append(
                ClaimSpec(
                    f"{c}_stochastic_auc",
                    f"stochastic matching raises the AUC further over {c}+WCAM",
                    "eval/auc",
                    stoch,
                    (wcam,),
                    threshold=cc.min_auc_gain,
                    gates=g,
                )
            )
        if at in arms:
            out.append(
                ClaimSpec(
                    f"{c}_wcam_beats_at",
                    f"{c}+WCAM localises better than {c}+attention transfer",
                    "eval/auc",
                    wcam,
                    (at,),
                    threshold=cc.min_auc_gain,
                    gates=g,
                )
            )
    return out
