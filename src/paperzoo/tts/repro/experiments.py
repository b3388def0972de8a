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
    """Synthetic harmonic 'digits' (no data root), arms add, saln and meta (the control
    ``saln_extra`` runs the same code as saln's stage and is left out to keep the smoke under
    30 s), 2 seeds, a tiny model, 30 + 10 steps, no Resemblyzer (pipeline check; says nothing
    about the paper)."""
    return Config(
        seeds=[0, 1],
        arms=["add", "saln", "meta"],
        data=DataConfig(
            source="tones",
            factors=[0.9, 1.0, 1.1],
            unseen_factor=1.1,
            num_train=32,
            num_val=8,
            refs_per_identity=2,
            texts_per_ref=2,
        ),
        model=ModelConfig(hidden_dim=16, style_dim=16, num_layers=1, ff_dim=32),
        train=TrainConfig(num_steps=30, batch_size=4, warmup=10, eval_every=10),
        meta=MetaConfig(num_episodes=10, num_speakers=4),
        eval=EvalConfig(resemblyzer=False, judge_epochs=2, griffin_lim_iters=4),
    )


@register("tts", "quick", cpu_minutes=65.0, needs_data=("speech_fsdd",))
def quick() -> Config:
    """FSDD: 6 real speakers x 9 pitch/rate factors (0.8-1.2) = 54 identities; 40 seen (5 speakers
    x 8 factors), 14 unseen (all of ``theo``, and factor 1.05 of the others); 6,000 training
    utterances of 2-4 digits. Arms: additive style (A), SALN (B), Meta-StyleSpeech from B (C);
    3 paired seeds; d = 64, 2 + 2 FFT blocks, batch 16, 4,000 Noam steps (warm-up 1,000) and
    800 meta episodes of 16 identities. Evaluation: 14 x 3 references x 2 texts.

    Pilot (``saln`` alone, seed 0, 6,000 steps, 2026-12-06; README): held-out mel L1 1.53 at
    250 steps, 0.93 at 2,000, 0.86-0.87 over 3,000-4,000, 0.82-0.87 over 4,250-6,000 (noisy,
    +-0.02 between evaluations; 1 % change over the last 20 %). So 4,000 steps: past the knee,
    within ~3 % of the 6,000-step level, 0.2 s a step on one core. At 6,000 steps: style
    separation 0.92, intelligibility 1.20 x real speech's, MCD 1.6 dB. Fraction of the paper's
    training: 4 % of its 100k StyleSpeech steps at a third of its batch (1.3 % of the samples)
    and 2 % of its 40k meta episodes.

    Seeds: 3, set before `paperzoo plan` existed; `paperzoo plan tts --preset quick --from
    docs/results/tts/quick` (2026-12-07, the committed run as pilot) asks for 79 paired seeds,
    ~51 h CPU to resolve every headline and secondary claim at 80 % power.
    """
    return Config(
        seeds=[0, 1, 2], train=TrainConfig(num_steps=4000), meta=MetaConfig(num_episodes=800)
    )


@register("tts", "synth", cpu_minutes=65.0, needs_data=("speech_synth",))
def synth() -> Config:
    """The 20-voice synthetic corpus (16 kHz sentences and digit strings): 14 training voices x
    pitch/rate factors 0.9 / 1.0 / 1.1 = 42 seen identities, the 6 held-out voices at every
    factor = 18 unseen; durations from the learned monotonic aligner (1,500 steps, trained on
    the seen voices). Same arms, sizes and claims as ``quick``; evaluation targets are digit
    strings of the unseen voices (so intelligibility can be scored).

    Steps as ``quick`` (sized by the FSDD pilot; not piloted on this corpus: the convergence
    gate checks it).
    """
    return Config(
        seeds=[0, 1, 2],
        data=DataConfig(source="synth"),
        train=TrainConfig(num_steps=4000),
        meta=MetaConfig(num_episodes=800),
    )


@register("tts", "paper", cpu_minutes=3000.0, needs_data=("speech_fsdd",))
def paper() -> Config:
    """The official sizes on the data available here (LibriTTS is not): d = 256, style 128,
    4 + 4 FFT blocks (2 heads, FFN 1024), batch 48, 100k Noam steps (warm-up 4,000), then 40k
    meta episodes of 20 identities; for a GPU."""
    return Config(
        seeds=[0, 1, 2],
        data=DataConfig(num_train=20_000),
        model=ModelConfig(hidden_dim=256, style_dim=128, num_layers=4, num_heads=2, ff_dim=1024),
        train=TrainConfig(num_steps=100_000, batch_size=48, warmup=4000, eval_every=2000),
        meta=MetaConfig(num_episodes=40_000, num_speakers=20),
    )
