"""``paperzoo plan``: how many seeds a preset needs, sized by power from a pilot run.

A pilot run (any run directory with a ``results.json``: ``docs/results/<method>/<preset>`` or
``runs/<method>/<preset>/<stamp>``) gives, for each claim, the per-seed paired differences d
(positive favours the claim, as in :mod:`paperzoo.core.claims`). If the true mean and sd of d
are the pilot's, the seeds a claim needs are the smallest n >= 2 for which the CI95 of mean d
excludes the claim's threshold tau with probability >= 0.8: the power of the two-sided t test
of H0: mean = tau at level 0.05, from the noncentral t distribution with n - 1 degrees of
freedom and noncentrality (mean - tau) / (sd / sqrt n). A claim against several baselines needs
what its hardest comparison needs; a headline claim at least ``MIN_HEADLINE_SEEDS``.

Which claims: those the method's *current* claims code declares for the *target* preset's
config (``build_config(method, preset)``: its arms, data sets and ``claims`` thresholds), with
the pilot's seeds and per-seed numbers. So a cheap pilot of one preset can size another, and a
threshold changed since the pilot is the one planned for. The pilot's own ``config.toml`` is
only compared with the preset's: a pilot run with other settings is flagged, since its spread
and its cost per seed may not carry over.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from paperzoo.core.claims import MIN_HEADLINE_SEEDS, ClaimSpec, judge
from paperzoo.core.config import ConfigError, config_from_dict, config_to_dict
from paperzoo.core.errors import UsageError
from paperzoo.core.presets import build_config
from paperzoo.core.registry import get_experiment

__all__ = [
    "ALPHA",
    "CAP",
    "POWER",
    "plan",
    "power",
    "reference_levels",
    "render_plan",
    "render_reference",
    "seeds_needed",
]

ALPHA = 0.05
"""Two-sided level of the test: the claims' intervals are CI95."""
POWER = 0.8
"""Probability with which the planned CI95 should resolve the threshold."""
CAP = 200
"""Largest number of seeds searched; beyond it a claim reads ``> 200``."""

_ROLE_ORDER = {"headline": 0, "secondary": 1, "check": 2}


def power(n: int | np.ndarray, mean: float, sd: float, tau: float, alpha: float = ALPHA) -> Any:
    """P(the CI95 of mean d over ``n`` paired seeds excludes ``tau``) when d ~ N(mean, sd²).

    That is the power of the two-sided one-sample t test of H0: mean = tau: with
    ``nc = (mean - tau) sqrt(n) / sd`` and ``c`` the t quantile 1 - alpha/2 with n - 1 degrees
    of freedom, ``P(T > c) + P(T < -c)`` for T noncentral t(n - 1, nc). ``n`` may be an array.
    With ``sd == 0`` the interval is a point: power 1 unless ``mean == tau`` (then 0).
    """
    from scipy.stats import nct, t

    ns = np.asarray(n, dtype=float)
    if np.any(ns < 2):
        raise ValueError("power needs n >= 2 paired seeds")
    if sd < 0 or not (math.isfinite(mean) and math.isfinite(sd) and math.isfinite(tau)):
        raise ValueError(f"need finite mean, tau and sd >= 0 (got {mean}, {tau}, {sd})")
    if sd == 0:
        out = np.full(ns.shape, 0.0 if mean == tau else 1.0)
        return out if out.ndim else float(out)
    df = ns - 1
    c = t.ppf(1 - alpha / 2, df)
    nc = abs(mean - tau) * np.sqrt(ns) / sd  # the test is symmetric in the sign of the effect
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # series that do not converge: below
        upper = np.asarray(nct.sf(c, df, nc), dtype=float)
        lower = np.asarray(nct.cdf(-c, df, nc), dtype=float)
        miss = np.isnan(upper)
        if miss.any():
            alt = 1.0 - np.asarray(nct.cdf(c, df, nc), dtype=float)
            upper = np.where(miss, alt, upper)
    # scipy's series fail only far in the tails: the far tail is 0, the near one is 1.
    out = np.clip(np.nan_to_num(upper, nan=1.0) + np.nan_to_num(lower, nan=0.0), 0.0, 1.0)
    return out if out.ndim else float(out)


