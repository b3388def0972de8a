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


@pytest.mark.parametrize("eps", [None, 0, 1])
def test_beam_one_is_the_greedy_search(eps):
    from paperzoo.asr.decoding import beam_search

    for seed in (0, 3):
        m, w = _model(seed=seed, chunk=2), _wave(8000, seed)
        greedy = transcribe(m, w, FEATS, eps)
        assert transcribe(m, w, FEATS, eps, beam=1) == greedy  # tokens, frames, forced heads
        assert transcribe(m, w, FEATS, eps, chunk_samples=999, beam=1) == greedy
    with pytest.raises(ValueError):
        StreamingRecognizer(m, FEATS, eps, beam=0)
    with pytest.raises(ValueError):
        beam_search(_model("offline"), torch.zeros(1, 3, 16), eps, 2)


def _replay(m, memory, words, eps):
    """Decode a fixed token sequence one hypothesis at a time (batch 1, its own state)."""
    from paperzoo.asr.decoding import _emission

    state, prefix, out = m.initial_state(1), [VOCAB.EOS], []
    for word in words:
        _, state, bnds, forced = m.step(torch.tensor([prefix]), memory, state, eps)
        out.append(_emission(word, 0, [b[0] for b in bnds], [f[0] for f in forced]))
        prefix.append(VOCAB.encode(word)[0])
    return out


def test_beam_hypotheses_keep_their_own_head_boundaries(monkeypatch):
    from paperzoo.asr import decoding

    m = _model(seed=1, chunk=2, init_r=-0.5)  # heads that move at different speeds
    rec = StreamingRecognizer(m, FEATS, 1, beam=3)
    rec.push(_wave(8000, 4))
    memory = rec._s.memory  # beam search keeps every encoder frame until finish()
    with torch.no_grad():
        m.head.bias[VOCAB.EOS] = -2.0  # let hypotheses end, so the beam holds varied lengths
    stacked = []  # the live hypotheses' boundaries at each step, (beam, H) per step
    orig = decoding._stack_states

    def spy(states):
        out = orig(states)
        stacked.append(out.mma[0].boundary.clone())
        return out

    monkeypatch.setattr(decoding, "_stack_states", spy)
    for eps in (None, 1):
        stacked.clear()
        best = decoding.beam_search(m, memory, eps, beam=3, max_tokens=12)
        assert len(best) == 12
        # the beam really held hypotheses at different boundaries at some steps
        assert sum(len({tuple(r.tolist()) for r in b}) > 1 for b in stacked) >= 3
        # the winner's boundaries, frames and forcing are what that token sequence gives when
        # decoded alone: its heads' state was never mixed with another hypothesis'
        assert best == _replay(m, memory, [e.word for e in best], eps)


def test_self_found_share_by_hand_and_from_the_recognizer():
    from paperzoo.asr.decoding import Emission, self_found_share

    t, f = True, False
    em = [  # one layer, three heads
        Emission("one", 3, 1, 3, found=((t, t, t),), forced=((f, t, f),)),
        Emission("two", 5, 2, 3, found=((t, t, t),), forced=((f, t, t),)),
        Emission("one", 6, 0, 3, found=((t, f, t),), forced=((f, f, f),)),
    ]
    got = self_found_share(em)
    # head 0: 3 own of 3; head 1: 0 own of 2 (no boundary for "one" at frame 6); head 2: 2 of 3
    assert got[0][:2] == [1.0, 0.0] and got[0][2] == pytest.approx(2 / 3)
    assert self_found_share([]) == [] and self_found_share([Emission("one", 0, 0, 0)]) == []
    # head 0 stops at once, head 1 never does on its own: HSD forces all of head 1's boundaries
    m = _model(seed=3)
    with torch.no_grad():
        m.mma_layers[0].r.copy_(torch.tensor([3.0, -30.0]))
    rec = StreamingRecognizer(m, FEATS, 0)
    rec.push(_wave(16000, 1))
    rec.finish()
    assert rec.self_found_share == [[1.0, 0.0]]


def test_the_reproduction_reports_each_heads_self_found_share():
    from paperzoo.asr.data import DigitUtterance
    from paperzoo.asr.repro.train import _decode_all

    m = _model(seed=3)
    with torch.no_grad():  # head 0 stops at once, head 1 never does on its own
        m.mma_layers[0].r.copy_(torch.tensor([3.0, -30.0]))
    utt = DigitUtterance(_wave(16000, 1), ("one", "two"), (), "x")
    out, _ = _decode_all(m, {"features": FEATS, "test": [utt]}, 0, 10)
    assert out["self_found_l0h0"] == 1.0 and out["self_found_l0h1"] == 0.0
    free, _ = _decode_all(m, {"features": FEATS, "test": [utt]}, None, 10)
    assert free["self_found_l0h0"] == 1.0 and "self_found_l0h1" not in free  # never found


def test_emissions_carry_start_and_confidence_and_word_times():
    from paperzoo.asr.decoding import word_times

    m, w = _model(seed=1, chunk=2), _wave(8000, 1)
    em = transcribe(m, w, FEATS, 1)
    assert em and all(0 <= e.start <= e.frame for e in em)
    assert all(0.0 < e.confidence <= 1.0 for e in em)
    off = transcribe(_model("offline"), w, FEATS)
    assert all(e.start == e.frame for e in off)
    # an encoder frame spans 4 hops of 10 ms: frame t ends at (t + 1) * 0.04 s
    times = word_times(em, FEATS)
    assert times[0]["end_s"] == pytest.approx((em[0].frame + 1) * 0.04)
    assert times[0]["start_s"] == pytest.approx((em[0].start + 1) * 0.04)
    assert times[0]["confidence"] == em[0].confidence


def test_nbest_is_ranked_and_its_best_is_the_beam_result():
    from paperzoo.asr.decoding import beam_search, beam_search_nbest

    m, w = _model(seed=3, chunk=2), _wave(8000, 3)
    rec = StreamingRecognizer(m, FEATS, 1, beam=3)
    rec.push(w)
    memory = rec.encoded
    hyps = beam_search_nbest(m, memory, 1, beam=3)
    assert 1 <= len(hyps) <= 3
    scores = [sc for sc, _ in hyps]
    assert scores == sorted(scores, reverse=True)
    assert hyps[0][1] == beam_search(m, memory, 1, beam=3)
    # scores are sums of log-probabilities
    assert scores[0] <= 0.0
    with pytest.raises(ValueError, match="nbest"):
        beam_search_nbest(m, memory, 1, beam=2, nbest=3)
