"""Configuration of the OCS reproduction: the task stream, the learner, and which arms run.

Defaults are the official rotated-MNIST values (``ocs_mnist.py``): 20 tasks, +9 degrees per task,
full data, MLP 784-256-256-10 with dropout 0.2, SGD lr 0.005 momentum 0.8 decay 0.75, memory 200,
stream 100 -> kappa 10, tau 1000, effective replay weight 1.0, 10 passes per task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import (
    Fraction,
    NonNegFloat,
    NonNegInt,
    OneOf,
    PosFloat,
    PosInt,
    Range,
)

__all__ = [
    "ARMS",
    "DEFAULT_SOURCE",
    "DEFAULT_SOURCES",
    "OFFICIAL_ARM",
    "SETTINGS",
    "ClaimConfig",
    "Config",
    "StreamConfig",
    "TrainConfig",
]

DEFAULT_SOURCE = "mnist"
"""The default rotated set (``stream.source``)."""
DEFAULT_SOURCES = ("mnist", "fashion_mnist", "digits")
"""The default ``datasets`` stream (``stream.sources``)."""

Percent = Annotated[float, Range(ge=0, le=100)]
"""An accuracy in percent."""

ARMS = ("Finetune", "ER-Reservoir", "A-GEM", "Uniform", "Uniform-balanced", "OCS")
SETTINGS = ("balanced", "noisy", "imbalanced")
OFFICIAL_ARM = "balanced/OCS-official"
"""The arm that holds the official code's per-seed results (``claims.official_avg_acc``),
entered, not trained: one unit per seed reports the entered number (``train.py``)."""


@dataclass
class StreamConfig:
    """The task stream: rotated images, or a sequence of different data sets."""

    kind: Literal["rotated", "datasets"] = "rotated"
    """``rotated``: one image set rotated by ``angle_step`` per task (domain-incremental, one
    head); ``datasets``: one task per data set in ``sources`` (the paper's multiple-datasets
    benchmark; task-incremental, one masked head per data set as the official mixture code)."""
    sources: list[str] = field(default_factory=lambda: list(DEFAULT_SOURCES))
    """Data sets of the ``datasets`` stream, one task each (grayscale; resized to
    ``image_size``)."""
    image_size: PosInt = 28
    """Side of the common image size of the ``datasets`` stream (sklearn digits are 8x8)."""
    shuffle_order: bool = True
    """``datasets``: permute the task order with the seed (official ``shuffle(idata, seed)``)."""
    source: str = DEFAULT_SOURCE
    """Grayscale square images to rotate: ``mnist`` (official), ``fashion_mnist``, ``digits``
    (scikit-learn's 8x8, always there), another set under the data root, or a path to your own
    ``.npz`` (keys x_train, y_train, x_test, y_test)."""
    num_tasks: PosInt = 20
    """Number of tasks T (official 20)."""
    angle_step: Annotated[float, Range(ge=-360, le=360)] = 9.0
    """Rotation added per task in degrees (official 9)."""
    train_per_task: NonNegInt = 0
    """Training images drawn per task; 0 = all 60k (official)."""
    test_per_task: NonNegInt = 0
    """Test images per task; 0 = all 10k (official)."""
    noise_fraction: Fraction = 0.6
    """Share of training images replaced by noise in the ``noisy`` setting (official 0.6)."""
    noise_style: Literal["official", "gaussian"] = "official"
    """Noise pixels: ``official`` = uint8 cast of N(0,1) as the official code; ``gaussian``."""
    majority_classes: list[NonNegInt] = field(default_factory=lambda: [0, 5])
    """Classes kept whole in the ``imbalanced`` setting (official 0 and 5)."""
    minority_fraction: Annotated[float, Range(gt=0, le=1)] = 0.1
    """Share of every other class kept in the ``imbalanced`` setting (official ~10 %)."""


@dataclass
class TrainConfig:
    """Learner and strategy hyperparameters (shared by all arms)."""

    RENAMED: ClassVar[dict[str, str]] = {
        "lr": "learning_rate",
        "lr_decay": "learning_rate_decay",
        "imbalanced_lr_decay": "imbalanced_learning_rate_decay",
        "hidden": "hidden_dim",
    }

    hidden_dim: PosInt = 256
    """MLP hidden width (official 256)."""
    dropout: Annotated[float, Range(ge=0, lt=1)] = 0.2
    """Dropout after the first hidden layer (official 0.2)."""
    learning_rate: PosFloat = 0.005
    """SGD learning rate of the first task (official 0.005)."""
    momentum: Annotated[float, Range(ge=0, lt=1)] = 0.8
    """SGD momentum (official 0.8)."""
    learning_rate_decay: Annotated[float, Range(gt=0, le=1)] = 0.75
    """Learning-rate factor per task (official 0.75; in the imbalanced setting
    ``imbalanced_learning_rate_decay``)."""
    stream_size: PosInt = 100
    """Streamed batch size (official 100)."""
    pick_size: PosInt = 10
    """Samples trained on per streamed batch, kappa (official 10)."""
    num_passes: PosInt = 10
    """Passes over each task's stream (official n_substeps = 10)."""
    min_steps_per_task: NonNegInt = 0
    """A task whose ``num_passes`` passes give fewer SGD steps gets more passes (a small data
    set in a stream of large ones); 0 = official (always ``num_passes``)."""
    memory_size: PosInt = 200
    """Replay memory seats (official 200)."""
    replay_batch_size: PosInt = 10
    """Replay minibatch size (official 10)."""
    replay_weight: NonNegFloat = 1.0
    """Replay loss weight; official ref_hyp 10 divided by its extra /batch (10) = 1.0."""
    candidate_size: PosInt = 1000
    """Last-pass picks kept as coreset candidates (official 1000)."""
    tau: NonNegFloat = 1000.0
    """Coreset-affinity weight (official 1000)."""
    warm_start_iters: NonNegInt = 100
    """Random picks for this many batches of each task's first pass (official r2c_iter 100)."""
    agem_ref_size: PosInt = 256
    """Memory samples in A-GEM's reference gradient (A-GEM paper 256)."""
    grad_method: Literal["auto", "linear", "vmap"] = "auto"
    """Per-sample gradient inner products: auto = exact Linear-layer Gram trick for the MLP."""
    imbalanced_learning_rate_decay: Annotated[float, Range(gt=0, le=1)] = 0.8
    """Learning-rate decay in the imbalanced setting (official 0.8)."""
    imbalanced_replay_weight: NonNegFloat = 5.0
    """Replay weight in the imbalanced setting (official ref_hyp 50 / 10)."""
    plateau_eval_size: NonNegInt = 1000
    """Current-task test images scored at 80 % and at the end of each task's training (the
    convergence gate's ``train/plateau_gain``); 0 turns the check off."""

    def check(self) -> None:
        """Cross-field rules: the kappa picks come out of each streamed batch."""
        if self.pick_size > self.stream_size:
            raise ValueError(
                f"pick_size = {self.pick_size} exceeds stream_size = "
                f"{self.stream_size}: the picks are chosen from each streamed batch"
            )


@dataclass
class Config:
    """One reproduction: every (setting, arm, seed) is one resumable unit."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2])
    """Seeds (data subset, noise, stream order, init, picks)."""
    settings: list[Annotated[str, OneOf(SETTINGS)]] = field(default_factory=lambda: list(SETTINGS))
    """Stream variants to run: balanced, noisy, imbalanced."""
    arms: list[Annotated[str, OneOf(ARMS)]] = field(default_factory=lambda: list(ARMS))
    """Strategies to run: Finetune, ER-Reservoir, A-GEM, Uniform (official: random picks and
    random coresets), Uniform-balanced (random picks, class-balanced coresets), OCS."""
    stream: StreamConfig = field(default_factory=StreamConfig)
    """Task stream."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Learner and strategies."""
    claims: ClaimConfig = field(default_factory=lambda: ClaimConfig())
    """Pre-registered claim thresholds."""
    checkpoint_every_task: bool = True
    """Save a unit's state after each task so --resume continues mid-unit."""

    def official_seeds(self) -> dict[int, float]:
        """``{seed: the official code's average accuracy}`` entered per seed in
        ``claims.official_avg_acc`` (empty for a plain number: one official run, a constant)."""
        table = self.claims.official_avg_acc
        return {int(k): float(v) for k, v in table.items()} if isinstance(table, dict) else {}

    def check(self) -> None:
        """Cross-field rules: the official code's numbers are paired with ours by seed."""
        table = self.claims.official_avg_acc
        if isinstance(table, dict):
            bad = [k for k in table if not k.isdigit()]
            if bad:
                raise ValueError(f"claims.official_avg_acc: keys are seeds (0, 1, ...), got {bad}")
        official = self.official_seeds()
        if official and "balanced" in self.settings and "OCS" in self.arms:
            missing = [s for s in self.seeds if s not in official]
            if missing:
                raise ValueError(
                    f"claims.official_avg_acc has no number for seed(s) {missing}: run the "
                    "official code on those seeds' streams (README) or leave the seeds out"
                )


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it)."""

    min_acc_gain: NonNegFloat = 1.3
    """Smallest gain in average accuracy (percentage points) that counts as "OCS beats X": half
    the paper's balanced gain over Uniform (+2.6 points, Table 1 as recalled)."""
    min_forgetting_reduction: NonNegFloat = 0.03
    """Smallest forgetting reduction (fraction) that counts as "OCS forgets less than X": half
    the paper's balanced gap to Uniform (0.08 vs 0.14, Table 1 as recalled)."""
    min_noise_reduction: NonNegFloat = 0.05
    """Smallest reduction of the coreset's noise share (a fraction) that counts as cleaner."""
    min_forgetting_gap: NonNegFloat = 0.01
    """Smallest forgetting gap (fraction) that counts as "Finetune forgets more than OCS"."""
    min_learn_acc: dict[str, Percent] | Percent = field(default_factory=dict)
    """Gate: every compared arm's mean accuracy on each task right after learning it (the
    diagonal of the accuracy matrix, %) must reach this level of the stream's data: keyed by
    ``stream.source`` for a rotated stream (a path to your own ``.npz`` is its own key), by the
    ``stream.sources`` joined with ``+`` in their listed order for a ``datasets`` stream
    (``mnist+fashion_mnist+digits``). A plain number is the level of the default stream of the
    run's kind (rotated ``mnist``, or ``mnist+fashion_mnist+digits``; configs written before
    per-data-set levels). Empty (or a plain 0): no gate. With levels declared for other data
    only, the claims are inconclusive ("no reference level for <data>"): declare one with ``--set
    claims.min_learn_acc.<data>=...`` (or from a pilot, ``paperzoo plan continual --reference
    --from PILOT``)."""
    max_plateau_gain: NonNegFloat = 100.0
    """Gate: every compared arm's mean current-task accuracy gain over the last 20 % of each
    task's steps (points) must not exceed this (still climbing = not converged); 100 = off."""
    official_avg_acc: dict[str, Percent] | Percent = field(default_factory=dict)
    """The official code's average accuracy (%) on the balanced stream at this preset's
    configuration, one run per seed, keyed by seed (``{"4" = 86.1, "5" = ...}``): each run on
    the task stream our units build for that seed, so ours and the official's are paired by
    seed (claim ``ocs_matches_official``, a distribution, not a constant). Every seed of the run
    needs its number. A plain number (configs before per-seed entries: one official run) declares
    no claim: one seed is a constant with no spread."""
    official_margin: NonNegFloat = 1.0
    """Non-inferiority margin (points) of ``ocs_matches_official``: our OCS at most this far
    below the official code, paired by seed."""
    min_official_seeds: PosInt = 3
    """Gate of ``ocs_matches_official``: official runs entered (fewer: no distribution)."""
    official_required: bool = False
    """A run of this config must have ``official_avg_acc`` entered per seed (the ``official``
    preset: a comparison with no official numbers is refused before any unit runs, by
    ``train.preflight``; the config itself still builds, for ``paperzoo list`` and plans)."""
