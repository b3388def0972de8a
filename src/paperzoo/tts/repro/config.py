"""Configuration of the StyleSpeech / Meta-StyleSpeech reproduction: data (identities, utterances,
features), model sizes, training of the three arms, evaluation and the pre-registered claims.

Defaults follow the official code where it applies at this scale (Adam beta (0.9, 0.98),
eps 1e-9, Noam schedule, gradient clip 1.0; meta stage: alpha 10, discriminator Adam 2e-4 with
beta (0.9, 0.98), no clipping); sizes are CPU-sized and stated in each preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import Fraction, NonNegFloat, NonNegInt, OneOf, PosFloat, PosInt, Range

__all__ = [
    "ClaimConfig",
    "Config",
    "DataConfig",
    "EvalConfig",
    "MetaConfig",
    "ModelConfig",
    "TrainConfig",
]


ARMS = ("add", "saln", "saln_extra", "meta")
"""Additive style baseline, StyleSpeech (SALN), SALN trained ``meta.num_episodes`` more
StyleSpeech steps (the compute-matched control for the meta stage's extra generator updates),
Meta-StyleSpeech."""


@dataclass
class DataConfig:
    source: Literal["fsdd", "synth", "tones"] = "fsdd"
    """``fsdd``: utterances concatenated from the real FSDD digit recordings (8 kHz, exact
    durations; data root); ``synth``: the 20-voice synthetic corpus (16 kHz sentences and digit
    strings, durations from the learned aligner; data root); ``tones``: a synthetic harmonic
    'digit' language with per-speaker pitch and timbre (no data root; pipeline checks only)."""
    factors: list[PosFloat] = field(
        default_factory=lambda: [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2]
    )
    """Pitch/rate factors: every (speaker, factor) is one identity (tape-style, see corpus)."""
    unseen_speaker: str = "theo"
    """This real speaker is unseen at every factor."""
    unseen_factor: PosFloat = 1.05
    """... and every other speaker is unseen at this factor (so 5 x 8 = 40 seen identities)."""
    num_train: PosInt = 6000
    """Training utterances (2-4 digits of one seen identity, from the official train takes)."""
    num_val: PosInt = 160
    """Held-out utterances of seen identities (test takes) for the convergence gate."""
    min_words: PosInt = 2
    max_words: PosInt = 4
    max_gap_s: NonNegFloat = 0.08
    """Silent gap before each word and after the last, uniform in [0, max_gap_s] seconds."""
    synth_factors: list[PosFloat] = field(default_factory=lambda: [0.9, 1.0, 1.1])
    """``synth``: pitch/rate factors of every voice (14 training voices x 3 = 42 seen
    identities; the 6 unseen voices at every factor are unseen)."""
    synth_per_voice: PosInt = 60
    """``synth``: utterances used per voice (60 = all; fewer for quick checks)."""
    aligner_steps: PosInt = 1500
    """``synth``: training steps of the monotonic aligner that gives the durations."""
    refs_per_identity: PosInt = 3
    """Evaluation: reference clips per unseen identity (1-3 s, test takes)."""
    texts_per_ref: PosInt = 2
    """Evaluation: different target texts spoken in each reference's voice."""
    target_words: PosInt = 3
    """Digits in each evaluation target text (none shared with its reference)."""


@dataclass
class ModelConfig:
    RENAMED: ClassVar[dict[str, str]] = {
        "dim": "hidden_dim",
        "layers": "num_layers",
        "heads": "num_heads",
        "ff": "ff_dim",
    }
    """Old field names that stored runs (before 2026-12-07) still load under."""

    hidden_dim: PosInt = 64
    """Width of the phoneme encoder and mel decoder (official 256)."""
    style_dim: PosInt = 64
    """Style vector size (official 128)."""
    num_layers: PosInt = 2
    """FFT blocks in the encoder and in the decoder (official 4 each)."""
    num_heads: PosInt = 2
    """Self-attention heads per FFT block (official 2)."""
    ff_dim: PosInt = 256
    """Inner width of each FFT block's convolutional feed-forward (official 1024)."""
    dropout: Fraction = 0.1


@dataclass
class TrainConfig:
    RENAMED: ClassVar[dict[str, str]] = {"steps": "num_steps"}

    num_steps: PosInt = 6000
    """Generator steps of the StyleSpeech stage (arms ``add`` and ``saln``)."""
    batch_size: PosInt = 16
    warmup: PosInt = 1000
    """Noam schedule: lr = scale * dim^-0.5 * min(s^-0.5, s * warmup^-1.5) (official 4000)."""
    lr_scale: PosFloat = 1.0
    grad_clip: NonNegFloat = 1.0
    eval_every: PosInt = 250
    """Steps between held-out mel-L1 evaluations (seen identities, teacher-forced durations)."""


@dataclass
class MetaConfig:
    RENAMED: ClassVar[dict[str, str]] = {"steps": "num_episodes", "speakers": "num_speakers"}

    num_episodes: PosInt = 1500
    """Episodes of the meta stage (arm ``meta``), started from the same seed's ``saln`` model
    and its Adam state; also the extra StyleSpeech steps of the control arm ``saln_extra``."""
    num_speakers: PosInt = 16
    """Distinct seen identities per episode (official 20)."""
    alpha: PosFloat = 10.0
    """Weight of the support's mel L1 in the generator objective; the duration, pitch and
    energy losses and the adversarial terms enter unweighted (official ``train_meta.py``)."""
    d_learning_rate: PosFloat = 2e-4


@dataclass
class EvalConfig:
    resemblyzer: bool = True
    """Also score speaker similarity with Resemblyzer's pretrained encoder on Griffin-Lim
    audio (needs the ``resemblyzer`` package)."""
    judge_epochs: PosInt = 12
    """Epochs of the judge classifiers (speaker: seen identities only; words: real takes)."""
    griffin_lim_iters: PosInt = 60


@dataclass
class ClaimConfig:
    min_similarity_gain: NonNegFloat = 0.02
    """SALN's unseen-speaker similarity (in-house embedding cosine) exceeds the additive
    baseline's by at least this."""
    mcd_margin: NonNegFloat = 0.3
    """... while its MCD is worse than the baseline's by at most this many dB."""
    min_resemblyzer_gain: NonNegFloat = 0.01
    """SALN's Resemblyzer similarity exceeds the baseline's by at least this."""
    min_eer_gain: Fraction = 0.02
    """SALN's speaker-verification EER on unseen identities is below the baseline's by at
    least this (2 points; ours, fixed before any run with the verification judge)."""
    min_meta_gain: Annotated[float, Range(ge=-1, le=1)] = 0.0
    """Meta-StyleSpeech's unseen similarity minus StyleSpeech's is above this."""
    max_loss_change: NonNegFloat = 0.05
    """Gate: held-out mel L1 changed by at most this fraction over the last 20 % of steps."""
    min_style_separation: Fraction = 0.2
    """Gate: between-identity share of the style vectors' variance on unseen references."""
    min_intelligibility: Fraction = 0.5
    """Gate: generated words' classifier accuracy is at least this fraction of real speech's."""


@dataclass
class Config:
    """One reproduction: every (arm, seed) is one resumable unit; ``meta`` depends on the same
    seed's ``saln`` unit (it starts from that checkpoint, as the official code does)."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2])
    arms: list[Annotated[str, OneOf(ARMS)]] = field(default_factory=lambda: list(ARMS))
    """``add`` (style vector added to the encoder output, LayerNorm everywhere), ``saln``
    (StyleSpeech), ``saln_extra`` (``saln`` trained the meta stage's extra updates: the
    compute-matched control), ``meta`` (Meta-StyleSpeech: the episodic stage from ``saln``)."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    meta: MetaConfig = field(default_factory=MetaConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    claims: ClaimConfig = field(default_factory=ClaimConfig)
