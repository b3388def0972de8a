"""The streaming encoder: chunked encoding with a cache equals whole-utterance encoding, the
cache stays bounded, and outputs are causal (future audio never changes past frames)."""

import torch

from paperzoo.asr.encoder import StreamingEncoder


def _enc(left=6):
    torch.manual_seed(0)
    return StreamingEncoder(in_dim=10, dim=16, heads=2, layers=2, ff=32, left_context=left).eval()


def test_chunked_equals_whole():
    enc = _enc()
    x = torch.randn(2, 50, 10)
    whole, _ = enc(x)
    assert whole.shape == (2, 12, 16)  # floor(50 / 4)
    parts, state = [], None
    for a, b in [(0, 8), (8, 12), (12, 32), (32, 44), (44, 50)]:  # multiples of 4, then the rest
        y, state = enc(x[:, a:b], state)
        parts.append(y)
    assert torch.allclose(torch.cat(parts, 1), whole, atol=1e-5)
    assert state.frames == 12


def test_cache_is_bounded_and_outputs_are_causal():
    enc = _enc(left=4)
    x = torch.randn(1, 400, 10)
    state = None
    for a in range(0, 400, 8):
        _, state = enc(x[:, a : a + 8], state)
        assert all(k.shape[2] <= 3 for k, _ in state.layers)  # left_context - 1 frames
    y1, _ = enc(x[:, :40])
    x2 = x[:, :40].clone()
    x2[:, 24:] = torch.randn(1, 16, 10)  # change only the future (after frame 24 -> 6)
    y2, _ = enc(x2)
    assert torch.allclose(y1[:, :6], y2[:, :6], atol=1e-6)
    assert not torch.allclose(y1[:, 6:], y2[:, 6:])
