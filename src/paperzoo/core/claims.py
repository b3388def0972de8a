"""Declared claims and their three-valued verdicts: holds, fails or inconclusive.

A method does not decide whether a paper's claim holds; it *declares* the claim (which metric,
which arms, which direction, the smallest effect that counts, the validity gates) in its
``claims(results)`` function, and :func:`judge` computes the verdict from **paired** per-seed
differences:

.. math::

    d_s = \\sigma\\,(m_{\\text{arm}, s} - m_{\\text{baseline}, s}),\\qquad
    \\bar d \\pm t_{0.975, n-1}\\, \\frac{\\mathrm{sd}(d)}{\\sqrt n}

with :math:`\\sigma = +1` when higher is better and :math:`-1` otherwise, so a positive ``d``
always favours the claim. With threshold :math:`\\tau` (the smallest effect that counts):

* ``holds``: the whole CI95 lies above :math:`\\tau`;
* ``fails``: the whole CI95 lies below :math:`\\tau`;
* ``inconclusive``: otherwise, with one seed, or when a validity gate did not pass.

A claim against several baselines ("BNP beats CNP and NP") holds when it holds against each,
fails when it fails against any, and is inconclusive otherwise. A claim with no baseline compares
the arm with a fixed ``reference`` value (e.g. "the correlation exceeds 0.5").

Every claim has a **role**: ``headline`` (the paper's abstract claim, in its words and
magnitude), ``secondary`` (another claim of the paper) or ``check`` (a sanity check, a
non-inferiority margin the paper does not make, context). A headline is never judged on fewer
than :data:`MIN_HEADLINE_SEEDS` paired seeds (at 3 seeds the t factor is 4.30).

**Gates read every seed.** A gate passes only if every seed of every arm it covers passes; a
gate meant as a seed mean says so (``per_seed=False``) and why. Every claim also carries the
standard ``finite`` gate: each seed's value of the claim's metric, for the arm and every
baseline, is finite and inside the metric's declared ``bounds`` (a diverged baseline makes the
claim inconclusive, never a huge effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = [
    "MIN_HEADLINE_SEEDS",
    "ROLES",
    "VERDICTS",
    "Claim",
    "ClaimSpec",
    "Effect",
    "Gate",
    "GateResult",
    "judge",
    "judge_all",
    "paired_effect",
    "reference_gate",
]

VERDICTS = ("holds", "fails", "inconclusive")
Verdict = Literal["holds", "fails", "inconclusive"]
ROLES = ("headline", "secondary", "check")
Role = Literal["headline", "secondary", "check"]
MIN_HEADLINE_SEEDS = 4
"""Fewest paired seeds a headline claim is judged on (the CI95 t factor is 4.30 at 3 seeds,
3.18 at 4)."""
Arms = Mapping[str, Mapping[str, Sequence[float]]]


@dataclass(frozen=True)
class Gate:
    """A validity condition: the claim is only judged when ``value`` passes against ``reference``.

    Every seed's value of ``metric`` for each arm in ``arms`` (the claim's arm and baselines
    when empty) must pass: one broken seed fails the gate. ``kind="min"``: value >= reference
    (e.g. the FP32 model's accuracy reaches its known level); ``kind="max"``: value <= reference
    (e.g. the relative change of the validation loss over the last 20% of steps, a convergence
    check). The reported value is the worst seed's. ``per_seed=False`` judges the seed mean
    instead; such a gate must say why in ``mean_reason``.

    Attributes:
        name: short name shown in reports (``"fp32_reference"``, ``"converged"``).
        metric: metric key in ``results.arms[arm]``.
        reference: the level to reach (``min``) or not to exceed (``max``).
        kind: ``"min"`` or ``"max"``.
        arms: arms the gate applies to; empty means the claim's arm and its baselines.
        reason: what a failed gate means, in words (printed with the verdict).
        per_seed: every seed must pass (default); False: the seed mean must.
        mean_reason: why a mean gate reads the mean (required when ``per_seed`` is False).
        dataset: the data set the level belongs to, for a reference level that depends on it
            (a known accuracy, a baseline's plateau); see :func:`reference_gate`.
        setting: the config key that holds the levels by data set (``claims.fp32_max_error``):
            a ``reference`` of None means none is declared for ``dataset``, and the gate fails
            saying which key to set, never passes silently nor borrows another set's bar.
    """

    name: str
    metric: str
    reference: float | None
    kind: Literal["min", "max"] = "min"
    arms: tuple[str, ...] = ()
    reason: str = ""
    per_seed: bool = True
    mean_reason: str = ""
    dataset: str = ""
    setting: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("min", "max"):
            raise ValueError(f"gate {self.name}: kind must be 'min' or 'max', got {self.kind!r}")
        if not self.per_seed and not self.mean_reason:
            raise ValueError(f"gate {self.name}: a gate on the seed mean must say why")
        if self.reference is None and not self.setting:
            raise ValueError(f"gate {self.name}: no reference level and no setting to declare it")

    def missing(self) -> str:
        """Why a gate without a level for its data set cannot pass."""
        ds = self.dataset or "this data set"
        key = f"{self.setting}.{self.dataset}" if self.dataset else self.setting
        return (
            f"no reference level for {ds}: set `{key}` (e.g. --set {key}=...) or run the "
            "reference arm's pilot (`paperzoo plan --reference`)"
        )


def reference_gate(
    name: str,
    metric: str,
    levels: Mapping[str, float],
    dataset: str,
    setting: str,
    kind: Literal["min", "max"] = "min",
    arms: tuple[str, ...] = (),
    reason: str = "",
) -> Gate:
    """A gate whose level is known per data set (``levels``: ``{data set: level}``, the
    config's ``setting``): the level of ``dataset``, or a gate that fails with "no reference
    level for <dataset>" when none is declared (the user sets one with ``--set
    <setting>.<dataset>=...``, and the run's pre-registration ledger records it)."""
    return Gate(name, metric, levels.get(dataset), kind, arms, reason, dataset=dataset,
                setting=setting)  # fmt: skip


@dataclass(frozen=True)
class GateResult:
    name: str
    value: float | None
    reference: float | None
    kind: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the paper, declared before the run.

    Attributes:
        id: short stable identifier (``"mnist_fedmix_beats_fedavg"``).
        statement: the claim in words, with the quantity compared.
        metric: metric key compared (``"test/final_acc"``).
        arm: the arm the paper says is better.
        baselines: the arms it is compared with (paired by seed); empty: compare with
            ``reference``.
        higher_is_better: direction of ``metric``.
        threshold: the smallest effect that counts, in the claimed direction and the metric's
            units (stated in the preset before the run). A negative threshold states a
            non-inferiority claim ("at most 0.05 nats worse").
        reference: the fixed level to compare with when there is no baseline.
        gates: validity gates; any failed gate makes the verdict ``inconclusive``.
        role: ``headline`` (the paper's abstract claim), ``secondary`` (another claim of the
            paper) or ``check`` (sanity checks, margins the paper does not state, context).
        paper: the paper's own number for this comparison, with where it stands ("+7.4
            points on CIFAR-10, Table 1"); empty when the paper states none.
        threshold_reason: why the threshold has its size (a known noise level, a fraction of
            the paper's effect, the resolution of the test set...).
        bounds: ``(low, high)``: the values the metric can take when training worked (an error
            rate in [0, 1], an MSE below a divergence level); a seed outside them, or not
            finite, in any compared arm makes the claim inconclusive (the ``finite`` gate).
    """

    id: str
    statement: str
    metric: str
    arm: str
    baselines: tuple[str, ...] = ()
    higher_is_better: bool = True
    threshold: float = 0.0
    reference: float | None = None
    gates: tuple[Gate, ...] = ()
    role: Role = "check"
    paper: str = ""
    threshold_reason: str = ""
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.baselines, str):
            object.__setattr__(self, "baselines", (self.baselines,))
        if not self.baselines and self.reference is None:
            raise ValueError(f"claim {self.id}: give baselines or a reference value")
        if self.role not in ROLES:
            raise ValueError(f"claim {self.id}: role must be one of {ROLES}, got {self.role!r}")
        if self.bounds is not None and not self.bounds[0] <= self.bounds[1]:
            raise ValueError(f"claim {self.id}: bounds {self.bounds} have low > high")
        if any(g.name == "finite" for g in self.gates):
            raise ValueError(f"claim {self.id}: the gate name 'finite' is the standard gate's")


@dataclass(frozen=True)
class Effect:
    """Mean paired difference (positive favours the claim) with its Student-t CI95."""

    mean: float
    low: float
    high: float
    n: int


@dataclass
class Claim:
    """A judged claim, as written to ``results.json`` (built only by :func:`judge`)."""

    id: str
    statement: str
    verdict: Verdict
    holds: bool
    evidence: str
    effect: dict[str, float | int | None]
    threshold: float
    gates: list[dict[str, Any]] = field(default_factory=list)
    metric: str = ""
    direction: str = ""
    reason: str = ""
    role: str = "check"
    paper: str = ""
    threshold_reason: str = ""
    post_hoc: list[str] = field(default_factory=list)
    second_look: str = ""


def paired_effect(a: Sequence[float], b: Sequence[float] | float, sign: float = 1.0) -> Effect:
    """Mean of ``sign * (a_s - b_s)`` over paired seeds and its CI95 (infinite for one seed)."""
    x = np.asarray(a, dtype=float)
    y = np.full_like(x, float(b)) if np.isscalar(b) else np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired values differ in length: {x.size} vs {y.size}")
    d = sign * (x - y)
    n = int(d.size)
    if n == 0:
        raise ValueError("no paired values")
    mean = float(d.mean())
    if n < 2:
        return Effect(mean, -math.inf, math.inf, n)
    from scipy.stats import t

    half = float(t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return Effect(mean, mean - half, mean + half, n)


def _values(arms: Arms, arm: str, metric: str) -> list[float]:
    if arm not in arms:
        raise KeyError(f"arm {arm!r} not in results (have {sorted(arms)})")
    if metric not in arms[arm]:
        raise KeyError(f"metric {metric!r} not recorded for arm {arm!r}")
    return [float(v) for v in arms[arm][metric]]


def _check_gate(gate: Gate, spec: ClaimSpec, arms: Arms) -> GateResult:
    """The gate over every seed of every covered arm (or their seed means for a mean gate); the
    value reported is the worst one."""
    names = gate.arms or (spec.arm, *spec.baselines)
    if gate.reference is None:  # no level declared for this data set: never a silent pass
        return GateResult(gate.name, None, None, gate.kind, False, gate.missing())
    worst: float | None = None
    where = ""
    for a in names:
        if a not in arms or gate.metric not in arms[a]:
            return GateResult(
                gate.name, None, gate.reference, gate.kind, False, f"{gate.metric} of {a} missing"
            )
        seeds = [float(v) for v in arms[a][gate.metric]]
        vals = seeds if gate.per_seed else [float(np.mean(seeds))]
        for k, v in enumerate(vals):
            if not math.isfinite(v):
                what = f"{a} seed #{k}" if gate.per_seed else a
                return GateResult(
                    gate.name, v, gate.reference, gate.kind, False, f"{what} not finite"
                )
            if worst is None or (v < worst if gate.kind == "min" else v > worst):
                worst, where = v, (f"{a}, seed #{k}" if gate.per_seed else f"{a}, seed mean")
    assert worst is not None
    passed = worst >= gate.reference if gate.kind == "min" else worst <= gate.reference
    return GateResult(gate.name, worst, gate.reference, gate.kind, passed, where)


def _standard_gate(spec: ClaimSpec, arms: Arms) -> GateResult:
    """``finite``: every seed of the claim's metric, for the arm and every baseline, is finite
    and inside ``spec.bounds``; the value is the number of seeds that are not."""
    bad = []
    for a in (spec.arm, *spec.baselines):
        for k, v in enumerate(_values(arms, a, spec.metric)):
            out = spec.bounds is not None and not spec.bounds[0] <= v <= spec.bounds[1]
            if not math.isfinite(v) or out:
                bad.append(f"{a} seed #{k} = {v:.4g}")
    bounds = "" if spec.bounds is None else f" in [{spec.bounds[0]:g}, {spec.bounds[1]:g}]"
    detail = f"{spec.metric}{bounds}: " + ", ".join(bad) if bad else ""
    return GateResult("finite", float(len(bad)), 0.0, "max", not bad, detail)


def _fmt(x: float) -> str:
    return f"{x:+.4g}" if math.isfinite(x) else ("+inf" if x > 0 else "-inf")


def _outcome(e: Effect, threshold: float) -> str:
    return "holds" if e.low > threshold else "fails" if e.high < threshold else "open"


def _comparisons(spec: ClaimSpec, arms: Arms) -> list[tuple[str, Effect]]:
    """(baseline or reference, paired effect) for each comparison the claim makes."""
    sign = 1.0 if spec.higher_is_better else -1.0
    a = _values(arms, spec.arm, spec.metric)
    if spec.baselines:
        return [(b, paired_effect(a, _values(arms, b, spec.metric), sign)) for b in spec.baselines]
    assert spec.reference is not None
    return [(f"{spec.reference:g}", paired_effect(a, spec.reference, sign))]


def _gate_reasons(spec: ClaimSpec, gates: list[GateResult]) -> list[str]:
    reasons = []
    for g in gates:
        if g.passed:
            continue
        if g.value is None and g.detail.startswith("no reference level"):
            reasons.append(f"gate {g.name}: {g.detail}")
            continue
        if g.value is None:  # the run did not record what the gate reads
            reasons.append(f"gate {g.name}: {g.detail} (not recorded)")
            continue
        if g.name == "finite":
            reasons.append(f"gate finite: a compared arm diverged or left its bounds ({g.detail})")
            continue
        why = next((x.reason for x in spec.gates if x.name == g.name), "")
        op = ">=" if g.kind == "min" else "<="
        at = f" at {g.detail}" if g.detail else ""
        reasons.append(
            f"gate {g.name}: {g.value:.4g}{at} not {op} {g.reference:g}"
            + (f" ({why})" if why else "")
        )
    return reasons


def _evidence(spec: ClaimSpec, arms: Arms, comps: list[tuple[str, Effect]], n: int) -> str:
    direction = "higher" if spec.higher_is_better else "lower"
    parts = [f"{spec.arm} {np.mean(_values(arms, spec.arm, spec.metric)):.4g}"]
    for name, e in comps:
        what = (
            f"{name} {np.mean(_values(arms, name, spec.metric)):.4g}"
            if spec.baselines
            else f"reference {name}"
        )
        parts.append(
            f"vs {what}: d={_fmt(e.mean)} [{_fmt(e.low)}, {_fmt(e.high)}]"
            f" ({_outcome(e, spec.threshold)})"
        )
    return (
        f"{spec.metric} ({direction} is better), paired over {n} seed(s), "
        f"threshold {spec.threshold:g}: " + "; ".join(parts)
    )


def judge(spec: ClaimSpec, arms: Arms) -> Claim:
    """The verdict of one declared claim from the per-seed values in ``arms``."""
    comps = _comparisons(spec, arms)
    per = [_outcome(e, spec.threshold) for _, e in comps]
    # The deciding comparison: the first failure, else the least convincing one.
    i = (
        per.index("fails")
        if "fails" in per
        else int(np.argmin([e.low - spec.threshold for _, e in comps]))
    )
    effect = comps[i][1]
    gates = [_standard_gate(spec, arms)] + [_check_gate(g, spec, arms) for g in spec.gates]
    reasons = (["one seed: no confidence interval"] if effect.n < 2 else []) + _gate_reasons(
        spec, gates
    )
    if spec.role == "headline" and 2 <= effect.n < MIN_HEADLINE_SEEDS:
        reasons.append(
            f"a headline claim needs at least {MIN_HEADLINE_SEEDS} paired seeds (has {effect.n})"
        )
    if reasons:
        verdict: Verdict = "inconclusive"
    elif all(p == "holds" for p in per):
        verdict = "holds"
    elif "fails" in per:
        verdict = "fails"
    else:
        verdict = "inconclusive"
        reasons.append(f"CI95 of the paired difference contains the threshold {spec.threshold:g}")
    return Claim(
        id=spec.id,
        statement=spec.statement,
        verdict=verdict,
        holds=verdict == "holds",
        evidence=_evidence(spec, arms, comps, effect.n),
        # One seed has no interval: JSON gets nulls rather than infinities.
        effect={
            "mean": effect.mean,
            "low": effect.low if math.isfinite(effect.low) else None,
            "high": effect.high if math.isfinite(effect.high) else None,
            "n": effect.n,
        },
        threshold=float(spec.threshold),
        gates=[
            {
                "name": g.name,
                "value": g.value,
                "reference": g.reference,
                "kind": g.kind,
                "passed": g.passed,
            }
            for g in gates
        ],
        metric=spec.metric,
        direction="higher" if spec.higher_is_better else "lower",
        reason="; ".join(reasons),
        role=spec.role,
        paper=spec.paper,
        threshold_reason=spec.threshold_reason,
    )


def missing_measurement(spec: ClaimSpec, arms: Arms) -> str:
    """What ``arms`` lacks to judge ``spec`` ('' when nothing): an arm or a metric the claim
    reads (its own, or a gate's)."""
    reads = [(a, spec.metric) for a in (spec.arm, *spec.baselines)]
    reads += [(a, g.metric) for g in spec.gates for a in g.arms]
    for arm, metric in reads:
        if arm not in arms:
            return f"arm {arm!r}"
        if metric not in arms[arm]:
            return f"{metric!r} of arm {arm!r}"
    return ""


def unmeasured(spec: ClaimSpec, missing: str) -> Claim:
    """An *inconclusive* verdict for a claim a stored run cannot answer: it was declared after
    the run, which never recorded ``missing``. Its effect is unknown (mean None); only the
    re-judging of stored runs builds one, never a live run (there a missing metric is a bug)."""
    return Claim(
        id=spec.id,
        statement=spec.statement,
        verdict="inconclusive",
        holds=False,
        evidence=f"not measured: the run did not record {missing}",
        effect={"mean": None, "low": None, "high": None, "n": 0},
        threshold=float(spec.threshold),
        gates=[],
        metric=spec.metric,
        direction="higher" if spec.higher_is_better else "lower",
        reason=f"declared after this run, which did not record {missing}: rerun the preset",
        role=spec.role,
        paper=spec.paper,
        threshold_reason=spec.threshold_reason,
    )


def judge_all(specs: Sequence[ClaimSpec], arms: Arms) -> list[Claim]:
    """Judge every claim; duplicate ids are an error (ids key the reports)."""
    ids = [s.id for s in specs]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError(f"duplicate claim ids: {sorted(dup)}")
    return [judge(s, arms) for s in specs]
