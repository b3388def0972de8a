"""The complexity reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the paper's two claims (its abstract and results, as the spec reads them: NC predicts the
generalisation gap; adding NC to the training loss prevents overfitting) are the headlines,
``gap_r_<regime>`` and ``nc_below_noreg_<regime>``, in the regimes that stand for the paper's
settings: ``official`` (its 1-D sinusoid regression), ``overfit`` (the same tasks where the
learners overfit, the spec's testable regime) and ``classification``. In the ``mixture`` regime
(NC meta-trained on sinusoids and cubics, the issue's remedy for transfer) the same two claims
are ``secondary``. Beating every tuned baseline ("not claimed by the spec") and transfer to
other task families ("not a claim of the paper") are ``check``. The paper's numbers were not
retrieved (its tables were inaccessible), so no claim quotes one.
"""

from __future__ import annotations

import dataclasses

from paperzoo.core import ClaimSpec, Gate, Results

from .config import Config

__all__ = ["claims"]

_NO_RATIONALE = "set before the run; no stated rationale"
_PAPER_REGIMES = ("official", "overfit", "classification")
"""Regimes whose gap and test-loss claims are the paper's headline (see the module docstring)."""
# A Pearson R lies in [-1, 1]. A test cross-entropy is non-negative; 1e3 nats per query is far
# beyond any trained or chance-level classifier (ln 5 = 1.6 for five ways).
_R = (-1.0, 1.0)
_CROSS_ENTROPY = (0.0, 1e3)


def _mse_bounds(cfg: Config) -> tuple[float, float]:
    """(0, divergence level) of a test MSE: 1e3 times the largest output variance of any task
    family here (a sinusoid of amplitude A has variance A^2/2: 12.5 for the official A <= 5, 50
    for the shifted family's A <= 10; a random cubic's is at most 4 x 1.5^2 = 9). Trained
    learners sit at 0.4-53 in the committed runs; an unregularised learner that ran away (1.1e9,
    mixture seed 2 on shifted sinusoids) is outside, and its claim inconclusive."""
    amp = max(cfg.tasks.amplitude_range[1], cfg.tasks.shifted_amplitude_range[1])
    return (0.0, 1e3 * max(amp**2 / 2, 9.0))


def claims(results: Results) -> list[ClaimSpec]:
    """NC predicts gaps (R above the stated level) and its learners beat no regularisation and
    every tuned baseline on test MSE; gated on NC's meta-training having converged (validation R
    at its plateau) and, for the test-loss claims, on no NC-regularised learner having diverged
    and on the unregularised learners overfitting."""
    cfg: Config = results.config
    cc = cfg.claims
    mse_bounds = _mse_bounds(cfg)
    gain_reason = (
        f"{cc.min_mse_gain:g} absolute: {_NO_RATIONALE} (one value for every regime, for MSE "
        "and for cross-entropy alike)"
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
        # change in R (scale-free), ``nc_stable`` a diverged share (0), ``learners_overfit`` the
        # smallest gap that leaves room for the min_mse_gain effect (one value for every regime).
        # Meta-training is long enough once NC's gap prediction on fixed validation learners
        # stops improving; the regression loss on the (changing) memory bank keeps falling long
        # after that, so it is reported but not gated on. Per seed (the default): each seed
        # meta-trains its own NC.
        converged = Gate(
            "nc_converged",
            "meta/val_R_change",
            cc.converged_r_change,
            "max",
            arms=(f"{regime}/nc",),
            reason="NC's validation gap R still improving at the end of meta-training",
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
                    f"R > {cc.min_gap_r:g}: {_NO_RATIONALE} (the paper's R was not retrieved)"
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
        loss = "test/loss" if regime == "classification" else "test/mse"
        bounds = _CROSS_ENTROPY if regime == "classification" else mse_bounds
        # Per seed: a seed whose unregularised learners do not overfit has nothing for NC to
        # prevent (the gap is a mean over that seed's held-out learners). A plain gate: the level
        # is "overfitting at all", headroom for the claim's threshold in the same loss units, not
        # a gap known from one data set or task family.
        overfit = Gate(
            "learners_overfit",
            "test/gap",
            cc.min_learner_gap,
            "min",
            arms=(f"{regime}/none",),
            reason="the unregularised learners barely overfit: nothing for NC to prevent",
        )
        what = "test cross-entropy" if regime == "classification" else "test MSE"
        # Learners that NC drove to NaN are frozen, not dropped: their MSE would flatter or
        # sink NC's mean arbitrarily, so the MSE claims need every NC learner finite, in every
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
                f"NC's {what} is below no regularisation's by at least {cc.min_mse_gain:g} "
                f"({regime} regime; {in_paper}: adding NC to the loss prevents overfitting)",
                loss,
                f"{regime}/nc",
                (f"{regime}/none",),
                higher_is_better=False,
                threshold=cc.min_mse_gain,
                gates=(converged, stable, overfit),
                role=role,
                threshold_reason=gain_reason,
                bounds=bounds,
            )
        )
        out.append(
            ClaimSpec(
                f"nc_below_all_{regime}",
                f"NC's {what} is below every baseline's by at least {cc.min_mse_gain:g} "
                f"({regime} regime; not claimed by the spec, reported for context)",
                loss,
                f"{regime}/nc",
                others,
                higher_is_better=False,
                threshold=cc.min_mse_gain,
                gates=(converged, stable, overfit),
                role="check",
                threshold_reason=gain_reason,
                bounds=bounds,
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
                    f"mixes them in), NC's test MSE is below no regularisation's by at least "
                    f"{cc.min_mse_gain:g} ({regime} regime; transfer, not a claim of the paper)",
                    "test/mse",
                    arm,
                    (f"{regime}/transfer:{family}:none",),
                    higher_is_better=False,
                    threshold=cc.min_mse_gain,
                    gates=(
                        dataclasses.replace(converged, arms=(arm,)),
                        dataclasses.replace(stable, arms=(arm,)),
                    ),
                    role="check",
                    threshold_reason=gain_reason,
                    bounds=mse_bounds,
                )
            )
    return out
