"""StyleSpeech / Meta-StyleSpeech: multi-speaker TTS with Style-Adaptive Layer Norm and one-clip
adaptation to unseen speakers (Min, Lee, Yang, Hwang, ICML 2021, https://arxiv.org/abs/2106.03153).

Work in progress (issue #17): the generator (``model``: mel-style encoder, SALN, FFT blocks,
variance adaptor, length regulator, loss), the episodic meta stage with its discriminators
(``meta``), the text and audio front ends (``text``, ``audio``), DTW-MCD (``metrics``), the
concatenated-word corpus with pseudo-speakers (``corpus``) and the HiFi-GAN / Griffin-Lim
vocoders (``vocoder``, ``audio``) and the judge classifiers (``classifiers``: in-house speaker
embedding, digit intelligibility), ``synthesize`` and ``paperzoo tts say`` are here and
tested; Resemblyzer similarity and the reproduction (training loops, presets, claims) are not
built yet.
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
        "sinusoid",
    ],
    ".model",
)
__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
