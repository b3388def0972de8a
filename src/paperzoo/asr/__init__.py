"""Streaming speech recognition with monotonic multihead attention (MMA) and its
mutually-constrained training (Song, Shim, Yang, ICASSP 2021, https://arxiv.org/abs/2103.14302).

Work in progress (issue #18): the alignment maths (``monotonic``), the attention layer
(``attention``) and the streaming encoder (``encoder``) are here and tested; features, the
decoder, the streaming API and the reproduction are not built yet.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

_WHERE = {
    "CausalConvSubsampling": ".encoder",
    "EncoderState": ".encoder",
    "StreamingEncoder": ".encoder",
    "MonotonicMultiheadAttention": ".attention",
    "StepState": ".attention",
    "chunkwise_attention": ".attention",
    "exclusive_cumprod": ".monotonic",
    "expected_alignment": ".monotonic",
    "expected_alignment_naive": ".monotonic",
    "hard_monotonic_boundaries": ".monotonic",
    "head_synchronous_boundaries": ".monotonic",
    "mutually_constrained_alignment": ".monotonic",
}
__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
