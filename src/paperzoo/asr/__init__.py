"""Streaming speech recognition with monotonic multihead attention (MMA) and its
mutually-constrained training (Song, Shim, Yang, ICASSP 2021, https://arxiv.org/abs/2103.14302).

The alignment maths (``monotonic``: expected, hard and head-synchronous alignments, and the
mutually-constrained expected alignment), the MMA source attention (``attention``), the
causal streaming encoder (``encoder``), the recogniser with its CTC head and model files
(``model``: ``MMARecognizer``, ``Vocabulary``, ``save_recognizer`` / ``load_recognizer``),
streaming greedy decoding and head-synchronous beam search (``decoding``:
``StreamingRecognizer``, ``transcribe``, ``beam_search``, ``self_found_share``), log-mel
features computed whole or chunk by chunk (``features``), WER/CER and emission latency
(``metrics``) and connected-digit utterances with exact word ends (``data``).
The reproduction is ``paperzoo reproduce asr`` (``repro/``).

    from paperzoo.asr import load_recognizer, transcribe
    model, features = load_recognizer("asr.pt")
    words = [e.word for e in transcribe(model, wave, features, eps_frames=2)]

Importing this package does not import torch or librosa; each name is imported on first use.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

_WHERE = {
    "MonotonicMultiheadAttention": ".attention",
    "StepState": ".attention",
    "chunkwise_attention": ".attention",
    "DIGITS": ".data",
    "DigitUtterance": ".data",
    "make_digit_strings": ".data",
    "Emission": ".decoding",
    "StreamingRecognizer": ".decoding",
    "beam_search": ".decoding",
    "beam_search_nbest": ".decoding",
    "self_found_share": ".decoding",
    "transcribe": ".decoding",
    "word_times": ".decoding",
    "CausalConvSubsampling": ".encoder",
    "EncoderState": ".encoder",
    "StreamingEncoder": ".encoder",
    "LogMel": ".features",
    "StreamingLogMel": ".features",
    "aligned_pairs": ".metrics",
    "error_rates": ".metrics",
    "latencies": ".metrics",
    "DecoderState": ".model",
    "MMARecognizer": ".model",
    "Vocabulary": ".model",
    "load_recognizer": ".model",
    "save_recognizer": ".model",
    "exclusive_cumprod": ".monotonic",
    "expected_alignment": ".monotonic",
    "expected_alignment_naive": ".monotonic",
    "hard_monotonic_boundaries": ".monotonic",
    "head_synchronous_boundaries": ".monotonic",
    "mutually_constrained_alignment": ".monotonic",
}
__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
