"""Convergence measures of a monitored curve, for the gates of a method's claims.

A unit stores its curves (validation loss, accuracy per round) as artifacts; its claims then
gate on how much the curve still moved at the end: :func:`relative_change` for accuracies and
losses, :func:`absolute_change` for log-likelihoods, whose value can sit near 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["absolute_change", "late_change", "late_new_high", "relative_change"]


def late_change(values: Sequence[float], fraction: float = 0.2, relative: bool = True) -> float:
    """How much a monitored curve still moved over its last ``fraction`` of points.

    ``m_end - m_start``, where ``m_end`` is the mean of the last ``w`` points and ``m_start``
    the mean of the ``w`` points ending where the final ``fraction`` begins,
    ``w = max(1, round(n * fraction / 2))`` (window means tame noisy curves such as per-round
    accuracy); its absolute value, divided by ``max(|m_end|, 1e-12)`` when ``relative``. 0 for
    a flat curve, large for one still climbing; ``inf`` for fewer than two points. Used by
    convergence gates (relative for accuracies and losses, absolute for log-likelihoods, whose
    value can sit near 0).
    """
    v = np.asarray([float(x) for x in values])
    n = len(v)
    if n < 2:
        return math.inf
    w = max(1, round(n * fraction / 2))
    cut = min(n - 1, max(w, round(n * (1 - fraction))))
    end, start = v[n - w :].mean(), v[max(0, cut - w) : cut].mean()
    change = abs(end - start)
    return float(change / max(abs(end), 1e-12) if relative else change)


def relative_change(values: Sequence[float], fraction: float = 0.2) -> float:
    """:func:`late_change` relative to the curve's final level."""
    return late_change(values, fraction, relative=True)


def absolute_change(values: Sequence[float], fraction: float = 0.2) -> float:
    """:func:`late_change` in the curve's own units (e.g. nats)."""
    return late_change(values, fraction, relative=False)


def late_new_high(values: Sequence[float], fraction: float = 0.2) -> float:
    """How far a curve to be maximised rose above its earlier best in its last ``fraction``.

    ``max(0, max(v[cut:]) - max(v[:cut]))`` with ``cut = round(n * (1 - fraction))`` (at least
    1, at most n - 1): 0 when the final stretch set no new high (the curve plateaued, or fell
    after a peak), positive when it was still climbing. Unlike :func:`late_change` a fall after
    a peak does not count: the gate it serves asks "was training long enough to reach the
    best?", for a run that keeps its best checkpoint. ``inf`` for fewer than two points.
    """
    v = np.asarray([float(x) for x in values])
    n = len(v)
    if n < 2:
        return math.inf
    cut = min(n - 1, max(1, round(n * (1 - fraction))))
    return float(max(0.0, v[cut:].max() - v[:cut].max()))
