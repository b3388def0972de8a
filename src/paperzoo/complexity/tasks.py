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

__all__ = [
    "ClassificationTasks",
    "FewShotClassification",
    "MixtureTasks",
    "PolynomialTasks",
    "RegressionTasks",
    "SinusoidTasks",
    "TaskDistribution",
    "pca_features",
]


@dataclass
class RegressionTasks:
    """A batch of independent regression tasks, each with its own train and test points.

    The learners' loss is the mean squared error (``loss = "mse"``).

    Shape:
        x_train: (tasks, train_points, x_dim), y_train: (tasks, train_points, y_dim)
        x_test: (tasks, test_points, x_dim), y_test: (tasks, test_points, y_dim)
        (1-D regression: x_dim = y_dim = 1)
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    loss = "mse"

    def __post_init__(self) -> None:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            t = getattr(self, name)
            if t.dim() != 3:
                raise ValueError(
                    f"{name} must have shape (tasks, points, dim), got {tuple(t.shape)}"
                )
        if (
            self.x_train.shape[:2] != self.y_train.shape[:2]
            or self.x_test.shape[:2] != self.y_test.shape[:2]
            or self.x_train.shape[2] != self.x_test.shape[2]
            or self.y_train.shape[2] != self.y_test.shape[2]
        ):
            raise ValueError(
                "x and y of a split must hold the same tasks and points, and both splits the "
                "same x and y dimensions; got "
                f"{[tuple(t.shape) for t in self.tensors()]}"
            )
        if self.x_train.shape[0] != self.x_test.shape[0]:
            raise ValueError("train and test splits must hold the same number of tasks")
        if self.x_train.shape[1] == 0 or self.x_test.shape[1] == 0:
            raise ValueError("each task needs at least one train and one test point")

    @property
    def num_tasks(self) -> int:
        return self.x_train.shape[0]

    @property
    def x_dim(self) -> int:
        return self.x_train.shape[2]

    @property
    def y_dim(self) -> int:
        return self.y_train.shape[2]

    def to(self, device: torch.device | str) -> RegressionTasks:
        return type(self)(*(t.to(device) for t in self.tensors()))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.x_train, self.y_train, self.x_test, self.y_test

    def select(self, index: slice | torch.Tensor) -> RegressionTasks:
        """The tasks at ``index`` (a slice or index tensor over the task dimension)."""
        return type(self)(*(t[index] for t in self.tensors()))


@dataclass
class ClassificationTasks(RegressionTasks):
    """A batch of N-way classification tasks: labels one-hot, the learners' loss cross-entropy.

    Shape: as :class:`RegressionTasks` with y_dim = N (one-hot rows); learners output N logits.
    """

    loss = "cross_entropy"

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("y_train", "y_test"):
            y = getattr(self, name)
            if not torch.all((y == 0) | (y == 1)) or not torch.all(y.sum(-1) == 1):
                raise ValueError(f"{name} must hold one-hot rows")


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


class MixtureTasks:
    """Tasks from several regression families: each task's family is drawn with ``weights``.

    A remedy for transfer (NC meta-trained on a mixture sees more than one family). All families
    must have the same ``num_train`` and ``num_test``.
    """

    def __init__(self, families: list[TaskDistribution], weights: list[float] | None = None):
        if not families:
            raise ValueError("MixtureTasks needs at least one family")
        sizes = {(f.num_train, f.num_test) for f in families}
        if len(sizes) != 1:
            raise ValueError(f"every family needs the same num_train/num_test, got {sizes}")
        w = torch.tensor(weights if weights is not None else [1.0] * len(families))
        if w.shape != (len(families),) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be {len(families)} non-negative numbers, got {weights}")
        self.families, self.weights = list(families), w / w.sum()
        self.num_train, self.num_test = sizes.pop()

    def sample(self, num_tasks: int, generator: torch.Generator | None = None) -> RegressionTasks:
        """``num_tasks`` tasks, each from a family drawn with ``weights`` (order random)."""
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
        which = torch.multinomial(self.weights, num_tasks, replacement=True, generator=generator)
        parts = [
            f.sample(int(n), generator)
            for f, n in zip(self.families, torch.bincount(which, minlength=len(self.families)))
            if n > 0
        ]
        stacked = [torch.cat(ts) for ts in zip(*(p.tensors() for p in parts))]
        order = torch.randperm(num_tasks, generator=generator)
        return RegressionTasks(*(t[order] for t in stacked))


class FewShotClassification:
    """N-way K-shot classification tasks drawn from a labelled feature array.

    Each task draws ``num_ways`` of ``classes`` at random, ``num_shots`` train and
    ``num_queries`` test examples per class (no example in both), and relabels the classes
    0..N-1 in random order, so a learner cannot memorise class identities across tasks.

    Args:
        features: (examples, x_dim) float inputs (e.g. PCA coordinates of images).
        labels: (examples,) integer class of each example.
        classes: the classes tasks are drawn from (meta-train or held-out classes).

    Shape of a sample: x (tasks, N * K or N * Q, x_dim), y one-hot (tasks, points, N).
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        classes: list[int],
        num_ways: int = 5,
        num_shots: int = 5,
        num_queries: int = 5,
    ):
        if features.dim() != 2 or labels.shape != features.shape[:1]:
            raise ValueError(
                f"features must be (examples, dim) and labels (examples,), got "
                f"{tuple(features.shape)}, {tuple(labels.shape)}"
            )
        if num_ways < 2 or num_shots < 1 or num_queries < 1:
            raise ValueError("need num_ways >= 2, num_shots >= 1 and num_queries >= 1")
        if len(set(classes)) < num_ways:
            raise ValueError(f"{num_ways}-way tasks need >= {num_ways} classes, got {classes}")
        self.features = features.float()
        self.num_ways, self.num_shots, self.num_queries = num_ways, num_shots, num_queries
        self.classes = sorted(set(int(c) for c in classes))
        self.by_class = [torch.nonzero(labels == c).flatten() for c in self.classes]
        short = [c for c, i in zip(self.classes, self.by_class) if len(i) < num_shots + num_queries]
        if short:
            raise ValueError(f"classes {short} have fewer than {num_shots + num_queries} examples")
        self.num_train, self.num_test = num_ways * num_shots, num_ways * num_queries

    def sample(
        self, num_tasks: int, generator: torch.Generator | None = None
    ) -> ClassificationTasks:
        if num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
        n, k, q = self.num_ways, self.num_shots, self.num_queries
        rows_tr, rows_te = [], []
        for _ in range(num_tasks):
            picked = torch.randperm(len(self.classes), generator=generator)[:n]
            tr, te = [], []
            for c in picked.tolist():
                pool = self.by_class[c]
                idx = pool[torch.randperm(len(pool), generator=generator)[: k + q]]
                tr.append(idx[:k])
                te.append(idx[k:])
            rows_tr.append(torch.cat(tr))
            rows_te.append(torch.cat(te))
        eye = torch.eye(n)
        y_tr = eye.repeat_interleave(k, 0).expand(num_tasks, -1, -1)
        y_te = eye.repeat_interleave(q, 0).expand(num_tasks, -1, -1)
        return ClassificationTasks(
            self.features[torch.stack(rows_tr)],
            y_tr.contiguous(),
            self.features[torch.stack(rows_te)],
            y_te.contiguous(),
        )


def pca_features(x: torch.Tensor, fit_rows: torch.Tensor, dim: int) -> torch.Tensor:
    """Project examples onto the top ``dim`` principal components of the ``fit_rows`` examples.

    The components come from the covariance of the fitting rows only (e.g. the meta-training
    classes' training images), so held-out classes never shape the features. Coordinates are
    divided by the standard deviation of the first component on the fitting rows (unit scale).

    Shape: x (examples, features), fit_rows (k,) indices or (examples,) bool -> (examples, dim)
    """
    x = x.reshape(x.shape[0], -1).double()
    fit = x[fit_rows]
    if not 1 <= dim <= x.shape[1] or fit.shape[0] < 2:
        raise ValueError(f"need 1 <= dim <= {x.shape[1]} and >= 2 fitting rows, got {dim}")
    mean = fit.mean(0)
    centred = fit - mean
    evals, evecs = torch.linalg.eigh(centred.T @ centred / (fit.shape[0] - 1))
    comps = evecs[:, torch.argsort(evals, descending=True)[:dim]]  # (features, dim)
    z = (x - mean) @ comps
    return (z / (centred @ comps[:, 0]).std()).float()
