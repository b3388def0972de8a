"""Configuration of the streaming-ASR reproduction: data, model, training, decoding and the
pre-registered claim thresholds.

Defaults follow neural_sp's MMA recipe where it applies at this scale (energy offset -2, noise
std 1, HeadDrop 0.5, CTC weight 0.3, label smoothing 0.1); sizes are CPU-sized (d = 96, 2 + 2
layers, 4 heads) and stated in each preset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

from paperzoo.core.config import Fraction, NonNegFloat, NonNegInt, OneOf, PosFloat, PosInt, Range

ARMS = ("offline", "mma", *(f"mcmma_eps{k}" for k in range(1, 9)))
"""Full attention, MMA with HeadDrop, and MMA mutually constrained at training window eps = k
(``mcmma_eps<k>``, k = 1..8)."""

__all__ = [
    "ARMS",
    "ClaimConfig",
    "Config",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "TrainConfig",
]


@dataclass
class DataConfig:
    source: Literal["fsdd", "synth", "tones"] = "fsdd"
    """``fsdd``: connected digits from the real FSDD recordings (data root); ``synth``: the
    synthetic corpus' sentences and digit strings (20 synthesizer voices, resampled to 8 kHz;
    train on the 14 training voices, test on the 6 unseen ones; no word timings, so WER only;
    data root); ``tones``: a synthetic tone language (each digit a pitch pattern, per-speaker
    pitch; no data root)."""
    test_speaker: str = "theo"
    """The FSDD speaker held out for testing (never heard in training)."""
    num_train: PosInt = 3000
    """Training utterances (connected-digit strings)."""
    num_test: PosInt = 300
    """Test utterances (held-out speaker)."""
    min_digits: PosInt = 4
    max_digits: PosInt = 7
    max_gap_s: NonNegFloat = 0.15
    """Silent gap before each digit, uniform in [0, max_gap_s] seconds."""
    snr_db: Annotated[float, Range(ge=-10, le=60)] | None = 20.0
    """White noise at this SNR (None: clean), so the baseline's error is well above zero."""


@dataclass
class ModelConfig:
    RENAMED: ClassVar[dict[str, str]] = {"dim": "hidden_dim", "heads": "num_heads", "ff": "ff_dim"}
    """Old field names that stored runs (before 2026-12-07) still load under."""

    hidden_dim: PosInt = 96
    """Model width d (encoder and decoder)."""
    num_heads: PosInt = 4
    """Attention heads per layer (the MMA heads of each source-attention layer)."""
    ff_dim: PosInt = 256
    """Feed-forward inner width."""
    enc_layers: PosInt = 2
    dec_layers: PosInt = 2
    first_source_layer: NonNegInt = 1
    """Decoder layers below this have no source attention (neural_sp's mocha_first_layer)."""
    chunk: PosInt = 4
    """MoChA chunk width in encoder frames (1 = hard monotonic attention)."""
    init_r: Annotated[float, Range(le=0)] = -2.0
    """Initial offset r of the monotonic energies (negative: heads start cautious)."""
    noise_std: NonNegFloat = 1.0
    headdrop: Fraction = 0.5
    left_context: PosInt = 64
    dropout: Fraction = 0.1
    ctc_weight: Fraction = 0.3
    label_smoothing: Fraction = 0.1


@dataclass
class TrainConfig:
    RENAMED: ClassVar[dict[str, str]] = {"steps": "num_steps"}
    """Old field names that stored runs still load under."""

    num_steps: PosInt = 4000
    """Adam steps."""
    batch_size: PosInt = 16
    learning_rate: PosFloat = 1e-3
    warmup: NonNegInt = 300
    """Linear learning-rate warm-up steps (Adam)."""
    grad_clip: NonNegFloat = 5.0
    eval_every: PosInt = 250
    """Steps between held-out (training-speaker) loss evaluations, for the convergence gate."""


@dataclass
class EvalConfig:
    eps: list[NonNegInt] = field(default_factory=lambda: [1, 2, 4])
    """HSD windows (encoder frames) every MMA model is decoded at (plus once without HSD)."""
    max_tokens: PosInt = 16
    """Decoding stops after this many tokens without <eos> (test strings have at most
    ``data.max_digits`` words; an undertrained model that never emits <eos> stops here)."""


@dataclass
class ClaimConfig:
    claim_eps: list[NonNegInt] = field(default_factory=lambda: [1, 2])
    """The windows at which MCMMA (trained at that eps) is compared with MMA (decoded at it)."""
    min_wer_gain: NonNegFloat = 0.01
    """MCMMA's WER is lower than MMA's by at least this (absolute)."""
    max_latency_increase: NonNegFloat = 1.0
    """MCMMA's mean latency exceeds MMA's by at most this many encoder frames (40 ms each)."""
    min_baseline_wer: NonNegFloat = 0.05
    """Gate: MMA's WER at the compared eps is at least this (an error to reduce)."""
    forced_range: list[Fraction] = field(default_factory=lambda: [0.02, 0.98])
    """Gate: the share of forced head decisions lies in this range."""
    max_loss_change: NonNegFloat = 0.05
    """Gate: the held-out loss changed by at most this fraction over the last 20 % of steps."""


@dataclass
class Config:
    """One reproduction: every (arm, seed) is one resumable unit."""

    seeds: list[NonNegInt] = field(default_factory=lambda: [0, 1, 2])
    arms: list[Annotated[str, OneOf(ARMS)]] = field(
        default_factory=lambda: ["offline", "mma", "mcmma_eps1", "mcmma_eps2"]
    )
    """``offline`` (full attention, upper bound), ``mma`` (independent heads + HeadDrop),
    ``mcmma_eps<k>`` (mutually constrained, trained for HSD at eps = k)."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    claims: ClaimConfig = field(default_factory=ClaimConfig)
