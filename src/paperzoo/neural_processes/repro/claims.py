"""The neural processes reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles (the evidence rules):

* ``headline``: the paper's abstract claim, robustness under model-data mismatch, read as its
  results state it: under each mismatch BNP / BANP lose much less target log-likelihood than
  *each* of CNP and NP / CANP and ANP (``<boot>_robust_<shift>``, one claim whose baselines are
  all the bases, so it holds only if it holds against every one of them). Headline on GP tasks
  with every base trained (``quick``, ``quick_attentive``, ``paper``), the paper's Table 1 set.
* ``secondary``: the same claim where it is a stand-in or partial (image completion on MNIST
  digits at ~1% of the official training, the sim-to-sim predator-prey shift standing in for
  hare-lynx, a run without every base such as ``demo``), and the paper's in-distribution claim
  (BNP at least as good as CNP/NP, BANP about equal to ANP; ``<boot>_in_distribution``), with
  a non-inferiority margin of ours against each base.

The paper's table values were not retrieved (spec: "No table numbers retrieved"), so the
claims quote its words, not a number (``paper=``), and the thresholds' reasons say so.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from paperzoo.core import ClaimSpec, Gate, Results
from paperzoo.core.claims import reference_gate

from .config import DEFAULT_KERNEL, Config

__all__ = [
    "BOOTSTRAP_PAIRS",
    "LOG_LIKELIHOOD_BOUNDS",
    "claims",
    "clean_and_shifts",
    "drop_key",
    "official_drops",
    "quality_levels",
    "task_data",
]

LOG_LIKELIHOOD_BOUNDS = (-1e3, 1e3)
"""Divergence bounds of a target log-likelihood (nats per point) and of its clean-to-shifted
drop: trained models lie within a few nats (the committed runs: -1.9 to +0.7, drops 0.01-3.4;
the official CANP loses 3.6 under t-noise); a thousand nats means a collapsed scale or a
diverged run, not an effect."""

BOOTSTRAP_PAIRS = (("BNP", ("CNP", "NP")), ("BANP", ("CANP", "ANP")))
"""Each bootstrapped model and the bases it is compared with; the first base is its
deterministic backbone (BNP is CNP plus the bootstrap, BANP is CANP plus it)."""

_PAPER_ROBUST = (
    "no number: the paper's tables were not retrieved (spec: 'No table numbers retrieved'); "
    "in words, under t-noise, unseen EMNIST classes and hare-lynx the bootstrapped models "
    "'lose much less target log-likelihood' than their bases"
)
_PAPER_IN_DISTRIBUTION = (
    "no number: the paper's tables were not retrieved (spec: 'No table numbers retrieved')"
)
_QUALITY_MEAN_REASON = (
    "the gate compares our implementation with the official code's level, measured once on one "
    "official seed; the tolerance absorbs the difference of seeds and evaluation draws, so the "
    "seed mean is our implementation's level (a single seed's shortfall is seed noise of the "
    "size the one-seed reference has too; a diverged seed fails the settled and finite gates)"
)


def clean_and_shifts(cfg: Config) -> tuple[str, list[str]]:
    """The in-distribution set and the model-data-mismatch sets the claims compare it with."""
    randomised = ["tnoise_random"] if cfg.task.random_t_noise else []
    if cfg.task.kind == "images":
        return "seen", ["unseen", *randomised]
    if cfg.task.kind == "lotka_volterra":
        return "sim", ["mismatch"]
    return cfg.task.train_kernel, ["tnoise", *randomised]


def task_data(cfg: Config) -> str:
    """The key of the run's task in per-task levels: the GP kernel of the training tasks
    (``rbf``), the image data set (``task.dataset``) or ``lotka_volterra``."""
    if cfg.task.kind == "images":
        return cfg.task.dataset
    if cfg.task.kind == "lotka_volterra":
        return "lotka_volterra"
    return cfg.task.train_kernel


def drop_key(cfg: Config, shift: str) -> str:
    """The key of a mismatch set in ``claims.reference_tar_ll_drop``: ``<task>_<set>``
    (``rbf_tnoise``), the name the evaluation gives a kernel's t-noise set."""
    return f"{task_data(cfg)}_{shift}"


def quality_levels(cfg: Config, model: str) -> dict[str, float] | None:
    """``claims.reference_tar_ll`` of ``model`` by task, or None when the model has no quality
    gate. A plain number (configs before per-task levels) is its level on GP ``rbf`` tasks."""
    ref = cfg.claims.reference_tar_ll.get(model)
    if ref is None:
        return None
    return dict(ref) if isinstance(ref, dict) else {DEFAULT_KERNEL: float(ref)}


def official_drops(cfg: Config, model: str) -> dict[str, float] | None:
    """``claims.reference_tar_ll_drop`` of ``model`` by ``<task>_<set>``, or None when the model
    has no official drop declared."""
    ref = cfg.claims.reference_tar_ll_drop.get(model)
    return None if ref is None else {k: float(v) for k, v in ref.items()}


