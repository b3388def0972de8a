"""The results contract: per-seed metrics per arm, summaries with 95% CIs, and judged claims.

``results.json`` has exactly the keys in :data:`RESULT_KEYS`. ``arms`` holds one value per seed
for each metric; ``summary`` is derived from ``arms`` here (never written by a method); each
claim is judged by :func:`paperzoo.core.claims.judge` from ``arms`` and carries its ``verdict``
(holds / fails / inconclusive), ``effect`` (mean paired difference with CI95 and n),
``threshold`` and ``gates``. ``runtime_s`` is wall time summed over every session of a resumed
run, ``cpu_s`` the CPU time of all units, ``workers`` and ``executor`` how they ran.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from paperzoo.core.claims import VERDICTS, Claim

__all__ = ["CLAIM_KEYS", "RESULT_KEYS", "ci95", "summarize", "validate_results"]

RESULT_KEYS = (
    "method",
    "preset",
    "seeds",
    "arms",
    "summary",
    "claims",
    "runtime_s",
    "cpu_s",
    "workers",
    "executor",
    "versions",
)
CLAIM_KEYS = {f.name for f in fields(Claim)}

Arms = dict[str, dict[str, list[float]]]


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


def validate_results(res: dict[str, Any]) -> None:
    """Raise ``ValueError`` when ``res`` breaks the results contract."""
    if set(res) != set(RESULT_KEYS):
        raise ValueError(f"results keys {sorted(res)} != {sorted(RESULT_KEYS)}")
    n = len(res["seeds"])
    for arm, metrics in res["arms"].items():
        for m, vals in metrics.items():
            if len(vals) != n:
                raise ValueError(f"arms.{arm}.{m} has {len(vals)} values for {n} seeds")
    for c in res["claims"]:
        if set(c) != CLAIM_KEYS or c.get("verdict") not in VERDICTS:
            raise ValueError(f"malformed claim {c}")
        if c["holds"] != (c["verdict"] == "holds"):
            raise ValueError(f"claim {c['id']}: holds disagrees with verdict")
        if c["effect"]["n"] < 2 and c["verdict"] != "inconclusive":
            raise ValueError(f"claim {c['id']}: one seed must be inconclusive")
