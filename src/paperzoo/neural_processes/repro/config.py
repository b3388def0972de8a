"""Configuration of the neural-process reproduction; defaults are the official GP settings.

Official values come from ``regression/gp.py`` and ``regression/configs/gp/*.yaml`` of
https://github.com/juho-lee/bnp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import (
    FiniteFloat,
    NonNegFloat,
    NonNegInt,
    OneOf,
    Ordered,
    PosFloat,
    PosInt,
    Range,
    require_divisible,
)

KERNEL_NAMES = ("rbf", "matern", "periodic")
"""GP kernel families (``tasks.KERNELS`` holds their classes)."""

LV_THETA = (0.01, 0.5, 1.0, 0.01)
"""Official Lotka-Volterra rates: ``predator_prey.OFFICIAL_THETA``, repeated here so that the
config imports no torch (a test checks that both agree)."""
LV_MISMATCH_THETA = (0.005, 0.5, 1.0, 0.02)
"""The mismatched simulator's rates: ``predator_prey.MISMATCH_THETA`` (pre-registered;
repeated here like ``LV_THETA``)."""

DEFAULT_KERNEL = "rbf"
"""The default task's kernel (official GP setting): a plain-number ``claims.reference_tar_ll``
level is the level on GP tasks of this kernel."""

MODEL_NAMES = ("CNP", "NP", "CANP", "ANP", "BNP", "BANP")
"""The six arms (``models.MODELS`` holds their classes)."""

__all__ = [
    "DEFAULT_KERNEL",
    "KERNEL_NAMES",
    "LV_MISMATCH_THETA",
    "LV_THETA",
    "MODEL_NAMES",
    "ClaimConfig",
    "Config",
    "EvalConfig",
    "ModelConfig",
    "TaskConfig",
    "TrainConfig",
]


@dataclass
class ModelConfig:
    """Architecture shared by every arm (official ``configs/gp/*.yaml``)."""

    hidden_dim: PosInt = 128
    """Width of every hidden layer (official 128)."""
    latent_dim: PosInt = 128
    """Size of the NP/ANP latent variable z (official 128)."""
    enc_pre_depth: PosInt = 4
    """Layers of the MLP before pooling (official 4)."""
    enc_post_depth: PosInt = 2
    """Layers of the MLP after pooling (official 2)."""
    enc_v_depth: PosInt = 4
    """Layers of the value path of the cross-attention encoder (official 4)."""
    enc_qk_depth: PosInt = 2
    """Layers of the query/key MLP of the cross-attention encoder (official 2)."""
    dec_depth: PosInt = 3
    """Linear layers of the decoder (official 3)."""
    num_heads: PosInt = 8
    """Attention heads (official 8)."""

    def check(self) -> None:
        """Cross-field rules: the attention splits ``hidden_dim`` evenly over its heads."""
        require_divisible(self, "hidden_dim", "num_heads")


@dataclass
class TaskConfig:
    """Which tasks the models are trained and evaluated on."""

    kind: Literal["gp", "images", "lotka_volterra"] = "gp"
    """``gp``: 1-D GP functions; ``images``: image completion on ``dataset`` (seen classes for
    training, the other classes held out as unseen); ``lotka_volterra``: predator-prey series
    from a stochastic simulator, evaluated on the same simulator (``sim``) and on one with other
    rates (``mismatch``)."""

    max_num_points: Annotated[int, Range(ge=4)] = 50
    """Upper bound on context + target points (official 50 for GP, 200 for images)."""

    train_kernel: Annotated[str, OneOf(KERNEL_NAMES)] = DEFAULT_KERNEL
    """GP kernel of the training tasks: ``rbf`` (official), ``matern`` or ``periodic``."""

    eval_kernels: list[Annotated[str, OneOf(KERNEL_NAMES)]] = field(default_factory=list)
    """Further in-distribution-mismatch evaluation kernels: any of ``matern``, ``periodic``
    (the official GP table evaluates both)."""

    length_range: Annotated[tuple[PosFloat, PosFloat], Ordered()] = (0.1, 0.6)
    """Range of the kernel length scale drawn per task (official U(0.1, 0.6))."""

    scale_range: Annotated[tuple[PosFloat, PosFloat], Ordered()] = (0.1, 1.0)
    """Range of the kernel output scale drawn per task (official U(0.1, 1.0))."""

    t_noise: NonNegFloat = 0.1
    """gamma of the Student-t(2.1) noise of the mismatch evaluation set (paper's fixed setting)."""

    random_t_noise: bool = True
    """Also evaluate with a random gamma ~ U(0, 0.15) (the set ``tnoise_random``): the paper's
    second robustness setting (official ``t_noise=-1``). For ``images`` the seen test images
    with gamma ~ U(0, 0.09) (the official image maximum); ignored for ``lotka_volterra``."""

    random_t_noise_mode: Literal["per_point", "per_task"] = "per_point"
    """How the random gamma is drawn: ``per_point`` (official) or ``per_task`` (some tasks
    nearly clean, some very noisy)."""

    t_noise_on_eval_kernels: bool = False
    """Also evaluate every kernel of ``eval_kernels`` with the fixed t-noise (sets
    ``<kernel>_tnoise``)."""

    dataset: str = "mnist"
    """``images`` only: any image data set (``mnist``, ``fashion_mnist``, ``cifar10``,
    ``digits``) or a path to your own ``.npz`` (keys x_train, y_train, x_test, y_test)."""

    seen_classes: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    """``images`` only: classes used for training; the others are the unseen evaluation set
    (the paper trains on EMNIST classes 0-9 and holds out 10-46)."""

    num_series: Annotated[int, Range(ge=16)] = 2000
    """``lotka_volterra`` only: simulated series in the training pool (official: a fresh batch
    of 50 series per step)."""

    theta: tuple[PosFloat, PosFloat, PosFloat, PosFloat] = LV_THETA
    """``lotka_volterra`` only: rates of the training simulator (official defaults)."""

    mismatch_theta: tuple[PosFloat, PosFloat, PosFloat, PosFloat] = LV_MISMATCH_THETA
    """``lotka_volterra`` only: rates of the mismatched evaluation simulator."""

    train_images: NonNegInt = 0
    """``images`` only: use this many training images (0 = all of the seen classes)."""


@dataclass
class TrainConfig:
    """Optimisation (official: Adam 5e-4, cosine annealing, 100k steps, batch 100, K = 4)."""

    RENAMED: ClassVar[dict[str, str]] = {"val_batches": "num_val_batches"}

    num_steps: PosInt = 100_000
    """Gradient steps per model."""
    batch_size: PosInt = 100
    """Tasks per step."""
    learning_rate: PosFloat = 5e-4
    """Adam learning rate, annealed to 0 with a cosine schedule over ``num_steps``."""
    num_samples: PosInt = 4
    """K during training: importance samples (NP/ANP) or bootstrap contexts (BNP/BANP)."""
    val_every: PosInt = 5000
    """Evaluate a small fixed validation set every this many steps (learning curves)."""
    num_val_batches: PosInt = 4
    """Batches of 16 tasks in that validation set."""
    checkpoint_every: PosInt = 1000
    """Save model/optimiser/RNG state every this many steps so ``--resume`` continues there."""


@dataclass
class EvalConfig:
    """Evaluation (official: 3000 batches of 16 tasks, K = 50, seed 42)."""

    num_batches: PosInt = 3000
    """Fixed evaluation batches per evaluation set."""
    batch_size: PosInt = 16
    """Tasks per evaluation batch."""
    num_samples: PosInt = 50
    """K at evaluation: latent samples (NP/ANP) or bootstrap contexts (BNP/BANP)."""
    seed: NonNegInt = 42
    """Seed of the evaluation tasks and of the models' evaluation randomness."""


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it)."""

    robustness_effect: NonNegFloat = 0.05
    """Smallest reduction of the clean-to-shifted drop in target log-likelihood (nats) that
    counts as "more robust" (BNP vs CNP/NP, BANP vs CANP/ANP)."""

    in_distribution_margin: NonNegFloat = 0.05
    """Non-inferiority margin: in distribution, BNP's target log-likelihood may be at most this
    many nats below CNP's."""

    reference_tar_ll: dict[
        Annotated[str, OneOf(MODEL_NAMES)], dict[str, FiniteFloat] | FiniteFloat
    ] = field(default_factory=dict)
    """Quality gate: in-distribution target log-likelihood (any finite number, in nats) each
    baseline must reach (minus ``quality_tolerance``), by model name and then by task (the GP
    kernel of the training tasks, ``rbf``; the image data set, ``task.dataset``, a path to your
    own ``.npz`` being its own key; or ``lotka_volterra``): the level the official code reaches
    at the same steps and configuration (measured outside the repository, see the README). A
    plain number for a model is its level on GP ``rbf`` tasks, the default task (configs
    written before per-task levels). A model not listed: no gate for it; a model listed without
    a level for the run's task: its claims are inconclusive ("no reference level for <task>"),
    until one is declared with ``--set 'claims.reference_tar_ll.<model>={<task> = ...}'``."""

    quality_tolerance: NonNegFloat = 0.05
    """Slack of the quality gate in nats (the reference and our run use different seeds and
    evaluation draws)."""

    min_baseline_drop: NonNegFloat = 0.0
    """Mismatch gate: each baseline must lose at least this many nats of target
    log-likelihood from the clean to the shifted set, else there is no mismatch to be
    robust to (matters for unseen image classes)."""

    converged_change: PosFloat = 0.05
    """Convergence gate: the validation target log-likelihood may still move by at most this
    many nats over the last 20% of training (window means, see ``core.engine.late_change``)."""


@dataclass
class Config:
    """Top-level configuration of one reproduction run."""

    RENAMED: ClassVar[dict[str, str]] = {"models": "arms"}
    """Stored runs before 2026-12-07 name the arms ``models``."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2])
    """Training seeds; every arm is trained once per seed on the same task stream."""
    arms: list[Annotated[str, OneOf(MODEL_NAMES)]] = field(
        default_factory=lambda: list(MODEL_NAMES)
    )
    """Arms, any of CNP, NP, CANP, ANP, BNP, BANP."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """Architecture."""
    task: TaskConfig = field(default_factory=TaskConfig)
    """Tasks."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Training."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Evaluation."""
    claims: ClaimConfig = field(default_factory=ClaimConfig)
    """Pre-registered claim thresholds and gates."""
