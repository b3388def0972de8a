"""Meta-StyleSpeech's episode: both players update (only their own parameters), the prototype
loss trains prototypes towards the style vectors, bad episodes are refused."""

import pytest
import torch

from paperzoo.tts.meta import (
    PhonemeDiscriminator,
    StyleDiscriminator,
    meta_episode,
    prototype_loss,
)
from paperzoo.tts.model import StyleSpeech


def _setup():
    torch.manual_seed(0)
    g = StyleSpeech(12, n_mels=10, dim=32, style_dim=8, layers=1, ff=64, dropout=0.0)
    ds = StyleDiscriminator(5, 10, hidden=16, style_dim=8)
    dt = PhonemeDiscriminator(12, 10, dim=16)
    batch = {
        "tokens": torch.tensor([[3, 4, 5], [6, 7, 0], [8, 9, 10]]),
        "durations": torch.tensor([[2, 2, 2], [3, 3, 0], [1, 2, 3]]),
        "mel": torch.randn(3, 6, 10),
        "mel_mask": torch.ones(3, 6, dtype=torch.bool),
        "speaker": torch.tensor([0, 3, 4]),
    }
    batch["pitch"] = torch.randn(3, 3) * (batch["tokens"] != 0)
    batch["energy"] = torch.randn(3, 3) * (batch["tokens"] != 0)
    return g, ds, dt, batch


def test_episode_updates_each_player_with_its_own_optimiser():
    g, ds, dt, batch = _setup()
    g_opt = torch.optim.Adam(g.parameters(), 1e-3)
    d_opt = torch.optim.Adam([*ds.parameters(), *dt.parameters()], 2e-4)
    g0 = [p.clone() for p in g.parameters()]
    d0 = [p.clone() for p in ds.parameters()]
    out = meta_episode(g, ds, dt, batch, g_opt, d_opt, generator=torch.Generator().manual_seed(0))
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values() if isinstance(v, float))
    assert any(not torch.equal(a, b) for a, b in zip(g0, g.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, ds.parameters()))
    # a discriminator-only step leaves the generator untouched
    g1 = [p.clone() for p in g.parameters()]
    d_opt.zero_grad()
    prototype_loss(g.style(batch["mel"], batch["mel_mask"]), batch["speaker"], ds).backward()
    d_opt.step()
    assert all(torch.equal(a, b) for a, b in zip(g1, g.parameters()))


def test_prototypes_learn_to_classify_styles():
    torch.manual_seed(1)
    ds = StyleDiscriminator(3, 4, hidden=8, style_dim=6)
    styles = torch.randn(3, 6) * 3
    spk = torch.arange(3)
    opt = torch.optim.Adam(ds.prototypes.parameters(), 5e-2)
    first = float(prototype_loss(styles, spk, ds).detach())
    for _ in range(100):
        loss = prototype_loss(styles, spk, ds)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.2 * first
    assert ((styles @ ds.prototypes.weight.T).argmax(1) == spk).all()


def test_bad_episodes_are_refused():
    g, ds, dt, batch = _setup()
    opt = torch.optim.SGD(g.parameters(), 0.0)
    same = dict(batch, speaker=torch.tensor([0, 0, 4]))
    with pytest.raises(ValueError, match="distinct"):
        meta_episode(g, ds, dt, same, opt, opt)
    one = {k: v[:1] for k, v in batch.items()}
    with pytest.raises(ValueError, match="at least 2"):
        meta_episode(g, ds, dt, one, opt, opt)


def test_generator_objective_weights_the_mel_loss_only():
    """L_G = alpha * mel + duration + pitch + energy + adv_t + adv_s (official train_meta.py):
    alpha does not multiply the variance losses."""
    g, ds, dt, batch = _setup()
    opt = torch.optim.SGD(g.parameters(), 0.0)
    d_opt = torch.optim.SGD([*ds.parameters(), *dt.parameters()], 0.0)
    gen = torch.Generator().manual_seed(0)
    out = meta_episode(g, ds, dt, batch, opt, d_opt, alpha=10.0, generator=gen)
    expect = (10.0 * out["mel"] + out["duration"] + out["pitch"] + out["energy"]
              + out["adv_t"] + out["adv_s"])  # fmt: skip
    assert out["g"] == pytest.approx(expect, rel=1e-5)
    whole = 10.0 * (out["mel"] + out["duration"] + out["pitch"] + out["energy"])
    assert abs(out["g"] - (whole + out["adv_t"] + out["adv_s"])) > 1e-3  # the former objective
    assert out["rec"] == pytest.approx(out["mel"] + out["duration"] + out["pitch"] + out["energy"])


def test_generator_loss_mel_weight():
    from paperzoo.tts.model import generator_loss

    g, _, _, batch = _setup()
    w = g.style(batch["mel"], batch["mel_mask"])
    out = g(batch["tokens"], w, batch["durations"], batch["pitch"], batch["energy"], max_frames=6)
    args = (out, batch["mel"], batch["durations"], batch["pitch"], batch["energy"])
    one, parts = generator_loss(*args)
    ten, parts10 = generator_loss(*args, mel_weight=10.0)
    assert parts == parts10
    assert float((ten - one).detach()) == pytest.approx(9.0 * parts["mel"], rel=1e-5)
