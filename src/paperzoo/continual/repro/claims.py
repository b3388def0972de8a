"""The continual reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the headline is the paper's abstract claim that OCS beats uniform sampling and the
rehearsal baselines on standard, imbalanced and noisy streams: ``ocs_accuracy_<setting>`` (OCS's
average accuracy above Uniform's and ER-Reservoir's), one per setting. The share of noise in the
coreset is the spec's direct check of the mechanism, Finetune's forgetting is context, and the
comparison with the official code is a quality check of ours: all ``check``. The paper's
balanced rotated-MNIST numbers (Table 1) are recalled in the spec, not checked against the PDF;
its noisy and imbalanced tables were not recalled.
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results
from paperzoo.core.claims import Gate, reference_gate

from .config import DEFAULT_SOURCE, DEFAULT_SOURCES, Config

__all__ = ["PAPER_TABLE1_BALANCED", "claims", "gates", "learn_levels", "stream_data"]

PAPER_TABLE1_BALANCED = {"OCS": 82.5, "Uniform": 79.9, "ER-Reservoir": 69.2}
"""Average accuracy (%) on balanced rotated MNIST (20 tasks x 9 degrees), the paper's Table 1
as recalled in the spec ("[recalled, verify]"); not checked against the PDF."""

# Average accuracies are percentages, the noise share a fraction, forgetting a difference of
# two accuracies as fractions (negative when a task's accuracy rose later): a seed outside
# these ranges is a broken evaluation, not an effect.
_PERCENT = (0.0, 100.0)
_FRACTION = (0.0, 1.0)
_FORGETTING = (-1.0, 1.0)
_NO_RATIONALE = "set before the run; no stated rationale"


def stream_data(cfg: Config) -> str:
    """The key of the stream's data in per-data-set levels: the rotated set (``stream.source``)
    or, for a ``datasets`` stream, its sources joined with ``+`` in their listed order."""
    st = cfg.stream
    return "+".join(st.sources) if st.kind == "datasets" else st.source


def learn_levels(cfg: Config) -> dict[str, float] | None:
    """``claims.min_learn_acc`` by stream data, or None for no gate (empty, or a plain 0). A
    plain number (configs before per-data-set levels) is the level of the default stream of the
    run's kind: rotated MNIST, or the default ``datasets`` stream."""
    level = cfg.claims.min_learn_acc
    if isinstance(level, dict):
        return dict(level) or None
    if level <= 0:
        return None
    default = "+".join(DEFAULT_SOURCES) if cfg.stream.kind == "datasets" else DEFAULT_SOURCE
    return {default: float(level)}


def gates(cfg: Config) -> tuple[Gate, ...]:
    """Validity gates shared by every claim (pre-registered in ``config.claims``): each compared
    arm learned every task (diagonal accuracy; the level of the stream's data, inconclusive on
    data without one) and had stopped improving by the end of it.

    Both read every seed (the default): each seed trains its own arms, so a seed whose arm did
    not learn or had not converged spoils that seed's paired difference."""
    cc, out = cfg.claims, []
    levels = learn_levels(cfg)
    if levels is not None:
        out.append(
            reference_gate(
                "learned_each_task",
                "eval/learn_acc",
                levels,
                stream_data(cfg),
                "claims.min_learn_acc",
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
    rotated = cfg.stream.kind != "datasets"  # the paper's Table 1 is rotated MNIST
    out = []
    for st in cfg.settings:
        worse = tuple(f"{st}/{a}" for a in ("Uniform", "ER-Reservoir") if a in arms)
        if "OCS" in arms and worse:
            names = [w.split("/")[1] for w in worse]
            paper = ""
            if st == "balanced" and rotated:
                ocs = PAPER_TABLE1_BALANCED["OCS"]
                paper = "; ".join(
                    f"{ocs - PAPER_TABLE1_BALANCED[n]:+.1f} points over {n} ({ocs:g} vs "
                    f"{PAPER_TABLE1_BALANCED[n]:g} %)"
                    for n in names
                ) + (
                    ", balanced rotated MNIST (20 tasks x 9 degrees), Table 1 as recalled in "
                    "the spec (not checked against the PDF)"
                )
            out.append(
                ClaimSpec(
                    f"ocs_accuracy_{st}",
                    f"{st}: OCS's average accuracy exceeds "
                    + " and ".join(names)
                    + f"'s by at least {cc.min_acc_gain:g} points (the paper's abstract claim: "
                    "OCS beats uniform sampling and the rehearsal baselines on standard, "
                    "imbalanced and noisy streams)",
                    "eval/avg_acc",
                    f"{st}/OCS",
                    worse,
                    threshold=cc.min_acc_gain,
                    gates=g,
                    role="headline",
                    paper=paper,
                    threshold_reason=(
                        f"{cc.min_acc_gain:g} points: {_NO_RATIONALE} (for scale: about a "
                        "fifth of the paper's recalled balanced gain over Uniform, +2.6 points)"
                    ),
                    bounds=_PERCENT,
                )
            )
    if "noisy" in cfg.settings and {"OCS", "Uniform"} <= arms:
        out.append(
            ClaimSpec(
                "ocs_cleaner_coreset_noisy",
                "noisy: OCS's coreset holds a smaller share of noise images than Uniform's (by at "
                f"least {cc.min_noise_reduction:g}; the spec's direct check of the mechanism "
                "behind the paper's noisy-stream result)",
                "memory/noise_share",
                "noisy/OCS",
                ("noisy/Uniform",),
                higher_is_better=False,
                threshold=cc.min_noise_reduction,
                gates=g,
                role="check",
                threshold_reason=f"{cc.min_noise_reduction:g} of the memory: {_NO_RATIONALE}",
                bounds=_FRACTION,
            )
        )
    if "balanced" in cfg.settings and {"OCS", "Finetune"} <= arms:
        out.append(
            ClaimSpec(
                "finetune_forgets_balanced",
                f"balanced: Finetune forgets more than OCS (by at least {cc.min_forgetting_gap:g}; "
                "context: rehearsal works at all)",
                "eval/forgetting",
                "balanced/OCS",
                ("balanced/Finetune",),
                higher_is_better=False,
                threshold=cc.min_forgetting_gap,
                gates=g,
                role="check",
                threshold_reason=f"{cc.min_forgetting_gap:g} forgetting: {_NO_RATIONALE}",
                bounds=_FORGETTING,
            )
        )
    if cc.official_avg_acc > 0 and "balanced" in cfg.settings and "OCS" in arms:
        out.append(
            ClaimSpec(
                "ocs_matches_official",
                "balanced: our OCS's average accuracy is at most "
                f"{cc.official_margin:g} points below the official code's "
                f"{cc.official_avg_acc:g} % at the same configuration (a quality check of "
                "ours against the official code, not a claim of the paper)",
                "eval/avg_acc",
                "balanced/OCS",
                threshold=-cc.official_margin,
                reference=cc.official_avg_acc,
                gates=g,
                role="check",
                threshold_reason=(
                    f"{cc.official_margin:g} points: about twice OCS's seed-to-seed standard "
                    "deviation at this size (the official preset's docstring), set after an "
                    "earlier 3-seed measurement of ours was known"
                ),
                bounds=_PERCENT,
            )
        )
    return out