def seeds_needed(
    mean: float, sd: float, tau: float, *, target: float = POWER, cap: int = CAP, floor: int = 2
) -> int | None:
    """The smallest n in [max(2, floor), cap] with ``power(n, mean, sd, tau) >= target``; None
    when no n up to ``cap`` reaches it (never, whatever n, when ``mean == tau``)."""
    lo = max(2, floor)
    if mean == tau or lo > cap:
        return None
    ns = np.arange(lo, cap + 1)
    ok = np.nonzero(power(ns, mean, sd, tau) >= target)[0]
    return int(ns[ok[0]]) if ok.size else None


def _needed_text(n: int | None, mean: float, tau: float, cap: int) -> str:
    if n is not None:
        return str(n)
    return "never" if mean == tau else f"> {cap}"


# --- the pilot ----------------------------------------------------------------------------------


def _load_pilot(path: Path, method: str) -> dict[str, Any]:
    folder = path.parent if path.name == "results.json" else path
    file = folder / "results.json"
    if not file.is_file():
        raise UsageError(
            f"no results.json in {folder}: give a finished run directory "
            "(docs/results/METHOD/PRESET or runs/METHOD/PRESET/STAMP)"
        )
    try:
        res = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{file} is not readable JSON: {e}") from None
    if not isinstance(res, dict) or not all(k in res for k in ("method", "seeds", "arms")):
        raise UsageError(f"{file} lacks method, seeds or arms: not a paperzoo results.json")
    if res["method"] != method:
        raise UsageError(f"the pilot {folder} comes from {res['method']}, not {method}")
    res["_folder"] = folder
    return res


