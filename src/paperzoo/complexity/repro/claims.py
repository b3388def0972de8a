"""The complexity reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the paper's abstract claims (NC predicts the generalisation gap; adding NC to the training
loss "consistently accelerat[es] training and prevent[s] overfitting") are the headlines,
``gap_r_<regime>``, ``nc_accelerates_<regime>`` and ``nc_below_noreg_<regime>``, in the regimes
that stand for the paper's
settings: ``official`` (its 1-D sinusoid regression), ``overfit`` (the same tasks where the
learners overfit, the spec's testable regime) and ``classification``. In the ``mixture`` regime
(NC meta-trained on sinusoids and cubics, the issue's remedy for transfer) the same two claims
are ``secondary``. Beating every tuned baseline ("not claimed by the spec") and transfer to
other task families ("not a claim of the paper") are ``check``. The paper's numbers were not
retrieved (its tables were inaccessible), so no claim quotes one.

Effects are relative (2026-12-07; before: an absolute 0.01 for every regime): test losses are
divided by the unregularised learners' of the same seed (``test/loss_rel``), and a claim needs
NC at least ``claims.min_rel_gain`` (5 %) lower; acceleration reads the same ratio after
``eval.early_fraction`` of the inner steps (``test/loss_rel_early``).
"""

from __future__ import annotations

import dataclasses

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]

_PAPER_REGIMES = ("official", "overfit", "classification")
"""Regimes whose gap and test-loss claims are the paper's headline (see the module docstring)."""
# A Pearson R lies in [-1, 1].
_R = (-1.0, 1.0)


# A test loss relative to no regularisation's (same seed): trained learners sit at 0.3-3 in the
# committed runs; beyond 1000x either way one of the two arms ran away (the mixture run's
# unregularised shifted-sinusoid learners, seed 2: MSE 1.1e9, a ratio of 2e-8 for NC), and
# the claim is inconclusive rather than judged on a runaway.
_LOSS_RATIO = (1e-3, 1e3)


