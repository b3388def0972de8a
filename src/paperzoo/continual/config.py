"""Configuration of the OCS reproduction: the task stream, the learner, and which arms run.

Defaults are the official rotated-MNIST values (``ocs_mnist.py``): 20 tasks, +9 degrees per task,
full data, MLP 784-256-256-10 with dropout 0.2, SGD lr 0.005 momentum 0.8 decay 0.75, memory 200,
stream 100 -> kappa 10, tau 1000, effective replay weight 1.0, 10 passes per task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ARMS", "SETTINGS", "ClaimConfig", "Config", "StreamConfig", "TrainConfig"]

ARMS = ("Finetune", "ER-Reservoir", "A-GEM", "Uniform", "OCS")
SETTINGS = ("balanced", "noisy", "imbalanced")


@dataclass
class StreamConfig:
    """The rotated task stream."""

    source: str = "mnist"
    """Grayscale square images to rotate: ``mnist`` (official), ``fashion_mnist``, ``digits``
    (scikit-learn's 8x8, always there), another set under the data root, or a path to your own
    ``.npz`` (keys x_train, y_train, x_test, y_test)."""
    num_tasks: int = 20
    """Number of tasks T (official 20)."""
    angle_step: float = 9.0
    """Rotation added per task in degrees (official 9)."""
    train_per_task: int = 0
    """Training images drawn per task; 0 = all 60k (official)."""
    test_per_task: int = 0
    """Test images per task; 0 = all 10k (official)."""
    noise_fraction: float = 0.6
    """Share of training images replaced by noise in the ``noisy`` setting (official 0.6)."""
    noise_style: Literal["official", "gaussian"] = "official"
    """Noise pixels: ``official`` = uint8 cast of N(0,1) as the official code; ``gaussian``."""
    majority_classes: list[int] = field(default_factory=lambda: [0, 5])
    """Classes kept whole in the ``imbalanced`` setting (official 0 and 5)."""
    minority_fraction: float = 0.1
    """Share of every other class kept in the ``imbalanced`` setting (official ~10 %)."""


@dataclass
class TrainConfig:
    """Learner and strategy hyperparameters (shared by all arms)."""

    hidden: int = 256
    """MLP hidden width (official 256)."""
    dropout: float = 0.2
    """Dropout after the first hidden layer (official 0.2)."""
    lr: float = 0.005
    """SGD learning rate of the first task (official 0.005)."""
    momentum: float = 0.8
    """SGD momentum (official 0.8)."""
    lr_decay: float = 0.75
    """Learning-rate factor per task (official 0.75; imbalanced: ``imbalanced_lr_decay``)."""
    stream_size: int = 100
    """Streamed batch size (official 100)."""
    pick_size: int = 10
    """Samples trained on per streamed batch, kappa (official 10)."""
    num_passes: int = 10
    """Passes over each task's stream (official n_substeps = 10)."""
    memory_size: int = 200
    """Replay memory seats (official 200)."""
    replay_batch_size: int = 10
    """Replay minibatch size (official 10)."""
    replay_weight: float = 1.0
    """Replay loss weight; official ref_hyp 10 divided by its extra /batch (10) = 1.0."""
    candidate_size: int = 1000
    """Last-pass picks kept as coreset candidates (official 1000)."""
    tau: float = 1000.0
    """Coreset-affinity weight (official 1000)."""
    warm_start_iters: int = 100
    """Random picks for this many batches of each task's first pass (official r2c_iter 100)."""
    agem_ref_size: int = 256
    """Memory samples in A-GEM's reference gradient (A-GEM paper 256)."""
    grad_method: Literal["auto", "linear", "vmap"] = "auto"
    """Per-sample gradient inner products: auto = exact Linear-layer Gram trick for the MLP."""
    imbalanced_lr_decay: float = 0.8
    """lr decay in the imbalanced setting (official 0.8)."""
    imbalanced_replay_weight: float = 5.0
    """Replay weight in the imbalanced setting (official ref_hyp 50 / 10)."""


@dataclass
class Config:
    """One reproduction: every (setting, arm, seed) is one resumable unit."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds (data subset, noise, stream order, init, picks)."""
    settings: list[str] = field(default_factory=lambda: list(SETTINGS))
    """Stream variants to run: balanced, noisy, imbalanced."""
    arms: list[str] = field(default_factory=lambda: list(ARMS))
    """Strategies to run: Finetune, ER-Reservoir, A-GEM, Uniform, OCS."""
    stream: StreamConfig = field(default_factory=StreamConfig)
    """Task stream."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Learner and strategies."""
    claims: ClaimConfig = field(default_factory=lambda: ClaimConfig())
    """Pre-registered claim thresholds."""
    checkpoint_every_task: bool = True
    """Save a unit's state after each task so --resume continues mid-unit."""


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it)."""

    min_acc_gain: float = 0.5
    """Smallest gain in average accuracy (percentage points) that counts as "OCS beats X"."""
    min_noise_reduction: float = 0.05
    """Smallest reduction of the coreset's noise share (a fraction) that counts as cleaner."""
    min_forgetting_gap: float = 0.01
    """Smallest forgetting gap (fraction) that counts as "Finetune forgets more than OCS"."""
