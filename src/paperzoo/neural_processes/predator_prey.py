"""Predator-prey tasks: stochastic Lotka-Volterra series (the paper's sim-to-real experiment).

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp,
``regression/data/lotka_volterra.py`` and ``regression/lotka_volterra.py``).

Populations ``(X, Y)`` (prey, predator) follow a continuous-time Markov jump process simulated
with Gillespie's algorithm. Four events with rates

    prey born:      theta0 X Y   (X += 1)        prey dies:      theta1 X   (X -= 1)
    predator born:  theta2 Y     (Y += 1)        predator dies:  theta3 X Y (Y -= 1)

(the official parameterisation and defaults: X0 = 50, Y0 = 100, theta = (0.01, 0.5, 1, 0.01);
the initial populations get ``N(0, 1)`` jitter, rounded down, at least 1). The waiting time to
the next event is ``Exp(total rate)``. A series stops at ``num_events`` events or when a species
dies out. A task is a random subset of a series' events: ``x`` = time (1-D), ``y`` = both
populations (2-D), standardised per task with the *context's* mean and standard deviation
(official ``standardize``), so the model never sees absolute scales.

The paper trains on simulated series and evaluates on the real Hudson's Bay hare-lynx pelt
counts (model-data mismatch). Those counts are not shipped by any package this project can
install (``pydataset`` 0.2.0 has R's ``lynx`` series only); the mismatch here is a simulator
with other rates (:data:`MISMATCH_THETA`), which changes the cycle's period, amplitude and
shape, and users can evaluate on their own series with :func:`series_tasks`.

Deviations from the official code: the simulation is vectorised over series in numpy (same
process, a ``numpy.random.Generator`` instead of numba's global RNG); tasks draw their series
from a pre-simulated pool (official: a fresh batch of 50 series per training step, 10,000
batches simulated ahead), so the pool size bounds the diversity of training series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .tasks import Task

__all__ = [
    "MISMATCH_THETA",
    "OFFICIAL_THETA",
    "LotkaVolterraSampler",
    "Series",
    "series_tasks",
    "simulate_lotka_volterra",
    "simulate_pool",
    "standardize",
]

OFFICIAL_THETA = (0.01, 0.5, 1.0, 0.01)
"""Official rates (prey birth per encounter, prey death, predator birth, predator death per
encounter)."""

MISMATCH_THETA = (0.005, 0.5, 1.0, 0.02)
"""The mismatched simulator: encounters feed the prey half as much and kill predators twice as
often, so populations cycle around other levels with another period (pre-registered)."""


@dataclass
class Series:
    """Simulated series, padded to ``num_events``.

    Shape:
        time: (series, num_events); pops: (series, num_events, 2); length: (series,)
    """

    time: np.ndarray
    pops: np.ndarray
    length: np.ndarray


def simulate_lotka_volterra(
    num_series: int,
    num_events: int = 20_000,
    x0: float = 50.0,
    y0: float = 100.0,
    theta: Sequence[float] = OFFICIAL_THETA,
    rng: np.random.Generator | None = None,
) -> Series:
    """Gillespie simulation of ``num_series`` independent predator-prey series at once.

    Each step draws, for every live series, the waiting time ``Exp(1 / sum(rates))`` and the
    event with probability ``rate / sum(rates)``; a series whose prey or predators reach 0
    stops (its remaining entries repeat the last state and are beyond ``length``).
    """
    if num_series < 1 or num_events < 2:
        raise ValueError(
            f"need num_series >= 1 and num_events >= 2, got {num_series}, {num_events}"
        )
    if len(theta) != 4 or min(theta) <= 0:
        raise ValueError(f"theta must be 4 positive rates, got {tuple(theta)}")
    rng = rng or np.random.default_rng()
    t0, t1, t2, t3 = (float(v) for v in theta)
    time = np.zeros((num_series, num_events))
    pops = np.zeros((num_series, num_events, 2))
    pops[:, 0, 0] = np.maximum(np.floor(x0 + rng.standard_normal(num_series)), 1)
    pops[:, 0, 1] = np.maximum(np.floor(y0 + rng.standard_normal(num_series)), 1)
    length = np.full(num_series, num_events)
    alive = np.ones(num_series, dtype=bool)
    # The four events' effect on (X, Y).
    delta = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    for i in range(1, num_events):
        x, y = pops[:, i - 1, 0], pops[:, i - 1, 1]
        rates = np.stack([t0 * x * y, t1 * x, t2 * y, t3 * x * y], 1)  # (S, 4)
        total = rates.sum(1)
        safe = np.where(alive, total, 1.0)
        wait = rng.exponential(1.0, num_series) / safe
        u = rng.random(num_series) * safe
        event = (rates.cumsum(1) < u[:, None]).sum(1).clip(max=3)
        time[:, i] = time[:, i - 1] + np.where(alive, wait, 0.0)
        pops[:, i] = pops[:, i - 1] + np.where(alive[:, None], delta[event], 0.0)
        died = alive & ((pops[:, i, 0] == 0) | (pops[:, i, 1] == 0))
        length[died] = i + 1
        alive &= ~died
        if not alive.any():
            time[:, i + 1 :] = time[:, i : i + 1]
            pops[:, i + 1 :] = pops[:, i : i + 1]
            break
    return Series(time, pops, length)


def standardize(task: Task) -> Task:
    """Shift and scale ``x`` and ``y`` of each task by its context's mean and std (official).

    Shape: task.x (batch, points, 1), task.y (batch, points, 2) -> same
    """
    xc, yc = task.xc, task.yc
    mx, sx = xc.mean(-2, keepdim=True), xc.std(-2, keepdim=True)
    my, sy = yc.mean(-2, keepdim=True), yc.std(-2, keepdim=True)
    # A constant context coordinate has std 0: keep its scale (official: sigma[sigma == 0] = 1).
    sx = torch.where(sx == 0, torch.ones_like(sx), sx)
    sy = torch.where(sy == 0, torch.ones_like(sy), sy)
    return Task((task.x - mx) / (sx + 1e-5), (task.y - my) / (sy + 1e-5), task.num_context)


def simulate_pool(
    num_series: int,
    theta: Sequence[float] = OFFICIAL_THETA,
    seed: int = 0,
    num_events: int = 20_000,
    keep_events: int = 1000,
    chunk: int = 250,
) -> Series:
    """Simulate ``num_series`` series in chunks and keep ``keep_events`` random events of each.

    A task's points are a uniform random subset of its series' events, and a uniform random
    subset of a uniform random subset is again one, so thinning each series to ``keep_events``
    events (all of them when it is shorter) leaves the task distribution unchanged for tasks
    of at most ``keep_events`` points while storing ``keep_events / num_events`` of the pool.
    """
    rng = np.random.default_rng(seed)
    times, pops, lengths = [], [], []
    for start in range(0, num_series, chunk):
        s = simulate_lotka_volterra(
            min(chunk, num_series - start), num_events, theta=theta, rng=rng
        )
        keys = rng.random(s.time.shape)
        keys[np.arange(num_events)[None, :] >= s.length[:, None]] = 2.0  # dead tail last
        pick = np.sort(np.argsort(keys, 1)[:, :keep_events], 1)
        times.append(np.take_along_axis(s.time, pick, 1).astype(np.float32))
        pops.append(np.take_along_axis(s.pops, pick[..., None], 1).astype(np.float32))
        lengths.append(np.minimum(s.length, keep_events))
    return Series(np.concatenate(times), np.concatenate(pops), np.concatenate(lengths))


class LotkaVolterraSampler:
    """Tasks from a pool of simulated series: random events of random series, standardised.

    Args:
        series: a pool from :func:`simulate_lotka_volterra`.
        max_num_points: context + targets stay below this (official 50); the official counts
            are ``n_ctx ~ U{15, ..., max - 16}``, ``n_tar ~ U{15, ..., max - n_ctx - 1}``.
        min_length: series with fewer events are not used.
    """

    def __init__(self, series: Series, max_num_points: int = 50, min_length: int | None = None):
        if max_num_points < 32:
            raise ValueError(
                f"max_num_points must be >= 32 (15 context + 15 targets + 2), got {max_num_points}"
            )
        keep = series.length >= (min_length or max_num_points)
        if not keep.any():
            raise ValueError("no simulated series is long enough for a task")
        self.time = torch.as_tensor(series.time[keep], dtype=torch.float32)
        self.pops = torch.as_tensor(series.pops[keep], dtype=torch.float32)
        self.length = torch.as_tensor(series.length[keep])
        self.max_num_points = max_num_points

    def __len__(self) -> int:
        return len(self.length)

    def sample(
        self,
        batch_size: int = 16,
        num_context: int | None = None,
        num_target: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Task:
        """One batch of tasks sharing point counts.

        Shape: task.x (batch, points, 1), task.y (batch, points, 2); standardised.
        """
        m = self.max_num_points
        nc = num_context or int(torch.randint(15, m - 15, (1,), generator=generator))
        nt = num_target or int(torch.randint(15, m - nc, (1,), generator=generator))
        idx = torch.randint(len(self), (batch_size,), generator=generator)
        n = nc + nt
        # n distinct events of each series, in random order (uniform over its live events).
        keys = torch.rand((batch_size, self.time.shape[1]), generator=generator)
        live = torch.arange(self.time.shape[1]) < self.length[idx, None]
        pick = torch.where(live, keys, 2.0).argsort(-1)[:, :n]
        x = torch.gather(self.time[idx], 1, pick).unsqueeze(-1)
        y = torch.gather(self.pops[idx], 1, pick.unsqueeze(-1).expand(-1, -1, 2))
        return standardize(Task(x, y, nc))


def series_tasks(
    time: Sequence[float] | np.ndarray,
    pops: Sequence[Sequence[float]] | np.ndarray,
    num_batches: int = 100,
    batch_size: int = 16,
    min_context: int = 15,
    seed: int = 42,
) -> list[Task]:
    """Evaluation tasks from one real series (e.g. yearly hare and lynx counts), as officially:
    every task holds all points in a random order, a random prefix of ``n_ctx ~ U{min_context,
    ..., N - min_context - 1}`` points is the context; standardised by the context.

    Shape: time (N,), pops (N, 2) -> tasks with x (batch, N, 1), y (batch, N, 2)
    """
    t = torch.as_tensor(np.asarray(time, dtype=np.float32))
    p = torch.as_tensor(np.asarray(pops, dtype=np.float32))
    if t.dim() != 1 or p.shape != (t.shape[0], 2):
        raise ValueError(
            f"time must be (N,) and pops (N, 2), got {tuple(t.shape)}, {tuple(p.shape)}"
        )
    n = t.shape[0]
    if n < 2 * min_context + 1:
        raise ValueError(f"a series needs at least {2 * min_context + 1} points, got {n}")
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num_batches):
        nc = int(torch.randint(min_context, n - min_context, (1,), generator=g))
        order = torch.rand((batch_size, n), generator=g).argsort(-1)
        x = t[order].unsqueeze(-1)
        y = p[order]
        out.append(standardize(Task(x, y, nc)))
    return out
