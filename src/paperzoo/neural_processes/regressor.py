"""Fit a neural process on a user's own collection of (x, y) series; predict mean and intervals.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp).

Each series is one task. Training draws a batch of series per step, a random subset of each
series' points, and splits it into context and targets with the official count ranges; inputs are
rescaled to ``[-2, 2]`` and outputs standardised with statistics of the whole collection, so the
official GP architecture and learning rate apply unchanged.

Randomness: ``fit`` and ``predict`` draw from a ``torch.Generator`` (seeded from ``seed`` unless
one is passed); the initial weights are drawn inside ``torch.random.fork_rng``, so the global RNG
state is the same after a call as before it.

Deviations from the paper: none in the models; the sampling of points from finite series is ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .metrics import predictive_quantile
from .models import NeuralProcess, make_model

__all__ = ["NeuralProcessRegressor", "Prediction"]


@dataclass
class Prediction:
    """Predictive summary at new inputs, in the units of the data.

    Shape: each (points, y_dim), or (points,) when ``y`` was given as 1-D.
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


def _as_2d(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D (points,) or 2-D (points, dim), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


class NeuralProcessRegressor:
    """sklearn-style estimator around a neural process (``fit`` returns ``self``).

    Args:
        model: ``"CNP"``, ``"NP"``, ``"CANP"``, ``"ANP"``, ``"BNP"`` or ``"BANP"``.
        hidden_dim: network width (official 128).
        num_steps: training steps.
        batch_size: series per step.
        learning_rate: Adam learning rate (cosine-annealed).
        num_samples: K during training.
        predict_samples: K at prediction (latent samples / bootstraps).
        max_num_points: points drawn from a series per task (official 50).
        seed: seeds initialisation, task sampling and prediction randomness where no
            ``generator`` is passed to ``fit``/``predict``.

    Learned attributes: ``model_``, ``x_center_``, ``x_scale_``, ``y_mean_``, ``y_std_``,
    ``losses_``.
    """

    def __init__(
        self,
        model: str = "BNP",
        hidden_dim: int = 128,
        num_steps: int = 2000,
        batch_size: int = 16,
        learning_rate: float = 5e-4,
        num_samples: int = 4,
        predict_samples: int = 50,
        max_num_points: int = 50,
        seed: int = 0,
    ):
        self.model = model
        self.hidden_dim = hidden_dim
        self.num_steps = num_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.num_samples = num_samples
        self.predict_samples = predict_samples
        self.max_num_points = max_num_points
        self.seed = seed

    def fit(
        self, series: Sequence[tuple[Any, Any]], generator: torch.Generator | None = None
    ) -> NeuralProcessRegressor:
        """Train on a collection of series ``[(x_1, y_1), (x_2, y_2), ...]``.

        Args:
            series: the tasks, one ``(x, y)`` pair per series.
            generator: source of the initial weights, the task sampling and the models'
                sampling; None: a generator seeded with ``seed`` (the same numbers every fit).

        Shape: each ``x_i`` (points_i,) or (points_i, x_dim); ``y_i`` (points_i,) or
        (points_i, y_dim); every series needs at least 6 points.
        """
        if len(series) == 0:
            raise ValueError("fit needs at least one (x, y) series")
        xs, ys = [], []
        for i, (x, y) in enumerate(series):
            x, y = _as_2d(x, f"x of series {i}"), _as_2d(y, f"y of series {i}")
            if len(x) != len(y):
                raise ValueError(f"series {i}: x has {len(x)} points, y has {len(y)}")
            if len(x) < 6:
                raise ValueError(f"series {i} has {len(x)} points; at least 6 are needed")
            xs.append(x)
            ys.append(y)
        if len({x.shape[1] for x in xs}) > 1 or len({y.shape[1] for y in ys}) > 1:
            raise ValueError("all series must have the same x and y dimensions")
        self._y_1d = np.asarray(series[0][1]).ndim == 1
        allx, ally = np.concatenate(xs), np.concatenate(ys)
        lo, hi = allx.min(0), allx.max(0)
        self.x_center_ = (lo + hi) / 2
        self.x_scale_ = np.where(hi > lo, (hi - lo) / 4, 1.0)  # data range -> [-2, 2]
        self.y_mean_ = ally.mean(0)
        self.y_std_ = np.where(ally.std(0) > 0, ally.std(0), 1.0)
        tx = [torch.from_numpy(self._scale_x(x)) for x in xs]
        ty = [torch.from_numpy(self._scale_y(y)) for y in ys]

        g = torch.Generator().manual_seed(self.seed) if generator is None else generator
        # nn.Module initialisation draws from the global RNG: seed a fork of it, which is
        # restored on exit, from ``seed`` (None) or from the caller's generator.
        init_seed = (
            self.seed
            if generator is None
            else int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            net = make_model(
                self.model,
                x_dim=xs[0].shape[1],
                y_dim=ys[0].shape[1],
                hidden_dim=self.hidden_dim,
                latent_dim=self.hidden_dim,
                num_samples=self.predict_samples,
            )
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, self.num_steps))
        self.losses_ = []
        net.train()
        for _ in range(self.num_steps):
            pick = torch.randint(len(tx), (self.batch_size,), generator=g).tolist()
            n = min(self.max_num_points, min(len(tx[i]) for i in pick))
            # Official count ranges, scaled to the points available in the shortest series.
            nc = int(torch.randint(3, max(4, n - 2), (1,), generator=g))
            nt = int(torch.randint(1, n - nc + 1, (1,), generator=g))
            idx = [torch.randperm(len(tx[i]), generator=g)[: nc + nt] for i in pick]
            x = torch.stack([tx[i][j] for i, j in zip(pick, idx)])
            y = torch.stack([ty[i][j] for i, j in zip(pick, idx)])
            loss = net.loss(x[:, :nc], y[:, :nc], x, y, self.num_samples, g)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            self.losses_.append(loss.item())
        self.model_: NeuralProcess = net.eval()
        return self

    def _scale_x(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.x_center_) / self.x_scale_).astype(np.float32)

    def _scale_y(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean_) / self.y_std_).astype(np.float32)

    def predict(
        self,
        x_context: Any,
        y_context: Any,
        x_new: Any,
        level: float = 0.95,
        generator: torch.Generator | None = None,
    ) -> Prediction:
        """Predictive mean and central ``level`` interval at ``x_new`` given one context series.

        Args:
            x_context: the context inputs.
            y_context: the context outputs.
            x_new: inputs to predict at.
            level: probability of the central interval.
            generator: source of the latent samples / bootstrap contexts; None: a generator
                seeded with ``seed`` (the same prediction every call).

        Shape: x_context (points,) or (points, x_dim); y_context likewise; x_new (new,) or
        (new, x_dim).
        """
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit(...) before predict(...)")
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level}")
        xc, yc = _as_2d(x_context, "x_context"), _as_2d(y_context, "y_context")
        xt = _as_2d(x_new, "x_new")
        if len(xc) != len(yc):
            raise ValueError(f"x_context has {len(xc)} points, y_context has {len(yc)}")
        to_t = lambda a: torch.from_numpy(a).unsqueeze(0)  # noqa: E731 - add the batch axis
        g = torch.Generator().manual_seed(self.seed) if generator is None else generator
        with torch.no_grad():
            dist = self.model_.predict(
                to_t(self._scale_x(xc)),
                to_t(self._scale_y(yc)),
                to_t(self._scale_x(xt)),
                self.predict_samples,
                g,
            )
            mean = dist.mean[0].numpy()
            lower = predictive_quantile(dist, (1 - level) / 2)[0].numpy()
            upper = predictive_quantile(dist, (1 + level) / 2)[0].numpy()

        def unscale(a: np.ndarray) -> np.ndarray:
            a = a * self.y_std_ + self.y_mean_
            return a[:, 0] if self._y_1d else a

        return Prediction(unscale(mean), unscale(lower), unscale(upper), level)
