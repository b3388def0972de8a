"""Presets of the neural-process reproduction (Bootstrapping Neural Processes, NeurIPS 2020)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import ClaimConfig, Config, EvalConfig, ModelConfig, TaskConfig, TrainConfig

__all__ = ["demo", "mnist", "paper", "predator_prey", "quick", "quick_attentive", "smoke"]


@register("neural_processes", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """CNP/NP/BNP, tiny and briefly trained on GP tasks: exercises the whole pipeline + figures.

    Targets the GP regression experiment (Table 1: RBF vs RBF with t-noise) at toy scale; the
    numbers are not meant to reproduce the paper.
    """
    return Config(
        seeds=[0],
        arms=["CNP", "NP", "BNP"],
        model=ModelConfig(hidden_dim=32, latent_dim=32),
        # A higher learning rate than the paper's 5e-4 (a pipeline check, not a fit).
        train=TrainConfig(
            num_steps=80, batch_size=16, learning_rate=2e-3, val_every=20, num_val_batches=2
        ),
        eval=EvalConfig(num_batches=4, batch_size=16, num_samples=10),
    )


@register("neural_processes", "demo", cpu_minutes=7)
def demo() -> Config:
    """`make demo`: CNP and BNP on smooth 1-D GP functions, 3 seeds, about 4 minutes.

    A short real run a newcomer can look at: predictions that follow the context points with
    95% bands, calibration curves, learning curves and the Table 1 verdicts (RBF vs RBF with
    Student-t noise). Deviations, all for speed: no NP arm; length scales U(0.5, 1.0) instead
    of the official U(0.1, 0.6) (smoother functions are learned in fewer steps), hidden 64,
    batch 32, 2000 steps at Adam 2e-3: 0.06% of the paper's training tasks (100k x 100).

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan neural_processes --preset demo
    --from docs/results/neural_processes/demo` (2026-12-07, the committed run as pilot) asks for
    175 paired seeds, ~7 h CPU to resolve every headline and secondary claim at 80 % power.
    Without an NP arm its robustness claim is ``secondary`` (the headline compares with each of
    CNP and NP).
    """
    return Config(
        seeds=[0, 1, 2],
        arms=["CNP", "BNP"],
        model=ModelConfig(hidden_dim=64, latent_dim=64),
        # Only the fixed-gamma t-noise set (the random-gamma set is in `quick`).
        task=TaskConfig(length_range=(0.5, 1.0), random_t_noise=False),
        train=TrainConfig(
            num_steps=2000, batch_size=32, learning_rate=2e-3, val_every=100, num_val_batches=4
        ),
        eval=EvalConfig(num_batches=30, batch_size=16, num_samples=20),
    )


OFFICIAL_STEPS = 100_000
"""Training steps of the official GP runs (batch 100)."""

REFERENCE_TAR_LL_10K = {"CNP": {"rbf": -0.202}, "NP": {"rbf": -0.205}}
"""In-distribution (RBF) target log-likelihood the official code (juho-lee/bnp @ 4cf4b92) reaches
after 10,000 steps of 32 tasks at the official architecture, Adam 5e-4 with cosine annealing,
K = 4, evaluated on 200 batches of 16 tasks (seed 42), K = 50, seed 0; measured on this machine
with the official models and GP sampler (command in the README)."""

REFERENCE_TAR_LL_2K = {"CANP": {"rbf": 0.380}, "ANP": {"rbf": 0.483}}
"""The same for the attentive models after 2,000 steps (the `quick_attentive` budget)."""

REFERENCE_TAR_LL_DROP_10K = {
    "CNP": {"rbf_tnoise": 0.722, "rbf_tnoise_random": 0.453},
    "NP": {"rbf_tnoise": 0.494, "rbf_tnoise_random": 0.337},
}
"""Clean-to-shifted drop in target log-likelihood of the same official runs as
``REFERENCE_TAR_LL_10K`` (RBF minus RBF + Student-t(2.1) noise with gamma 0.1, and minus gamma ~
U(0, 0.15) per point, the official ``t_noise=-1``; evaluation sets drawn as ``gen_evalset``
does), from the README table "Official code at equal steps"."""

REFERENCE_TAR_LL_DROP_2K = {
    "CANP": {"rbf_tnoise": 3.586, "rbf_tnoise_random": 1.576},
    "ANP": {"rbf_tnoise": 1.401, "rbf_tnoise_random": 0.857},
}
"""The same for the attentive official runs after 2,000 steps (``REFERENCE_TAR_LL_2K``)."""


def _official(
    levels: dict[str, dict[str, float]], drops: dict[str, dict[str, float]]
) -> ClaimConfig:
    """The claims of a GP preset gated on the official code at its steps: the in-distribution
    levels (quality gates) and the drops under t-noise (mismatch gates), fresh copies."""
    return ClaimConfig(
        reference_tar_ll={m: dict(v) for m, v in levels.items()},
        reference_tar_ll_drop={m: dict(v) for m, v in drops.items()},
    )


QUICK_SEEDS = 5
"""Seeds of `quick`: what `paperzoo plan` asks with the committed run as pilot (its docstring)."""
QUICK_ATTENTIVE_SEEDS = 22
"""Seeds of `quick_attentive`: what `paperzoo plan` asks (its docstring), not capped."""


@register("neural_processes", "quick", cpu_minutes=97)
def quick() -> Config:
    """CNP, NP and BNP at the official architecture on 1-D GP tasks, 5 seeds (Table 1; headline).

    Official model sizes (hidden 128, latent 128, depths 4/2/3), K = 4, Adam 5e-4 with cosine
    annealing; batch 32 instead of 100 and 10,000 steps instead of 100,000 (3.2% of the paper's
    training tasks). Pilot (2026-11-28, seed 0): CNP trained for 20,000 steps still gains
    0.03 nats of validation target LL over its last 25%, so 10,000 steps is not the plateau of
    longer training (CNP 21 ms, NP 54 ms, BNP 114 ms a step on one thread). The claims are
    therefore at equal steps: every compared arm is gated on the official code trained for the
    same 10,000 steps (CNP and NP at their own in-distribution level, BNP at CNP's; the
    ``settled`` gate on the last 20% of the cosine schedule is only a stability check), and each
    base must lose at least half the official code's drop under each t-noise set.

    Evaluation: 200 fixed batches of 16 tasks (seed 42), K = 50, on RBF, RBF + 0.1 t-noise and
    RBF + t-noise with gamma ~ U(0, 0.15) per point (the paper's two robustness settings).
    Pre-registered: BNP's drop smaller than each of CNP's and NP's by >= 0.05 nats (headline);
    in distribution at most 0.05 nats below each of CNP and NP (secondary); quality within 0.05
    nats of the official level.

    Seeds: 5 (2026-12-07). `paperzoo plan neural_processes --preset quick --from
    docs/results/neural_processes/quick` (the committed 3-seed run as pilot, today's claims)
    asks for 5 paired seeds, ~3 h CPU (10,742 s): `bnp_robust_tnoise` against NP (pilot mean d
    -0.042, sd 0.050) and `bnp_robust_tnoise_random` against CNP (+0.108, sd 0.031) need 5,
    `bnp_in_distribution` 4. The committed run took 3,507 s wall for 3 seeds on 2 workers, so
    expect ~1.6 h wall (5 x 1,169 s) with `--workers 2`; an interrupted run continues with
    `--resume` (finished units are kept, training checkpoints every 1,000 steps).
    """
    return Config(
        seeds=list(range(QUICK_SEEDS)),
        arms=["CNP", "NP", "BNP"],
        train=TrainConfig(
            num_steps=10_000,
            batch_size=32,
            val_every=500,
            num_val_batches=16,
            checkpoint_every=1000,
        ),
        eval=EvalConfig(num_batches=200, batch_size=16, num_samples=50),
        claims=_official(REFERENCE_TAR_LL_10K, REFERENCE_TAR_LL_DROP_10K),
    )


@register("neural_processes", "quick_attentive", cpu_minutes=613)
def quick_attentive() -> Config:
    """CANP, ANP and BANP at the official architecture on 1-D GP tasks, 22 seeds (Table 1;
    headline).

    As `quick` but 2,000 steps (0.64% of the paper's training tasks) and 100 evaluation
    batches: the attentive models cost 81 (CANP), 117 (ANP) and 386 (BANP) ms a step on one
    thread. The gates compare CANP and ANP (and BANP, at CANP's level) with the official code
    at the same 2,000 steps, and each base's t-noise drop with half the official one.

    Seeds: 22 (2026-12-07). `paperzoo plan neural_processes --preset quick_attentive --from
    docs/results/neural_processes/quick_attentive` (the committed 3-seed run as pilot, today's
    claims) asks for 22 paired seeds, ~11 h CPU (39,038 s): `banp_robust_tnoise` against CANP
    (pilot mean d +0.280, sd 0.365) needs 22, `banp_robust_tnoise_random` against CANP 13; the
    comparisons with ANP (mean d -1.75 and -0.84: BANP loses *more*) resolve at the headline
    minimum of 4, so the headline's verdict is likely settled by ANP long before 22 seeds, but
    the plan sizes for the hardest comparison and is followed, not capped. The committed run
    took 5,017 s wall for 3 seeds on 2 workers (cores shared with another run), so expect
    ~10 h wall (22 x 1,672 s; at least 5.4 h, half the CPU time, on two free cores) with
    `--workers 2`; an interrupted run continues with `--resume` (finished units are kept,
    training checkpoints every 250 steps).
    """
    cfg = quick()
    cfg.seeds = list(range(QUICK_ATTENTIVE_SEEDS))
    cfg.arms = ["CANP", "ANP", "BANP"]
    cfg.train.num_steps = 2000
    cfg.train.val_every = 100
    cfg.train.checkpoint_every = 250
    cfg.eval.num_batches = 100
    cfg.claims = _official(REFERENCE_TAR_LL_2K, REFERENCE_TAR_LL_DROP_2K)
    return cfg


@register("neural_processes", "mnist", cpu_minutes=50, needs_data=("mnist",))
def mnist() -> Config:
    """CNP, NP, BNP image completion on MNIST digits 0-4, evaluated on unseen digits 5-9, 3 seeds.

    Mimics the paper's EMNIST experiment (train on classes 0-9, evaluate on the unseen 10-46)
    with the MNIST split the research notes prescribe; 28x28 grid, up to 200 points. Two
    model-data mismatches: unseen digits, and the seen test digits with the official image
    t-noise (gamma ~ U(0, 0.09) per pixel, ``t_noise=-1``). Official EMNIST architecture
    (hidden 128, depths 5/3/4), Adam 5e-4 with cosine annealing, K = 4; batch 16 and 3,000
    steps, 1.0% of the official 200 epochs of 100 images (48,000 steps). Pilot (2026-11-28,
    CNP seed 0, 4,000 steps): validation target LL 0.39 at 500 steps, 0.53 at 1,500 and
    0.53-0.56 from 2,000 on (change over the last 20%: 0.003 nats); a flat end of a cosine
    schedule is not a plateau, though (README: the completions are still blurred at 3,000
    steps). Its unseen-digit drop was 0.020 nats (5 batches). Evaluation: 100 batches of 16
    tasks per set, K = 50. Pre-registered as `quick` (effect 0.05 nats, in-distribution margin
    0.05 against each of CNP and NP) plus the mismatch gate: CNP and NP must lose at least 0.05
    nats (``min_baseline_drop`` = the effect) on the shifted set in every seed, else "robust"
    has nothing to measure. No official reference level or drop: the official EMNIST script
    needs torchvision's EMNIST download, which this machine has neither of, so only the
    ``settled`` stability gate speaks for training and every claim here is ``secondary``
    (MNIST digits stand in for EMNIST classes, at 1% of the official training).

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan neural_processes --preset mnist
    --from docs/results/neural_processes/mnist` (2026-12-07, the committed run as pilot, the
    claims as secondary) asks for 12 paired seeds, ~8 h CPU to resolve every secondary claim at
    80 % power (`bnp_robust_unseen` against CNP: mean d +0.036, sd 0.015); not raised, as its
    claims carry no headline.
    """
    return Config(
        seeds=[0, 1, 2],
        arms=["CNP", "NP", "BNP"],
        model=ModelConfig(enc_pre_depth=5, enc_post_depth=3, dec_depth=4),
        task=TaskConfig(kind="images", dataset="mnist", max_num_points=200),
        train=TrainConfig(
            num_steps=3000, batch_size=16, val_every=250, num_val_batches=8, checkpoint_every=500
        ),
        eval=EvalConfig(num_batches=100, batch_size=16, num_samples=50),
        claims=ClaimConfig(min_baseline_drop=0.05),
    )


@register("neural_processes", "predator_prey", cpu_minutes=30)
def predator_prey() -> Config:
    """CNP, NP and BNP on stochastic Lotka-Volterra series, 3 seeds (stands in for the paper's
    sim-to-real; secondary).

    Trained on the official simulator (rates 0.01/0.5/1/0.01, X0 = 50, Y0 = 100, up to 50
    points per task, standardised by the context); evaluated on fresh series of the same
    simulator (``sim``) and of a mismatched one (rates 0.005/0.5/1/0.02, ``mismatch``), which
    stands in for the real hare-lynx counts no installable package ships. Official
    architecture, Adam 5e-4 with cosine annealing, K = 4; 5,000 steps of 32 series (the
    official run: 10,000 steps of 50, so 32% of its training series) from a pool of 2,000
    simulated series. Pre-registered as `quick`: BNP's drop smaller than each of CNP's and NP's
    by >= 0.05 nats, in distribution at most 0.05 nats below each of CNP and NP, and the
    mismatch gate: CNP and NP lose at least 0.05 nats (the effect) on the mismatched simulator
    in every seed. A sim-to-sim shift, not the paper's hare-lynx series, and no official
    reference (only the ``settled`` stability gate), so its claims are ``secondary``.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan neural_processes --preset
    predator_prey --from docs/results/neural_processes/predator_prey` (2026-12-07, the committed
    run as pilot, the claims as secondary) asks for 3 paired seeds, ~62 min CPU to resolve
    every secondary claim at 80 % power (4 while the robustness claim was a headline).
    """
    return Config(
        seeds=[0, 1, 2],
        arms=["CNP", "NP", "BNP"],
        task=TaskConfig(kind="lotka_volterra", max_num_points=50, num_series=2000),
        train=TrainConfig(
            num_steps=5000, batch_size=32, val_every=250, num_val_batches=16, checkpoint_every=500
        ),
        eval=EvalConfig(num_batches=200, batch_size=16, num_samples=50),
        claims=ClaimConfig(min_baseline_drop=0.05),
    )


@register("neural_processes", "paper", cpu_minutes=60_000)
def paper() -> Config:
    """The official GP configuration: six models, batch 100, 100k steps, K = 50, 3000 batches.

    Targets Table 1 (GP regression: RBF, Matern, Periodic, RBF + t-noise). Needs a GPU.
    """
    return Config(task=TaskConfig(random_t_noise=True, eval_kernels=["matern", "periodic"]))