def _config_note(folder: Path, cfg: Any, target: str) -> str:
    """One line when the pilot's config.toml differs from the target preset's (seeds aside)."""
    file = folder / "config.toml"
    if not file.is_file():
        return f"the pilot has no config.toml: it cannot be compared with {target}'s config"
    try:
        pilot = config_from_dict(type(cfg), tomllib.loads(file.read_text("utf-8")))
    except (ConfigError, ValueError, TypeError) as e:
        return f"the pilot's config.toml does not load into today's config ({e})"

    def flat(d: dict[str, Any], pre: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{pre}{k}.") if isinstance(v, dict) else {f"{pre}{k}": v})
        return out

    a, b = flat(config_to_dict(pilot)), flat(config_to_dict(cfg))
    keys = sorted(k for k in a.keys() | b.keys() if k != "seeds" and a.get(k) != b.get(k))
    if not keys:
        return ""
    shown = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
    return (
        f"the pilot's config differs from {target}'s in {len(keys)} field(s) ({shown}): "
        "its spread and cost per seed may not carry over"
    )


def _differences(spec: ClaimSpec, arms: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """(baseline or reference, per-seed d) for each comparison the claim makes."""

    def values(arm: str) -> np.ndarray:
        if arm not in arms:
            raise UsageError(
                f"claim {spec.id}: the pilot has no arm {arm!r} (it has {', '.join(sorted(arms))})"
            )
        if spec.metric not in arms[arm]:
            raise UsageError(f"claim {spec.id}: the pilot has no {spec.metric!r} for arm {arm!r}")
        return np.asarray(arms[arm][spec.metric], dtype=float)

    sign = 1.0 if spec.higher_is_better else -1.0
    a = values(spec.arm)
    if not spec.baselines:
        assert spec.reference is not None
        return [(f"{spec.reference:g}", sign * (a - spec.reference))]
    out = []
    for b in spec.baselines:
        y = values(b)
        if y.shape != a.shape:
            raise UsageError(
                f"claim {spec.id}: {spec.arm} has {a.size} seeds but {b} has {y.size}: not paired"
            )
        out.append((b, sign * (a - y)))
    return out


def _unmeasured(spec: ClaimSpec, arms: dict[str, Any]) -> str:
    """What the pilot lacks to size ``spec`` ('' when nothing): a compared arm, or the claim's
    metric on one (an arm the pilot lacks entirely is a usage error, raised later)."""
    for arm in (spec.arm, *spec.baselines):
        if arm in arms and spec.metric not in arms[arm]:
            return f"{spec.metric!r} of arm {arm!r}"
    return ""


def _claim_fields(spec: ClaimSpec) -> dict[str, Any]:
    """The columns of a plan row that come from the claim's declaration alone."""
    return {
        "id": spec.id,
        "role": spec.role,
        "metric": spec.metric,
        "arm": spec.arm,
        "direction": "higher" if spec.higher_is_better else "lower",
        "threshold": float(spec.threshold),
    }


def _no_pilot_row(spec: ClaimSpec, floor: int, missing: str) -> dict[str, Any]:
    """The plan row of a claim the pilot never measured: the minimum seeds of its role."""
    return {
        **_claim_fields(spec),
        "pilot_verdict": "?",
        "vs": ", ".join(spec.baselines) or f"{spec.reference:g}",
        "pilot_seeds": 0,
        "mean_d": None,
        "sd_d": None,
        "pilot_power": None,
        "seeds_needed": floor,
        "needed": f"{floor} (no pilot)",
        "resolvable": False,
        "comparisons": [],
        "note": f"declared after the pilot, which did not record {missing}: the minimum for "
        f"its role ({floor}); plan again from a run that measures it",
    }


def _comparison(vs: str, d: np.ndarray, tau: float, floor: int, cap: int) -> dict[str, Any]:
    n = int(d.size)
    if n < 2:
        raise UsageError(f"the pilot has {n} paired seed(s): the spread of d needs at least 2")
    row: dict[str, Any] = {"vs": vs, "pilot_seeds": n}
    if not np.all(np.isfinite(d)):
        row.update(mean_d=None, sd_d=None, seeds_needed=None, needed="n/a", resolvable=False)
        row["note"] = "a pilot seed is not finite (diverged): no spread to plan from"
        return row
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    need = seeds_needed(mean, sd, tau, floor=floor, cap=cap)
    row.update(
        mean_d=mean,
        sd_d=sd,
        pilot_power=float(power(n, mean, sd, tau)),
        seeds_needed=need,
        needed=_needed_text(need, mean, tau, cap),
        resolvable=need is not None,
    )
    return row


def _hardness(c: dict[str, Any]) -> float:
    return math.inf if c["seeds_needed"] is None else float(c["seeds_needed"])


def plan(method: str, preset: str, pilot: str | Path, *, cap: int = CAP) -> dict[str, Any]:
    """The seeds each claim of ``method/preset`` needs, from a pilot run's per-seed numbers.

    Raises:
        UsageError: unknown method or preset, no results.json, a pilot of another method or
            one that lacks a claim's arm or metric, or fewer than 2 paired seeds.
    """
    from paperzoo.core.engine import Results

    exp = get_experiment(method, preset)
    cfg = build_config(method, preset)
    res = _load_pilot(Path(pilot), method)
    folder: Path = res["_folder"]
    seeds = [int(s) for s in res["seeds"]]
    arms = res["arms"]
    results = Results(dataclasses.replace(cfg, seeds=seeds), seeds, arms)
    try:
        specs = list(exp.load_claims()(results))
    except (KeyError, ValueError) as e:
        raise UsageError(f"{method}/{preset}: its claims cannot be read off the pilot ({e})") from e
    if not specs:
        raise UsageError(
            f"{method}/{preset} declares no claim on the pilot's arms ({', '.join(sorted(arms))})"
        )
    rows = []
    for spec in specs:
        floor = MIN_HEADLINE_SEEDS if spec.role == "headline" else 2
        if missing := _unmeasured(spec, arms):
            # Declared after the pilot ran: no spread to plan from, so the claim asks for the
            # fewest seeds its role is judged on, and the output says so (never a silent guess).
            rows.append(_no_pilot_row(spec, floor, missing))
            continue
        comps = [
            _comparison(vs, d, spec.threshold, floor, cap) for vs, d in _differences(spec, arms)
        ]
        worst = max(comps, key=_hardness)  # the first of the hardest
        try:
            verdict = judge(spec, arms).verdict
        except (KeyError, ValueError):  # a gate metric the pilot lacks, say: planning goes on
            verdict = "?"
        rows.append(
            {
                **_claim_fields(spec),
                "pilot_verdict": verdict,
                **{k: worst[k] for k in ("vs", "pilot_seeds", "mean_d", "sd_d")},
                "pilot_power": worst.get("pilot_power"),
                "seeds_needed": worst["seeds_needed"],
                "needed": worst["needed"],
                "resolvable": worst["resolvable"],
                "comparisons": comps,
                **({"note": worst["note"]} if "note" in worst else {}),
            }
        )
    rows.sort(key=lambda r: _ROLE_ORDER.get(r["role"], 3))
    cpu_s = res.get("cpu_s")
    per_seed = (
        float(cpu_s) / len(seeds)
        if isinstance(cpu_s, (int, float)) and cpu_s > 0 and seeds
        else None
    )
    for r in rows:
        r["cpu_s_estimate"] = (
            None if per_seed is None or r["seeds_needed"] is None else per_seed * r["seeds_needed"]
        )
    return {
        "method": method,
        "preset": preset,
        "pilot": str(folder),
        "pilot_preset": res.get("preset"),
        "pilot_seeds": len(seeds),
        "pilot_cpu_s": cpu_s,
        "cpu_s_per_seed": per_seed,
        "power": POWER,
        "alpha": ALPHA,
        "cap": cap,
        "min_headline_seeds": MIN_HEADLINE_SEEDS,
        "claims": rows,
        "preset_seeds": _preset_seeds(rows, cap, per_seed),
        "config_note": _config_note(folder, cfg, f"{method}/{preset}"),
    }


def _preset_seeds(rows: list[dict[str, Any]], cap: int, per_seed: float | None) -> dict[str, Any]:
    """The seeds the preset should use: what its hardest headline or secondary claim needs
    (over every claim when it declares none of those roles)."""
    key = [r for r in rows if r["role"] in ("headline", "secondary")]
    over = "its headline and secondary claims"
    if not key:
        key, over = rows, "its claims: it declares no headline or secondary claim"
    finite = [r["seeds_needed"] for r in key if r["seeds_needed"] is not None]
    open_ = [r["id"] for r in key if r["seeds_needed"] is None]
    seeds = None if open_ else max(finite)
    return {
        "seeds": seeds,
        "needed": str(seeds) if seeds is not None else f"> {cap}",
        "over": over,
        "unresolvable": open_,
        "seeds_resolvable": max(finite) if finite else None,
        "cpu_s_estimate": None if per_seed is None or seeds is None else per_seed * seeds,
    }


# --- text ---------------------------------------------------------------------------------------


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.4g}"


def _cpu(s: float | None) -> str:
    if s is None:
        return "?"
    m = s / 60.0
    if m < 120:
        return f"~{m:.0f} min" if m >= 10 else f"~{m:.1f} min"
    return f"~{m / 60:.0f} h" if m < 48 * 60 else f"~{m / 1440:.0f} d"


def render_plan(p: dict[str, Any]) -> str:
    """The plan as text: what was read, one row per claim (headline first), the preset's seeds
    and the CPU estimate."""
    target = f"{p['method']}/{p['preset']}"
    cpu = p["pilot_cpu_s"]
    lines = [
        f"plan for {target} from the pilot {p['pilot']} "
        f"({p['method']}/{p['pilot_preset']}, {p['pilot_seeds']} seeds"
        + (f", {cpu:.0f} s CPU)" if isinstance(cpu, (int, float)) else ", no cpu_s)"),
        f"claims: {target}'s current claims code and thresholds, on the pilot's per-seed numbers",
        f"seeds needed: the smallest n with {p['power']:.0%} power that the CI95 of mean d "
        "excludes the threshold",
        "  if d's true mean and sd are the pilot's (two-sided t test, noncentral t); the hardest",
        f"  baseline decides; headline claims need at least {p['min_headline_seeds']}",
        "",
    ]
    head = ["id", "role", "metric", "vs", "pilot verdict", "pilot seeds", "mean d", "sd d"]
    head += ["threshold", "seeds needed", "CPU (est.)"]
    table = [head]
    for r in p["claims"]:
        table.append(
            [
                r["id"],
                r["role"],
                r["metric"],
                r["vs"],
                r["pilot_verdict"],
                str(r["pilot_seeds"]),
                _num(r["mean_d"]),
                "n/a" if r["sd_d"] is None else f"{r['sd_d']:.4g}",
                f"{r['threshold']:+g}",
                r["needed"],
                _cpu(r["cpu_s_estimate"]),
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    right = {5, 6, 7, 8, 9, 10}
    for row in table:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    per = p["cpu_s_per_seed"]
    lines.append(
        "CPU (est.): the preset's CPU time (every arm) at that many seeds, an estimate from the "
        + (f"pilot's cost per seed (cpu_s / seeds = {per:.0f} s)" if per else "pilot (no cpu_s)")
    )
    for r in p["claims"]:
        if r.get("note"):
            lines.append(f"{r['id']}: {r['note']}")
    ps = p["preset_seeds"]
    line = f"seeds for {target}: {ps['needed']} (max over {ps['over']}"
    if ps["unresolvable"]:
        line += f"; not within {p['cap']} seeds: {', '.join(ps['unresolvable'])}"
        if ps["seeds_resolvable"] is not None:
            line += f"; the others need {ps['seeds_resolvable']}"
    line += ")" + (f", {_cpu(ps['cpu_s_estimate'])} CPU" if ps["cpu_s_estimate"] else "")
    lines.append(line)
    if p["config_note"]:
        lines.append(f"note: {p['config_note']}")
    return "\n".join(lines) + "\n"


def reference_levels(method: str, preset: str, pilot: str | Path) -> dict[str, Any]:
    """Gate levels to pre-register for a new data set, from a pilot run on it.

    The pilot (typically ``paperzoo reproduce METHOD --preset P --set <data set>=X --set
    'arms=[<reference arm>]'``) is judged with its own config, so each reference gate names the
    pilot's data set; for every gate whose level is declared per data set (its ``setting``),
    the pilot's per-seed values of the gate's metric over the gate's arms give the proposal:
    mean - 2 sd for a ``min`` gate (mean + 2 sd for ``max``), with the spread and worst seed
    shown, for the user to pre-register with ``--set <setting>.<data set>=<level>``.
    """
    from paperzoo.core.engine import Results

    from .ledger import NoNumbers, arm_names

    exp = get_experiment(method, preset)
    res = _load_pilot(Path(pilot), method)
    folder: Path = res["_folder"]
    cls = type(exp.make_config())
    try:
        raw = (
            json.loads((folder / "config.json").read_text())
            if (folder / "config.json").is_file()
            else tomllib.loads((folder / "config.toml").read_text())
        )
        cfg = config_from_dict(cls, raw)
    except (OSError, ValueError, ConfigError) as e:
        raise UsageError(f"{folder}: the pilot's config cannot be read ({e})") from None
    seeds = [int(s) for s in res["seeds"]]
    cfg = dataclasses.replace(cfg, seeds=seeds)
    arms: dict[str, Any] = {a: NoNumbers(len(seeds)) for a in arm_names(exp, cfg)}
    arms.update(res["arms"])
    specs = list(exp.load_claims()(Results(cfg, seeds, arms)))
    found: dict[tuple[str, str, str, tuple[str, ...]], dict[str, Any]] = {}
    for spec in specs:
        for g in spec.gates:
            if not g.setting:
                continue
            names = g.arms or (spec.arm, *spec.baselines)
            key = (g.setting, g.dataset, g.metric, tuple(names))
            if key in found:
                continue
            vals = [
                float(v)
                for a in names
                if a in res["arms"] and g.metric in res["arms"][a]
                for v in res["arms"][a][g.metric]
            ]
            row: dict[str, Any] = {
                "gate": g.name,
                "setting": g.setting,
                "dataset": g.dataset,
                "metric": g.metric,
                "arms": list(names),
                "kind": g.kind,
                "declared": g.reference,
                "values": vals,
            }
            finite = [v for v in vals if math.isfinite(v)]
            if len(finite) >= 2:
                mean, sd = float(np.mean(finite)), float(np.std(finite, ddof=1))
                worst = min(finite) if g.kind == "min" else max(finite)
                level = mean - 2 * sd if g.kind == "min" else mean + 2 * sd
                row.update(mean=mean, sd=sd, worst=worst, proposed=level)
            found[key] = row
    if not found:
        raise UsageError(
            f"{method}/{preset} declares no gate with a per-data-set level on the pilot's config"
        )
    return {"method": method, "preset": preset, "pilot": str(folder), "seeds": len(seeds),
            "gates": list(found.values())}  # fmt: skip


def render_reference(p: dict[str, Any]) -> str:
    """The proposals as lines a user can paste after ``paperzoo reproduce``."""
    lines = [
        f"Reference levels for {p['method']}/{p['preset']} from the pilot {p['pilot']} "
        f"({p['seeds']} seeds): mean -/+ 2 sd of the pilot's per-seed values (worst seed shown);",
        "pre-register one by adding it to the command line before the run:",
        "",
    ]
    for g in p["gates"]:
        what = f"{g['gate']} ({g['kind']}) on {g['metric']} of {', '.join(g['arms'])}"
        now = "none" if g["declared"] is None else f"{g['declared']:g}"
        if "proposed" not in g:
            lines.append(f"  {what}: the pilot has fewer than 2 finite values; declared: {now}")
            continue
        key = f"{g['setting']}.{g['dataset']}" if g["dataset"] else g["setting"]
        lines.append(
            f"  --set {key}={g['proposed']:.4g}    # {what}: mean {g['mean']:.4g}, sd "
            f"{g['sd']:.2g}, worst seed {g['worst']:.4g}; declared now: {now}"
        )
    return "\n".join(lines) + "\n"