def _describe(cfg: Config, shift: str) -> str:
    if shift == "tnoise":
        return f"Under Student-t noise (gamma {cfg.task.t_noise:g})"
    if shift == "tnoise_random":
        top = 0.09 if cfg.task.kind == "images" else 0.15  # the official maxima
        return (
            f"Under Student-t noise (random gamma ~ U(0, {top:g}) {cfg.task.random_t_noise_mode})"
        )
    if shift == "mismatch":
        return "On the mismatched predator-prey simulator"
    return "On unseen classes"


def _quality_gate(cfg: Config, clean: str, arm: str, level_of: str) -> Gate | None:
    """``<arm>_quality``: the seed mean of ``arm``'s in-distribution target log-likelihood
    reaches the official ``level_of`` model's level at equal steps minus the tolerance; None when
    ``level_of`` has no declared level at all (no gate)."""
    levels = quality_levels(cfg, level_of)
    if levels is None:
        return None
    cc = cfg.claims
    whose = "the official code's level" if arm == level_of else f"the official {level_of}'s level"
    # The level was measured on one task (GP kernel, image data set or simulator): another task
    # without its own level makes the claims inconclusive rather than borrowing this one.
    gate = reference_gate(
        f"{arm.lower()}_quality",
        f"{clean}/tar_ll",
        {task: level - cc.quality_tolerance for task, level in levels.items()},
        task_data(cfg),
        f"claims.reference_tar_ll.{level_of}",
        "min",
        arms=(arm,),
        reason=f"{arm} below {whose} at equal steps: not trained as far as the official code",
    )
    return dataclasses.replace(gate, per_seed=False, mean_reason=_QUALITY_MEAN_REASON)


def _mismatch_gates(cfg: Config, shift: str, bases: tuple[str, ...]) -> list[Gate]:
    """Per seed, every base loses likelihood under ``shift``: at least ``mismatch_fraction`` and
    at most ``mismatch_ceiling`` times the official code's drop at equal steps (bases with a
    declared drop), and at least ``min_baseline_drop`` nats when that is above 0.

    Per seed: in a seed where a base loses (almost) nothing, that seed's paired difference
    measures no robustness.
    """
    cc = cfg.claims
    metric = f"{shift}/tar_ll_drop"
    gates = []
    # At 0 the absolute gate could not fail on a baseline that loses anything: it is left out
    # (the GP presets gate on the official drop instead, which can).
    if cc.min_baseline_drop > 0:
        gates.append(
            Gate(
                "mismatch",
                metric,
                cc.min_baseline_drop,
                "min",
                arms=bases,
                reason="the baselines barely lose likelihood: no mismatch to be robust to",
            )
        )
    for b in bases:
        drops = official_drops(cfg, b)
        if drops is None:
            continue
        # A band around the official code's drop: too little is not the official mismatch; far
        # more is a weaker baseline than the paper's, and BNP's advantage over it is flattered.
        band = (
            ("mismatch", cc.mismatch_fraction, "min", "less", "not the official mismatch"),
            (
                "not_flattering",
                cc.mismatch_ceiling,
                "max",
                "more",
                "a weaker baseline than the paper's flatters BNP",
            ),
        )
        for name, factor, kind, word, why in band:
            gates.append(
                reference_gate(
                    f"{b.lower()}_{name}",
                    metric,
                    {k: factor * d for k, d in drops.items()},
                    drop_key(cfg, shift),
                    f"claims.reference_tar_ll_drop.{b}",
                    kind,
                    arms=(b,),
                    reason=(
                        f"{b} loses {word} than {factor:g} x the official code's drop at equal "
                        f"steps: {why}"
                    ),
                )
            )
    return gates


def _robust_reason(cfg: Config, shift: str, bases: tuple[str, ...]) -> str:
    """Why ``robustness_effect`` is the smallest effect that counts, beside the official
    baselines' drops on this set (when declared)."""
    tau = cfg.claims.robustness_effect
    key = drop_key(cfg, shift)
    drops = {b: d[key] for b in bases if (d := official_drops(cfg, b)) and key in d}
    if drops and tau > 0 and min(drops.values()) > 0:
        listed = ", ".join(f"{b} {d:g}" for b, d in drops.items())
        lo, hi = 100 * tau / max(drops.values()), 100 * tau / min(drops.values())
        span = f"{lo:.0f}%" if round(lo) == round(hi) else f"{lo:.0f}-{hi:.0f}%"
        scale = (
            f"the official code's bases lose {listed} nats on this set at equal steps "
            f"(claims.reference_tar_ll_drop, README 'Official code at equal steps'), so "
            f"{tau:g} nats is {span} of their drop: a loss 'much less' clears it by far"
        )
    else:
        scale = f"no official drop is declared for {key}, so it is not scaled by one"
    cc = cfg.claims
    same = (
        " (the in-distribution margin and the quality tolerance are the same size)"
        if tau == cc.in_distribution_margin == cc.quality_tolerance
        else ""
    )
    return (
        f"{tau:g} nats per target point, a factor e^{tau:g} = {math.exp(tau):.3g} in "
        "(geometric-mean) predictive density: the smallest gain in likelihood this "
        f"reproduction counts{same}. The paper gives no number to scale it by (spec: 'No "
        "table numbers retrieved'; its words: 'much less'), so it is a lenient floor, not the "
        f"paper's effect; {scale}"
    )