def claims(results: Results) -> list[ClaimSpec]:
    """Per regime: NC predicts gaps (R above the stated level); its learners end with a test
    loss at least ``min_rel_gain`` below no regularisation's (prevents overfitting) and reach
    a loss that much lower early (accelerates training); gated on NC's meta-training having
    converged (validation R at its plateau), no NC-regularised learner having diverged and,
    for the final-loss claims, the unregularised learners overfitting."""
    cfg: Config = results.config
    cc = cfg.claims
    pct = f"{cc.min_rel_gain:.0%}"
    gain_reason = (
        f"{pct} of no regularisation's test loss (ClaimConfig.min_rel_gain: below it NC buys "
        "less than choosing among the standard tuned regularisers; the paper's numbers were "
        "not retrieved)"
    )
    out = []
    for regime in cfg.regimes:
        role = "headline" if regime in _PAPER_REGIMES else "secondary"
        in_paper = (
            "the paper's claim"
            if regime in _PAPER_REGIMES
            else "the paper's claim, in a setting of ours"
        )
        # No gate here has a level measured on one data set (no reference_gate): each reads the
        # same on MNIST, Fashion-MNIST, digits or any regression task family. This one is a
        # rise in R (scale-free), ``nc_stable`` a diverged share (0), ``learners_overfit`` the
        # smallest gap that leaves room for the effect (one value for every regime).
        # Meta-training is long enough once NC's gap prediction on fixed validation learners
        # sets no new high (the best NC is kept); the regression loss on the (changing) memory
        # bank keeps falling long after that, so it is reported but not gated on. Per seed (the
        # default): each seed meta-trains its own NC.
        converged = Gate(
            "nc_converged",
            "meta/val_R_new_high",
            cc.converged_r_rise,
            "max",
            arms=(f"{regime}/nc",),
            reason="NC's validation gap R still climbing in the last 20% of meta-training",
        )
        out.append(
            ClaimSpec(
                f"gap_r_{regime}",
                f"NC predicts held-out gaps with Pearson R > {cc.min_gap_r:g} ({regime} regime; "
                f"{in_paper}: NC predicts the generalisation gap)",
                "gap/R",
                f"{regime}/predict:nc",
                reference=cc.min_gap_r,
                gates=(converged,),
                role=role,
                threshold_reason=(
                    f"R > {cc.min_gap_r:g}: a large correlation by convention (Cohen; "
                    "ClaimConfig.min_gap_r); the paper's R was not retrieved"
                ),
                bounds=_R,
            )
        )
        others = tuple(
            a
            for a in results.arms
            if a.startswith(f"{regime}/")
            and "predict:" not in a
            and "transfer:" not in a
            and a != f"{regime}/nc"
        )
        what = "test cross-entropy" if regime == "classification" else "test MSE"
        # Per seed: a seed whose unregularised learners do not overfit has nothing for NC to
        # prevent (the gap is a mean over that seed's held-out learners). A plain gate: the level
        # is "overfitting at all", not a gap known from one data set or task family.
        overfit = Gate(
            "learners_overfit",
            "test/gap",
            cc.min_learner_gap,
            "min",
            arms=(f"{regime}/none",),
            reason="the unregularised learners barely overfit: nothing for NC to prevent",
        )
        # Learners that NC drove to NaN are frozen, not dropped: their loss would flatter or
        # sink NC's mean arbitrarily, so the loss claims need every NC learner finite, in every
        # seed.
        stable = Gate(
            "nc_stable",
            "test/diverged",
            0.0,
            "max",
            arms=(f"{regime}/nc",),
            reason="some NC-regularised learners diverged (fraction shown)",
        )
        out.append(
            ClaimSpec(
                f"nc_below_noreg_{regime}",
                f"NC's final {what} is at least {pct} below no regularisation's ({regime} "
                f"regime; {in_paper}: adding NC to the loss prevents overfitting)",
                "test/loss_rel",
                f"{regime}/nc",
                (f"{regime}/none",),
                higher_is_better=False,
                threshold=cc.min_rel_gain,
                gates=(converged, stable, overfit),
                role=role,
                threshold_reason=gain_reason,
                bounds=_LOSS_RATIO,
            )
        )
        early = cfg.early_step(regime)
        out.append(
            ClaimSpec(
                f"nc_accelerates_{regime}",
                f"After {early} of {cfg.inner_steps(regime)} learner steps, NC's {what} is at "
                f"least {pct} below no regularisation's ({regime} regime; {in_paper}: adding "
                "NC to the loss accelerates training)",
                "test/loss_rel_early",
                f"{regime}/nc",
                (f"{regime}/none",),
                higher_is_better=False,
                threshold=cc.min_rel_gain,
                gates=(converged, stable),
                role=role,
                threshold_reason=gain_reason
                + f"; read at EvalConfig.early_fraction = {cfg.eval.early_fraction:g} of the "
                "inner steps, where the unregularised learners are still at or near their best",
                bounds=_LOSS_RATIO,
            )
        )
        out.append(
            ClaimSpec(
                f"nc_below_all_{regime}",
                f"NC's final {what} is below every tuned baseline's by at least {pct} of no "
                f"regularisation's ({regime} regime; not claimed by the spec, reported for "
                "context)",
                "test/loss_rel",
                f"{regime}/nc",
                others,
                higher_is_better=False,
                threshold=cc.min_rel_gain,
                gates=(converged, stable, overfit),
                role="check",
                threshold_reason=gain_reason,
                bounds=_LOSS_RATIO,
            )
        )
        for family in cfg.eval.transfer_families if regime != "classification" else []:
            arm = f"{regime}/transfer:{family}:nc"
            if arm not in results.arms:
                continue
            out.append(
                ClaimSpec(
                    f"transfer_{family}_{regime}",
                    f"Applied to {family} tasks (not meta-trained on them unless the regime "
                    f"mixes them in), NC's final test MSE is at least {pct} below no "
                    f"regularisation's ({regime} regime; transfer, not a claim of the paper)",
                    "test/loss_rel",
                    arm,
                    (f"{regime}/transfer:{family}:none",),
                    higher_is_better=False,
                    threshold=cc.min_rel_gain,
                    gates=(
                        dataclasses.replace(converged, arms=(arm,)),
                        dataclasses.replace(stable, arms=(arm,)),
                    ),
                    role="check",
                    threshold_reason=gain_reason,
                    bounds=_LOSS_RATIO,
                )
            )
    return out
