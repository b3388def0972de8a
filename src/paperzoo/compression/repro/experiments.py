"""Presets of ``paperzoo reproduce compression``."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import (
    ClaimConfig,
    Config,
    DataConfig,
    DistillConfig,
    PruneConfig,
    TeacherConfig,
)

__all__ = ["paper", "quick", "quick_prune", "smoke"]


@register("compression", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """Tiny end-to-end run on cluttered scikit-learn digits (no data root), 1 seed.

    Exercises every arm (KD and pruning x plain/AT/WCAM/WCAM-stochastic) and both figures; the
    numbers mean nothing at this size.
    """
    return Config(
        seeds=[0],
        data=DataConfig(
            source="digits",
            digit_size=16,
            canvas_size=24,
            num_train=192,
            num_test=64,
            fragment_size=(4, 6),
        ),
        teacher=TeacherConfig(conv_dims=(8, 8, 16, 16), hidden_dim=32, num_epochs=2),
        distill=DistillConfig(num_epochs=1),
        prune=PruneConfig(num_iterations=2, epochs_per_iteration=0.5),
        num_eval_captum=32,
        num_grid_examples=2,
    )


@register("compression", "quick", cpu_minutes=45.0, needs_data=("mnist",))
def quick() -> Config:
    """CPU reproduction of the paper's main claims on cluttered MNIST, 3 paired seeds.

    Teacher CNN 16-32-64-64 (one per seed); three compressions, each plain / +AT / +WCAM /
    +WCAM-stochastic: KD to a 1/2-width student, 90 % iterative unstructured magnitude pruning,
    and one-shot L1 filter pruning of 30 % of every conv layer's filters (structured).

    Sized from a pilot on seed 0 (2026-11-28, one thread per process): with a cosine-decayed
    Adam rate the teacher reaches 90.4-91.5 % test accuracy from epoch 9 to 15 (15 epochs
    here; the paper trains VGG16 to convergence); the 1/2-width KD student plateaus at 87-88 %
    from epoch 13 (16 epochs; a 1/4-width student of this small network stayed at 64 % after
    10 epochs, so the paper's x4/x8 ratios are not usable at this size; the paper trains
    students 350 epochs); unstructured pruning recovers to 89 % after 3 fine-tuning epochs at
    79 % sparsity and to 85.6 % (still rising) after 3 at 90 % (4 iterations of 3 epochs here;
    the paper: 16 iterations of 30 epochs); 50 % filter pruning recovered to 85 % at most, so
    the official 30 % is used, fine-tuned 5 epochs. About 45 min with ``--workers 2``.

    Pre-registered (before the run): localisation AUC gain >= 0.005, pointing gain >= 1 point,
    WCAM accuracy cost <= 1 point (non-inferiority); gates: teacher >= 88 % (the pilot's
    plateau, 91 %, less a seed margin) and each plain student within 5 points of its teacher.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan compression --preset quick
    --from docs/results/compression/quick` (2026-12-07, the committed run as pilot) asks for >
    200 paired seeds to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        teacher=TeacherConfig(num_epochs=15),
        distill=DistillConfig(width_divisor=2, num_epochs=16),
        prune=PruneConfig(
            num_iterations=4, epochs_per_iteration=3.0, filter_fraction=0.3, structured_epochs=5.0
        ),
        claims=ClaimConfig(teacher_min_accuracy={"mnist": 88.0}, student_max_gap=5.0),
    )


@register("compression", "quick_prune", cpu_minutes=25.0, needs_data=("mnist",))
def quick_prune() -> Config:
    """`quick`'s unstructured pruning arms with 6 fine-tuning epochs per iteration instead of 3.

    A follow-up, added after `quick`: there the 90 %-pruned plain students ended 5.5 points
    (mean of 3 seeds) below their teachers, just outside the pre-registered student-learned
    gate (5 points), so every pruning claim was inconclusive; the pilot's recovery at 90 %
    sparsity was still rising after 3 epochs. Same seeds (hence the same teachers), data,
    thresholds and gates; only the fine-tuning is longer (the paper: 30 epochs per iteration,
    16 iterations; 6 x 4 here is 5 % of it). KD and structured pruning are off (their plain
    students passed the gate in `quick`).

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan compression --preset
    quick_prune --from docs/results/compression/quick_prune` (2026-12-07, the committed run as
    pilot) asks for 4 paired seeds, ~2 h CPU to resolve every headline and secondary claim at 80
    % power.
    """
    cfg = quick()
    cfg.distill.enabled = False
    cfg.prune.structured = False
    cfg.prune.epochs_per_iteration = 6.0
    return cfg


@register("compression", "paper", cpu_minutes=600.0, needs_data=("mnist",))
def paper() -> Config:
    """Longer schedule closer to the paper's (not run here): the spec's 32-64-128-128 teacher on
    28 px digits / 56 px canvas, 1/8-width KD student, 16 x 20 % pruning iterations."""
    return Config(
        data=DataConfig(
            digit_size=28, canvas_size=56, num_train=20000, num_test=2000, fragment_size=(9, 14)
        ),
        teacher=TeacherConfig(
            conv_dims=(32, 64, 128, 128), num_pooled=3, hidden_dim=128, num_epochs=10
        ),
        distill=DistillConfig(width_divisor=8, num_epochs=30),
        prune=PruneConfig(final_sparsity=1 - 0.8**16, num_iterations=16, epochs_per_iteration=2.0),
    )
