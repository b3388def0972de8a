"""Streaming decoding: chunked audio gives the same tokens and emission frames as one push,
memory stays bounded, HSD forces heads, the offline model emits only at the end."""

import numpy as np
import pytest
import torch

pytest.importorskip("librosa")

from paperzoo.asr.decoding import StreamingRecognizer, transcribe
from paperzoo.asr.features import LogMel
from paperzoo.asr.model import MMARecognizer, Vocabulary

VOCAB = Vocabulary(("zero", "one", "two", "three"))
FEATS = LogMel(sample_rate=8000, num_mels=8)


def _model(attention="mma", seed=0, **mma):
    torch.manual_seed(seed)
    m = MMARecognizer(VOCAB, in_dim=8, dim=16, heads=2, ff=32, attention=attention,
                      mma={"init_r": 0.5, **mma}).eval()  # fmt: skip
    with torch.no_grad():  # an untrained model: keep it from ending at once with <eos>
        m.head.bias[VOCAB.EOS] = -20.0
    return m


def _wave(n=8000, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 0.1


@pytest.mark.parametrize("eps", [None, 1])
def test_chunked_stream_equals_one_push(eps):
    m, w = _model(chunk=2), _wave()
    whole = transcribe(m, w, FEATS, eps)
    assert len(whole) == 40  # <eos> suppressed: runs to max_tokens
    for chunk in (160, 999):
        assert transcribe(m, w, FEATS, eps, chunk_samples=chunk) == whole
    frames = [e.frame for e in whole]
    assert frames == sorted(frames)  # emission frames never go back


def test_hsd_forces_heads_and_memory_stays_bounded():
    m = _model(seed=3)
    with torch.no_grad():  # head 0 stops at once, head 1 never does on its own
        m.mma_layers[0].r.copy_(torch.tensor([3.0, -30.0]))
    forced = sum(e.forced_heads for e in transcribe(m, _wave(16000, 1), FEATS, 0))
    free = sum(e.forced_heads for e in transcribe(m, _wave(16000, 1), FEATS, None))
    assert forced > 0 and free == 0
    # frames before every head's boundary (minus the chunk) are dropped as decoding advances
    rec = StreamingRecognizer(_model(seed=5, chunk=3), FEATS, 1)
    rec.push(_wave(16000, 2))  # 2 s: 49 encoder frames
    s = rec._s
    held, start = rec.memory_frames, s.offset
    assert start + held == 49
    for st in s.dec.mma:
        st.boundary.fill_(30)  # absolute frame
    rec._trim()
    assert s.offset == 28 and rec.memory_frames == 49 - 28  # frames 28.. stay (chunk 3)


def test_offline_model_emits_after_the_last_frame():
    m, w = _model("offline"), _wave()
    rec = StreamingRecognizer(m, FEATS)
    assert rec.push(w) == []  # nothing before the end
    out = rec.finish()
    assert all(e.frame == out[0].frame for e in out)
