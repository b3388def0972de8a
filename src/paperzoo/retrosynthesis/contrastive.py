"""RetCL's training objective: a multi-positive InfoNCE over the molecules of a batch (plus mined
hard negatives and the halt key), taken at its best reactant ordering, and the hard-negative
miner.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(Eq. 4-6). Official code https://github.com/hankook/RetCL (``models/loss.py``,
``trainers/retrosynthesis.py``, ``trainers/utils.py``; read only).

For a query q with positive key set Pos and ignored set Ign, over the batch's keys K (every
molecule of the batch, their mined neighbours, the halt key), with s(q, k) = cos(q, k) / tau:

    L(q) = -log sum_{k in Pos} exp s(q, k) + log sum_{k in K \\ Ign} exp s(q, k)

A reaction P <- {R_1..R_n} contributes

    forward:   q = sum_r f_R(r), Pos = {P}, Ign = the reactants
    backward:  min over orderings pi of  sum_{t=1..n+1} L(q_t),  q_t = f_P(P) - sum_{s<t} f_R(pi_s),
               Pos = {pi_t} (t <= n) or {halt} (t = n + 1), Ign = {P}

so the model is free to pick reactants in whichever order is easiest for it; the reactants not
yet chosen are negatives of step t (the official choice: it pushes the order to be decisive).

Hard negatives (Section 3.3): every ``refresh_every`` steps the keys of the whole candidate set
are recomputed and each molecule's N nearest keys (cosine) stored; a batch then adds the
neighbours of every batch molecule as extra keys. N = 0 is the official code's default, N = 4
the paper's setting.

Deviations from the paper and the official code: none in the objective. The neighbours of a
batch's molecules are looked up in the key bank of the last refresh when the batch is built
(:func:`batch_table`), which gives the same neighbours as storing every molecule's list at the
refresh; the refresh period is a setting of the caller.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .encoder import Embeddings, RetCLModel

__all__ = ["ReactionBatch", "batch_table", "contrastive_loss", "nearest_neighbours"]


@dataclass(frozen=True)
class ReactionBatch:
    """Reactions as rows of a batch's molecule table.

    Attributes:
        products: product row of each reaction.
        reactants: reactant rows of each reaction (1 or more, no duplicates needed).
        classes: reaction classes (1-based) or None when unknown.
    """

    products: Sequence[int]
    reactants: Sequence[Sequence[int]]
    classes: Sequence[int] | None = None


def _pad(rows: Sequence[Sequence[int]], width: int | None = None) -> torch.Tensor:
    width = max((len(r) for r in rows), default=0) if width is None else width
    out = torch.full((len(rows), width), -1, dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            out[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
    return out


def _info_nce(
    scores: torch.Tensor, positive: torch.Tensor, ignore: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-query InfoNCE with one positive and masked keys.

    Shape:
        scores: (Q, K) logits; positive: (Q,) key index; ignore: (Q, m) key indices, -1 = none.
        Returns losses (Q,) and whether the argmax over non-ignored keys is the positive (Q,).
    """
    mask = torch.zeros_like(scores, dtype=torch.bool)
    rows = torch.arange(scores.shape[0]).unsqueeze(1).expand_as(ignore)
    valid = ignore >= 0
    mask[rows[valid], ignore[valid]] = True
    mask[torch.arange(scores.shape[0]), positive] = False  # a positive is never ignored
    masked = scores.masked_fill(mask, float("-inf"))
    pos = scores.gather(1, positive.unsqueeze(1)).squeeze(1)
    loss = masked.logsumexp(1) - pos
    return loss, masked.argmax(1) == positive


