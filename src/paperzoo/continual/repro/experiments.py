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


@register("continual", "quick", cpu_minutes=260.0, needs_data=("mnist",))
def quick() -> Config:
    """Rotated MNIST, 5 tasks x 20 deg, every training image per task, at least 12,000 SGD
    steps per task (2x the official 6,000), balanced / noisy / imbalanced, all six arms, 9
    paired seeds.

    Targets Table 1 (balanced rotated MNIST) and the noisy / imbalanced rotated-MNIST tables: OCS
    vs Uniform and ER-Reservoir on average accuracy and forgetting, the share of noise images in
    the coreset, Finetune's forgetting. Official MLP and hyperparameters (memory 200, kappa 10 of
    100, tau 1000, warm start 100 batches); 2,000 test images per task.

    Pilot (OCS and Uniform, balanced, seed 0, this machine): with 20,000 images per task (2,000
    steps) the first task reached 94.4 % (OCS) / 92.2 % (Uniform) and OCS's mean current-task
    accuracy still rose 0.5 points over the last 20 % of each task; with all 60,000 (6,000
    steps) OCS reached 98.0 % on the first task, 95.2 % on average right after each task (noisy:
    94.9 %) and gained 0.3 (noisy 0.4) points over the last 20 %. So the preset trains all
    images; it runs 5 of the official 20 tasks (25 %) with a 20-degree step, since 5 tasks of 9
    degrees barely forget. Gates (set before the first run): every compared arm learns each task
    to 80 % (diagonal of the accuracy matrix) and gains at most 1 point over the last 20 % of a
    task's steps, every seed.

    Steps: the first quick run (2026-12-05) failed ``converged`` on the imbalanced stream at
    ~1,700 steps per task (Uniform +2.2 points, seed mean); at 6,000 steps (2026-12-06, seeds
    0-2) the per-seed gate still failed on three seeds of compared arms (imbalanced
    ER-Reservoir 1.24 and Uniform 1.14, noisy ER-Reservoir 1.14, all seed 0; every other value
    <= 1.00). Those two runs give gain ~ steps^-0.75 (2.2 -> 0.85 for 3.5x the steps), so 2x the
    steps (``min_steps_per_task = 12000``, 20 passes over the full stream) puts the worst seed
    near 1.24 / 2^0.75 = 0.74 (set 2026-12-07, issue #39, before any of its seeds ran).

    Claims (2026-12-07): headline ``ocs_accuracy_<setting>`` at 1.3 points (half the paper's
    balanced +2.6 over Uniform), secondary ``ocs_forgets_less_<setting>`` at 0.03 (half its
    0.06), checks as before (``claims.py``).

    Seeds: 9. `paperzoo plan continual --preset quick --from docs/results/continual/quick`
    (2026-12-07, these claims, the 6,000-step run as pilot) asks for > 200 seeds:
    ``ocs_forgets_less_balanced`` (d 0.031 against 0.03) never resolves, the balanced headline
    needs 69 (d +1.87 against 1.3, sd 1.67) and noisy forgetting 24; the noisy headline needs 9,
    imbalanced 4 (accuracy and forgetting). 9 seeds resolve the noisy and imbalanced headlines.
    Cost: the pilot's 1,558 CPU s per seed at 6,000 steps, doubled: ~3,100 CPU s per seed,
    ~7.8 h CPU, ~4.3 h wall with ``--workers 2`` on a free 2-core machine (wall/CPU 0.55; the
    first run's 0.9 on a shared one: up to ~7 h).
    """
    return Config(
        seeds=list(range(9)),
        stream=StreamConfig(num_tasks=5, angle_step=20.0, train_per_task=0, test_per_task=2000),
        train=TrainConfig(min_steps_per_task=12000),
        claims=ClaimConfig(min_learn_acc={"mnist": 80.0}, max_plateau_gain=1.0),
    )


@register("continual", "official", cpu_minutes=6.0, needs_data=("mnist",))
def official() -> Config:
    """Quality check against the official code: our OCS and the official code's (jaehong31/OCS
    b8cd9f8) per-seed results at the one configuration the official code can be run at here,
    paired by seed on seeds 4-8.

    Rotated MNIST, 5 tasks x 20 deg, 20,000 training images per task (2,000 SGD steps per task,
    a third of the official 6,000), 2,000 test images per task, balanced, official MLP and
    hyperparameters. Claim ``ocs_matches_official`` (check): our OCS's average accuracy minus
    the official code's, paired by seed, has its Student-t CI95 above -1 point
    (non-inferiority); gates: at least 3 official runs entered, our OCS learned each task to
    80 %. The official runs are entered, not trained: ``claims.official_avg_acc = {"4" = ...,
    ..., "8" = ...}``, each the official code run on the stream our units build for that seed
    (README: how); the preset refuses to run until they are entered (``official_required``).

    Pre-registered 2026-12-07 (issue #39), before the official runs and our seeds 4-8 exist:
    the margin, 1 point, below the headline threshold (1.3 points), so a shortfall of ours
    within it cannot by itself account for the smallest OCS gain the headline counts. (The
    earlier run, seeds 0-3 against one official seed treated as a constant, set its margin after
    three of our four seeds were known; seeds 0-3 are therefore not reused.)

    Seeds: 5 (4-8). ``paperzoo plan`` cannot size it (the committed run has no per-seed official
    arm), so by hand with ``paperzoo.app.plan.seeds_needed``: sd of the paired difference =
    sqrt(2) x our seed sd (0.60 over seeds 0-3, the official's assumed equal) = 0.84; mean d
    +0.51 (our seed 0 vs the official seed 0) needs 5 seeds at 80 % power, +1.06 (our 4-seed
    mean vs it) 4, and 0 (equal implementations) 8. Cost here: 5 units of ~60 s, ~5 min; the
    official code ~6,300 s per seed on one core (the 2026-12-06 run), ~9 h for the 5.
    """
    return Config(
        seeds=[4, 5, 6, 7, 8],
        settings=["balanced"],
        arms=["OCS"],
        stream=StreamConfig(num_tasks=5, angle_step=20.0, train_per_task=20000, test_per_task=2000),
        claims=ClaimConfig(
            min_learn_acc={"mnist": 80.0}, official_margin=1.0, official_required=True
        ),
    )


