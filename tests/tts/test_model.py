"""StyleSpeech generator pieces: SALN starts as LayerNorm and follows the style afterwards, the
length regulator by hand, padding never leaks, the style vector ignores padded frames, the
generator trains and its two conditioning modes differ as designed."""

import pytest
import torch
import torch.nn.functional as F

from paperzoo.tts.model import (
    LengthRegulator,
    MelStyleEncoder,
    StyleAdaptiveLayerNorm,
    StyleSpeech,
    generator_loss,
)


def test_saln_is_layer_norm_at_init_and_then_style_dependent():
    torch.manual_seed(0)
    saln = StyleAdaptiveLayerNorm(8, 4)
    h, w = torch.randn(2, 5, 8), torch.randn(2, 4)
    assert torch.allclose(saln(h, w), F.layer_norm(h, (8,)), atol=1e-6)
    with torch.no_grad():
        saln.affine.weight.normal_()
    a = saln(h, w)
    b = saln(h, w * 2)
    assert not torch.allclose(a, b)
    # per sequence: one gain/bias for all time steps
    g, bias = saln.affine(w).chunk(2, -1)
    assert torch.allclose(a, g[:, None] * F.layer_norm(h, (8,)) + bias[:, None], atol=1e-6)


def test_length_regulator_by_hand():
    x = torch.arange(1, 4, dtype=torch.float32).view(1, 3, 1).expand(1, 3, 2).clone()
    out, mask = LengthRegulator()(x, torch.tensor([[2, 0, 3]]))
    # frames: phoneme 0 twice, phoneme 2 three times (phoneme 1 has no frames)
    base = out - torch.stack([torch.tensor([0.0, 1.0]), torch.tensor([0.8415, 0.5403]),
                              torch.tensor([0.0, 1.0]), torch.tensor([0.8415, 0.5403]),
                              torch.tensor([0.9093, -0.4161])])[None]  # fmt: skip
    assert torch.allclose(base[0, :, 0], torch.tensor([1.0, 1, 3, 3, 3]), atol=1e-4)
    assert mask.tolist() == [[True] * 5]
    out, mask = LengthRegulator()(x, torch.tensor([[1, 1, 0]]), max_frames=4)
    assert mask.tolist() == [[True, True, False, False]] and out[0, 2:].abs().max() == 0


def test_style_vector_ignores_padding():
    torch.manual_seed(0)
    enc = MelStyleEncoder(n_mels=10, hidden=16, style_dim=8).eval()
    mel = torch.randn(1, 20, 10)
    mask = torch.ones(1, 20, dtype=torch.bool)
    padded = torch.cat([mel, torch.randn(1, 7, 10)], 1)
    pmask = torch.cat([mask, torch.zeros(1, 7, dtype=torch.bool)], 1)
    assert torch.allclose(enc(mel, mask), enc(padded, pmask), atol=1e-5)


@pytest.mark.parametrize("conditioning", ["saln", "add"])
def test_generator_trains_and_masks(conditioning):
    torch.manual_seed(0)
    g = StyleSpeech(12, n_mels=10, dim=32, style_dim=8, layers=1, ff=64,
                    conditioning=conditioning, dropout=0.0)  # fmt: skip
    tokens = torch.tensor([[3, 4, 5, 0], [6, 7, 0, 0]])
    dur = torch.tensor([[2, 3, 1, 0], [4, 2, 0, 0]])
    mel = torch.randn(2, 6, 10)
    mel[1, 6:] = 0
    pitch, energy = torch.randn(2, 4) * (tokens != 0), torch.randn(2, 4) * (tokens != 0)
    mm = torch.tensor([[True] * 6, [True] * 6])
    opt = torch.optim.Adam(g.parameters(), 3e-3)
    first = None
    for _ in range(40):
        w = g.style(mel, mm)
        out = g(tokens, w, dur, pitch, energy, max_frames=6)
        loss, parts = generator_loss(out, mel, dur, pitch, energy)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first and set(parts) == {
        "mel",
        "duration",
        "pitch",
        "energy",
    }
    g.eval()
    out = g(tokens, g.style(mel, mm))  # predicted durations
    assert out["mel"].shape[0] == 2 and (out["mel"] * ~out["mel_mask"][..., None]).abs().max() == 0
    with pytest.raises(ValueError):
        StyleSpeech(5, conditioning="concat")
