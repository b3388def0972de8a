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

__all__ = ["paper", "quick", "smoke"]


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


@register("compression", "quick", cpu_minutes=100.0, needs_data=("mnist",))
def quick() -> Config:
    """CPU reproduction of the paper's main claims on cluttered MNIST, 6 paired seeds.

    Teacher CNN 16-32-64-64 (one per seed); three compressions, each plain / +AT / +WCAM /
    +WCAM-stochastic: KD to a 1/2-width student, 90 % iterative unstructured magnitude pruning,
    and one-shot L1 filter pruning of 30 % of every conv layer's filters (structured).

    Sized from a pilot on seed 0 (2026-11-28, one thread per process): with a cosine-decayed
    Adam rate the teacher reaches 90.4-91.5 % test accuracy from epoch 9 to 15 (15 epochs
    here; the paper trains VGG16 to convergence); a 1/4-width student of this small network
    stayed at 64 % after 10 epochs, so the paper's x4/x8 ratios are not usable at this size;
    50 % filter pruning recovered to 85 % at most, so the official 30 % is used.

    One preset per question: the former ``quick_prune`` (unstructured pruning alone at 6
    fine-tuning epochs per iteration) is folded in here, so each claim id is judged once.

    Students' training, set so that every seed's plain student passes the per-seed
    ``student_learned`` gate (<= 5 points below its teacher; the gate is not widened). The
    evidence, per seed (seeds 0, 1, 2) in the committed runs:

    - KD, 16 epochs: gaps 4.5, 6.6, 3.9 (seed 1 fails). The same 1/2-width network reached
      89.25-89.5 % on every seed when trained with WCAM (gaps 1.8-3.1), so its width does not
      bound the plain student at seed 1's 85.75 %; the pilot's "plateau from epoch 13" was the
      end of a cosine decay to 0 at epoch 16. Now 32 epochs (the paper: 350).
    - Unstructured pruning, constant Adam 1e-3: 3 epochs per iteration (``quick``) gaps 5.1,
      3.6, 7.9; 6 epochs (``quick_prune``) 3.4, 6.0, 4.5: seed 1 got *worse* with twice the
      training, the signature of a last step drawn from a swinging curve (the teacher's
      pilot swung 74-90 % from epoch to epoch at a constant rate; the official code keeps the
      best validation epoch instead). Now 6 epochs per iteration with the rate cosine-decayed
      to 0 within each iteration (``prune.lr_schedule = "cosine"``; the paper: 30 epochs x 16
      iterations).
    - Structured pruning, 5 epochs at a constant rate: gaps 2.4, 4.9, 4.9 (passing by 0.1
      point). Now 10 epochs, cosine-decayed.

    Not piloted (the shared CPU was busy and no accelerator was lent): whether every seed now
    passes is for the run to show; a seed that does not makes its compression's claims
    inconclusive.

    Pre-registered: localisation AUC gain >= 0.005, pointing gain >= 1 point, WCAM accuracy
    cost <= 1 point and WCAM AUC <= 0.005 below the teacher's (non-inferiority); gates:
    teacher >= 88 % (the pilot's plateau, 91 %, less a seed margin) and each plain student
    within 5 points of its teacher, every seed.

    Seeds: 6 from ``paperzoo plan compression --preset quick --from
    docs/results/compression/quick`` (2026-12-07, today's claims on the committed 3-seed run):
    every headline needs 4 (``<c>_wcam_auc``, ``<c>_wcam_restores_teacher``) except
    ``struct_wcam_auc`` (6: its effect, +0.0045, sits near the 0.005 threshold); secondary
    ``prune_wcam_pointing`` 5, the others 3, except three whose effects sit at their
    thresholds and stay unresolved at any affordable count: ``kd_wcam_beats_at`` 62,
    ``struct_degrades_maps`` 50, ``struct_wcam_pointing`` > 200. The committed
    ``quick_prune`` run as pilot asks for 4 for every pruning headline and secondary claim.

    Cost: the committed runs took 1,621 s CPU per seed (``quick``: 4,862 s CPU, 3,740 s wall,
    3 seeds, ``--workers 2``) and 1,380 s per seed for the teacher and the 6-epoch pruning
    arms (``quick_prune``: 4,140 s CPU, 2,431 s wall). Scaled by training steps (KD doubled,
    structured doubled), about 2,700 s CPU per seed: ~4.5 h CPU for 6 seeds, about 3 h wall
    with ``--workers 2`` on the 2-core machine (the measured CPU/wall ratio was 1.3-1.7).
    Measured since (2026-12-07, this preset at seed 1 only, a pilot of the new schedules, not
    committed): 536 s wall, 970 s CPU for the seed's 13 units, so ~1 h wall for 6 seeds; every
    plain student passed ``student_learned`` at seed 1 (gaps to the teacher: KD 2.9, pruning
    2.6, structured 2.6 points, against 5; the committed schedules gave 6.6, 3.6 and 4.9 there).
    An interrupted run continues with ``--resume``: finished units are kept, teacher, KD and
    structured fine-tuning epochs are checkpointed, and an unfinished unstructured-pruning unit
    reruns from its seed's saved teacher.
    """
    return Config(
        seeds=[0, 1, 2, 3, 4, 5],
        teacher=TeacherConfig(num_epochs=15),
        distill=DistillConfig(width_divisor=2, num_epochs=32),
        prune=PruneConfig(
            num_iterations=4,
            epochs_per_iteration=6.0,
            lr_schedule="cosine",
            filter_fraction=0.3,
            structured_epochs=10.0,
        ),
        claims=ClaimConfig(teacher_min_accuracy={"mnist": 88.0}, student_max_gap=5.0),
    )


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