def _in_distribution_reason(cfg: Config) -> str:
    """Why ``in_distribution_margin`` has its size."""
    cc = cfg.claims
    m = cc.in_distribution_margin
    same = (
        ", the size of the quality gate's tolerance for two runs of one model that differ only "
        "in seeds and evaluation draws"
        if m == cc.quality_tolerance
        else ""
    )
    return (
        f"{m:g} nats: a non-inferiority margin of ours (the paper's words are 'at least as "
        f"good' and 'about equal'; no number retrieved), a factor e^{m:g} = {math.exp(m):.3g} "
        f"in (geometric-mean) predictive density per target point{same}"
    )


def _names(arms: tuple[str, ...]) -> str:
    """``CNP's`` or ``each of CNP and NP's``."""
    return f"{arms[0]}'s" if len(arms) == 1 else f"each of {' and '.join(arms)}'s"


def claims(results: Results) -> list[ClaimSpec]:
    """The paper's claims (Table 1; Table 2 for images), declared with the preset's thresholds.

    For each bootstrapped model and each mismatch set: its clean-to-shifted drop in target
    log-likelihood is smaller than each base model's by ``robustness_effect``; and in
    distribution it is at most ``in_distribution_margin`` below each base's. Gates: ``settled``
    (the validation LL of every compared arm no longer moving at the end of the schedule, a
    stability check), the quality of every compared arm at the official code's level at equal
    steps (``reference_tar_ll``; the bootstrapped model at its deterministic base's, in the
    robustness claims only: in distribution its level is what the claim compares), and, for
    the robustness claims, that the bases do lose likelihood under the shift (a share of the
    official drop, ``reference_tar_ll_drop``, and ``min_baseline_drop``).
    """
    cfg: Config = results.config
    cc = cfg.claims
    arms = set(results.arms)
    clean, shifts = clean_and_shifts(cfg)
    out = []
    for boot, bases in BOOTSTRAP_PAIRS:
        have = tuple(b for b in bases if b in arms)
        if boot not in arms or not have:
            continue
        # Per seed (the default): each seed trains its own models, so a seed still moving has
        # not settled where its paired difference assumes.
        settled = Gate(
            "settled",
            "val/tar_ll_change",
            cc.settled_change,
            "max",
            arms=(boot, *have),
            reason="validation ll still moving at the end of the schedule",
        )
        base_quality = [g for b in have if (g := _quality_gate(cfg, clean, b, b)) is not None]
        boot_quality = _quality_gate(cfg, clean, boot, bases[0])
        # The abstract claim is about GP regression against every base (Table 1); image
        # completion at ~1% of the official training, the sim-to-sim stand-in for hare-lynx and
        # a run without every base test it only in part.
        role: Literal["headline", "secondary"] = (
            "headline" if cfg.task.kind == "gp" and have == bases else "secondary"
        )
        for shift in shifts:
            gates = [settled, *base_quality]
            if boot_quality is not None:
                gates.append(boot_quality)
            out.append(
                ClaimSpec(
                    f"{boot.lower()}_robust_{shift}",
                    f"{_describe(cfg, shift)}, {boot}'s drop in target log-likelihood is "
                    f"smaller than {_names(have)} by at least "
                    f"{cc.robustness_effect:g} nats (the paper's abstract claim: robust under "
                    "model-data mismatch; its results: the bootstrapped models lose much less "
                    "target log-likelihood)",
                    f"{shift}/tar_ll_drop",
                    boot,
                    have,
                    higher_is_better=False,
                    threshold=cc.robustness_effect,
                    gates=(*gates, *_mismatch_gates(cfg, shift, have)),
                    role=role,
                    paper=_PAPER_ROBUST,
                    threshold_reason=_robust_reason(cfg, shift, have),
                    bounds=LOG_LIKELIHOOD_BOUNDS,
                )
            )
        out.append(
            ClaimSpec(
                f"{boot.lower()}_in_distribution",
                f"In distribution ({clean}), {boot}'s target log-likelihood is at most "
                f"{cc.in_distribution_margin:g} nats below {_names(have)} "
                "(the paper: in distribution BNP is at least as good as CNP/NP and BANP about "
                "equal to ANP; the margin is ours)",
                f"{clean}/tar_ll",
                boot,
                have,
                threshold=-cc.in_distribution_margin,
                # No quality gate on the bootstrapped arm here: its in-distribution level is
                # what the claim compares, so a shortfall must fail the claim, not void it.
                gates=(settled, *base_quality),
                role="secondary",
                paper=_PAPER_IN_DISTRIBUTION,
                threshold_reason=_in_distribution_reason(cfg),
                bounds=LOG_LIKELIHOOD_BOUNDS,
            )
        )
    return out
