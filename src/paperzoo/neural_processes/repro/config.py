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
    """Pre-registered thresholds and gate levels of the claims (set before a run, never after
    seeing it); ``repro/claims.py`` says which claim reads which field.

    **Why the convergence evidence is the official code, not the curve.** Training anneals the
    learning rate to 0 with a cosine schedule over ``train.num_steps``, so the validation curve
    flattens at the end of a schedule of *any* length: a small late change (``settled_change``)
    cannot tell a plateau from the end of the schedule (the committed ``mnist`` run passed it at
    1% of the official training, README). A constant-rate tail after the schedule would let the
    curve tell, but it adds steps to every unit of a rerun; instead every arm of a robustness
    claim is gated on the official code's level at the *same* steps (``reference_tar_ll``): each
    baseline at its own official level, the bootstrapped model at its deterministic base's
    (CNP's for BNP, CANP's for BANP; the paper finds BNP at least as good as CNP in
    distribution, and a model that fits less can lose less under a shift only because it is
    vaguer). The late-change gate stays as a stability check (a run still moving or oscillating
    at the end of its schedule), named ``settled``, not ``converged``. Where no official level
    is declared (``mnist``, ``predator_prey``), only the stability check applies and those
    presets' claims are ``secondary``.
    """

    RENAMED: ClassVar[dict[str, str]] = {"converged_change": "settled_change"}
    """Runs stored before 2026-12-07 call the stability gate's level ``converged_change``."""

    robustness_effect: NonNegFloat = 0.05
    """Smallest reduction of the clean-to-shifted drop in target log-likelihood (nats per
    target point) that counts as "more robust" (BNP vs each of CNP and NP, BANP vs each of CANP
    and ANP). 0.05 nats is a factor e^0.05 = 1.05 in predictive density per target point; the
    paper gives no number (its tables were not retrieved, spec section 5c) and says "much
    less", and the official baselines lose 0.34-3.6 nats at equal steps (README, "Official code
    at equal steps"), so 0.05 is a lenient floor, not the paper's effect (the claims' reason
    states the ratio for each set)."""

    in_distribution_margin: NonNegFloat = 0.05
    """Non-inferiority margin: in distribution, the bootstrapped model's target log-likelihood
    may be at most this many nats below each of its bases' (the paper: BNP at least as good as
    CNP/NP, BANP about equal to ANP; the margin is ours, the size of ``quality_tolerance``)."""

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
    until one is declared with ``--set 'claims.reference_tar_ll.<model>={<task> = ...}'``. The
    bootstrapped models are held to their deterministic base's level in the robustness claims
    (BNP to CNP's, BANP to CANP's; see the class docstring)."""

    quality_tolerance: NonNegFloat = 0.05
    """Slack of the quality gate in nats (the reference and our run use different seeds and
    evaluation draws)."""

    reference_tar_ll_drop: dict[Annotated[str, OneOf(MODEL_NAMES)], dict[str, NonNegFloat]] = field(
        default_factory=dict
    )
    """Mismatch gate from the official code: the clean-to-shifted drop in target
    log-likelihood (nats) the official code's model loses at the same steps and configuration,
    by model name and then by ``<task>_<set>`` (``rbf_tnoise``, ``rbf_tnoise_random``; the task
    as in ``reference_tar_ll``). In every seed each listed baseline must lose at least
    ``mismatch_fraction`` of it, else the shift is not the official mismatch (a weaker noise, a
    shift not applied). A model not listed: no such gate for it; listed without a level for the
    run's task and set: the robustness claims are inconclusive until one is declared
    (``--set claims.reference_tar_ll_drop.<model>.<task>_<set>=...``). Stored runs from before
    this field load with none."""

    mismatch_fraction: Annotated[float, Range(gt=0, le=1)] = 0.5
    """Share of the official drop each baseline must lose in every seed (the gate above). Half,
    not all of it: the official drop is one seed, and the seeds of our baselines lose 86-134%
    of it (the committed ``quick``/``quick_attentive`` runs: CANP 3.07-3.41 against the
    official 3.586 under gamma 0.1, CNP 0.92-0.97 against 0.722); half still fails a shift
    that is a different one (a wrong gamma, noise not applied, a drop near 0)."""

    mismatch_ceiling: Annotated[float, Range(ge=1)] = 1.5
    """Most each baseline may lose, per seed, as a multiple of the official code's drop at
    equal steps (bases with a declared drop). A baseline that loses far more than the official
    one is a weaker baseline than the paper's and flatters BNP's robustness. 1.5: our committed
    seeds lose 86-134% of the official single-seed drop (see ``mismatch_fraction``); half
    again above the official level leaves room for seed spread, not for a broken baseline.
    Set 2026-12-07 with those seeds known, before any rerun."""

    min_baseline_drop: NonNegFloat = 0.0
    """Absolute mismatch gate: each baseline must lose at least this many nats of target
    log-likelihood from the clean to the shifted set in every seed, else there is no mismatch
    to be robust to (matters for unseen image classes, where no official drop is measured). 0:
    no such gate (at 0 it could not fail on a baseline that loses anything); the presets
    without official drops set it to ``robustness_effect``: a baseline that loses less leaves
    the bootstrapped model no room to lose that much less without gaining under the shift."""

    settled_change: PosFloat = 0.05
    """Stability gate ``settled``: the validation target log-likelihood of every compared arm
    may move by at most this many nats over the last 20% of training (window means, see
    ``core.engine.late_change``) in every seed. Not a convergence test (see the class
    docstring): under the cosine schedule it passes at the end of any schedule; it catches a run
    still moving or oscillating when the learning rate reaches 0."""


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
