"""Models: BNP reduces to its base, mixture = logmeanexp, objectives, invariances, errors."""

import math

import pytest
import torch

from paperzoo.neural_processes import (
    ANP,
    BANP,
    BNP,
    CANP,
    CNP,
    NP,
    logmeanexp,
    make_model,
    mixture_distribution,
)

SMALL = dict(hidden_dim=16)


def _task(seed=0, b=3, nc=5, nt=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, nc + nt, 1, generator=g) * 4 - 2
    y = torch.sin(2 * x) + 0.1 * torch.randn(b, nc + nt, 1, generator=g)
    return x[:, :nc], y[:, :nc], x, y


@pytest.mark.parametrize(("boot_cls", "base_cls"), [(BNP, CNP), (BANP, CANP)])
def test_k1_zero_adaptation_reduces_to_base(boot_cls, base_cls):
    torch.manual_seed(0)
    base = base_cls(**SMALL)
    boot = boot_cls(**SMALL)
    missing = boot.load_state_dict(base.state_dict(), strict=False).missing_keys
    assert missing == ["decoder.adaptation.weight"]
    with torch.no_grad():
        boot.decoder.adaptation.weight.zero_()
    xc, yc, x, y = _task()
    p_base = base.predict(xc, yc, x)
    p_boot = boot.predict(xc, yc, x, num_samples=1)
    torch.testing.assert_close(p_boot.log_prob(y), p_base.log_prob(y))
    torch.testing.assert_close(p_boot.mean, p_base.mean)
    torch.testing.assert_close(p_boot.variance, p_base.variance)


def test_mixture_log_likelihood_is_logmeanexp():
    torch.manual_seed(0)
    model = BNP(**SMALL)
    xc, yc, x, y = _task()
    comp = model.components(xc, yc, x, num_samples=7, generator=torch.Generator().manual_seed(1))
    per_k = comp.log_prob(y).sum(-1)  # (K, B, N)
    manual = torch.log(per_k.exp().mean(0))
    torch.testing.assert_close(mixture_distribution(comp).log_prob(y), manual)
    torch.testing.assert_close(logmeanexp(per_k, 0), manual)
    ll = model.log_likelihood(xc, yc, x, y, 7, torch.Generator().manual_seed(1))
    torch.testing.assert_close(ll, manual)


