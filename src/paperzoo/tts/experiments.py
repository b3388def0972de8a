"""Presets of the StyleSpeech / Meta-StyleSpeech reproduction (unseen-speaker adaptation from one
reference clip)."""

from __future__ import annotations

from paperzoo.core.registry import register

from .config import (
    Config,
    DataConfig,
    EvalConfig,
    MetaConfig,
    ModelConfig,
    TrainConfig,
)

__all__ = ["paper", "quick", "smoke", "synth"]


@register("tts", "smoke", cpu_minutes=0.5)
def smoke() -> Config:
    """Synthetic harmonic 'digits' (no data root), all three arms, 2 seeds, a tiny model, 30 +
    10 steps, no Resemblyzer (pipeline check; says nothing about the paper)."""
    return Config(
        seeds=[0, 1],
        data=DataConfig(
            source="tones",
            factors=[0.9, 1.0, 1.1],
            unseen_factor=1.1,
            num_train=32,
            num_val=8,
            refs_per_identity=2,
            texts_per_ref=2,
        ),
        model=ModelConfig(dim=16, style_dim=16, layers=1, ff=32),
        train=TrainConfig(steps=30, batch_size=4, warmup=10, eval_every=10),
        meta=MetaConfig(steps=10, speakers=4),
        eval=EvalConfig(resemblyzer=False, judge_epochs=2, griffin_lim_iters=4),
    )


@register("tts", "quick", cpu_minutes=75.0, needs_data=("speech_fsdd",))
def quick() -> Config:
    """FSDD: 6 real speakers x 9 pitch/rate factors (0.8-1.2) = 54 identities; 40 seen (5 speakers
    x 8 factors), 14 unseen (all of ``theo``, and factor 1.05 of the others); 6,000 training
    utterances of 2-4 digits. Arms: additive style (A), SALN (B), Meta-StyleSpeech from B (C);
    3 paired seeds; d = 64, 2 + 2 FFT blocks, batch 16, 6,000 Noam steps (warm-up 1,000) and
    1,500 meta episodes of 16 identities. Evaluation: 14 x 3 references x 2 texts.

    Not yet sized from a pilot (issue #17): run the ``saln`` arm alone first and set the steps
    from its held-out mel curve before reading any verdict from this preset.
    """
    return Config(seeds=[0, 1, 2])


@register("tts", "synth", cpu_minutes=75.0, needs_data=("speech_synth",))
def synth() -> Config:
    """The 20-voice synthetic corpus (16 kHz sentences and digit strings): 14 training voices x
    pitch/rate factors 0.9 / 1.0 / 1.1 = 42 seen identities, the 6 held-out voices at every
    factor = 18 unseen; durations from the learned monotonic aligner (1,500 steps, trained on
    the seen voices). Same arms, sizes and claims as ``quick``; evaluation targets are digit
    strings of the unseen voices (so intelligibility can be scored).

    Not yet sized from a pilot (issue #17), like ``quick``.
    """
    return Config(seeds=[0, 1, 2], data=DataConfig(source="synth"))


@register("tts", "paper", cpu_minutes=3000.0, needs_data=("speech_fsdd",))
def paper() -> Config:
    """The official sizes on the data available here (LibriTTS is not): d = 256, style 128,
    4 + 4 FFT blocks (2 heads, FFN 1024), batch 48, 100k Noam steps (warm-up 4,000), then 40k
    meta episodes of 20 identities; for a GPU."""
    return Config(
        seeds=[0, 1, 2],
        data=DataConfig(num_train=20_000),
        model=ModelConfig(dim=256, style_dim=128, layers=4, heads=2, ff=1024),
        train=TrainConfig(steps=100_000, batch_size=48, warmup=4000, eval_every=2000),
        meta=MetaConfig(steps=40_000, speakers=20),
    )
