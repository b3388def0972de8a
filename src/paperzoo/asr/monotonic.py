"""Monotonic multihead attention (MMA): expected alignments for training, hard monotonic
decisions with head-synchronous decoding (HSD) for streaming inference, and the
mutually-constrained expected alignments that put HSD's coupling into training.

Papers:
    Raffel, Luong, Liu, Weiss, Eck, "Online and Linear-Time Attention by Enforcing Monotonic
    Alignments", ICML 2017, https://arxiv.org/abs/1704.00784 (expected alignment, Eq. 9-13).
    Inaguma, Mimura, Kawahara, "Enhancing Monotonic Multihead Attention for Streaming ASR",
    Interspeech 2020, https://arxiv.org/abs/2005.09394 (HeadDrop, head-synchronous decoding).
    Song, Shim, Yang, "Mutually-Constrained Monotonic Multihead Attention for Online ASR",
    ICASSP 2021, https://arxiv.org/abs/2103.14302 (training under the HSD constraint).

Notation: output step i, encoder frame j = 0..T-1, head h = 1..H, stopping probability
p^h_{i,j} = sigmoid(e^h_{i,j}) (energies plus Gaussian noise in training).

**Expected alignment** (one head; the probability that step i's boundary is frame j):

    alpha_{i,j} = p_{i,j} sum_{k<=j} alpha_{i-1,k} prod_{l=k}^{j-1} (1 - p_{i,l})

computed in parallel over j in log space (Raffel Eq. 13's cumprod/cumsum form, with a
logcumsumexp instead of the division by the cumulative product, which overflows in float32).
Mass 1 - sum_j alpha_{i,j} is the chance the head never stops (it then attends to nothing).

**Head-synchronous decoding** (test time, per step; neural_sp ``mocha/hma_test.py`` lines
48-65, commit b91877c6d2a11f06026480ab422176274d88cbf2): heads stop at their first frame
j >= previous boundary with p >= 0.5; with L the leftmost and R the rightmost detected
boundary, a head whose boundary is beyond L + eps is moved to L + eps, and a head with no
boundary is moved to min(R, L + eps). Latency between heads is then at most eps frames, but a
model trained with independent heads never saw this forcing.

**Mutually-constrained alignment** (training under HSD). The paper's formula could not be
retrieved; this module derives it from the forcing rule. Take head h's natural first-passage
distribution from its own *constrained* previous alignment,

    a^h_j = p^h_j sum_{k<=j} alpha~^h_{i-1,k} prod_{l=k}^{j-1} (1 - p^h_l),
    A^h_j = sum_{k<=j} a^h_k,

and the other heads' earliest natural boundary M^{-h}, with survival function

    S^{-h}(m) = P(M^{-h} >= m) = prod_{h' != h} (1 - A^{h'}_{m-1})    (heads independent).

Head h is forced exactly when its boundary B^h (or "none") lies beyond M^{-h} + eps (if B^h
is the leftmost it is never forced, so forcing by "all heads" equals forcing by "the others").
So B~^h = j because h stopped at j and M^{-h} >= j - eps; or h stops later than j and
M^{-h} = j - eps exactly; or h never stops and min(R^{-h}, M^{-h} + eps) = j, with R^{-h}
the others' rightmost boundary. With N^h = 1 - A^h_{T-1} (h never stops) and

    F^{-h}(j) = P(some other head stops, M^{-h} >= j - eps, R^{-h} >= j)
              = S^{-h}(j - eps)
                - prod_{h' != h} (1 - A^{h'}_{j-eps-1} - (A^{h'}_{T-1} - A^{h'}_{j-1}))

(the product: every other head stops in [j - eps, j - 1] or never),

    alpha~^h_j = a^h_j S^{-h}(j - eps)
               + (A^h_{T-1} - A^h_j) [S^{-h}(j - eps) - S^{-h}(j - eps + 1)]
               + N^h [F^{-h}(j) - F^{-h}(j + 1)].

Choices this makes (all arguments of :func:`mutually_constrained_alignment`):

* the constraint couples the heads of one MMA layer (as HSD does), not heads across layers;
* gradients flow through the other heads' survival terms by default (``detach_others=False``);
  with ``True`` each head sees the others as constants (a cheaper, biased gradient);
* eps is in encoder frames *after* subsampling;
* the forcing is neural_sp's (never past the rightmost detected boundary), so no mass is
  forced onto frames no head can stop at -- padded frames of a batch get exactly 0.
  The tests compare with a simulation of exactly this rule.

Heads are treated as independent given their previous constrained alignments (the same
approximation as the expected alignment itself, which treats steps as independent given
alpha_{i-1}).

Deviations from the papers (and neural_sp, https://github.com/hirofumi0810/neural_sp):
    * The mutually-constrained alignment is derived here from the HSD forcing rule (Song et al.'s
      formula could not be retrieved); the tests hold it to a simulation of that rule.
    * The parallel expected alignment runs in log space (logcumsumexp) instead of dividing by
      the cumulative product, which overflows in float32.
    * eps = 0 means "every head at the leftmost boundary"; neural_sp skips HSD when
      ``eps_wait <= 0`` (its "off"; ours is ``eps_frames=None``).
"""

