"""The Neural Complexity (NC) network and the regulariser module built on it.

Paper: "Neural Complexity Measures", Lee et al., NeurIPS 2020, https://arxiv.org/abs/2008.02953.

NC_phi(h, D_tr, X_te) predicts the generalisation gap L_te(h) - L_tr(h) of a learner h from
(Sec. 3 of the paper, ``model/neural_complexity.py`` of the official code):

* queries (x_te, h(x_te)): test inputs with the learner's predictions, no test labels;
* keys (x_tr, h(x_tr)) and values (x_tr, y_tr, h(x_tr)).

Queries and keys share one MLP, values have their own; one multi-head cross-attention block
(residual, then a ReLU feed-forward residual) attends from test to train points; the result is
mean-pooled over test points (or pooled by attention, PMA) and decoded by an MLP to a scalar.
Attention over train points and pooling over test points make the output invariant to the order
of either set (tested).

Deviations from the paper:
    * None in the architecture; as in the official ``MultiHeadAttention`` the attention logits
      are scaled by sqrt(model width), not sqrt(head width).
    * Bounded penalty (ours; the official code adds the raw output): used as a regulariser, the
      predicted gap is clamped from below at the smallest true gap NC was regressed on
      (``gap_range[0]``). Outside the inputs it was trained on NC extrapolates linearly (ReLU
      MLPs), so a penalty unbounded below can reward pushing predictions ever further: learners
      on shifted sinusoids diverged to NaN that way. Above that floor the penalty and its
      gradient are NC's own; the top is not clamped, since a large predicted gap pushes the
      learner back, which is the regulariser's job. The floor does not bound the gradient; the
      learner loop bounds it per learner (``train_learners(penalty_grad_clip=...)``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, BinaryIO, Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SAVE_FORMAT",
    "MultiHeadCrossAttention",
    "NeuralComplexity",
    "NeuralComplexityRegularizer",
    "mlp",
    "predict_gap",
    "snapshot_inputs",
]


SAVE_FORMAT = "paperzoo.complexity.NeuralComplexity/1"
"""The ``format`` tag :meth:`NeuralComplexity.save` writes and :meth:`NeuralComplexity.load`
checks."""


def mlp(depth: int, in_dim: int, hidden_dim: int, out_dim: int) -> nn.Module:
    """``depth`` linear layers with ReLUs between (official ``fc_stack``); 0 = identity."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    if depth == 0:
        return nn.Identity()
    if depth == 1:
        return nn.Linear(in_dim, out_dim)
    layers: list[nn.Module] = [nn.Linear(in_dim, hidden_dim), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(hidden_dim, hidden_dim), nn.ReLU()]
    layers.append(nn.Linear(hidden_dim, out_dim))
    return nn.Sequential(*layers)


