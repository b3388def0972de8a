"""Presets of the streaming-ASR reproduction (mutually-constrained MMA)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import Config, DataConfig, EvalConfig, ModelConfig, TrainConfig

__all__ = ["smoke"]


@register("asr", "smoke", cpu_minutes=0.5)
def smoke() -> Config:
    """Synthetic tone 'digits' (no data root), offline / MMA / MCMMA at eps 1, 2 seeds, a tiny
    model and 40 steps (pipeline check; says nothing about the paper)."""
    return Config(
        seeds=[0, 1],
        arms=["offline", "mma", "mcmma_eps1"],
        data=DataConfig(source="tones", num_train=64, num_test=12, snr_db=None),
        model=ModelConfig(dim=16, heads=2, ff=32, chunk=2),
        train=TrainConfig(steps=40, batch_size=4, warmup=10, eval_every=10),
        eval=EvalConfig(eps=[1]),
    )
