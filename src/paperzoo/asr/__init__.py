"""Streaming speech recognition with monotonic multihead attention (MMA) and its
mutually-constrained training (Song, Shim, Yang, ICASSP 2021, https://arxiv.org/abs/2103.14302).

Work in progress: the alignment maths (``monotonic``) and the attention layer (``attention``)
are here and tested; features, the streaming encoder, the decoder, the streaming API and the
reproduction are not built yet (issue #18).
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "MonotonicMultiheadAttention",
    "StepState",
    "chunkwise_attention",
    "exclusive_cumprod",
    "expected_alignment",
    "expected_alignment_naive",
    "hard_monotonic_boundaries",
    "head_synchronous_boundaries",
    "mutually_constrained_alignment",
]

_WHERE = {name: ".monotonic" for name in __all__}
_WHERE |= {
    n: ".attention" for n in ("MonotonicMultiheadAttention", "StepState", "chunkwise_attention")
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