class MultiHeadCrossAttention(nn.Module):
    """Multi-head attention with the official residual structure.

    out = q' + Attn(q', k', v');  out = out + ReLU(W_o out), where q' = W_q q, k' = W_k k,
    v' = W_v v (no biases) and logits are divided by sqrt(dim).
    """

    def __init__(self, dim: int, num_heads: int = 8):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} must be divisible by num_heads {num_heads}")
        self.dim, self.num_heads = dim, num_heads
        self.fc_q = nn.Linear(dim, dim, bias=False)
        self.fc_k = nn.Linear(dim, dim, bias=False)
        self.fc_v = nn.Linear(dim, dim, bias=False)
        self.fc_o = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Shape: query (batch, queries, dim), key/value (batch, keys, dim) -> like query."""
        q, k, v = self.fc_q(query), self.fc_k(key), self.fc_v(value)
        b, nq, d = q.shape
        h = self.num_heads
        # (batch, heads, points, dim / heads)
        qh = q.view(b, nq, h, d // h).transpose(1, 2)
        kh = k.view(b, k.shape[1], h, d // h).transpose(1, 2)
        vh = v.view(b, v.shape[1], h, d // h).transpose(1, 2)
        attn = torch.softmax(qh @ kh.transpose(-2, -1) / math.sqrt(d), dim=-1)
        out = q + (attn @ vh).transpose(1, 2).reshape(b, nq, d)
        return out + F.relu(self.fc_o(out))


class _PoolByAttention(nn.Module):
    """PMA with one learned seed vector (Set Transformer), the official ``--pool pma``."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.seed = nn.Parameter(torch.empty(1, 1, dim))
        nn.init.xavier_uniform_(self.seed)
        self.attn = MultiHeadCrossAttention(dim, num_heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(self.seed.expand(x.shape[0], -1, -1), x, x).squeeze(1)


def snapshot_inputs(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    pred_train: torch.Tensor,
    x_test: torch.Tensor,
    pred_test: torch.Tensor,
    interaction: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The three NC inputs of a snapshot: (te_xp, tr_xp, tr_xyp) as in the official code.

    ``interaction`` appends the flattened outer product y (x) pred to each value row (for
    one-hot labels: which class the label is times what the learner predicts for each class).

    Shape:
        x_train (tasks, train_points, x_dim), y_train and pred_train (tasks, train_points, y_dim)
        x_test (tasks, test_points, x_dim), pred_test (tasks, test_points, y_dim)
        returns (tasks, test_points, x_dim + y_dim), (tasks, train_points, x_dim + y_dim),
        (tasks, train_points, x_dim + 2 y_dim [+ y_dim^2])
    """
    if x_train.dim() != 3 or x_test.dim() != 3:
        raise ValueError(
            "inputs must be (tasks, points, dim), got "
            f"{tuple(x_train.shape)}, {tuple(x_test.shape)}"
        )
    if y_train.shape != pred_train.shape or x_train.shape[:2] != y_train.shape[:2]:
        raise ValueError(
            "y_train and pred_train must have equal shapes, with x_train's tasks and points; got "
            f"{tuple(x_train.shape)}, {tuple(y_train.shape)}, {tuple(pred_train.shape)}"
        )
    if x_test.shape[:2] != pred_test.shape[:2] or pred_test.shape[2] != pred_train.shape[2]:
        raise ValueError("x_test and pred_test must hold the same tasks and points")
    te_xp = torch.cat([x_test, pred_test], dim=-1)
    tr_xp = torch.cat([x_train, pred_train], dim=-1)
    parts = [x_train, y_train, pred_train]
    if interaction:
        outer = y_train.unsqueeze(-1) * pred_train.unsqueeze(-2)  # (tasks, points, y, y)
        parts.append(outer.flatten(-2))
    return te_xp, tr_xp, torch.cat(parts, dim=-1)


class NeuralComplexity(nn.Module):
    """NC_phi: a snapshot of a learner on a task -> its predicted generalisation gap.

    Official defaults: width 512, encoder depth 3, decoder depth 2, 8 heads, mean pooling, for
    1-D regression (x_dim = y_dim = 1, raw predictions).

    For classification (not in the official code; the paper's image experiments are not
    released) set ``y_dim`` to the number of classes, ``pred_transform="softmax"`` (NC sees class
    probabilities, bounded, instead of logits) and ``interaction=True`` (value rows also hold
    the outer product of the one-hot label and the probabilities: the "bilinear interaction"
    the paper's review mentions for one-hot labels; our reading of it).
    """

    def __init__(
        self,
        hidden_dim: int = 512,
        encoder_depth: int = 3,
        decoder_depth: int = 2,
        num_heads: int = 8,
        pool: Literal["mean", "pma"] = "mean",
        x_dim: int = 1,
        y_dim: int = 1,
        pred_transform: Literal["identity", "softmax"] = "identity",
        interaction: bool = False,
    ):
        super().__init__()
        if encoder_depth < 1 or decoder_depth < 1:
            raise ValueError("encoder_depth and decoder_depth must be >= 1")
        if pool not in ("mean", "pma"):
            raise ValueError(f"pool must be 'mean' or 'pma', got {pool!r}")
        if x_dim < 1 or y_dim < 1:
            raise ValueError(f"x_dim and y_dim must be >= 1, got {x_dim}, {y_dim}")
        if pred_transform not in ("identity", "softmax"):
            raise ValueError(f"pred_transform must be identity or softmax, got {pred_transform!r}")
        self.hparams: dict[str, Any] = dict(
            hidden_dim=hidden_dim,
            encoder_depth=encoder_depth,
            decoder_depth=decoder_depth,
            num_heads=num_heads,
            pool=pool,
            x_dim=x_dim,
            y_dim=y_dim,
            pred_transform=pred_transform,
            interaction=bool(interaction),
        )
        self.x_dim, self.y_dim = x_dim, y_dim
        self.query_dim = x_dim + y_dim
        self.value_dim = x_dim + 2 * y_dim + (y_dim * y_dim if interaction else 0)
        # value columns that form a key row: x and the (transformed) prediction
        self.key_columns = list(range(x_dim)) + list(range(x_dim + y_dim, x_dim + 2 * y_dim))
        # [min, max] of the true gaps NC has been regressed on (the trainer widens it); the
        # regulariser clamps predictions to it. Empty (inf, -inf) until then: no clamp.
        self.register_buffer("gap_range", torch.tensor([math.inf, -math.inf]))
        self.embed_qk = mlp(encoder_depth, self.query_dim, hidden_dim, hidden_dim)
        self.embed_v = mlp(encoder_depth, self.value_dim, hidden_dim, hidden_dim)
        self.attn = MultiHeadCrossAttention(hidden_dim, num_heads)
        self.pool = _PoolByAttention(hidden_dim, num_heads) if pool == "pma" else None
        self.decoder = mlp(decoder_depth, hidden_dim, hidden_dim, 1)

    def forward_snapshot(
        self, te_xp: torch.Tensor, tr_xp: torch.Tensor, tr_xyp: torch.Tensor
    ) -> torch.Tensor:
        """Predicted gap from pre-built snapshot tensors (see :func:`snapshot_inputs`).

        Shape:
            te_xp (tasks, test_points, query_dim), tr_xp (tasks, train_points, query_dim),
            tr_xyp (tasks, train_points, value_dim) -> (tasks,); 1-D regression: 2, 2, 3
        """
        qd, vd = self.query_dim, self.value_dim
        if te_xp.shape[-1] != qd or tr_xp.shape[-1] != qd or tr_xyp.shape[-1] != vd:
            raise ValueError(
                f"expected te_xp (..., {qd}), tr_xp (..., {qd}), tr_xyp (..., {vd}); got "
                f"{tuple(te_xp.shape)}, {tuple(tr_xp.shape)}, {tuple(tr_xyp.shape)}"
            )
        q, k, v = self.embed_qk(te_xp), self.embed_qk(tr_xp), self.embed_v(tr_xyp)
        z = self.attn(q, k, v)  # (tasks, test_points, dim)
        z = z.mean(1) if self.pool is None else self.pool(z)  # (tasks, dim)
        return self.decoder(z).squeeze(-1)

    def forward(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        pred_train: torch.Tensor,
        x_test: torch.Tensor,
        pred_test: torch.Tensor,
    ) -> torch.Tensor:
        """Predicted gap of each task's learner (predictions raw: logits for classification).

        Shape:
            x_train (tasks, train_points, x_dim), y_train/pred_train (tasks, train_points, y_dim)
            x_test (tasks, test_points, x_dim), pred_test (tasks, test_points, y_dim) -> (tasks,)
        """
        return self.forward_snapshot(
            *self.snapshot(x_train, y_train, pred_train, x_test, pred_test)
        )

    def snapshot(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        pred_train: torch.Tensor,
        x_test: torch.Tensor,
        pred_test: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(te_xp, tr_xp, tr_xyp) as this network reads them: :func:`snapshot_inputs` after
        ``pred_transform``, with the interaction columns when ``interaction``."""
        if self.hparams["pred_transform"] == "softmax":
            pred_train, pred_test = pred_train.softmax(-1), pred_test.softmax(-1)
        return snapshot_inputs(
            x_train, y_train, pred_train, x_test, pred_test, self.hparams["interaction"]
        )

    def keys(self, tr_xyp: torch.Tensor) -> torch.Tensor:
        """Key rows (x, pred) from value rows: (..., value_dim) -> (..., query_dim)."""
        return tr_xyp[..., self.key_columns]

    def bounded(self, gap: torch.Tensor) -> torch.Tensor:
        """``gap`` floored at ``gap_range[0]``, the smallest gap NC was regressed on (the gradient
        is NC's above it, zero below); unchanged while the range is empty (never meta-trained)."""
        lo, hi = self.gap_range.tolist()
        return gap if lo > hi else gap.clamp(min=lo)

    def save(self, path: str | Path) -> None:
        """Write the architecture, the weights and ``gap_range`` to ``path`` (``torch.save``).

        Only tensors and plain values: :meth:`load` reads it with ``weights_only=True``.
        """
        state = {"format": SAVE_FORMAT, "hparams": self.hparams}
        state["state_dict"] = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(path)  # atomic: a crash never leaves half a file

    @classmethod
    def load(
        cls, path: str | Path | BinaryIO, map_location: str | torch.device = "cpu"
    ) -> NeuralComplexity:
        """A :class:`NeuralComplexity` saved with :meth:`save`, in eval mode, on ``map_location``.

        ``path`` may also be an open binary stream (e.g. ``io.BytesIO`` of bytes whose checksum
        was just verified), read with ``weights_only=True`` like a file.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a NeuralComplexity saved by :meth:`save` (its ``format``
                tag is another, or it lacks the architecture or weights).
        """
        where = path if isinstance(path, (str, Path)) else "the stream"
        if isinstance(path, (str, Path)):
            path = Path(path)
            if not path.is_file():
                raise FileNotFoundError(f"no saved NeuralComplexity at {path}")
        state = torch.load(path, map_location=map_location, weights_only=True)
        ok = isinstance(state, dict) and {"hparams", "state_dict"} <= set(state)
        if not ok or state.get("format", SAVE_FORMAT) != SAVE_FORMAT:
            got = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise ValueError(
                f"{where} is not a NeuralComplexity saved with NeuralComplexity.save "
                f"({SAVE_FORMAT}; it holds {got!r})"
            )
        nc = cls(**state["hparams"])
        nc.load_state_dict(state["state_dict"])
        return nc.to(map_location).eval()


def predict_gap(
    nc: NeuralComplexity,
    model: Any,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
) -> torch.Tensor:
    """NC's prediction of a trained model's generalisation gap L_te - L_tr (a measure, no labels
    of the test points needed).

    ``model`` is any callable mapping inputs (points, x_dim) to predictions (points, y_dim)
    (logits for a classification NC), e.g. an ``nn.Module``; it is run on the train and test
    inputs without gradients.

    Shape: x_train (train_points, x_dim), y_train (train_points, y_dim), x_test
    (test_points, x_dim) -> (); or each with a leading tasks dimension -> (tasks,).
    """
    single = x_train.dim() == 2
    with torch.no_grad():
        if single:
            args = (x_train, y_train, model(x_train), x_test, model(x_test))
            return nc(*(a.unsqueeze(0) for a in args)).squeeze(0)
        pred_tr = torch.stack([model(x) for x in x_train])
        pred_te = torch.stack([model(x) for x in x_test])
        return nc(x_train, y_train, pred_tr, x_test, pred_te)


class NeuralComplexityRegularizer(nn.Module):
    """Adds weight * NC(h, D_tr, X_te) to a learner's loss; NC itself stays fixed.

    The NC parameters are frozen (``requires_grad=False``) and the network is kept in eval mode,
    so the gradient flows only through the learner's predictions ``pred_train`` and ``pred_test``
    into the learner's parameters, as in the official inner loop.

    >>> nc = NeuralComplexity(hidden_dim=16, num_heads=2)
    >>> reg = NeuralComplexityRegularizer(nc, weight=1.0)
    >>> x, y = torch.randn(4, 10, 1), torch.randn(4, 10, 1)
    >>> learner = torch.nn.Linear(1, 1)
    >>> xt = torch.randn(4, 15, 1)
    >>> loss = ((learner(x) - y) ** 2).mean() + reg(x, y, learner(x), xt, learner(xt))
    >>> loss.backward()  # learner.weight.grad now includes NC's gradient

    Args:
        nc: a (meta-trained) :class:`NeuralComplexity`.
        weight: multiplier of the predicted gap (official default 1.0).
        reduction: ``"sum"`` over tasks (official, matching a loss summed over tasks), ``"mean"``
            or ``"none"`` (per-task values).
        bounded: floor the predicted gap at ``nc.gap_range[0]`` (ours, see the module docstring);
            ``False`` adds NC's raw output as the official code does.
    """

    def __init__(
        self,
        nc: NeuralComplexity,
        weight: float = 1.0,
        reduction: Literal["sum", "mean", "none"] = "sum",
        bounded: bool = True,
    ):
        super().__init__()
        if reduction not in ("sum", "mean", "none"):
            raise ValueError(f"reduction must be 'sum', 'mean' or 'none', got {reduction!r}")
        self.nc = nc
        self.weight = float(weight)
        self.reduction = reduction
        self.bounded = bool(bounded)
        for p in self.nc.parameters():
            p.requires_grad_(False)
        self.nc.eval()

    def train(self, mode: bool = True) -> NeuralComplexityRegularizer:
        # NC stays in eval mode whatever the surrounding model does.
        super().train(mode)
        self.nc.eval()
        return self

    def forward(
        self,
        x_train: torch.Tensor,
        y_train: torch.Tensor,
        pred_train: torch.Tensor,
        x_test: torch.Tensor,
        pred_test: torch.Tensor,
    ) -> torch.Tensor:
        """weight * NC(...), reduced over tasks. Inputs as in :meth:`NeuralComplexity.forward`.

        A single task may be given without the task dimension ((points, 1) tensors).
        """
        args = [x_train, y_train, pred_train, x_test, pred_test]
        if all(a.dim() == 2 for a in args):
            args = [a.unsqueeze(0) for a in args]
        gap = self.nc(*args)
        gap = self.weight * (self.nc.bounded(gap) if self.bounded else gap)
        if self.reduction == "sum":
            return gap.sum()
        if self.reduction == "mean":
            return gap.mean()
        return gap
