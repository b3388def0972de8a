"""The recogniser: losses are finite and train, streaming steps reproduce teacher forcing when
the hard decisions match, the offline arm attends to every frame, vocabulary errors."""

import pytest
import torch

from paperzoo.asr.model import MMARecognizer, Vocabulary

VOCAB = Vocabulary(("zero", "one", "two", "three"))


def test_vocabulary_round_trip_and_unknown_word():
    ids = VOCAB.encode("two zero three")
    assert ids == [4, 2, 5] and VOCAB.decode([*ids, VOCAB.EOS]) == "two zero three"
    with pytest.raises(ValueError, match="seven"):
        VOCAB.encode("one seven")


@pytest.mark.parametrize("attention", ["mma", "offline"])
def test_loss_decreases_on_a_tiny_batch(attention):
    torch.manual_seed(0)
    m = MMARecognizer(VOCAB, in_dim=8, dim=16, heads=2, ff=32, attention=attention,
                      mma={"noise_std": 0.0, "headdrop": 0.0}, dropout=0.0)  # fmt: skip
    feats = torch.randn(3, 40, 8)
    lens = torch.tensor([40, 36, 28])
    targets = [[2, 3], [4], [5, 2, 3]]
    opt = torch.optim.Adam(m.parameters(), 1e-2)
    first = None
    for _ in range(30):
        loss, info = m.loss(feats, lens, targets)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.6 * first and set(info) == {"ce", "ctc"}


def test_streaming_steps_match_teacher_forcing_with_two_mma_layers():
    torch.manual_seed(1)
    # two MMA layers: the step must reuse the contexts it gave earlier tokens
    m = MMARecognizer(VOCAB, in_dim=8, dim=16, heads=2, ff=32, dec_layers=2,
                      first_source_layer=0, mma={"chunk": 1, "init_r": 3.0}).eval()  # fmt: skip
    memory, _ = m.encode(torch.randn(1, 40, 8))
    tokens = torch.tensor([[VOCAB.EOS, 2, 4, 3]])
    state = m.initial_state(1)
    got = []
    for i in range(tokens.shape[1]):
        logp, state, bnds, _ = m.step(tokens[:, : i + 1], memory, state, eps_frames=None)
        got.append(logp)
    # init_r = 3: every head stops at its previous boundary (frame 0), as the hard attention
    # of a fully confident head; the teacher-forced pass then uses the same one-hot alignments
    assert all((b == 0).all() for b in bnds)
    for layer in m.mma_layers:
        layer.r.data.fill_(50.0)  # expected alignments become the same one-hot at frame 0
    want = torch.log_softmax(m.decode_states(tokens, memory)[0], -1)[0]
    assert torch.allclose(torch.cat(got), want, atol=1e-4)
    with pytest.raises(ValueError):
        m.step(tokens[:, :2], memory, state, None)  # the state holds 4 tokens, not 1
