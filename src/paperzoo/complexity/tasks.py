"""Task distributions for 1-D regression meta-learning.

Paper: "Neural Complexity Measures", Yoonho Lee, Juho Lee, Sung Ju Hwang, Eunho Yang, Seungjin
Choi, NeurIPS 2020, https://arxiv.org/abs/2008.02953.

The official code draws its tasks from torchmeta's ``Sinusoid`` (amplitude U[0.1, 5], phase
U[0, pi], inputs U[-5, 5], 10 train and 15 test points, no noise). :class:`SinusoidTasks`
samples the same distribution from an explicit ``torch.Generator``; :class:`PolynomialTasks` is a
second family (random cubic polynomials) so that nothing downstream is tied to sinusoids.

Deviations from the paper:
    * torchmeta is replaced by a sampler of our own (same ranges); the random streams differ.
    * :class:`PolynomialTasks` is not in the paper; it exists to test the library on a second
      family of functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["PolynomialTasks", "RegressionTasks", "SinusoidTasks", "TaskDistribution"]


@dataclass
class RegressionTasks:
    """A batch of independent regression tasks, each with its own train and test points.

    Shape:
        x_train, y_train: (tasks, train_points, 1)
        x_test, y_test: (tasks, test_points, 1)
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            t = getattr(self, name)
            if t.dim() != 3 or t.shape[-1] != 1:
                raise ValueError(f"{name} must have shape (tasks, points, 1), got {tuple(t.shape)}")
        if self.x_train.shape != self.y_train.shape or self.x_test.shape != self.y_test.shape:
            raise ValueError("x and y of the same split must have equal shapes")
        if self.x_train.shape[0] != self.x_test.shape[0]:
            raise ValueError("train and test splits must hold the same number of tasks")
        if self.x_train.shape[1] == 0 or self.x_test.shape[1] == 0:
            raise ValueError("each task needs at least one train and one test point")

    @property
    def num_tasks(self) -> int:
        return self.x_train.shape[0]

    def to(self, device: torch.device | str) -> RegressionTasks:
        return RegressionTasks(*(t.to(device) for t in self.tensors()))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train, self.x_test, self.y_test

    def select(self, index: slice | torch.Tensor) -> RegressionTasks:
        """The tasks at ``index`` (a slice or index tensor over the task dimension)."""
        return RegressionTasks(*(t[index] for t in self.tensors()))


class TaskDistribution:
    """Base class: a distribution over functions f plus an input distribution.

    Subclasses implement :meth:`sample_functions`; :meth:`sample` draws the inputs, evaluates the
    functions and splits each task's points into train and test.
    """

    def __init__(
        self,
        num_train: int,
        num_test: int,
        x_range: tuple[float, float] = (-5.0, 5.0),
        noise_std: float = 0.0,
    ) -> None:
        if num_train < 1 or num_test < 1:
            raise ValueError(f"num_train and num_test must be >= 1, got {num_train}, {num_test}")
        if not x_range[0] < x_range[1]:
            raise ValueError(f"x_range must be increasing, got {x_range}")
        if noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std}")
        self.num_train, self.num_test = int(num_train), int(num_test)
        self.x_range = (float(x_range[0]), float(x_range[1]))
        self.noise_std = float(noise_std)

    def sample_functions(self, num_tasks: int, generator: torch.Generator | None) -> dict:
        """Parameters of ``num_tasks`` functions, each a tensor with leading dim ``num_tasks``."""
        raise NotImplementedError

    def evaluate(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        """f(x) for each task's function; ``x`` is (tasks, points, 1)."""
        raise NotImplementedError

    def sample(self, num_tasks: int, generator: torch.Generator | None = None) -> RegressionTasks:
        """Draw ``num_tasks`` tasks with ``num_train`` + ``num_test`` points each."""
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
        params = self.sample_functions(num_tasks, generator)
        lo, hi = self.x_range
        n = self.num_train + self.num_test
        x = lo + (hi - lo) * torch.rand(num_tasks, n, 1, generator=generator)
        y = self.evaluate(params, x)
        if self.noise_std > 0:
            y = y + self.noise_std * torch.randn(y.shape, generator=generator)
        # The points are i.i.d., so the first num_train are a uniformly random train split.
        k = self.num_train
        return RegressionTasks(x[:, :k], y[:, :k], x[:, k:], y[:, k:])


class SinusoidTasks(TaskDistribution):
    """y = A sin(x - phi) with A ~ U[0.1, 5], phi ~ U[0, pi], x ~ U[-5, 5] (torchmeta defaults).

    >>> tasks = SinusoidTasks(num_train=10, num_test=15).sample(4, torch.Generator().manual_seed(0))
    >>> tuple(tasks.x_train.shape), tuple(tasks.y_test.shape)
    ((4, 10, 1), (4, 15, 1))
    """

    def __init__(
        self,
        num_train: int = 10,
        num_test: int = 15,
        amplitude_range: tuple[float, float] = (0.1, 5.0),
        phase_range: tuple[float, float] = (0.0, math.pi),
        x_range: tuple[float, float] = (-5.0, 5.0),
        noise_std: float = 0.0,
    ) -> None:
        super().__init__(num_train, num_test, x_range, noise_std)
        self.amplitude_range = (float(amplitude_range[0]), float(amplitude_range[1]))
        self.phase_range = (float(phase_range[0]), float(phase_range[1]))

    def sample_functions(self, num_tasks: int, generator: torch.Generator | None) -> dict:
        (a0, a1), (p0, p1) = self.amplitude_range, self.phase_range
        amp = a0 + (a1 - a0) * torch.rand(num_tasks, 1, 1, generator=generator)
        phase = p0 + (p1 - p0) * torch.rand(num_tasks, 1, 1, generator=generator)
        return {"amplitude": amp, "phase": phase}

    def evaluate(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        return params["amplitude"] * torch.sin(x - params["phase"])


class PolynomialTasks(TaskDistribution):
    """y = sum_k c_k (x / s)^k, k = 0..degree, c_k ~ N(0, coef_std^2), s = max |x|.

    Inputs are rescaled by the half-width of ``x_range`` so that each coefficient contributes on
    the same scale, whatever the degree.
    """

    def __init__(
        self,
        num_train: int = 10,
        num_test: int = 15,
        degree: int = 3,
        coef_std: float = 1.5,
        x_range: tuple[float, float] = (-5.0, 5.0),
        noise_std: float = 0.0,
    ) -> None:
        super().__init__(num_train, num_test, x_range, noise_std)
        if degree < 0:
            raise ValueError(f"degree must be >= 0, got {degree}")
        self.degree, self.coef_std = int(degree), float(coef_std)

    def sample_functions(self, num_tasks: int, generator: torch.Generator | None) -> dict:
        coef = self.coef_std * torch.randn(num_tasks, 1, self.degree + 1, generator=generator)
        return {"coef": coef}

    def evaluate(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        scale = max(abs(self.x_range[0]), abs(self.x_range[1]))
        powers = torch.arange(self.degree + 1, dtype=x.dtype)
        basis = (x / scale) ** powers  # (tasks, points, degree + 1)
        return (basis * params["coef"]).sum(-1, keepdim=True)
