"""StyleSpeech / Meta-StyleSpeech: multi-speaker TTS with Style-Adaptive Layer Norm and one-clip
adaptation to unseen speakers (Min, Lee, Yang, Hwang, ICML 2021, https://arxiv.org/abs/2106.03153).

The generator (``model``: mel-style encoder, SALN, FFT blocks, variance adaptor, length
regulator, loss, Noam schedule), the episodic meta stage with its discriminators (``meta``),
the text and audio front ends (``text``, ``audio``), DTW-MCD (``metrics``), concatenated-word
utterances with pseudo-speakers (``corpus``) and the reproduction's corpus (``data``), a learned
monotonic aligner for corpora without phone timings (``aligner``), the HiFi-GAN / Griffin-Lim
vocoders (``vocoder``, ``audio``), the judges and unseen-speaker
evaluation (``classifiers``, ``evaluation``: in-house speaker embedding, Resemblyzer, digit
intelligibility, style separation), ``synthesize`` and ``paperzoo tts say``; the reproduction
is ``paperzoo reproduce tts`` (``train``, ``claims``, ``experiments``), DDP training
``python -m paperzoo.tts.repro.distributed`` under torchrun.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

_WHERE = {
    "MEL_CONFIGS": ".audio",
    "BadReferenceError": ".audio",
    "MelConfig": ".audio",
    "griffin_lim": ".audio",
    "load_reference": ".audio",
    "PHONEMES": ".text",
    "SYMBOLS": ".text",
    "Phonemizer": ".text",
    "UnknownWordError": ".text",
    "PhonemeDiscriminator": ".meta",
    "StyleDiscriminator": ".meta",
    "meta_episode": ".meta",
    "prototype_loss": ".meta",
    "cosine_similarity": ".metrics",
    "dtw_mcd": ".metrics",
    "mel_cepstrum": ".metrics",
    "SpokenUtterance": ".corpus",
    "concatenate_words": ".corpus",
    "pseudo_speaker_clip": ".corpus",
    "HifiGan": ".vocoder",
    "MelClassifier": ".classifiers",
    "load_tts": ".synthesis",
    "save_tts": ".synthesis",
    "synthesize": ".synthesis",
    "fit_classifier": ".classifiers",
    "power_to_magnitude_log_mel": ".vocoder",
    "MonotonicAligner": ".aligner",
    "beta_binomial_prior": ".aligner",
    "fit_aligner": ".aligner",
    "forward_sum": ".aligner",
    "viterbi_durations": ".aligner",
    "Judges": ".evaluation",
    "evaluate": ".evaluation",
    "fit_judges": ".evaluation",
    "style_separation": ".evaluation",
    "DIGITS": ".data",
    "Corpus": ".data",
    "EvalItem": ".data",
    "Identity": ".data",
    "Utterance": ".data",
    "build_corpus": ".data",
    "collate": ".data",
    "tone_clips": ".data",
}
_WHERE |= dict.fromkeys(
    [
        "FFTBlock",
        "LengthRegulator",
        "MelStyleEncoder",
        "StyleAdaptiveLayerNorm",
        "StyleSpeech",
        "VariancePredictor",
        "generator_loss",
        "noam",
        "sinusoid",
    ],
    ".model",
)
__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
