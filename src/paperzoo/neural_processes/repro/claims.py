"""The neural processes reproduction's claims, declared: metric, arms, direction, the
pre-registered smallest effect (``config.claims``) and validity gates. The engine judges them
from paired per-seed differences (:mod:`paperzoo.core.claims`).

Roles: the headline is the paper's abstract claim that the bootstrapped models are robust under
model-data mismatch, read as its results state it: under each mismatch (Student-t noise, unseen
classes, another simulator) BNP / BANP lose much less target log-likelihood than CNP and NP /
CANP and ANP (``<boot>_robust_<shift>``). In distribution the paper finds BNP at least as good
as its bases and BANP about equal to ANP (recalled in the spec): ``<boot>_in_distribution``,
``secondary``, with a non-inferiority margin of ours. The paper's table values were not
retrieved (spec: "No table numbers retrieved"), so no claim quotes a paper number.
"""

from __future__ import annotations

import dataclasses

from paperzoo.core import ClaimSpec, Gate, Results
from paperzoo.core.claims import reference_gate

from .config import DEFAULT_KERNEL, Config

__all__ = [
    "BOOTSTRAP_PAIRS",
    "LOG_LIKELIHOOD_BOUNDS",
    "claims",
    "clean_and_shifts",
    "quality_levels",
    "task_data",
]

LOG_LIKELIHOOD_BOUNDS = (-1e3, 1e3)
"""Divergence bounds of a target log-likelihood (nats per point) and of its clean-to-shifted
drop: trained models lie within a few nats (the committed runs: -1.9 to +0.7, drops 0.01-3.4;
the official CANP loses 3.6 under t-noise); a thousand nats means a collapsed scale or a
diverged run, not an effect."""

_NO_RATIONALE = "set before the run; no stated rationale"

BOOTSTRAP_PAIRS = (("BNP", ("CNP", "NP")), ("BANP", ("CANP", "ANP")))
"""Each bootstrapped model and the baselines it is compared with."""


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


def quality_levels(cfg: Config, model: str) -> dict[str, float] | None:
    """``claims.reference_tar_ll`` of ``model`` by task, or None when the model has no quality
    gate. A plain number (configs before per-task levels) is its level on GP ``rbf`` tasks."""
    ref = cfg.claims.reference_tar_ll.get(model)
    if ref is None:
        return None
    return dict(ref) if isinstance(ref, dict) else {DEFAULT_KERNEL: float(ref)}


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


def claims(results: Results) -> list[ClaimSpec]:
    """The paper's claims (Table 1; Table 2 for images), declared with the preset's thresholds.

    For each bootstrapped model and each mismatch set: its clean-to-shifted drop in target
    log-likelihood is smaller than each base model's by ``robustness_effect``; and in
    distribution it is at most ``in_distribution_margin`` below its deterministic base.
    Gates: convergence of every compared arm (validation LL still moving), the quality of the
    baselines (``reference_tar_ll``, the official code's level at equal steps on the run's
    task) and, for the robustness claims, that the baselines do lose likelihood under the
    shift (``min_baseline_drop``).
    """
    cfg: Config = results.config
    cc = cfg.claims
    arms = set(results.arms)
    clean, shifts = clean_and_shifts(cfg)
    robust_reason = (
        f"{cc.robustness_effect:g} nats: {_NO_RATIONALE} (the config calls it the smallest "
        "reduction of the drop that counts as more robust; the paper says only 'much less')"
    )
    out = []
    for boot, bases in BOOTSTRAP_PAIRS:
        have = tuple(b for b in bases if b in arms)
        if boot not in arms or not have:
            continue
        # Per seed (the default): each seed trains its own models, so a seed still moving has
        # not reached the plateau its paired difference assumes.
        gates = [
            Gate(
                "converged",
                "val/tar_ll_change",
                cc.converged_change,
                "max",
                arms=(boot, *have),
                reason="validation ll still moving",
            )
        ]
        for b in have:
            levels = quality_levels(cfg, b)
            if levels is None:
                continue
            # The official code's level was measured on one task (GP kernel, image data set or
            # simulator): another task without its own level makes the claims inconclusive.
            gate = reference_gate(
                f"{b.lower()}_quality",
                f"{clean}/tar_ll",
                {task: level - cc.quality_tolerance for task, level in levels.items()},
                task_data(cfg),
                f"claims.reference_tar_ll.{b}",
                "min",
                arms=(b,),
                reason=f"{b} below the official code's level at equal steps",
            )
            gates.append(
                dataclasses.replace(
                    gate,
                    per_seed=False,
                    mean_reason=(
                        "the gate compares our implementation of the baseline with the "
                        "official code's level, measured once on one official seed; the "
                        "tolerance absorbs the difference of seeds and evaluation draws, so "
                        "the seed mean is our implementation's level (a single seed's "
                        "shortfall is seed noise of the size the one-seed reference has "
                        "too; a diverged seed fails the converged and finite gates)"
                    ),
                )
            )
        for shift in shifts:
            # Per seed: in a seed where a baseline loses nothing under the shift, that seed's
            # difference measures no robustness.
            mismatch = Gate(
                "mismatch",
                f"{shift}/tar_ll_drop",
                cc.min_baseline_drop,
                "min",
                arms=have,
                reason="the baselines barely lose likelihood: no mismatch to be robust to",
            )
            out.append(
                ClaimSpec(
                    f"{boot.lower()}_robust_{shift}",
                    f"{_describe(cfg, shift)}, {boot}'s drop in target log-likelihood is "
                    f"smaller than {' and '.join(have)}'s by at least "
                    f"{cc.robustness_effect:g} nats (the paper's abstract claim: robust under "
                    "model-data mismatch; its results: the bootstrapped models lose much less "
                    "target log-likelihood)",
                    f"{shift}/tar_ll_drop",
                    boot,
                    have,
                    higher_is_better=False,
                    threshold=cc.robustness_effect,
                    gates=(*gates, mismatch),
                    role="headline",
                    threshold_reason=robust_reason,
                    bounds=LOG_LIKELIHOOD_BOUNDS,
                )
            )
        if bases[0] in arms:
            out.append(
                ClaimSpec(
                    f"{boot.lower()}_in_distribution",
                    f"In distribution ({clean}), {boot}'s target log-likelihood is at most "
                    f"{cc.in_distribution_margin:g} nats below {bases[0]}'s (the paper, "
                    "recalled in the spec: in distribution BNP is at least as good as CNP/NP "
                    "and BANP about equal to ANP; the margin is ours)",
                    f"{clean}/tar_ll",
                    boot,
                    (bases[0],),
                    threshold=-cc.in_distribution_margin,
                    gates=tuple(gates),
                    role="secondary",
                    threshold_reason=(
                        f"{cc.in_distribution_margin:g} nats: {_NO_RATIONALE} (a "
                        "non-inferiority margin of ours, the same size as the quality gate's "
                        "tolerance for two runs that differ only in seeds and evaluation draws)"
                    ),
                    bounds=LOG_LIKELIHOOD_BOUNDS,
                )
            )
    return out
