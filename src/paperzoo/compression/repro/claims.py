"""The compression reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the headline is the paper's abstract claim, that attribution-preserving compression
matches the compressed network's maps "to its pre-compression former self", read as two
claims per compression: ``<c>_wcam_auc`` (WCAM raises the Grad-CAM localisation AUC over plain
``c``) and ``<c>_wcam_restores_teacher`` (the WCAM student's AUC is at most
``claims.teacher_auc_margin`` below its teacher's: non-inferiority, "restores them to about the
teacher's level"). The paper's other claims (compression deforms the maps, WCAM raises the
pointing game, stochastic matching helps further, WCAM beats attention transfer) are
``secondary``; the 1-point accuracy non-inferiority margin is ours (the paper says "mAP equal
or slightly better"), a ``check``.

The paper's table values were not retrieved (the spec recalls its claims, "numbers not
retrieved"; the official README reports none), so the claims quote its words, not a number
(``paper=``). The thresholds were set before the first run without a stated rationale; the
reasons below were written later, for the same values (none was changed), from the committed
``quick`` run's spread.
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Gate, Results
from paperzoo.core.claims import reference_gate

from .config import DEFAULT_SOURCE, Config

__all__ = ["claims", "teacher_levels"]

# Natural ranges of the metrics: a pixel ROC-AUC lies in [0, 1]; pointing game and accuracy are
# percentages in [0, 100]. A seed outside them is a broken evaluation, not an effect.
_AUC = (0.0, 1.0)
_PERCENT = (0.0, 100.0)
_NO_NUMBER = (
    "no number: the paper's tables were not retrieved (spec: 'numbers not retrieved'; the "
    "official README reports none)"
)
_PAPER = {
    "degrades": f"{_NO_NUMBER}; in words, compression keeps mAP but visibly degrades the "
    "localisation AUC and the pointing game (VOC, VGG16)",
    "wcam": f"{_NO_NUMBER}; in words, WCAM preserves the attribution maps better than plain "
    "compression, for KD, structured and unstructured pruning",
    "restores": f"{_NO_NUMBER}; in words, WCAM restores localisation to about the teacher's level",
    "accuracy": f"{_NO_NUMBER}; in words, mAP is equal or slightly better with WCAM",
    "stochastic": f"{_NO_NUMBER}; in words, stochastic matching helps further",
    "at": f"{_NO_NUMBER}; in words, WCAM preserves the maps better than attention transfer",
}


def teacher_levels(cfg: Config) -> dict[str, float]:
    """``claims.teacher_min_accuracy`` by data source: a plain number (the form of configs
    before per-source levels) is the level of MNIST, the default ``data.source``."""
    level = cfg.claims.teacher_min_accuracy
    return dict(level) if isinstance(level, dict) else {DEFAULT_SOURCE: float(level)}


def _reasons(cfg: Config) -> dict[str, str]:
    """Why each threshold has its size (the values are the config's; the spreads quoted are
    the committed ``quick`` run's, 3 seeds, for the unchanged values set before it)."""
    cc = cfg.claims
    return {
        "auc": f"{cc.min_auc_gain:g} AUC, the smallest localisation-AUC difference that "
        "counts: about 5x the seed-to-seed sd of the teacher's AUC (0.001 in the committed "
        "quick run), so re-training the same network does not reach it, and a third of the "
        "smallest degradation measured there (KD, 0.015)",
        "pointing": f"{cc.min_pointing_gain:g} percentage point: about 7 of the ~740 common "
        "test images, and about the seed-to-seed sd of the teacher's pointing game (1.1 "
        "points in the committed quick run)",
        "accuracy": f"{cc.accuracy_margin:g} accuracy point, a non-inferiority margin of ours "
        "(8 of 800 test images): the paper claims mAP 'equal or slightly better', so the "
        "margin is kept below the seed-to-seed sd of the plain students' accuracy (0.7-2.0 "
        "points in the committed quick run)",
        "restores": f"{cc.teacher_auc_margin:g} AUC non-inferiority margin: no larger than "
        f"the smallest AUC difference the other claims count ({cc.min_auc_gain:g}), so a "
        "student within it is at the teacher's level by the same yardstick, and a third of "
        "the smallest degradation measured (KD, 0.015 in the committed quick run), so a "
        "student that restores nothing cannot pass",
    }


def claims(results: Results) -> list[ClaimSpec]:
    """Per compression: plain compression degrades maps; WCAM restores AUC (over plain, and to
    the teacher's level) and pointing at no accuracy cost; stochastic matching and WCAM vs AT.
    Gated on the teacher's accuracy (the level of ``data.source``) and on every plain student
    having learned, seed by seed."""
    cfg: Config = results.config
    cc, arms = cfg.claims, results.arms
    why = _reasons(cfg)
    # Per seed (the default): each seed trains its own teacher and its students are paired
    # with it, so a seed whose teacher or plain student did not learn spoils that seed's
    # difference. The quick preset's 88 % is "the pilot's plateau, 91 %, less a seed margin":
    # a per-seed level, measured on one data source: another source without its own level makes
    # every claim inconclusive (never MNIST's bar on another source).
    good_teacher = reference_gate(
        "teacher_accuracy",
        "eval/accuracy",
        teacher_levels(cfg),
        cfg.data.source,
        "claims.teacher_min_accuracy",
        "min",
        arms=("teacher",),
        reason="the teacher is below its reference accuracy",
    )
    out = []
    for c in ("kd", "prune", "struct"):
        plain, wcam, stoch, at = c, f"{c}+wcam", f"{c}+wcam_stoch", f"{c}+at"
        # Per seed, never the seed mean: `quick` passed this gate on the mean (KD 5.0, pruning
        # 4.6) while single seeds' plain students were 6.0-6.6 points below their teachers.
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
                    f"plain {c} lowers the localisation AUC below the teacher's (the paper: "
                    "compression keeps accuracy but deforms the attribution maps)",
                    "eval/auc",
                    "teacher",
                    (plain,),
                    threshold=cc.min_auc_gain,
                    gates=g,
                    role="secondary",
                    paper=_PAPER["degrades"],
                    threshold_reason=why["auc"],
                    bounds=_AUC,
                )
            )
        if plain not in arms or wcam not in arms:
            continue
        for metric, what, thr, role, bounds, reason in (
            ("eval/auc", "localisation AUC", cc.min_auc_gain, "headline", _AUC, why["auc"]),
            (
                "eval/pointing",
                "pointing game",
                cc.min_pointing_gain,
                "secondary",
                _PERCENT,
                why["pointing"],
            ),
        ):
            out.append(
                ClaimSpec(
                    f"{c}_wcam_{metric.split('/')[1]}",
                    f"{c}+WCAM raises the {what} over plain {c} (by >= {thr:g}): "
                    + (
                        "attribution-preserving compression keeps the teacher's Grad-CAM maps "
                        "better than plain compression (the paper's abstract claim)"
                        if role == "headline"
                        else "the preserved maps also point at the object more often"
                    ),
                    metric,
                    wcam,
                    (plain,),
                    threshold=thr,
                    gates=g,
                    role=role,
                    paper=_PAPER["wcam"],
                    threshold_reason=reason,
                    bounds=bounds,
                )
            )
        if "teacher" in arms:
            # Non-inferiority against the teacher (a negative threshold): d = wcam - teacher
            # must lie above -margin, i.e. the maps are back to about the teacher's level.
            out.append(
                ClaimSpec(
                    f"{c}_wcam_restores_teacher",
                    f"{c}+WCAM's localisation AUC is at most {cc.teacher_auc_margin:g} below "
                    "the teacher's (non-inferiority): attribution-preserving compression "
                    "restores the maps to about the teacher's level (the paper's abstract "
                    "claim: the compressed network's maps are matched to its "
                    "pre-compression former self)",
                    "eval/auc",
                    wcam,
                    ("teacher",),
                    threshold=-cc.teacher_auc_margin,
                    gates=g,
                    role="headline",
                    paper=_PAPER["restores"],
                    threshold_reason=why["restores"],
                    bounds=_AUC,
                )
            )
        out.append(
            ClaimSpec(
                f"{c}_wcam_accuracy",
                f"{c}+WCAM accuracy is at most {cc.accuracy_margin:g} points below plain {c}'s "
                "(a non-inferiority margin of ours; the paper: mAP equal or slightly better)",
                "eval/accuracy",
                wcam,
                (plain,),
                threshold=-cc.accuracy_margin,
                gates=g,
                role="check",
                paper=_PAPER["accuracy"],
                threshold_reason=why["accuracy"],
                bounds=_PERCENT,
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
                    role="secondary",
                    paper=_PAPER["stochastic"],
                    threshold_reason=why["auc"],
                    bounds=_AUC,
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
                    role="secondary",
                    paper=_PAPER["at"],
                    threshold_reason=why["auc"],
                    bounds=_AUC,
                )
            )
    return out
