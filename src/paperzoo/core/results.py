"""The results contract: per-seed metrics per arm, summaries with 95% CIs, and computed claims.

``results.json`` has exactly the keys in :data:`RESULT_KEYS`. ``arms`` holds one value per seed
for each metric; ``summary`` is derived from ``arms`` here (never written by a method); each
claim's ``holds`` must be a bool that the method computed from ``arms``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "RESULT_KEYS",
    "Claim",
    "Outcome",
    "ci95",
    "compare_claim",
    "summarize",
    "validate_results",
]

RESULT_KEYS = ("method", "preset", "seeds", "arms", "summary", "claims", "runtime_s", "versions")

Arms = dict[str, dict[str, list[float]]]


@dataclass
class Claim:
    """One claim of the paper, checked on this run.

    Attributes:
        id: short stable identifier, e.g. ``"tnoise_robustness"``.
        statement: the claim in words, with the quantity compared.
        holds: computed from ``arms`` by the method (a bool, never a constant).
        evidence: the numbers behind the verdict, e.g. ``"BNP -0.41 vs CNP -1.20 (3 seeds)"``.
    """

    id: str
    statement: str
    holds: bool
    evidence: str

    def __post_init__(self) -> None:
        if not isinstance(self.holds, (bool, np.bool_)):
            raise TypeError(f"claim {self.id}: holds must be a bool, got {type(self.holds)}")
        self.holds = bool(self.holds)


@dataclass
class Outcome:
    """What a method's ``run(config, run_dir)`` returns.

    Attributes:
        arms: ``{arm: {metric: [value per seed]}}``, seeds in the order of ``config.seeds``.
        claims: the paper's claims computed from ``arms``.
        notes: markdown appended to ``report.md`` (deviations, settings worth stating).
        tables: extra markdown tables for the report, keyed by title.
    """

    arms: Arms
    claims: list[Claim] = field(default_factory=list)
    notes: str = ""
    tables: dict[str, str] = field(default_factory=dict)


def ci95(values: Sequence[float]) -> float | None:
    """Half-width of the Student-t 95% confidence interval of the mean (None for one value)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return None
    from scipy.stats import t

    return float(t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def summarize(arms: Arms) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{arm: {metric: {"mean", "ci95"}}}`` from per-seed values."""
    return {
        arm: {m: {"mean": float(np.mean(v)), "ci95": ci95(v)} for m, v in metrics.items()}
        for arm, metrics in arms.items()
    }


def compare_claim(
    claim_id: str,
    statement: str,
    arms: Arms,
    metric: str,
    better: str,
    worse: str | Sequence[str],
    *,
    higher_is_better: bool = True,
    margin: float = 0.0,
) -> Claim:
    """Claim "``better`` beats each of ``worse`` on the seed-mean of ``metric``" (by ``margin``).

    ``margin`` > 0 demands a clear win; < 0 allows ``better`` to trail by at most ``-margin``.
    """
    worse = [worse] if isinstance(worse, str) else list(worse)
    sign = 1.0 if higher_is_better else -1.0
    mean = {a: float(np.mean(arms[a][metric])) for a in [better, *worse]}
    holds = all(sign * (mean[better] - mean[w]) > margin for w in worse)
    n = len(arms[better][metric])
    ev = ", ".join(f"{a} {mean[a]:.4g}" for a in [better, *worse])
    return Claim(claim_id, statement, holds, f"{metric} seed-mean: {ev} ({n} seeds)")


def validate_results(res: dict[str, Any]) -> None:
    """Raise ``ValueError`` when ``res`` breaks the results contract."""
    if tuple(res) != RESULT_KEYS and set(res) != set(RESULT_KEYS):
        raise ValueError(f"results keys {sorted(res)} != {sorted(RESULT_KEYS)}")
    n = len(res["seeds"])
    for arm, metrics in res["arms"].items():
        for m, vals in metrics.items():
            if len(vals) != n:
                raise ValueError(f"arms.{arm}.{m} has {len(vals)} values for {n} seeds")
    for c in res["claims"]:
        if set(c) != {"id", "statement", "holds", "evidence"} or not isinstance(c["holds"], bool):
            raise ValueError(f"malformed claim {c}")
