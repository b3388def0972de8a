"""Presets of the OCS reproduction (rotated MNIST, Table 1-3 of the paper)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import ClaimConfig, Config, StreamConfig, TrainConfig

__all__ = ["datasets", "official", "paper", "quick", "smoke"]


@register("continual", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """Rotated sklearn digits, 3 tasks, all settings and arms, 1 seed (pipeline check, < 15 s).

    No data root needed; the numbers say nothing about the paper.
    """
    return Config(
        seeds=[0],
        stream=StreamConfig(source="digits", num_tasks=3, angle_step=30.0, train_per_task=300),
        train=TrainConfig(
            hidden_dim=64,
            learning_rate=0.05,  # 10x the official rate: only 12 SGD steps per task here
            stream_size=50,
            pick_size=10,
            num_passes=2,
            memory_size=60,
            candidate_size=200,
            warm_start_iters=2,
        ),
    )


@register("continual", "quick", cpu_minutes=100.0, needs_data=("mnist",))
def quick() -> Config:
    """Rotated MNIST, 5 tasks x 20 deg, every training image per task (the official 6,000 SGD
    steps per task), balanced / noisy / imbalanced, all six arms, 3 paired seeds.

    Targets Table 1 (balanced rotated MNIST) and the noisy / imbalanced rotated-MNIST tables: OCS
    vs Uniform and ER-Reservoir on average accuracy, the share of noise images in the coreset,
    Finetune's forgetting. Official MLP and hyperparameters (memory 200, kappa 10 of 100, tau
    1000, 10 passes, warm start 100 batches); 2,000 test images per task.

    Pilot (OCS and Uniform, balanced, seed 0, this machine): with 20,000 images per task (2,000
    steps) the first task reached 94.4 % (OCS) / 92.2 % (Uniform) and OCS's mean current-task
    accuracy still rose 0.5 points over the last 20 % of each task; with all 60,000 (6,000
    steps) OCS reached 98.0 % on the first task, 95.2 % on average right after each task (noisy:
    94.9 %) and gained 0.3 (noisy 0.4) points over the last 20 %. So the preset trains the
    official length per task; it runs 5 of the official 20 tasks (25 %) with a 20-degree step,
    since 5 tasks of 9 degrees barely forget. Gates (set before the run): every compared arm
    learns each task to 80 % (diagonal of the accuracy matrix) and gains at most 1 point over
    the last 20 % of a task's steps.

    The imbalanced stream keeps ~17,000 images per task (~1,700 steps at 10 passes); the first
    quick run (2026-12-05) failed the ``converged`` gate there (Uniform +2.2 points over the last
    20 %), so every task now gets at least the official 6,000 steps (``min_steps_per_task``; more
    passes over the smaller stream). Balanced and noisy already have 6,000 and are unchanged.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan continual --preset quick --from
    docs/results/continual/quick` (2026-12-07, the committed run as pilot) asks for 14 paired
    seeds, ~6 h CPU to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        seeds=[0, 1, 2],
        stream=StreamConfig(num_tasks=5, angle_step=20.0, train_per_task=0, test_per_task=2000),
        train=TrainConfig(min_steps_per_task=6000),
        claims=ClaimConfig(min_learn_acc={"mnist": 80.0}, max_plateau_gain=1.0),
    )


@register("continual", "official", cpu_minutes=25.0, needs_data=("mnist",))
def official() -> Config:
    """Quality check against the official code: our OCS at the one configuration the official
    code (jaehong31/OCS b8cd9f8) could be run at here, 4 seeds.

    Rotated MNIST, 5 tasks x 20 deg, 20,000 training images per task (2,000 SGD steps per task,
    a third of the official 6,000), 2,000 test images per task, balanced, official MLP and
    hyperparameters. The official code, run once outside the repository on the same tasks
    (seed 0, 0.63 s per step on one shared core, 6,295 s), reached an average accuracy of
    86.13 %. Claim ``ocs_matches_official``: our OCS's mean over 4 seeds is at most 1 point
    below it (non-inferiority, Student-t CI95 of ours minus 86.13 above -1). The 1-point margin
    is about twice the seed-to-seed standard deviation of OCS at this size; it was set after an
    earlier 3-seed measurement of ours (86.64 / 87.69 / 87.73, README), so this check confirms a
    known result on 1 new seed rather than testing a blind prediction. The official
    configuration proper (20 tasks x 6,000 steps) would take the official code ~21 h here.

    Seeds: 4, set before `paperzoo plan` existed; `paperzoo plan continual --preset official
    --from docs/results/continual/official` (2026-12-07, the committed run as pilot) asks for 3
    paired seeds, ~0 h CPU to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        seeds=[0, 1, 2, 3],
        settings=["balanced"],
        arms=["OCS"],
        stream=StreamConfig(num_tasks=5, angle_step=20.0, train_per_task=20000, test_per_task=2000),
        claims=ClaimConfig(official_avg_acc=86.13, official_margin=1.0),
    )


@register("continual", "paper", cpu_minutes=190.0, needs_data=("mnist",))
def paper() -> Config:
    """Rotated MNIST at paper scale: 20 tasks x 9 deg, all 60k images per task, 3 seeds.

    Tables 1-3 (balanced, noisy, imbalanced rotated MNIST) with the official hyperparameters;
    the same gates as ``quick``.
    """
    return Config(
        seeds=[0, 1, 2], claims=ClaimConfig(min_learn_acc={"mnist": 80.0}, max_plateau_gain=1.0)
    )


@register("continual", "datasets", cpu_minutes=35.0, needs_data=("mnist", "fashion_mnist"))
def datasets() -> Config:
    """The paper's multiple-datasets benchmark in the form the data here allows: MNIST,
    Fashion-MNIST and scikit-learn's digits (8x8, resized to 28x28), one task each, order
    shuffled by the seed, one masked 10-class head per data set (the official mixture code's
    single masked output layer); balanced, noisy and imbalanced variants; all arms; 3 seeds.

    Official ``ocs_mixture.py``: 5 data sets (MNIST, fashion-MNIST, notMNIST, traffic signs,
    SVHN) on a ResNet18; memory 83 = one sample per class per task. Ours: 3 data sets (the
    others are not in the catalog), the official rotated-MNIST MLP and its hyperparameters
    (lr 0.005, momentum 0.8, decay 0.75, stream 100 -> kappa 10, tau 1000, replay weight 1,
    10 passes), memory 30 = one sample per class per task as both official configurations.
    All training images of MNIST and Fashion-MNIST (6,000 steps per task, the official length)
    and all 1,347 of digits, replayed for the same 6,000 steps (``min_steps_per_task``): a pilot
    of Uniform (seed 0, digits first) with digits' own 10 passes (135 steps) reached 61.8 % on it
    and was still gaining 7 points over its last 20 % of steps. 2,000 test images per task.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan continual --preset datasets
    --from docs/results/continual/datasets` (2026-12-07, the committed run as pilot) asks for
    114 paired seeds, ~38 h CPU to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        seeds=[0, 1, 2],
        stream=StreamConfig(kind="datasets", test_per_task=2000),
        train=TrainConfig(memory_size=30, min_steps_per_task=6000),
        claims=ClaimConfig(
            min_learn_acc={"mnist+fashion_mnist+digits": 80.0}, max_plateau_gain=1.0
        ),
    )
