"""Meta-learning tasks: 1-D Gaussian-process functions (with Student-t noise) and image completion.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp,
``regression/data/gp.py`` and ``regression/data/image.py``).

GP tasks (official ranges): ``x ~ U(-2, 2)``; the number of context points is drawn from
``U{3, ..., max_num_points - 4}`` and of targets from ``U{3, ..., max_num_points - n_ctx - 1}``;
length scale ``~ U(0.1, 0.6)``, output scale ``~ U(0.1, 1)``, noise std 0.02; the Periodic kernel
draws its period from ``U(0.1, 0.5)``. Model-data mismatch adds ``gamma * StudentT(2.1)`` noise to
every output, with ``gamma`` fixed or random (official ``t_noise=-1``: per point ``U(0, 0.15)``;
here also per task).

Image completion (official ``img_to_task``): pixels are points, ``x`` the pixel coordinates scaled
to ``[-1, 1]^2`` and ``y`` the intensity minus 0.5.

Deviations from the official code:
    * Randomness comes from a ``torch.Generator``; Student-t noise is drawn by inverting the t CDF
      (``scipy.special.stdtrit``) on generator uniforms, which has the same distribution as
      ``StudentT(2.1).rsample``.
    * GP outputs are drawn with a Cholesky factor of the kernel matrix (same law as
      ``MultivariateNormal(0, K).rsample()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "KERNELS",
    "GPTaskSampler",
    "ImageCompletionSampler",
    "Matern52Kernel",
    "PeriodicKernel",
    "RBFKernel",
    "Task",
    "add_t_noise",
    "make_kernel",
    "student_t_noise",
]


@dataclass
class Task:
    """A batch of tasks: all points ``x, y`` with the first ``num_context`` as the context.

    Shape:
        x: (batch, points, x_dim); y: (batch, points, y_dim)
    """

    x: Tensor
    y: Tensor
    num_context: int

    @property
    def xc(self) -> Tensor:
        return self.x[:, : self.num_context]

    @property
    def yc(self) -> Tensor:
        return self.y[:, : self.num_context]

    @property
    def xt(self) -> Tensor:
        return self.x[:, self.num_context :]

    @property
    def yt(self) -> Tensor:
        return self.y[:, self.num_context :]

    def to(self, device: torch.device | str) -> Task:
        return Task(self.x.to(device), self.y.to(device), self.num_context)


def _uniform(
    low: float, high: float, shape: tuple[int, ...], generator: torch.Generator | None
) -> Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


class _Kernel:
    """A stationary kernel family whose hyperparameters are drawn per task."""

    def __init__(
        self,
        length_range: tuple[float, float] = (0.1, 0.6),
        scale_range: tuple[float, float] = (0.1, 1.0),
        noise_std: float = 0.02,
    ):
        self.length_range = length_range
        self.scale_range = scale_range
        self.noise_std = noise_std

    def sample_hyperparameters(
        self, batch_size: int, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Shape: each value (batch,)."""
        return {
            "length": _uniform(*self.length_range, (batch_size,), generator),
            "scale": _uniform(*self.scale_range, (batch_size,), generator),
        }

    def correlation(self, x: Tensor, hp: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def covariance(self, x: Tensor, hp: dict[str, Tensor]) -> Tensor:
        """``scale^2 k(x, x') + noise_std^2 I``.

        Shape: x (batch, points, x_dim) -> (batch, points, points)
        """
        eye = torch.eye(x.shape[-2], dtype=x.dtype)
        return hp["scale"].view(-1, 1, 1) ** 2 * self.correlation(x, hp) + self.noise_std**2 * eye

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Covariance with freshly drawn hyperparameters per task."""
        return self.covariance(x, self.sample_hyperparameters(x.shape[0], generator))


class RBFKernel(_Kernel):
    """``exp(-|x - x'|^2 / (2 l^2))``."""

    def correlation(self, x, hp):
        d = (x.unsqueeze(-2) - x.unsqueeze(-3)) / hp["length"].view(-1, 1, 1, 1)
        return torch.exp(-0.5 * d.pow(2).sum(-1))


class Matern52Kernel(_Kernel):
    """``(1 + sqrt5 d + 5 d^2 / 3) exp(-sqrt5 d)`` with ``d = |x - x'| / l``."""

    def correlation(self, x, hp):
        d = torch.norm((x.unsqueeze(-2) - x.unsqueeze(-3)) / hp["length"].view(-1, 1, 1, 1), dim=-1)
        s5 = math.sqrt(5.0)
        return (1 + s5 * d + 5.0 * d.pow(2) / 3.0) * torch.exp(-s5 * d)


class PeriodicKernel(_Kernel):
    """``exp(-2 sin^2(pi |x - x'|_1 / p) / l^2)`` with period ``p ~ U(0.1, 0.5)``."""

    def __init__(self, period_range: tuple[float, float] = (0.1, 0.5), **kw: object):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.period_range = period_range

    def sample_hyperparameters(self, batch_size, generator=None):
        # Same draw order as the official code: period, length, scale.
        period = _uniform(*self.period_range, (batch_size,), generator)
        hp = super().sample_hyperparameters(batch_size, generator)
        return {"period": period, **hp}

    def correlation(self, x, hp):
        d = (x.unsqueeze(-2) - x.unsqueeze(-3)).abs().sum(-1)
        s = torch.sin(math.pi * d / hp["period"].view(-1, 1, 1)) / hp["length"].view(-1, 1, 1)
        return torch.exp(-2 * s.pow(2))


KERNELS = {"rbf": RBFKernel, "matern": Matern52Kernel, "periodic": PeriodicKernel}
"""Kernel families by name (the official GP experiments' three)."""


def make_kernel(
    name: str,
    length_range: tuple[float, float] = (0.1, 0.6),
    scale_range: tuple[float, float] = (0.1, 1.0),
) -> _Kernel:
    """A kernel family by name with its hyperparameter ranges (official defaults).

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in KERNELS:
        raise ValueError(f"unknown GP kernel {name!r}; choose from {sorted(KERNELS)}")
    if not (0 < length_range[0] <= length_range[1] and 0 < scale_range[0] <= scale_range[1]):
        raise ValueError(f"bad ranges: length {length_range}, scale {scale_range}")
    return KERNELS[name](length_range=tuple(length_range), scale_range=tuple(scale_range))


def student_t_noise(
    shape: tuple[int, ...], df: float = 2.1, generator: torch.Generator | None = None
) -> Tensor:
    """Standard Student-t samples by inverse CDF of generator uniforms."""
    from scipy.special import stdtrit

    u = torch.rand(shape, generator=generator, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
    return torch.from_numpy(stdtrit(df, u.numpy())).float()


def add_t_noise(
    y: Tensor,
    gamma: float | None,
    mode: Literal["fixed", "per_point", "per_task"] = "fixed",
    max_gamma: float = 0.15,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``y + gamma * StudentT(2.1)`` with ``gamma`` fixed or ``U(0, max_gamma)`` per point/task.

    Shape: y (batch, points, y_dim) -> same
    """
    if gamma is None and mode == "fixed":
        return y
    if mode == "fixed":
        scale: Tensor | float = float(gamma)  # type: ignore[arg-type]
    elif mode == "per_point":  # official t_noise = -1
        scale = max_gamma * torch.rand(y.shape, generator=generator)
    elif mode == "per_task":
        scale = max_gamma * torch.rand((y.shape[0], 1, 1), generator=generator)
    else:
        raise ValueError(f"unknown t-noise mode {mode!r}")
    return y + scale * student_t_noise(tuple(y.shape), 2.1, generator)


class GPTaskSampler:
    """Batches of 1-D GP regression tasks with the official ranges.

    Args:
        kernel: an :class:`RBFKernel`, :class:`Matern52Kernel` or :class:`PeriodicKernel`.
        t_noise: ``gamma`` of the Student-t(2.1) output noise; ``None`` for none. Ignored unless
            ``t_noise_mode == "fixed"``.
        t_noise_mode: ``"fixed"`` (gamma = ``t_noise``), ``"per_point"`` (gamma ~ U(0, max) per
            output, the official ``t_noise=-1``) or ``"per_task"`` (gamma ~ U(0, max) per task).
        max_t_noise: upper end of the random gamma (official 0.15 for GP tasks).
        max_num_points: context + targets stay below this (official 50).
        x_range: interval of the inputs.
    """

    def __init__(
        self,
        kernel: _Kernel | None = None,
        t_noise: float | None = None,
        t_noise_mode: Literal["fixed", "per_point", "per_task"] = "fixed",
        max_t_noise: float = 0.15,
        max_num_points: int = 50,
        x_range: tuple[float, float] = (-2.0, 2.0),
    ):
        if max_num_points < 10:
            raise ValueError(f"max_num_points must be >= 10, got {max_num_points}")
        self.kernel = kernel or RBFKernel()
        self.t_noise, self.t_noise_mode, self.max_t_noise = t_noise, t_noise_mode, max_t_noise
        self.max_num_points = max_num_points
        self.x_range = x_range

    def sample(
        self,
        batch_size: int = 16,
        num_context: int | None = None,
        num_target: int | None = None,
        generator: torch.Generator | None = None,
        x: Tensor | None = None,
    ) -> Task:
        """One batch of tasks sharing the context and target counts.

        Args:
            batch_size: number of tasks.
            num_context, num_target: fixed counts instead of the official random ones.
            generator: random source.
            x: fixed inputs (batch, points, 1) instead of ``U(x_range)``; the first
                ``num_context`` (default: half) are the context.

        Shape: task.x, task.y: (batch_size, num_context + num_target, 1)
        """
        m = self.max_num_points
        if x is not None:
            if x.dim() != 3 or x.shape[0] != batch_size or x.shape[1] < 2:
                raise ValueError(f"x must be ({batch_size}, points >= 2, 1), got {tuple(x.shape)}")
            nc = num_context or x.shape[1] // 2
            nt = x.shape[1] - nc
        else:
            nc = num_context or int(torch.randint(3, m - 3, (1,), generator=generator))
            nt = num_target or int(torch.randint(3, m - nc, (1,), generator=generator))
            lo, hi = self.x_range
            x = _uniform(lo, hi, (batch_size, nc + nt, 1), generator)
        cov = self.kernel(x, generator)
        chol = torch.linalg.cholesky(cov)  # (B, N, N)
        eps = torch.randn((batch_size, nc + nt, 1), generator=generator)
        y = chol @ eps  # y ~ N(0, K)
        y = add_t_noise(y, self.t_noise, self.t_noise_mode, self.max_t_noise, generator)
        return Task(x, y, nc)


class ImageCompletionSampler:
    """Image-completion tasks: random pixels of random images as context and targets.

    Args:
        images: intensities in [0, 1], shape (num_images, height, width) or
            (num_images, channels, height, width).
        max_num_points: context + targets (official 200 for EMNIST).
        t_noise, t_noise_mode, max_t_noise: as :class:`GPTaskSampler` (official random gamma for
            images: U(0, 0.09)).
    """

    def __init__(
        self,
        images: Tensor,
        max_num_points: int = 200,
        t_noise: float | None = None,
        t_noise_mode: Literal["fixed", "per_point", "per_task"] = "fixed",
        max_t_noise: float = 0.09,
    ):
        if images.dim() == 3:
            images = images.unsqueeze(1)
        if images.dim() != 4 or images.shape[0] == 0:
            raise ValueError(f"images must be (N, [C,] H, W) with N > 0, got {tuple(images.shape)}")
        self.images = images.float()
        self.max_num_points = max_num_points
        self.t_noise, self.t_noise_mode, self.max_t_noise = t_noise, t_noise_mode, max_t_noise

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width)."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def sample(
        self,
        batch_size: int = 16,
        num_context: int | None = None,
        num_target: int | None = None,
        generator: torch.Generator | None = None,
        indices: Tensor | None = None,
    ) -> Task:
        """Tasks from ``batch_size`` random images (or the given ``indices``).

        Shape: task.x (batch, points, 2) in [-1, 1]; task.y (batch, points, channels) in
        [-0.5, 0.5] (plus noise).
        """
        c, h, w = self.shape
        m = self.max_num_points
        if indices is None:
            indices = torch.randint(self.images.shape[0], (batch_size,), generator=generator)
        img = self.images[indices].reshape(len(indices), c, h * w)
        img = add_t_noise(img, self.t_noise, self.t_noise_mode, self.max_t_noise, generator)
        nc = num_context or int(torch.randint(3, m - 3, (1,), generator=generator))
        nt = num_target or int(torch.randint(3, m - nc, (1,), generator=generator))
        idx = torch.rand((len(indices), h * w), generator=generator).argsort(-1)[:, : nc + nt]
        row, col = idx // w, idx % w
        x = torch.stack([2 * row.float() / (h - 1) - 1, 2 * col.float() / (w - 1) - 1], -1)
        y = torch.gather(img, -1, idx.unsqueeze(1).expand(-1, c, -1)).transpose(1, 2) - 0.5
        return Task(x, y, nc)