def test_mixture_of_two_normals_by_hand():
    loc = torch.tensor([0.0, 2.0]).view(2, 1, 1, 1)
    scale = torch.tensor([1.0, 0.5]).view(2, 1, 1, 1)
    dist = mixture_distribution(torch.distributions.Normal(loc, scale))
    y = torch.tensor([[[1.0]]])

    def npdf(v, m, s):
        return math.exp(-0.5 * ((v - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))

    expected = math.log(0.5 * npdf(1.0, 0.0, 1.0) + 0.5 * npdf(1.0, 2.0, 0.5))
    assert float(dist.log_prob(y)) == pytest.approx(expected, rel=1e-6)
    assert float(dist.mean) == pytest.approx(1.0)


def test_bnp_loss_is_base_plus_mixture():
    torch.manual_seed(0)
    model = BNP(**SMALL)
    xc, yc, x, y = _task()
    loss = model.loss(xc, yc, x, y, num_samples=3, generator=torch.Generator().manual_seed(5))
    comp = model.components(xc, yc, x, 3, torch.Generator().manual_seed(5))
    base = model.base_components(xc, yc, x)
    expected = -(base.log_prob(y).sum(-1).mean() + logmeanexp(comp.log_prob(y).sum(-1)).mean())
    torch.testing.assert_close(loss, expected)


@pytest.mark.parametrize("cls", [NP, ANP])
def test_np_importance_weighted_objective(cls):
    torch.manual_seed(0)
    model = cls(hidden_dim=16, latent_dim=8)
    xc, yc, x, y = _task()
    k = 5
    loss = model.loss(xc, yc, x, y, num_samples=k, generator=torch.Generator().manual_seed(3))
    prior, post = model.latent_encoder(xc, yc), model.latent_encoder(x, y)
    eps = torch.randn((k, *post.loc.shape), generator=torch.Generator().manual_seed(3))
    z = post.loc + post.scale * eps
    recon = model.decode(xc, yc, x, z).log_prob(y).sum(-1).sum(-1)  # (K, B)
    log_w = recon + prior.log_prob(z).sum(-1) - post.log_prob(z).sum(-1)
    expected = -(torch.logsumexp(log_w, 0) - math.log(k)).mean() / x.shape[1]
    torch.testing.assert_close(loss, expected)
    # K = 1 falls back to the ELBO with an analytic KL.
    elbo = model.loss(xc, yc, x, y, num_samples=1, generator=torch.Generator().manual_seed(3))
    assert torch.isfinite(elbo)


@pytest.mark.parametrize("name", ["CNP", "CANP", "NP", "ANP"])
def test_context_permutation_invariance(name):
    torch.manual_seed(0)
    model = make_model(name, hidden_dim=16, latent_dim=8).eval()
    xc, yc, x, y = _task(nc=6)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    a = model.predict(xc, yc, x, 4, torch.Generator().manual_seed(2))
    b = model.predict(xc[:, perm], yc[:, perm], x, 4, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a.log_prob(y), b.log_prob(y), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", [BNP, BANP])
def test_bootstrap_models_permutation_invariant_in_distribution(cls):
    # The bootstrap draws indices, so a permuted context gives another draw of the same law:
    # the base prediction is exactly invariant and the K-mixture is close for large K.
    torch.manual_seed(0)
    model = cls(**SMALL).eval()
    xc, yc, x, y = _task(nc=6, b=2)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    base_a = model.base_components(xc, yc, x).log_prob(y)
    base_b = model.base_components(xc[:, perm], yc[:, perm], x).log_prob(y)
    torch.testing.assert_close(base_a, base_b, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        a = model.log_likelihood(xc, yc, x, y, 400, torch.Generator().manual_seed(0))
        b = model.log_likelihood(
            xc[:, perm], yc[:, perm], x, y, 400, torch.Generator().manual_seed(9)
        )
    assert (a - b).abs().max() < 0.05


@pytest.mark.parametrize("name", ["CNP", "NP", "CANP", "ANP", "BNP", "BANP"])
def test_shapes_and_state_dict_roundtrip(name):
    torch.manual_seed(0)
    model = make_model(name, hidden_dim=16, latent_dim=8, num_samples=3)
    xc, yc, x, y = _task(b=2)
    dist = model(xc, yc, x)
    assert dist.log_prob(y).shape == (2, 9)
    assert dist.mean.shape == (2, 9, 1)
    assert model.loss(xc, yc, x, y, 2).dim() == 0
    clone = make_model(name, hidden_dim=16, latent_dim=8, num_samples=3)
    clone.load_state_dict(model.state_dict())
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    torch.testing.assert_close(
        clone.predict(xc, yc, x, 3, g1).mean, model.predict(xc, yc, x, 3, g2).mean
    )


def test_bnp_exposes_k():
    assert BNP(hidden_dim=8, num_samples=13).num_bootstrap == 13


def test_bad_inputs_raise_clear_errors():
    model = CNP(**SMALL)
    xc, yc, x, _ = _task()
    with pytest.raises(ValueError, match="batch, points, dim"):
        model.predict(xc[0], yc[0], x[0])
    with pytest.raises(ValueError, match="empty"):
        model.predict(xc[:, :0], yc[:, :0], x)
    with pytest.raises(ValueError, match="target set is empty"):
        model.predict(xc, yc, x[:, :0])
    with pytest.raises(ValueError, match="input features"):
        model.predict(torch.cat([xc, xc], -1), yc, x)
    with pytest.raises(ValueError, match="disagree"):
        model.predict(xc, yc[:, :3], x)
    with pytest.raises(ValueError, match="batch"):
        model.predict(xc, yc, x[:2])
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        model.predict(xc.numpy(), yc, x)
    with pytest.raises(ValueError, match="unknown model"):
        make_model("GP")
    with pytest.raises(ValueError, match="empty"):
        BNP(**SMALL).loss(xc[:, :0], yc[:, :0], x, x)


def test_pointwise_maps_computed_once_on_broadcast_views_are_exact():
    from paperzoo.neural_processes.modules import CrossAttentionEncoder, mlp, pointwise

    torch.manual_seed(0)
    f = mlp(3, 8, 5, 3)
    x = torch.randn(4, 6, 3)
    view = x.expand(7, *x.shape)  # stride 0 on the K axis
    assert view.stride(0) == 0
    assert torch.equal(pointwise(f, view), f(view.contiguous()))
    enc = CrossAttentionEncoder(1, 1, 16, num_heads=4)
    xc, xt = torch.randn(2, 5, 1), torch.randn(2, 9, 1)
    yk = torch.randn(3, 2, 5, 1)  # K = 3 bootstrap outputs on shared inputs
    shared = enc(xc.expand(3, *xc.shape), yk, xt)  # queries not expanded at all
    copied = enc(xc.expand(3, *xc.shape).contiguous(), yk, xt.expand(3, *xt.shape).contiguous())
    assert shared.shape == (3, 2, 9, 16)
    assert torch.allclose(shared, copied, atol=1e-6)
