"""The RetCL reproduction's claims, declared before a run: metric, arms, direction, the smallest
effect that counts (``config.claims``) and validity gates. The engine judges them from paired
per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the headlines are the abstract's two claims, as far as this setting tests them: RetCL's
top-1 beats the baselines (the abstract: 71.3 % against 59.6 % for a Transformer; the baseline
run here is RetroSim, under the same candidate restriction), and RetCL generalises to unseen
templates unlike template-based methods (its top-10 drop on unseen-template reactions is
smaller than RetroSim's). The hard-negative ablation (N = 4 vs N = 0) is ``secondary``, and so
is the top-1 side of the unseen-template claim: RetCL's top-1 drop from all test reactions to
the unseen-template ones is smaller than RetroSim's (``unseen_top1_drop_smaller``). It replaces
``unseen_templates_found`` (RetCL's top-10 on unseen templates above 1 %; 91.6 % observed), a
floor that could not fail. At top-10 the all-to-unseen drop is the headline's seen-to-unseen
drop times the seen share, so the secondary claim reads top-1 to say something of its own.

Every gate can fail: ``finite`` (a seed outside the metric's bounds), ``val_plateau`` (top-1
still rising at the end), ``refresh_ran`` (``train.refresh_every`` >= ``train.num_steps``) and
``ground_truth_in_candidates``. The last holds by construction of today's candidate sets (the
union of every split's reactants); it guards that invariant, and fails if a data option or a
canonicalisation change leaves a test reactant out (the tests make each gate fail).
"""

from __future__ import annotations

from paperzoo.core import ClaimSpec, Results
from paperzoo.core.claims import Gate

from .config import Config

__all__ = ["claims", "gates"]

TOP_K = (0.0, 1.0)
"""Exact-match top-k accuracies are fractions in [0, 1]."""
DROP = (-1.0, 1.0)
"""A difference of two top-k fractions (seen or all, minus unseen) lies in [-1, 1]."""
_NO_RATIONALE = "set before any quick run; no stated rationale"


def gates(cfg: Config, retcl: tuple[str, ...]) -> tuple[Gate, ...]:
    """Every test ground truth is selectable; the RetCL arms' validation top-1 has plateaued;
    the neighbour refresh fed the hard-negative arms."""
    # Plain gates on every ``data.source`` (uspto50k, toy), none a level known on one data set:
    # a coverage fraction that must be 1 (a sanity check), an absolute change of top-1 over the
    # last 20% of training (a plateau test sized to the validation set's noise, not the level
    # the plateau sits at) and a count of refreshes.
    out = [
        Gate(
            "ground_truth_in_candidates",
            "data/gt_coverage",
            1.0,
            "min",
            reason="some test reactants are not in the candidate set: top-k is capped below 1",
        )
    ]
    if retcl:
        out.append(
            Gate(
                "val_plateau",
                "train/val_top1_change",
                cfg.claims.max_val_change,
                "max",
                arms=retcl,
                reason="validation top-1 still rising over the last 20% of training",
            )
        )
    mined = tuple(a for a in retcl if not a.endswith("-N0"))
    if mined:
        out.append(
            Gate(
                "refresh_ran",
                "train/refreshes",
                1.0,
                "min",
                arms=mined,
                reason="no neighbour table was built: the hard-negative arm trained without them",
            )
        )
    return tuple(out)


def claims(results: Results) -> list[ClaimSpec]:
    """Hard negatives help (N=4 vs N=0, top-1 and top-10); RetCL loses less than RetroSim on
    unseen-template reactions (top-10 seen to unseen, top-1 all to unseen); RetCL vs RetroSim
    on all test reactions."""
    cfg: Config = results.config
    cc, arms = cfg.claims, set(cfg.arms)
    out: list[ClaimSpec] = []
    if {"RetCL-N4", "RetCL-N0"} <= arms:
        g = gates(cfg, ("RetCL-N4", "RetCL-N0"))
        for k in (1, 10):
            out.append(
                ClaimSpec(
                    f"negatives_help_top{k}",
                    f"RetCL with 4 mined hard negatives beats N=0 on top-{k} exact match by at "
                    f"least {cc.min_negatives_gain:g}",
                    f"eval/top{k}",
                    "RetCL-N4",
                    ("RetCL-N0",),
                    threshold=cc.min_negatives_gain,
                    gates=g,
                    role="secondary",
                    threshold_reason=f"{cc.min_negatives_gain:g} (one point of exact match): "
                    + _NO_RATIONALE,
                    bounds=TOP_K,
                )
            )
    if {"RetCL-N4", "RetroSim"} <= arms:
        g = gates(cfg, ("RetCL-N4",))
        out.append(
            ClaimSpec(
                "smaller_unseen_drop_than_retrosim",
                "RetCL's top-10 drop from seen- to unseen-template reactions is smaller than "
                f"RetroSim's by at least {cc.min_drop_gap:g}: RetCL generalises to unseen "
                "templates, unlike template-based methods (the paper's abstract)",
                "eval/top10_drop",
                "RetCL-N4",
                ("RetroSim",),
                higher_is_better=False,
                threshold=cc.min_drop_gap,
                gates=g,
                role="headline",
                threshold_reason=f"{cc.min_drop_gap:g} (two points of top-10): {_NO_RATIONALE}",
                bounds=DROP,
            )
        )
        out.append(
            ClaimSpec(
                "unseen_top1_drop_smaller",
                "RetCL's top-1 drop from all test reactions to those whose template never "
                "occurs in training is smaller than RetroSim's by at least "
                f"{cc.min_unseen_top1_gap:g}: a template-free selector loses less when the "
                "template is new than template transfer, which can only reuse seen templates",
                "eval/top1_drop_all",
                "RetCL-N4",
                ("RetroSim",),
                higher_is_better=False,
                threshold=cc.min_unseen_top1_gap,
                gates=g,
                role="secondary",
                paper="the abstract: RetCL generalises to unseen templates, unlike "
                "template-based methods; the paper's unseen-template numbers were not retrieved",
                threshold_reason=f"{cc.min_unseen_top1_gap:g} (five points of top-1): more "
                "than two standard errors of a difference of two top-1 fractions on the 843 "
                "unseen-template test reactions (each about 0.016 at 70 %; the difference about "
                "0.022), so a smaller gap could be the unseen subset's sampling noise; declared "
                "after the quick run of 2026-12-06, which lacks the metric",
                bounds=DROP,
            )
        )
        out.append(
            ClaimSpec(
                "retcl_beats_retrosim_top1",
                "RetCL's top-1 exact match over all test reactions beats RetroSim's under the "
                f"same candidate restriction by at least {cc.min_negatives_gain:g}: RetCL's "
                "top-1 beats the baselines (the paper's abstract claim)",
                "eval/top1",
                "RetCL-N4",
                ("RetroSim",),
                threshold=cc.min_negatives_gain,
                gates=g,
                role="headline",
                paper="RetCL 71.3 % top-1 against 59.6 % for a Transformer baseline (+11.7 "
                "points), USPTO-50k, reaction class unknown, all 671k USPTO reactants as "
                "candidates (abstract); the paper's RetroSim row (Table 1) was not retrieved",
                threshold_reason=f"{cc.min_negatives_gain:g} (one point of top-1; the N = 4 vs "
                f"N = 0 threshold reused): {_NO_RATIONALE}",
                bounds=TOP_K,
            )
        )
    return out
