"""Presets of the neural-process reproduction (Bootstrapping Neural Processes, NeurIPS 2020)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import Config, EvalConfig, ModelConfig, TaskConfig, TrainConfig

__all__ = ["demo", "mnist", "paper", "quick", "quick_attentive", "quick_long", "smoke"]


@register("neural_processes", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """CNP/NP/BNP, tiny and briefly trained on GP tasks: exercises the whole pipeline + figures.

    Targets the GP regression experiment (Table 1: RBF vs RBF with t-noise) at toy scale; the
    numbers are not meant to reproduce the paper.
    """
    return Config(
        seeds=[0],
        models=["CNP", "NP", "BNP"],
        model=ModelConfig(hidden_dim=32, latent_dim=32),
        # A higher learning rate than the paper's 5e-4 (a pipeline check, not a fit).
        train=TrainConfig(
            num_steps=80, batch_size=16, learning_rate=2e-3, val_every=20, val_batches=2
        ),
        eval=EvalConfig(num_batches=4, batch_size=16, num_samples=10),
    )


@register("neural_processes", "demo", cpu_minutes=4)
def demo() -> Config:
    """`make demo`: CNP and BNP on smooth 1-D GP functions, 3 seeds, about 4 minutes.

    A short real run a newcomer can look at: predictions that follow the context points with
    95% bands, calibration curves, learning curves and the Table 1 verdicts (RBF vs RBF with
    Student-t noise). Deviations, all for speed: no NP arm; length scales U(0.5, 1.0) instead
    of the official U(0.1, 0.6) (smoother functions are learned in fewer steps), hidden 64,
    batch 32, 2000 steps at Adam 2e-3: 0.06% of the paper's training tasks (100k x 100).
    """
    return Config(
        seeds=[0, 1, 2],
        models=["CNP", "BNP"],
        model=ModelConfig(hidden_dim=64, latent_dim=64),
        task=TaskConfig(length_range=(0.5, 1.0)),
        train=TrainConfig(
            num_steps=2000, batch_size=32, learning_rate=2e-3, val_every=100, val_batches=4
        ),
        eval=EvalConfig(num_batches=30, batch_size=16, num_samples=20),
    )


@register("neural_processes", "quick", cpu_minutes=30)
def quick() -> Config:
    """CNP, NP and BNP on 1-D GP tasks; RBF vs RBF + Student-t noise (gamma 0.1), 3 seeds.

    Targets Table 1 of the paper (GP regression, in distribution and with t-noise): BNP should
    lose less target log-likelihood under t-noise than CNP/NP while matching CNP on RBF. CPU scale:
    hidden 64, batch 32, 2500 steps, 200 evaluation batches of 16 tasks, K = 50.
    """
    return Config(
        seeds=[0, 1, 2],
        models=["CNP", "NP", "BNP"],
        model=ModelConfig(hidden_dim=64, latent_dim=64),
        train=TrainConfig(num_steps=1500, batch_size=32, val_every=150, checkpoint_every=500),
        eval=EvalConfig(num_batches=100, batch_size=16, num_samples=50),
    )


@register("neural_processes", "quick_attentive", cpu_minutes=90)
def quick_attentive() -> Config:
    """CANP, ANP and BANP at the `quick` scale (one seed; the attention models are ~5x slower).

    Targets Table 1 of the paper (GP regression): BANP vs ANP/CANP under t-noise.
    """
    cfg = quick()
    cfg.seeds = [0]
    cfg.models = ["CANP", "ANP", "BANP"]
    return cfg


@register("neural_processes", "mnist", cpu_minutes=15, needs_data=("mnist",))
def mnist() -> Config:
    """CNP, NP, BNP image completion on MNIST digits 0-4, evaluated on unseen digits 5-9.

    Mimics the paper's EMNIST experiment (Table 2: seen vs unseen classes) with MNIST; 28x28 grid,
    up to 200 points; a figure of completions of seen and unseen digits. CPU scale: hidden 64,
    600 steps of 16 images, 25 evaluation batches of 16 tasks per set, K = 50.
    """
    return Config(
        seeds=[0],
        models=["CNP", "NP", "BNP"],
        model=ModelConfig(hidden_dim=64, latent_dim=64),
        task=TaskConfig(kind="images", dataset="mnist", max_num_points=200),
        train=TrainConfig(
            num_steps=600, batch_size=16, val_every=100, val_batches=2, checkpoint_every=200
        ),
        eval=EvalConfig(num_batches=25, batch_size=16, num_samples=50),
    )


@register("neural_processes", "paper", cpu_minutes=60_000)
def paper() -> Config:
    """The official GP configuration: six models, batch 100, 100k steps, K = 50, 3000 batches.

    Targets Table 1 (GP regression: RBF, Matern, Periodic, RBF + t-noise). Needs a GPU.
    """
    return Config(task=TaskConfig(random_t_noise=True, eval_kernels=["matern", "periodic"]))


@register("neural_processes", "quick_long", cpu_minutes=30)
def quick_long() -> Config:
    """`quick` with 4000 steps and one seed: does the t-noise gap open with more training?

    Targets Table 1 of the paper (GP regression, RBF vs RBF + t-noise), like `quick`.
    """
    cfg = quick()
    cfg.seeds = [0]
    cfg.train.num_steps = 4000
    cfg.train.val_every = 500
    cfg.eval.num_batches = 50
    return cfg
