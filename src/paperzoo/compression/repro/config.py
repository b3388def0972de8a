"""Configuration of the attribution-preserving compression reproduction.

Defaults are the paper's values where the paper has one (beta = 100, KD T = 4 and alpha = 0.9,
stochastic drop 0.3 as in the README command); sizes are CPU-scale and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import (
    Fraction,
    NonNegFloat,
    NonNegInt,
    OneOf,
    Ordered,
    PosFloat,
    PosInt,
    Range,
)

MATCHING_ARMS = ("plain", "at", "wcam", "wcam_stochastic")
"""Matching variants: none, attention transfer, WCAM, stochastic WCAM."""
DEFAULT_SOURCE = "mnist"
"""The default ``data.source``: a plain-number ``claims.teacher_min_accuracy`` is its level."""
CAPTUM_METHODS = ("layer_gradcam", "input_x_gradient", "saliency", "integrated_gradients")
"""Captum attributions ``localization.captum_attribution`` computes."""

Percent = Annotated[float, Range(ge=0, le=100)]
"""An accuracy in percent."""

__all__ = [
    "DEFAULT_SOURCE",
    "Config",
    "DataConfig",
    "DistillConfig",
    "MatchingConfig",
    "PruneConfig",
    "TeacherConfig",
]


@dataclass
class DataConfig:
    """Cluttered-digit localisation data."""

    source: str = DEFAULT_SOURCE
    """Grayscale image pool pasted on the canvas: ``mnist`` (data root), ``fashion_mnist``,
    ``digits`` (scikit-learn's 8x8, no data root), another set under the data root, or a path to
    your own ``.npz`` (keys x_train, y_train, x_test, y_test)."""
    digit_size: PosInt = 14
    """Side of a digit on the canvas in px (MNIST 28 px is average-pooled to 14 to save CPU)."""
    canvas_size: PosInt = 32
    """Side of the square canvas in px (the paper: 227 px VOC images)."""
    num_train: PosInt = 8000
    """Training images (the spec suggests 10-20k; fewer for the shared 2-core CPU)."""
    num_test: PosInt = 800
    """Test images on which accuracy and localisation are measured."""
    num_distractors: Annotated[tuple[NonNegInt, NonNegInt], Ordered()] = (3, 6)
    """Inclusive range of distractor fragments per image."""
    fragment_size: Annotated[tuple[PosInt, PosInt], Ordered()] = (5, 8)
    """Inclusive range of fragment sides in px."""
    data_seed: NonNegInt = 1234
    """Seed of the data generation (fixed across model seeds, so seeds vary training only)."""

    def check(self) -> None:
        """Cross-field rules: a digit fits on the canvas."""
        if self.digit_size > self.canvas_size:
            raise ValueError(
                f"digit_size = {self.digit_size} is larger than canvas_size = {self.canvas_size}"
            )


@dataclass
class TeacherConfig:
    """The uncompressed network."""

    RENAMED: ClassVar[dict[str, str]] = {"widths": "conv_dims"}

    conv_dims: tuple[PosInt, ...] = (16, 32, 64, 64)
    """Conv channels per block (the paper: VGG16-BN; the spec suggests 32-64-128-128)."""
    num_pooled: NonNegInt = 2
    """Leading blocks followed by a max-pool (32 px -> 8x8 matched map)."""
    hidden_dim: PosInt = 64
    """Hidden units of the classifier."""
    num_epochs: PosInt = 10
    """Training epochs (the paper trains VGG16 to convergence)."""
    learning_rate: PosFloat = 2e-3
    """Adam learning rate (the paper: SGD 0.1 with momentum; Adam converges in few CPU epochs)."""
    batch_size: PosInt = 64
    """Mini-batch size (the paper: 64)."""


@dataclass
class MatchingConfig:
    """Attribution matching (Eq. 5)."""

    beta: NonNegFloat = 100.0
    """Weight of the matching term (the README's transfer_weight)."""
    stochastic_drop: Annotated[float, Range(ge=0, lt=1)] = 0.3
    """Fraction of teacher channels dropped per batch in the stochastic arm (README: 0.3)."""
    reduction: Literal["sum", "mean"] = "sum"
    """Spatial reduction of the Grad-CAM channel weights ("sum" as the official code)."""


@dataclass
class DistillConfig:
    """Knowledge distillation to a narrow student."""

    enabled: bool = True
    """Run the KD arms."""
    width_divisor: PosInt = 4
    """Student width = teacher width / this (the paper: VGG16_VOC_x4 and x8)."""
    num_epochs: PosInt = 4
    """Training epochs of each student (the paper: 350)."""
    learning_rate: PosFloat = 2e-3
    """Adam learning rate (the paper: SGD 0.1, decayed)."""
    temperature: PosFloat = 4.0
    """KD temperature T."""
    alpha: Fraction = 0.9
    """Weight of the soft-target term."""
    batch_size: PosInt = 64
    """Mini-batch size."""


@dataclass
class PruneConfig:
    """Iterative global magnitude pruning with fine-tuning."""

    enabled: bool = True
    """Run the pruning arms."""
    final_sparsity: Annotated[float, Range(ge=0, lt=1)] = 0.9
    """Sparsity of the conv weights after the last iteration (the paper: 1 - 0.8^16 = 97 %)."""
    num_iterations: PosInt = 3
    """Prune/fine-tune iterations (the paper: 16 of 20 % each)."""
    epochs_per_iteration: PosFloat = 0.25
    """Fine-tuning epochs per iteration; fractions use that share of the training set
    (the paper: 30 epochs per iteration)."""
    learning_rate: PosFloat = 1e-3
    """Adam learning rate of the fine-tuning (the paper: SGD 1e-3)."""
    lr_schedule: Literal["constant", "cosine"] = "constant"
    """Learning rate within each fine-tuning stage (every pruning iteration, and the structured
    fine-tuning): ``constant`` (the official code: SGD at 1e-3 throughout, keeping the epoch
    with the best validation mAP; and every run stored before this field) or ``cosine``
    (decayed per step from ``learning_rate`` to 0 over each stage). We keep the last step, not
    a best checkpoint, so a constant rate ends wherever the last step lands; the cosine decay
    ends on a plateau, as the teacher's and the KD students' schedules do."""
    structured: bool = True
    """Also run structured pruning: one-shot L1 filter pruning of every conv layer, then
    fine-tuning (the official ``structure/`` code)."""
    filter_fraction: Annotated[float, Range(gt=0, lt=1)] = 0.3
    """Share of each conv layer's filters removed by structured pruning (official 0.3)."""
    structured_epochs: PosFloat = 2.0
    """Fine-tuning epochs after the structured prune."""
    batch_size: PosInt = 64
    """Mini-batch size."""


@dataclass
class Config:
    """Top-level config of ``paperzoo reproduce compression``."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2])
    """Training seeds (teacher, students, channel drops)."""
    data: DataConfig = field(default_factory=DataConfig)
    """Cluttered data."""
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    """Teacher network and its training."""
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    """Attribution matching."""
    distill: DistillConfig = field(default_factory=DistillConfig)
    """KD compression."""
    prune: PruneConfig = field(default_factory=PruneConfig)
    """Pruning compression."""
    arms: list[Annotated[str, OneOf(MATCHING_ARMS)]] = field(
        default_factory=lambda: list(MATCHING_ARMS)
    )
    """Matching variants run for every compression: plain, +AT, +WCAM, +WCAM stochastic."""
    captum_methods: list[Annotated[str, OneOf(CAPTUM_METHODS)]] = field(
        default_factory=lambda: ["layer_gradcam", "input_x_gradient"]
    )
    """Captum attribution methods also evaluated (AUC only) besides our Grad-CAM."""
    num_eval_captum: NonNegInt = 200
    """Test images used for the Captum evaluations (they run once per model)."""
    pointing_tolerance: NonNegInt = 0
    """Pointing-game tolerance in px (the official code: 0, a hit must be on a mask pixel)."""
    num_grid_examples: NonNegInt = 4
    """Test images shown in the map grid figure."""
    claims: ClaimConfig = field(default_factory=lambda: ClaimConfig())
    """Pre-registered claim thresholds and gates."""


@dataclass
class ClaimConfig:
    """Pre-registered thresholds of the claims (set before a run, never after seeing it)."""

    min_auc_gain: NonNegFloat = 0.005
    """Smallest localisation-AUC difference that counts (AUC in [0, 1])."""
    min_pointing_gain: NonNegFloat = 1.0
    """Smallest pointing-game difference that counts (percentage points)."""
    accuracy_margin: NonNegFloat = 1.0
    """Non-inferiority: WCAM may cost at most this many accuracy points."""
    teacher_auc_margin: NonNegFloat = 0.005
    """Non-inferiority margin of "WCAM restores the maps to about the teacher's level": a
    WCAM student's localisation AUC may be at most this far below its teacher's (AUC in
    [0, 1]). Equal to ``min_auc_gain`` by default: a shortfall smaller than the smallest
    AUC difference the other claims count is "about the teacher's level"."""
    teacher_min_accuracy: dict[str, Percent] | Percent = field(
        default_factory=lambda: {DEFAULT_SOURCE: 90.0}
    )
    """Validity gate: the teacher's test accuracy (%) must reach this level, per data source
    (keyed by ``data.source``; a path to your own ``.npz`` is its own key). A plain number is
    the level of MNIST, the default source (configs written before per-source levels). On a
    source without a level every claim is inconclusive ("no reference level for <source>"),
    never judged against MNIST's bar: declare one with ``--set
    claims.teacher_min_accuracy.<source>=...`` (or from a pilot, ``paperzoo plan compression
    --reference --from PILOT``)."""
    student_max_gap: NonNegFloat = 5.0
    """Validity gate: a compression's plain student may be at most this many accuracy points
    below its teacher (a student that has not learned cannot show whether maps are kept)."""