@register("continual", "paper", cpu_minutes=250.0, needs_data=("mnist",))
def paper() -> Config:
    """Rotated MNIST at paper scale: 20 tasks x 9 deg, all 60k images per task, 4 seeds (the
    fewest a headline is judged on; no pilot to plan from; was 3, 2026-12-07).

    Tables 1-3 (balanced, noisy, imbalanced rotated MNIST) with the official hyperparameters;
    the same gates as ``quick``.
    """
    return Config(
        seeds=[0, 1, 2, 3],
        claims=ClaimConfig(min_learn_acc={"mnist": 80.0}, max_plateau_gain=1.0),
    )


@register("continual", "datasets", cpu_minutes=530.0, needs_data=("mnist", "fashion_mnist"))
def datasets() -> Config:
    """The paper's multiple-datasets benchmark in the form the data here allows: MNIST,
    Fashion-MNIST and scikit-learn's digits (8x8, resized to 28x28), one task each, order
    shuffled by the seed, one masked 10-class head per data set (the official mixture code's
    single masked output layer); balanced, noisy and imbalanced variants; all arms; 8 seeds.

    Official ``ocs_mixture.py``: 5 data sets (MNIST, fashion-MNIST, notMNIST, traffic signs,
    SVHN) on a ResNet18; memory 83 = one sample per class per task. Ours: 3 data sets (the
    others are not in the catalog), the official rotated-MNIST MLP and its hyperparameters
    (lr 0.005, momentum 0.8, decay 0.75, stream 100 -> kappa 10, tau 1000, replay weight 1),
    memory 30 = one sample per class per task as both official configurations. All training
    images of each set, 2,000 test images per task.

    Steps: at least 36,000 SGD steps per task (``min_steps_per_task``; 60 passes over MNIST and
    Fashion-MNIST, official 10 = 6,000), set 2026-12-07 (issue #39) from the committed run
    (2026-12-05, seeds 0-2, 6,000 steps per task), whose per-seed ``converged`` values (points
    gained over the last 20 % of a task's steps, mean over tasks) failed the 1-point gate on the
    gated settings: noisy OCS 3.20 / -0.04 / -0.21, Uniform 0.35 / 0.84 / 2.67, ER-Reservoir
    1.21 / 0.00 / 2.05; imbalanced OCS 0.84 / 0.70 / 3.31, Uniform 2.02 / 3.03 / 0.77,
    ER-Reservoir -0.09 / 0.36 / -0.76 (balanced: worst 1.33, OCS seed 1); and noisy OCS seed 0
    learned its tasks to 78.1 % < 80. Assuming the gain falls as steps^-0.75 (quick's imbalanced
    stream: 2.2 points at ~1,700 steps, 0.85 at 6,000), the worst seed (3.31) drops below 1 at
    ~30,000 steps; 36,000 projects 0.86. An extrapolation from one pair of runs: the gate
    decides. The convergence probe scores all 2,000 test images of the task (1,000 before),
    halving its sampling variance. Before the full run, the worst cells can be
    checked cheaply (README). Digits (1,347 images) was already replayed for the others' steps:
    with its own 10 passes (135 steps) a pilot of Uniform reached 61.8 % on it and was still
    gaining 7 points over its last 20 %.

    Claims (2026-12-07): as quick's (headline accuracy at 1.3 points, secondary forgetting at
    0.03, checks), with no paper number (the multiple-datasets table was not recalled).

    Seeds: 8. `paperzoo plan continual --preset datasets --from docs/results/continual/datasets`
    (2026-12-07, these claims, the 6,000-step run as pilot) asks for > 200: the balanced
    headline (d +1.28 against 1.3) and noisy forgetting never resolve, balanced forgetting needs
    69; the noisy headline needs 8 (d -4.09, sd 4.42: it would fail), imbalanced 7 (accuracy)
    and 6 (forgetting). 8 seeds resolve the noisy and imbalanced headlines. Cost: the pilot's
    1,209 CPU s per seed at 6,000 steps x 6 = ~7,300 CPU s per seed, ~16 h CPU, ~9 h wall with
    ``--workers 2`` on a free 2-core machine (wall/CPU 0.55; ~16 h on a shared one).
    """
    return Config(
        seeds=list(range(8)),
        stream=StreamConfig(kind="datasets", test_per_task=2000),
        train=TrainConfig(memory_size=30, min_steps_per_task=36000, plateau_eval_size=2000),
        claims=ClaimConfig(
            min_learn_acc={"mnist+fashion_mnist+digits": 80.0}, max_plateau_gain=1.0
        ),
    )