from __future__ import annotations

import torch

__all__ = [
    "exclusive_cumprod",
    "expected_alignment",
    "expected_alignment_naive",
    "hard_monotonic_boundaries",
    "head_synchronous_boundaries",
    "mutually_constrained_alignment",
]


def exclusive_cumprod(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """[1, x_0, x_0 x_1, ...] along ``dim`` (same shape as ``x``)."""
    ones = torch.ones_like(x.narrow(dim, 0, 1))
    return torch.cumprod(torch.cat([ones, x.narrow(dim, 0, x.shape[dim] - 1)], dim), dim)


def expected_alignment(
    p: torch.Tensor, alpha_prev: torch.Tensor, eps: float = 1e-12
) -> torch.Tensor:
    """Parallel expected alignment of one output step (Raffel et al. 2017, Eq. 13), in log space.

    alpha_j = p_j sum_{k<=j} alpha_prev_k prod_{l=k}^{j-1} (1 - p_l)
            = p_j exp(log c_j + logcumsumexp_{k<=j}(log alpha_prev_k - log c_k)),
    log c_j = sum_{l<j} log(1 - p_l). Every exponent is <= 0 (a product of probabilities), so
    nothing overflows and the gradients stay finite even where p saturates at 1 in float32; the
    linear-space form (Raffel Eq. 13, neural_sp's safe_cumprod) divides by c_k, whose gradient
    explodes once c underflows. ``eps`` clamps 1 - p and alpha_prev away from 0 inside the logs.

    Shape:
        p, alpha_prev: (..., T) stopping probabilities of this step and the previous step's
        alignment (a distribution over frames, or a sub-distribution); returns (..., T).
    """
    log_1mp = torch.log(torch.clamp(1.0 - p, min=eps))
    log_c = torch.cumsum(log_1mp, dim=-1) - log_1mp  # exclusive: sum_{l<j}
    tiny = torch.finfo(p.dtype).tiny
    log_a = torch.log(torch.clamp(alpha_prev, min=tiny))
    log_q = log_c + torch.logcumsumexp(log_a - log_c, dim=-1)
    return p * torch.exp(log_q)


def expected_alignment_naive(p: torch.Tensor, alpha_prev: torch.Tensor) -> torch.Tensor:
    """The recurrence written out term by term (O(T^2); a reference for tests).

    alpha_j = p_j (alpha_{j-1} (1 - p_{j-1}) / p_{j-1} + alpha_prev_j) -- Raffel Eq. 10 --
    written here without the division: q_j = (1 - p_{j-1}) q_{j-1} + alpha_prev_j, alpha = p q.
    """
    q = torch.zeros_like(p)
    q[..., 0] = alpha_prev[..., 0]
    for j in range(1, p.shape[-1]):
        q[..., j] = (1 - p[..., j - 1]) * q[..., j - 1] + alpha_prev[..., j]
    return p * q


def _shift_right(x: torch.Tensor, k: int, fill: float) -> torch.Tensor:
    """y_j = x_{j-k} along the last dim (``fill`` where j - k < 0 or j - k >= T); k may be
    negative."""
    t = x.shape[-1]
    out = torch.full_like(x, fill)
    if k >= 0 and k < t:
        out[..., k:] = x[..., : t - k]
    elif k < 0 and -k < t:
        out[..., : t + k] = x[..., -k:]
    return out


def _others_product(x: torch.Tensor, detach: bool) -> torch.Tensor:
    """prod_{h' != h} x^{h'} over the heads (dim -2), as an exclusive product from both sides:
    no division, so a head whose factor reaches 0 does not turn the others' products into 0/0.

    Shape:
        x: (..., H, T); returns (..., H, T).
    """
    src = x.detach() if detach else x
    left = exclusive_cumprod(src, dim=-2)
    right = exclusive_cumprod(src.flip(-2), dim=-2).flip(-2)
    return left * right


def mutually_constrained_alignment(
    p: torch.Tensor,
    alpha_prev: torch.Tensor,
    eps_frames: int,
    detach_others: bool = False,
    head_dim: int = -2,
) -> torch.Tensor:
    """Expected alignments of all heads of a layer under head-synchronous forcing.

    Args:
        p: stopping probabilities, (..., H, T) (heads on ``head_dim``).
        alpha_prev: the heads' *constrained* alignments of the previous step, (..., H, T).
        eps_frames: the HSD window eps (encoder frames after subsampling), >= 0.
        detach_others: stop gradients through the other heads' survival terms.
        head_dim: the heads' dimension.

    Returns:
        alpha~ (..., H, T): head h's distribution of its forced boundary (see the module
        docstring). With eps >= T only the never-stopping mass moves (to the others'
        rightmost boundary R, as neural_sp's HSD does); the natural mass is
        :func:`expected_alignment`'s. Frames where p = 0 after the last stop any head can
        make (padding) get exactly 0: a forced boundary is at most R or below a natural one.
    """
    if eps_frames < 0:
        raise ValueError(f"eps_frames must be >= 0, got {eps_frames}")
    p = p.movedim(head_dim, -2)
    alpha_prev = alpha_prev.movedim(head_dim, -2)
    a = expected_alignment(p, alpha_prev)  # (..., H, T) natural first passage
    cdf = torch.cumsum(a, dim=-1).clamp(max=1.0)  # A^h_j
    alive = 1.0 - cdf  # P(B^h > j), (..., H, T)
    total = cdf[..., -1:]  # A^h_{T-1}: the head stops somewhere
    # S^{-h}(m) = others at j = m - 1, with S(m) = 1 for m <= 0
    others = _others_product(alive, detach_others)  # prod_{h' != h} (1 - A^{h'}_j)
    s_at = _shift_right(others, eps_frames + 1, 1.0)  # S^{-h}(j - eps)
    s_next = _shift_right(others, eps_frames, 1.0)  # S^{-h}(j - eps + 1)
    # P(each other head stops in [j - eps, j - 1] or never) = 1 - A_{j-eps-1} - (A_{T-1} - A_{j-1})
    inside = _shift_right(alive, eps_frames + 1, 1.0) - (total - _shift_right(cdf, 1, 0.0))
    f = s_at - _others_product(inside, detach_others)  # F(j) = P(min(R, M + eps) >= j, found)
    f_next = _shift_right(f, -1, 0.0)  # F(j + 1), F(T) = 0
    out = a * s_at + (total - cdf) * (s_at - s_next) + (1.0 - total) * (f - f_next)
    return out.movedim(-2, head_dim)


def hard_monotonic_boundaries(
    p: torch.Tensor, prev: torch.Tensor, threshold: float = 0.5
) -> torch.Tensor:
    """Test-time hard monotonic attention: each head's first frame j >= its previous boundary
    with p_j >= ``threshold``; -1 when there is none.

    Shape:
        p: (..., T); prev: (...) long previous boundaries (0 at the first step); returns (...).
    """
    t = p.shape[-1]
    frames = torch.arange(t, device=p.device)
    ok = (p >= threshold) & (frames >= prev.unsqueeze(-1))
    first = torch.where(ok, frames, t).min(dim=-1).values
    return torch.where(first < t, first, torch.full_like(first, -1))


def head_synchronous_boundaries(
    boundaries: torch.Tensor, eps_frames: int, complete: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Head-synchronous forcing of one layer's boundaries (Inaguma et al. 2020), as neural_sp
    implements it (``neural_sp/models/modules/mocha/hma_test.py`` lines 48-65 at commit
    b91877c6d2a11f06026480ab422176274d88cbf2).

    With L the leftmost detected boundary and R the rightmost one (both before forcing):

    * a head whose boundary b > L + eps is moved to L + eps (b = L + eps is left in place;
      neural_sp "resets" it to the same frame with ``>=``);
    * a head with no boundary is moved to min(R, L + eps): it waits at most eps frames
      after the leftmost head, but never beyond the last boundary any head found, so it never
      lands past the frames that were seen;
    * when no head detected a boundary nothing changes (neural_sp: "no boundary until the
      last frame for all heads").

    eps = 0 is the tight limit (every head at L); neural_sp's ``if eps_wait > 0`` treats 0 as
    "HSD off" -- here "off" is ``eps_frames=None`` at the callers, so 0 keeps its meaning.

    ``complete=False`` is for streaming, when frames after the last one may still arrive: a
    head without a boundary *yet* is forced only when its outcome cannot change, i.e. some
    head's boundary is already >= L + eps (then R >= L + eps, and a later boundary of this
    head would be > L + eps: L + eps either way); otherwise it stays -1 and the caller waits.

    Shape:
        boundaries: (..., H) long, -1 = none; returns (forced boundaries (..., H), forced
        mask (..., H) bool: the heads that were moved).
    """
    if eps_frames < 0:
        raise ValueError(f"eps_frames must be >= 0, got {eps_frames}")
    big = torch.iinfo(boundaries.dtype).max
    found = boundaries >= 0
    leftmost = torch.where(found, boundaries, big).min(dim=-1, keepdim=True).values
    rightmost = boundaries.max(dim=-1, keepdim=True).values  # -1 only when none found
    any_found = found.any(dim=-1, keepdim=True)
    limit = leftmost + eps_frames
    late = found & (boundaries > limit)
    missing = any_found & ~found
    if not complete:
        missing = missing & (rightmost >= limit)
    target_missing = torch.minimum(rightmost, limit).expand_as(boundaries)
    out = torch.where(late, limit.expand_as(boundaries), boundaries)
    out = torch.where(missing, target_missing, out)
    return out, late | missing
