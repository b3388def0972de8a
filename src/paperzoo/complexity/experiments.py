"""Presets of the Neural Complexity reproduction (registered with the core registry)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import (
    ClassificationConfig,
    Config,
    EvalConfig,
    MetaConfig,
    NCConfig,
    RegimeConfig,
)

__all__ = ["paper", "quick", "smoke"]


@register("complexity", "smoke", cpu_minutes=0.2)
def smoke() -> Config:
    """Tiny NC on generated sinusoids, overfitting regime, 1 seed: checks the pipeline end to end.

    Targets nothing in the paper; its numbers mean nothing. Overfit and mixture regression, and
    classification on scikit-learn's 8x8 digits (bundled, no data root). (The official regime
    runs the same code with other sizes; leaving it out keeps smoke fast.)
    """
    return Config(
        seeds=[0],
        regimes=["overfit", "mixture", "classification"],
        official=RegimeConfig(num_train=10, num_test=15, inner_steps=8, learn_every=5),
        overfit=RegimeConfig(
            num_train=5, num_test=15, inner_steps=12, inner_learning_rate=2e-2, learn_every=5
        ),
        mixture=RegimeConfig(
            num_train=5, num_test=15, inner_steps=12, inner_learning_rate=2e-2, learn_every=5
        ),
        classification=ClassificationConfig(
            dataset="digits",
            feature_dim=8,
            num_shots=2,
            num_queries=3,
            hidden_dim=8,
            inner_steps=8,
            learn_every=5,
        ),
        nc=NCConfig(hidden_dim=16, encoder_depth=2, decoder_depth=2, num_heads=2),
        meta=MetaConfig(
            num_steps=20,
            batch_size=32,
            task_batch_size=16,
            populate_batches=2,
            warmup_steps=10,
            memory_capacity=5000,
            log_every=10,
            checkpoint_every=20,
            val_tasks=8,
        ),
        eval=EvalConfig(
            num_test_tasks=24,
            num_val_tasks=12,
            snapshot_every=2,
            l2_grid=[1e-2],
            dropout_grid=[0.5],
            measures=["L1"],
            measure_grid=[1e-3],
            predictors=["L1"],
        ),
    )


@register("complexity", "quick", cpu_minutes=10)
def quick() -> Config:
    """Meta-train NC on sinusoids (official + overfitting regime, 3 seeds); gap R/MAE, test MSE.

    Targets the paper's 1-D regression claims (Sec. 5.1: NC predicts the gap; adding NC to the
    loss prevents overfitting) at CPU scale: NC width 64 with 4 heads, 1,000 NC steps of 128
    snapshots instead of width 512 and 500k steps of 512. 467 s of CPU time on 1 thread
    (about 8-10 min alone; 44 min wall on the shared 2-core machine).
    """
    return Config(
        seeds=[0, 1, 2],
        nc=NCConfig(hidden_dim=64, encoder_depth=3, decoder_depth=2, num_heads=4),
        meta=MetaConfig(
            num_steps=1000,
            batch_size=128,
            task_batch_size=64,
            populate_batches=20,
            warmup_steps=400,
            memory_capacity=200_000,
            log_every=100,
            checkpoint_every=400,
        ),
        eval=EvalConfig(num_test_tasks=512, num_val_tasks=256),
    )


@register("complexity", "paper", cpu_minutes=60_000)
def paper() -> Config:
    """The official run.py scale (NC width 512, 500k steps of 512 snapshots); needs a GPU.

    Targets Sec. 5.1 of the paper (1-D sinusoid regression). Not run here.
    """
    return Config(seeds=[0, 1, 2])