def contrastive_loss(
    model: RetCLModel,
    emb: Embeddings,
    batch: ReactionBatch,
    temperature: float = 0.1,
    forward: bool = True,
) -> tuple[torch.Tensor, dict[str, float]]:
    """RetCL's loss for one batch: mean over reactions of forward + best-ordering backward.

    Args:
        model: gives the halt key, queries and keys.
        emb: embeddings of the batch's molecule table (batch molecules + mined negatives).
        batch: the reactions, as rows of ``emb``.
        temperature: tau (official 0.1).
        forward: include the forward (product-from-reactants) term (official default True).

    Returns:
        The scalar loss and ``{"acc": share of reactions whose every backward step of the best
        ordering and the forward step rank their positive first}``.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    keys = model.keys(emb)  # (M + 1, dim), halt last
    halt = keys.shape[0] - 1
    n = len(batch.products)
    cls = torch.as_tensor(batch.classes) if batch.classes is not None else None

    # --- backward queries: every ordering of every reaction, every step -------------------
    prods, chosen, pos, owner, sizes = [], [], [], [], []
    for i, (p, rs) in enumerate(zip(batch.products, batch.reactants)):
        k = len(rs)
        if k == 0:
            raise ValueError(f"reaction {i} has no reactants")
        perms = list(itertools.permutations(rs))
        sizes.append((len(perms), k + 1))
        for perm in perms:
            for t in range(k + 1):
                prods.append(p)
                chosen.append(perm[:t])
                pos.append(perm[t] if t < k else halt)
                owner.append(i)
    owner_t = torch.tensor(owner)
    q_b = model.backward_query(
        emb, torch.tensor(prods), _pad(chosen), cls[owner_t] if cls is not None else None
    )
    s_b = F.normalize(q_b, dim=-1) @ keys.T / temperature
    l_b, c_b = _info_nce(s_b, torch.tensor(pos), torch.tensor(prods).unsqueeze(1))
    back, back_ok = [], []
    for ls, cs, (num_perms, steps) in zip(
        torch.split(l_b, [a * b for a, b in sizes]),
        torch.split(c_b, [a * b for a, b in sizes]),
        sizes,
    ):
        per_order = ls.view(num_perms, steps).sum(1)
        best = per_order.argmin()
        back.append(per_order[best])  # min over orderings (Eq. 5)
        back_ok.append(cs.view(num_perms, steps)[best].all())
    loss = torch.stack(back)
    ok = torch.stack(back_ok)

    # --- forward queries: the reactant set points at its product ----------------------------
    if forward:
        r = _pad(batch.reactants)
        q_f = model.forward_query(emb, r, cls)
        s_f = F.normalize(q_f, dim=-1) @ keys.T / temperature
        l_f, c_f = _info_nce(s_f, torch.tensor(list(batch.products)), r)
        loss = loss + l_f
        ok = ok & c_f
    return loss.mean(), {"acc": float(ok.float().mean()), "reactions": float(n)}


@torch.no_grad()
def nearest_neighbours(keys: torch.Tensor, num: int, chunk: int = 4096) -> torch.Tensor:
    """Each row's ``num`` most cosine-similar other rows (hard negatives).

    Shape:
        keys: (molecules, dim); returns (molecules, num) long indices, self excluded.
    """
    if num <= 0:
        return torch.empty(keys.shape[0], 0, dtype=torch.long)
    if num >= keys.shape[0]:
        raise ValueError(f"asked for {num} neighbours among {keys.shape[0]} molecules")
    k = F.normalize(keys, dim=-1)
    out = []
    for start in range(0, k.shape[0], chunk):
        sim = k[start : start + chunk] @ k.T  # (chunk, M)
        rows = torch.arange(start, min(start + chunk, k.shape[0]))
        sim[torch.arange(rows.numel()), rows] = -math.inf  # never its own neighbour
        out.append(sim.topk(num, dim=1).indices)
    return torch.cat(out)


@torch.no_grad()
def batch_table(
    reactions: Sequence[tuple[int, Sequence[int]]],
    bank: torch.Tensor | None = None,
    num_negatives: int = 0,
) -> tuple[list[int], ReactionBatch]:
    """The molecule table of one training batch and its reactions as rows of that table.

    Args:
        reactions: (product, reactants) as rows of a molecule universe.
        bank: unit-norm keys of the whole universe from the last refresh, (universe, dim);
            needed when ``num_negatives`` > 0.
        num_negatives: N, the nearest other molecules (by ``bank`` cosine) added per batch
            molecule as extra keys (hard negatives).

    Returns:
        Universe rows to embed (batch molecules first, then their neighbours; no repeats)
        and the reactions indexed into that list.
    """
    rows: dict[int, int] = {}
    prods, reacs = [], []
    for p, rs in reactions:
        for x in (p, *rs):
            rows.setdefault(x, len(rows))
        prods.append(rows[p])
        reacs.append([rows[x] for x in rs])
    if num_negatives > 0:
        if bank is None:
            raise ValueError("hard negatives need the key bank of the last refresh")
        own = torch.tensor(list(rows))
        sim = bank[own] @ bank.T  # (batch molecules, universe)
        sim[torch.arange(len(own)), own] = -math.inf  # never its own neighbour
        for x in sim.topk(num_negatives, dim=1).indices.flatten().tolist():
            rows.setdefault(x, len(rows))
    return list(rows), ReactionBatch(prods, reacs)
