"""The continual reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the headline is the paper's abstract claim that OCS beats uniform sampling and the
rehearsal baselines by a wide margin on standard, imbalanced and noisy streams:
``ocs_accuracy_<setting>`` (OCS's average accuracy above Uniform's and ER-Reservoir's), one per
setting. The paper's forgetting claim (OCS forgets less than Uniform and ER-Reservoir) is
``secondary``: ``ocs_forgets_less_<setting>``. Checks: the share of noise in the coreset (the
spec's direct check of the mechanism), Finetune forgetting more than OCS (replay works at all)
and our OCS against the official code's per-seed results (a quality check of ours).

Thresholds: half of the paper's balanced gap over Uniform, for accuracy (+2.6 points) and
forgetting (0.06), Table 1 as recalled in the spec, not checked against the PDF; its noisy and
imbalanced tables were not recalled, so those settings carry the balanced threshold.
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results
from paperzoo.core.claims import Gate, reference_gate

from .config import DEFAULT_SOURCE, DEFAULT_SOURCES, OFFICIAL_ARM, Config

__all__ = [
    "PAPER_FORGETTING_BALANCED",
    "PAPER_TABLE1_BALANCED",
    "claims",
    "gates",
    "learn_levels",
    "stream_data",
]

PAPER_TABLE1_BALANCED = {"OCS": 82.5, "Uniform": 79.9, "ER-Reservoir": 69.2}
"""Average accuracy (%) on balanced rotated MNIST (20 tasks x 9 degrees), the paper's Table 1
as recalled in the spec ("[recalled, verify]"); not checked against the PDF."""
PAPER_FORGETTING_BALANCED = {"OCS": 0.08, "Uniform": 0.14}
"""Forgetting on the same stream, Table 1 as recalled in the spec (ER-Reservoir's was not)."""

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
    cc = cfg.claims
    out = _learned_gate(
        cfg, reason="an arm does not learn its tasks to the reference level: too few steps"
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


def _official_gates(cfg: Config) -> tuple[Gate, ...]:
    """Gates of ``ocs_matches_official``: enough official runs to be a distribution (the
    official arm's units report how many were entered) and our OCS learned each task (the
    official numbers are entered, not trained here, so the learning gate reads ours only). No
    convergence gate: both codes are compared at the same steps by design, converged or not."""
    out = [
        Gate(
            "official_seeds",
            "official/seeds",
            cfg.claims.min_official_seeds,
            "min",
            arms=(OFFICIAL_ARM,),
            reason="too few official runs entered: one run is a constant, not a distribution",
        )
    ]
    out += _learned_gate(
        cfg,
        arms=("balanced/OCS",),
        reason="our OCS does not learn its tasks to the reference level",
    )
    return tuple(out)


def _learned_gate(cfg: Config, *, reason: str, arms: tuple[str, ...] = ()) -> list[Gate]:
    """``learned_each_task`` on ``arms`` (every compared arm when empty): diagonal accuracy at
    the level of the stream's data; none (an empty list) when the config sets no level."""
    levels = learn_levels(cfg)
    if levels is None:
        return []
    return [
        reference_gate(
            "learned_each_task",
            "eval/learn_acc",
            levels,
            stream_data(cfg),
            "claims.min_learn_acc",
            "min",
            arms=arms,
            reason=reason,
        )
    ]


def _paper_balanced(names: list[str], forgetting: bool = False) -> str:
    """The paper's balanced rotated-MNIST gap of OCS to each of ``names`` (accuracy, or
    forgetting), Table 1 as recalled."""
    table = PAPER_FORGETTING_BALANCED if forgetting else PAPER_TABLE1_BALANCED
    ocs, parts = table["OCS"], []
    for n in names:
        if n not in table:
            parts.append(f"{n}: not recalled")
        elif forgetting:
            parts.append(f"{table[n] - ocs:.2f} less forgetting than {n} ({ocs:g} vs {table[n]:g})")
        else:
            parts.append(f"{ocs - table[n]:+.1f} points over {n} ({ocs:g} vs {table[n]:g} %)")
    return (
        "; ".join(parts) + ", balanced rotated MNIST (20 tasks x 9 degrees), Table 1 as recalled "
        "in the spec (not checked against the PDF)"
    )


def claims(results: Results) -> list[ClaimSpec]:
    """Per setting: OCS beats Uniform and ER-Reservoir in average accuracy (headline) and
    forgets less (secondary); checks: OCS keeps a cleaner coreset under noise, Finetune forgets
    more than OCS on the balanced stream, and (with the official code's per-seed results
    entered) our OCS is not worse than the official code by more than a margin."""
    cfg: Config = results.config
    cc, arms = cfg.claims, set(cfg.arms)
    g = gates(cfg)
    rotated = cfg.stream.kind != "datasets"  # the paper's Table 1 is rotated MNIST
    out = []
    for st in cfg.settings:
        worse = tuple(f"{st}/{a}" for a in ("Uniform", "ER-Reservoir") if a in arms)
        if "OCS" not in arms or not worse:
            continue
        names = [w.split("/")[1] for w in worse]
        recalled = st == "balanced" and rotated
        not_recalled = (
            f"no number: the paper's {st} tables were not recalled in the spec (the spec: "
            "OCS's margins there are wide)"
            if rotated
            else "no number: the paper's multiple-datasets table was not recalled in the spec"
        )
        out.append(
            ClaimSpec(
                f"ocs_accuracy_{st}",
                f"{st}: OCS's average accuracy exceeds " + " and ".join(names) + "'s by at "
                f"least {cc.min_acc_gain:g} points (the paper's abstract claim: OCS beats uniform "
                "sampling and the rehearsal baselines by a wide margin on standard, imbalanced "
                "and noisy streams)",
                "eval/avg_acc",
                f"{st}/OCS",
                worse,
                threshold=cc.min_acc_gain,
                gates=g,
                role="headline",
                paper=(_paper_balanced(names) if recalled else not_recalled),
                threshold_reason=_acc_reason(cc.min_acc_gain),
                bounds=_PERCENT,
            )
        )
        out.append(
            ClaimSpec(
                f"ocs_forgets_less_{st}",
                f"{st}: OCS's forgetting is below " + " and ".join(names) + "'s by at least "
                f"{cc.min_forgetting_reduction:g} (the paper: OCS forgets less than the "
                "rehearsal baselines)",
                "eval/forgetting",
                f"{st}/OCS",
                worse,
                higher_is_better=False,
                threshold=cc.min_forgetting_reduction,
                gates=g,
                role="secondary",
                paper=(_paper_balanced(names, forgetting=True) if recalled else not_recalled),
                threshold_reason=_forgetting_reason(cc.min_forgetting_reduction),
                bounds=_FORGETTING,
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
                threshold_reason=(
                    f"{cc.min_noise_reduction:g} of the memory: {_NO_RATIONALE} (for scale: 10 "
                    "of the 200 seats of the rotated-MNIST memory)"
                ),
                bounds=_FRACTION,
            )
        )
    if "balanced" in cfg.settings and {"OCS", "Finetune"} <= arms:
        out.append(
            ClaimSpec(
                "finetune_forgets_balanced",
                f"balanced: Finetune forgets more than OCS (by at least {cc.min_forgetting_gap:g}; "
                "a sanity check that replay works at all: Finetune replays nothing; the paper's "
                "forgetting claim is ocs_forgets_less_<setting>)",
                "eval/forgetting",
                "balanced/OCS",
                ("balanced/Finetune",),
                higher_is_better=False,
                threshold=cc.min_forgetting_gap,
                gates=g,
                role="check",
                threshold_reason=(
                    f"{cc.min_forgetting_gap:g} forgetting: {_NO_RATIONALE} (a sanity check: "
                    "one point of accuracy forgotten on average)"
                ),
                bounds=_FORGETTING,
            )
        )
    if cfg.official_seeds() and "balanced" in cfg.settings and "OCS" in arms:
        n = len(cfg.official_seeds())
        out.append(
            ClaimSpec(
                "ocs_matches_official",
                "balanced: our OCS's average accuracy is at most "
                f"{cc.official_margin:g} points below the official code's on the same stream, "
                f"paired by seed ({n} official runs entered; a quality check of ours against the "
                "official code, not a claim of the paper)",
                "eval/avg_acc",
                "balanced/OCS",
                (OFFICIAL_ARM,),
                threshold=-cc.official_margin,
                gates=_official_gates(cfg),
                role="check",
                threshold_reason=(
                    f"{cc.official_margin:g} points, pre-registered 2026-12-07 before the "
                    "official runs and our seeds it is judged on: below the headline's "
                    f"{cc.min_acc_gain:g}, so a shortfall of ours within the margin cannot by "
                    "itself account for the smallest OCS gain the headline counts"
                ),
                bounds=_PERCENT,
            )
        )
    return out


def _acc_reason(gain: float) -> str:
    ocs, uni = PAPER_TABLE1_BALANCED["OCS"], PAPER_TABLE1_BALANCED["Uniform"]
    half = (ocs - uni) / 2
    if abs(gain - half) < 1e-9:
        return (
            f"{gain:g} points = half the paper's balanced gain over Uniform ({ocs - uni:+.1f}, "
            f"Table 1 as recalled): our 5-task streams forget less than its 20 tasks, so its "
            "full gap is not expected here, and below half of it the margin is not the 'wide' "
            "one the paper claims; the noisy and imbalanced settings (no recalled number) carry "
            "the same threshold"
        )
    return (
        f"{gain:g} points: {_NO_RATIONALE} (for scale: the paper's recalled balanced gain over "
        f"Uniform is {ocs - uni:+.1f} points)"
    )


def _forgetting_reason(gap: float) -> str:
    ocs, uni = PAPER_FORGETTING_BALANCED["OCS"], PAPER_FORGETTING_BALANCED["Uniform"]
    if abs(gap - (uni - ocs) / 2) < 1e-9:
        return (
            f"{gap:g} forgetting = half the paper's balanced gap to Uniform ({ocs:g} vs {uni:g}, "
            "Table 1 as recalled), the same rule as the accuracy threshold"
        )
    return (
        f"{gap:g} forgetting: {_NO_RATIONALE} (for scale: the paper's recalled balanced gap to "
        f"Uniform is {uni - ocs:.2f})"
    )
