"""Presets of the streaming-ASR reproduction (mutually-constrained MMA)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import Config, DataConfig, EvalConfig, ModelConfig, TrainConfig

__all__ = ["paper", "quick", "smoke"]


@register("asr", "smoke", cpu_minutes=0.5)
def smoke() -> Config:
    """Synthetic tone 'digits' (no data root), offline / MMA / MCMMA at eps 1, 2 seeds, a tiny
    model and 40 steps (pipeline check; says nothing about the paper)."""
    return Config(
        seeds=[0, 1],
        arms=["offline", "mma", "mcmma_eps1"],
        data=DataConfig(source="tones", num_train=64, num_test=8, snr_db=None),
        model=ModelConfig(dim=16, heads=2, ff=32, chunk=2),
        train=TrainConfig(steps=40, batch_size=4, warmup=10, eval_every=10),
        eval=EvalConfig(eps=[1], max_tokens=10),
    )


@register("asr", "quick", cpu_minutes=60.0, needs_data=("speech_fsdd",))
def quick() -> Config:
    """FSDD connected digits (4-7 digits, gaps up to 150 ms, 20 dB white noise), 3,000 training
    strings from 5 speakers, 300 test strings of the held-out speaker ``theo``; offline, MMA
    (decoded at eps 1, 2, 4 and without HSD) and MCMMA trained at eps 1 and 2; 3 paired seeds.

    NOT YET SIZED BY A PILOT: 4,000 steps of batch 16 is the spec's estimate (~140 ms per step
    for a 0.4M-parameter model here, ~9 min per unit); the pilot (MMA alone to its plateau) will
    set the steps and this docstring will record the fraction of neural_sp's training it is.
    """
    return Config(seeds=[0, 1, 2])


@register("asr", "paper", cpu_minutes=2400.0, needs_data=("speech_fsdd",))
def paper() -> Config:
    """neural_sp's LibriSpeech MMA sizes on the data available here (LibriSpeech is not):
    encoder d = 256 (x4 subsampling here, x8 there), 6 decoder layers with MMA from layer 4,
    4 heads, chunk 16, 30k steps of batch 32 on FSDD connected digits; for a GPU."""
    return Config(
        seeds=[0, 1, 2],
        model=ModelConfig(
            dim=256, heads=4, ff=1024, enc_layers=6, dec_layers=6, first_source_layer=3, chunk=16
        ),
        train=TrainConfig(steps=30_000, batch_size=32, warmup=2500, eval_every=1000),
    )
