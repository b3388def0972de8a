"""CNP, NP, CANP, ANP and the bootstrapping models BNP and BANP.

Paper: Bootstrapping Neural Processes, Lee, Lee, Kim, Yang, Hwang and Teh, NeurIPS 2020,
https://arxiv.org/abs/2008.02956 (official code: https://github.com/juho-lee/bnp).

Every model maps a context ``(xc, yc)`` and target inputs ``xt`` to a predictive distribution
whose ``log_prob(yt)`` has shape ``(batch, targets)`` and whose ``mean``/``variance`` have shape
``(batch, targets, y_dim)``:

* CNP, CANP: independent Normals (``Independent(Normal, 1)``);
* NP, ANP: a uniform mixture over ``K`` latent samples ``z ~ p(z | C)``;
* BNP, BANP: the bootstrap mixture ``p(y | x, C) = 1/K sum_k N(y; mu_k(x), sigma_k(x)^2)`` where
  ``mu_k, sigma_k`` come from the decoder with the adaptation term ``U r_k`` of the k-th residual
  bootstrap context (:func:`~paperzoo.neural_processes.bootstrap.residual_bootstrap`).

Training objectives (``loss``) follow the official code, over all points ``x = context U targets``:

* CNP/CANP: ``-mean log p(y | x, C)``;
* NP/ANP with ``K > 1``: the importance-weighted bound
  ``-mean_b logmeanexp_k [log p(y|z_k) + log p(z_k|C) - log q(z_k|C u T)] / N``;
  with ``K = 1``: ``-mean log p(y|z) + KL(q || p) / N``;
* BNP/BANP: ``-[mean log p_base(y|x) + mean logmeanexp_k log p_k(y|x)]`` (base + mixture).

Deviations from the official code:
    * latent noise and bootstrap indices can come from a ``torch.Generator``;
    * sets are broadcast (``expand``) rather than copied (``torch.stack``) across samples/points.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.distributions import (
    Categorical,
    Distribution,
    Independent,
    MixtureSameFamily,
    Normal,
    kl_divergence,
)

from .bootstrap import residual_bootstrap
from .modules import CrossAttentionEncoder, Decoder, PoolingEncoder

__all__ = [
    "ANP",
    "BANP",
    "BNP",
    "CANP",
    "CNP",
    "MODELS",
    "NP",
    "NeuralProcess",
    "logmeanexp",
    "make_model",
    "mixture_distribution",
]


def logmeanexp(x: Tensor, dim: int = 0) -> Tensor:
    """``log mean_k exp(x_k)`` along ``dim``, computed stably."""
    return x.logsumexp(dim) - math.log(x.shape[dim])


def mixture_distribution(components: Normal) -> Distribution:
    """Uniform mixture over the leading axis of a Normal.

    Shape:
        components: batch shape (K, batch, points, y_dim)
        returns: a distribution with batch shape (batch, points), event shape (y_dim,);
        ``log_prob(y)`` equals ``logmeanexp_k sum_d log N(y_d; mu_kd, sigma_kd)``.
    """
    mu = components.loc.movedim(0, -2)  # (B, N, K, y_dim)
    sigma = components.scale.movedim(0, -2)
    mix = Categorical(logits=torch.zeros(mu.shape[:-1], dtype=mu.dtype, device=mu.device))
    return MixtureSameFamily(mix, Independent(Normal(mu, sigma), 1), validate_args=False)


def _check_set(name: str, x: Tensor, y: Tensor | None, x_dim: int, y_dim: int) -> None:
    for n, t in ((f"x{name}", x), (f"y{name}", y)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{n} must be a torch.Tensor, got {type(t).__name__}")
        if t is not None and t.dim() != 3:
            raise ValueError(
                f"{n} must have shape (batch, points, dim), got {tuple(t.shape)}; "
                "add a batch axis with .unsqueeze(0) or a dim axis with .unsqueeze(-1)"
            )
    if x.shape[-1] != x_dim:
        raise ValueError(f"x{name} has {x.shape[-1]} input features, the model expects {x_dim}")
    if y is not None:
        if y.shape[-1] != y_dim:
            raise ValueError(f"y{name} has {y.shape[-1]} outputs, the model expects {y_dim}")
        if x.shape[:2] != y.shape[:2]:
            raise ValueError(
                f"x{name} {tuple(x.shape)} and y{name} {tuple(y.shape)} disagree on (batch, points)"
            )
    if x.shape[1] == 0:
        what = "context" if name == "c" else "target"
        raise ValueError(f"the {what} set is empty (x{name} has 0 points); give at least one")


class NeuralProcess(nn.Module):
    """Common interface of the family (see the module docstring for the maths).

    Subclasses implement :meth:`components` and :meth:`loss`.

    Attributes:
        x_dim, y_dim: task dimensions.
        num_samples: default K for prediction (latent samples or bootstraps; 1 for CNP/CANP).
    """

    x_dim: int
    y_dim: int
    num_samples: int = 1
    #: True when the prediction is a mixture over K samples.
    stochastic: bool = False

    def _check(self, xc: Tensor, yc: Tensor, xt: Tensor, yt: Tensor | None = None) -> None:
        _check_set("c", xc, yc, self.x_dim, self.y_dim)
        _check_set("t", xt, yt, self.x_dim, self.y_dim)
        if xc.shape[0] != xt.shape[0]:
            raise ValueError(f"context batch {xc.shape[0]} != target batch {xt.shape[0]}")

    def components(
        self,
        xc: Tensor,
        yc: Tensor,
        xt: Tensor,
        num_samples: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Normal:
        """Per-sample predictive Normals.

        Shape:
            returns: batch shape (batch, targets, y_dim), or (K, batch, targets, y_dim) for
            stochastic models.
        """
        raise NotImplementedError

    def predict(
        self,
        xc: Tensor,
        yc: Tensor,
        xt: Tensor,
        num_samples: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Distribution:
        """Predictive distribution at ``xt`` given the context.

        Args:
            xc, yc: context inputs and outputs.
            xt: target inputs.
            num_samples: K for latent/bootstrap models (default ``self.num_samples``).
            generator: random source for latent noise / bootstrap indices.

        Shape:
            xc: (batch, context, x_dim); yc: (batch, context, y_dim); xt: (batch, targets, x_dim)
            returns: batch shape (batch, targets), event shape (y_dim,).
        """
        self._check(xc, yc, xt)
        comp = self.components(xc, yc, xt, num_samples=num_samples, generator=generator)
        if self.stochastic:
            return mixture_distribution(comp)
        return Independent(comp, 1)

    forward = predict

    def log_likelihood(
        self,
        xc: Tensor,
        yc: Tensor,
        xt: Tensor,
        yt: Tensor,
        num_samples: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Per-point predictive log-likelihood (mixture over K for stochastic models).

        Shape:
            returns: (batch, targets)
        """
        self._check(xc, yc, xt, yt)
        return self.predict(xc, yc, xt, num_samples, generator).log_prob(yt)

    def loss(
        self,
        xc: Tensor,
        yc: Tensor,
        x: Tensor,
        y: Tensor,
        num_samples: int = 4,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Training loss (scalar) with ``x, y`` = all points (context first, then targets)."""
        raise NotImplementedError


def _sample_normal(
    dist: Normal, num_samples: int | None, generator: torch.Generator | None
) -> Tensor:
    """Reparameterised sample ``mu + sigma * eps`` with an optional generator.

    Shape: returns (num_samples, *dist.batch_shape), or dist.batch_shape when num_samples is None.
    """
    shape = dist.batch_shape if num_samples is None else (num_samples, *dist.batch_shape)
    eps = torch.randn(shape, generator=generator, dtype=dist.loc.dtype, device=dist.loc.device)
    return dist.loc + dist.scale * eps


# --- deterministic models ------------------------------------------------------------------


class CNP(NeuralProcess):
    """Conditional neural process: two mean-pooled encoders, ``r = [r1; r2]``, and a decoder.

    Args:
        x_dim, y_dim: task dimensions.
        hidden_dim: width (official 128); ``r`` has ``2 * hidden_dim`` features.
        enc_pre_depth, enc_post_depth, dec_depth: official depths 4, 2, 3.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        adaptation: bool = False,
    ):
        super().__init__()
        self.x_dim, self.y_dim, self.hidden_dim = x_dim, y_dim, hidden_dim
        kw = dict(x_dim=x_dim, y_dim=y_dim, hidden_dim=hidden_dim)
        self.encoder1 = PoolingEncoder(**kw, pre_depth=enc_pre_depth, post_depth=enc_post_depth)
        self.encoder2 = PoolingEncoder(**kw, pre_depth=enc_pre_depth, post_depth=enc_post_depth)
        self.decoder = Decoder(
            x_dim,
            y_dim,
            2 * hidden_dim,
            hidden_dim,
            dec_depth,
            adaptation_dim=2 * hidden_dim if adaptation else None,
        )

    def encode(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Tensor:
        """Representation ``r = [r1; r2]`` shared by every target point.

        Shape: returns (..., 1, 2 * hidden_dim) (a points axis of 1, broadcast by the decoder).
        """
        return torch.cat([self.encoder1(xc, yc), self.encoder2(xc, yc)], -1).unsqueeze(-2)

    def components(self, xc, yc, xt, num_samples=None, generator=None) -> Normal:
        return self.decoder(self.encode(xc, yc, xt), xt)

    def loss(self, xc, yc, x, y, num_samples=4, generator=None) -> Tensor:
        self._check(xc, yc, x, y)
        return -self.decoder(self.encode(xc, yc, x), x).log_prob(y).sum(-1).mean()


class CANP(CNP):
    """Conditional attentive NP: a cross-attention encoder (targets attend to the context, with
    self-attention on the values) next to a self-attentive pooled encoder.

    Args:
        enc_v_depth, enc_qk_depth: depths of the value and query/key MLPs (official 4, 2).
        num_heads: attention heads (official 8). Other arguments as :class:`CNP`.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        enc_v_depth: int = 4,
        enc_qk_depth: int = 2,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        num_heads: int = 8,
        adaptation: bool = False,
    ):
        super().__init__(
            x_dim, y_dim, hidden_dim, enc_pre_depth, enc_post_depth, dec_depth, adaptation
        )
        self.encoder1 = CrossAttentionEncoder(
            x_dim, y_dim, hidden_dim, True, enc_v_depth, enc_qk_depth, num_heads
        )
        self.encoder2 = PoolingEncoder(
            x_dim,
            y_dim,
            hidden_dim,
            self_attention=True,
            pre_depth=enc_pre_depth,
            post_depth=enc_post_depth,
            num_heads=num_heads,
        )

    def encode(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Tensor:
        """Shape: returns (..., targets, 2 * hidden_dim)."""
        local = self.encoder1(xc, yc, xt)  # (..., Nt, H)
        pooled = self.encoder2(xc, yc).unsqueeze(-2).expand_as(local)
        return torch.cat([local, pooled], -1)


# --- bootstrapping models ------------------------------------------------------------------


class _Bootstrapping:
    """BNP logic on top of a deterministic model with ``encode`` and an adapted ``decoder``."""

    stochastic = True
    num_samples: int
    encode: Callable[[Tensor, Tensor, Tensor], Tensor]
    decoder: Decoder
    _check: Callable[..., None]

    @property
    def num_bootstrap(self) -> int:
        """K, the default number of bootstrap contexts at prediction time."""
        return self.num_samples

    def bootstrap_contexts(
        self, xc: Tensor, yc: Tensor, num_samples: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Residual-bootstrap contexts from the base model (no gradient).

        Shape: returns two tensors (K, batch, context, dim).
        """

        def base_predict(xb: Tensor, yb: Tensor, xq: Tensor) -> tuple[Tensor, Tensor]:
            p = self.decoder(self.encode(xb, yb, xq), xq)  # base decoder: no adaptation term
            return p.loc, p.scale

        return residual_bootstrap(xc, yc, base_predict, num_samples, generator)

    def base_components(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Normal:
        """The base model's prediction ``p_base(y | x, C)`` (no bootstrap)."""
        return self.decoder(self.encode(xc, yc, xt), xt)

    def _bootstrap_and_base(self, xc, yc, xt, num_samples, generator):
        k = num_samples or self.num_samples
        xb, yb = self.bootstrap_contexts(xc, yc, k, generator)
        r_base = self.encode(xc, yc, xt)  # (B, 1 or Nt, E)
        r_boot = self.encode(xb, yb, xt.expand(k, *xt.shape))  # (K, B, 1 or Nt, E)
        # Decoder first layer: W [r; x] + U r_k (adaptation layer), broadcast over K.
        mixture = self.decoder(r_base, xt, r_bootstrap=r_boot)  # (K, B, Nt, y_dim)
        base = self.decoder(r_base, xt)
        return base, mixture

    def components(self, xc, yc, xt, num_samples=None, generator=None) -> Normal:
        return self._bootstrap_and_base(xc, yc, xt, num_samples, generator)[1]

    def loss(self, xc, yc, x, y, num_samples=4, generator=None) -> Tensor:
        """``-[mean log p_base(y|x) + mean logmeanexp_k log p_k(y|x)]`` over all points."""
        self._check(xc, yc, x, y)
        base, mixture = self._bootstrap_and_base(xc, yc, x, num_samples, generator)
        ll_base = base.log_prob(y).sum(-1).mean()
        ll_mix = logmeanexp(mixture.log_prob(y).sum(-1), 0).mean()
        return -(ll_base + ll_mix)


class BNP(_Bootstrapping, CNP):
    """Bootstrapping neural process on the CNP backbone (returns the bootstrap mixture).

    Args:
        num_samples: default K at prediction time (paper evaluation: 50; training uses 4 via
            :meth:`loss`). Other arguments as :class:`CNP`.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        num_samples: int = 50,
    ):
        super().__init__(
            x_dim, y_dim, hidden_dim, enc_pre_depth, enc_post_depth, dec_depth, adaptation=True
        )
        self.num_samples = num_samples


class BANP(_Bootstrapping, CANP):
    """Bootstrapping attentive NP on the CANP backbone. Arguments as :class:`CANP` and
    :class:`BNP`."""

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        enc_v_depth: int = 4,
        enc_qk_depth: int = 2,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        num_heads: int = 8,
        num_samples: int = 50,
    ):
        super().__init__(
            x_dim,
            y_dim,
            hidden_dim,
            enc_v_depth,
            enc_qk_depth,
            enc_pre_depth,
            enc_post_depth,
            dec_depth,
            num_heads,
            adaptation=True,
        )
        self.num_samples = num_samples


# --- latent-variable models ----------------------------------------------------------------


class NP(NeuralProcess):
    """Neural process: a deterministic pooled path ``theta`` and a latent path ``z ~ N(mu, s)``.

    Args:
        latent_dim: size of ``z`` (official 128).
        num_samples: default K of latent samples at prediction time (paper evaluation: 50).
        Other arguments as :class:`CNP`.
    """

    stochastic = True

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        latent_dim: int = 128,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        num_samples: int = 50,
    ):
        super().__init__()
        self.x_dim, self.y_dim, self.hidden_dim = x_dim, y_dim, hidden_dim
        self.num_samples = num_samples
        kw = dict(x_dim=x_dim, y_dim=y_dim, hidden_dim=hidden_dim)
        self.deterministic_encoder = PoolingEncoder(
            **kw, pre_depth=enc_pre_depth, post_depth=enc_post_depth
        )
        self.latent_encoder = PoolingEncoder(
            **kw, latent_dim=latent_dim, pre_depth=enc_pre_depth, post_depth=enc_post_depth
        )
        self.decoder = Decoder(x_dim, y_dim, hidden_dim + latent_dim, hidden_dim, dec_depth)

    def encode_deterministic(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Tensor:
        """Shape: returns (batch, 1, hidden_dim) (shared by every target)."""
        return self.deterministic_encoder(xc, yc).unsqueeze(-2)

    def decode(self, xc: Tensor, yc: Tensor, xt: Tensor, z: Tensor) -> Normal:
        """Decode with given latent samples.

        Shape:
            z: (K, batch, latent_dim)
            returns: Normal with batch shape (K, batch, targets, y_dim)
        """
        theta = self.encode_deterministic(xc, yc, xt)  # (B, 1 or Nt, H)
        k = z.shape[0]
        theta = theta.expand(k, *theta.shape)
        z = z.unsqueeze(-2).expand(*theta.shape[:-1], z.shape[-1])
        return self.decoder(torch.cat([theta, z], -1), xt)

    def components(self, xc, yc, xt, num_samples=None, generator=None) -> Normal:
        z = _sample_normal(self.latent_encoder(xc, yc), num_samples or self.num_samples, generator)
        return self.decode(xc, yc, xt, z)

    def loss(self, xc, yc, x, y, num_samples=4, generator=None) -> Tensor:
        """Importance-weighted bound for ``num_samples > 1``, else ELBO with analytic KL."""
        self._check(xc, yc, x, y)
        prior = self.latent_encoder(xc, yc)  # p(z | C)
        posterior = self.latent_encoder(x, y)  # q(z | C u T)
        k = max(1, num_samples)
        z = _sample_normal(posterior, k, generator)  # (K, B, L)
        recon = self.decode(xc, yc, x, z).log_prob(y).sum(-1)  # (K, B, N)
        n = x.shape[-2]
        if k > 1:
            log_w = recon.sum(-1) + prior.log_prob(z).sum(-1) - posterior.log_prob(z).sum(-1)
            return -logmeanexp(log_w, 0).mean() / n
        kl = kl_divergence(posterior, prior).sum(-1).mean()
        return -recon.mean() + kl / n


class ANP(NP):
    """Attentive NP: cross-attention deterministic path, self-attentive pooled latent path.

    Arguments as :class:`NP` and :class:`CANP`.
    """

    def __init__(
        self,
        x_dim: int = 1,
        y_dim: int = 1,
        hidden_dim: int = 128,
        latent_dim: int = 128,
        enc_v_depth: int = 4,
        enc_qk_depth: int = 2,
        enc_pre_depth: int = 4,
        enc_post_depth: int = 2,
        dec_depth: int = 3,
        num_heads: int = 8,
        num_samples: int = 50,
    ):
        super().__init__(
            x_dim,
            y_dim,
            hidden_dim,
            latent_dim,
            enc_pre_depth,
            enc_post_depth,
            dec_depth,
            num_samples,
        )
        self.deterministic_encoder = CrossAttentionEncoder(
            x_dim, y_dim, hidden_dim, True, enc_v_depth, enc_qk_depth, num_heads
        )
        self.latent_encoder = PoolingEncoder(
            x_dim,
            y_dim,
            hidden_dim,
            latent_dim=latent_dim,
            self_attention=True,
            pre_depth=enc_pre_depth,
            post_depth=enc_post_depth,
            num_heads=num_heads,
        )

    def encode_deterministic(self, xc: Tensor, yc: Tensor, xt: Tensor) -> Tensor:
        """Shape: returns (batch, targets, hidden_dim)."""
        return self.deterministic_encoder(xc, yc, xt)


MODELS: dict[str, type[NeuralProcess]] = {
    "CNP": CNP,
    "NP": NP,
    "CANP": CANP,
    "ANP": ANP,
    "BNP": BNP,
    "BANP": BANP,
}


def make_model(name: str, **kwargs: int) -> NeuralProcess:
    """Build a model by name, passing only the keyword arguments its constructor takes.

    >>> make_model("BNP", x_dim=1, y_dim=1, hidden_dim=32, latent_dim=32).num_bootstrap
    50
    """
    import inspect

    key = name.upper()
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    cls = MODELS[key]
    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in accepted})
