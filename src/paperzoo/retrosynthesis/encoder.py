"""RetCL's molecule encoder: a Structure2Vec message-passing network and three pooled heads
(product query, reactant query, key), in plain torch.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(Section 3.2 and Appendix). Official code https://github.com/hankook/RetCL (``models/graph.py``,
``models/module.py``, ``models/utils.py``; read only).

Encoder (per atom v, neighbours N(v), bond features e_uv; BN = batch norm over atoms):

    layer 1:  h_v = ReLU(BN(W_a x_v + sum_{u in N(v)} W_e e_uv))
    layer l:  z_v = ReLU(BN(W_1 sum_{u in N(v)} h_u + sum_{u in N(v)} W_e^l e_uv))
              h_v = ReLU(BN(W_2 z_v + h_v))                    (residual)
    output:   h_v <- BN(W_o h_v)

Heads: three residual MLPs per atom, g(h) = h + (BN Linear ReLU BN Linear ReLU)(h), each
sum-pooled over the molecule's atoms: f_P(m) (product query), f_R(m) (reactant query), k(m)
(key). Scores are cosine similarities (see :mod:`.selection`).

Deviations from the official code: the official network is 5 layers x 256 with dgllife
features; the width and depth are config fields (the CPU reproduction uses 3 x 128, stated in
its preset). Message passing is ``index_add_`` over the edge list instead of DGL's send/recv.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .chem import ATOM_DIM, BOND_DIM, GraphBatch

__all__ = ["Embeddings", "MoleculeEncoder", "RetCLModel", "Structure2Vec"]


class Structure2Vec(nn.Module):
    """Structure2Vec MPNN over a :class:`~.chem.GraphBatch`.

    Shape:
        forward(batch) -> (total atoms, hidden_dim).
    """

    def __init__(self, hidden_dim: int = 256, num_layers: int = 5) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.atom_in = nn.Linear(ATOM_DIM, hidden_dim, bias=False)
        self.bond_in = nn.ModuleList(
            nn.Linear(BOND_DIM, hidden_dim, bias=False) for _ in range(num_layers)
        )
        self.w1 = nn.ModuleList(
            nn.Linear(hidden_dim, hidden_dim, bias=False) for _ in range(num_layers - 1)
        )
        self.w2 = nn.ModuleList(
            nn.Linear(hidden_dim, hidden_dim, bias=False) for _ in range(num_layers - 1)
        )
        self.bn_in = nn.BatchNorm1d(hidden_dim)
        self.bn1 = nn.ModuleList(nn.BatchNorm1d(hidden_dim) for _ in range(num_layers - 1))
        self.bn2 = nn.ModuleList(nn.BatchNorm1d(hidden_dim) for _ in range(num_layers - 1))
        self.out = nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim))

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        n, (src, dst) = batch.x.shape[0], batch.edge_index

        def bonds(layer: int) -> torch.Tensor:  # sum_u W_e e_uv, (atoms, hidden)
            e = self.bond_in[layer](batch.edge_attr)
            return e.new_zeros(n, e.shape[1]).index_add_(0, dst, e)

        h = F.relu(self.bn_in(self.atom_in(batch.x) + bonds(0)))
        for i in range(len(self.w1)):
            agg = h.new_zeros(h.shape).index_add_(0, dst, h[src])  # sum_{u in N(v)} h_u
            z = F.relu(self.bn1[i](self.w1[i](agg) + bonds(i + 1)))
            h = F.relu(self.bn2[i](self.w2[i](z) + h))
        return self.out(h)


class _ResidualHead(nn.Module):
    """Per-atom residual MLP, h + (Linear BN ReLU)x2 (h), then sum pooling per molecule."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.ReLU(), nn.Linear(dim, dim), nn.BatchNorm1d(dim),
            nn.ReLU(), nn.Linear(dim, dim), nn.BatchNorm1d(dim),
        )  # fmt: skip

    def forward(self, h: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
        per_atom = h + self.mlp(h)
        return per_atom.new_zeros(num_graphs, h.shape[1]).index_add_(0, batch, per_atom)


@dataclass(frozen=True)
class Embeddings:
    """Pooled embeddings of a list of molecules (rows in input order).

    Shape:
        product_query, reactant_query, key: (molecules, dim), not normalised (queries are
        built by adding/subtracting these before the cosine).
    """

    product_query: torch.Tensor
    reactant_query: torch.Tensor
    key: torch.Tensor

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def index(self, idx: torch.Tensor) -> Embeddings:
        return Embeddings(self.product_query[idx], self.reactant_query[idx], self.key[idx])

    def detach(self) -> Embeddings:
        return Embeddings(
            self.product_query.detach(), self.reactant_query.detach(), self.key.detach()
        )

    @staticmethod
    def cat(parts: list[Embeddings]) -> Embeddings:
        return Embeddings(
            torch.cat([p.product_query for p in parts]),
            torch.cat([p.reactant_query for p in parts]),
            torch.cat([p.key for p in parts]),
        )


class MoleculeEncoder(nn.Module):
    """Structure2Vec + the three pooled heads: molecule graphs -> :class:`Embeddings`."""

    def __init__(self, hidden_dim: int = 256, num_layers: int = 5) -> None:
        super().__init__()
        self.gnn = Structure2Vec(hidden_dim, num_layers)
        self.product_head = _ResidualHead(hidden_dim)
        self.reactant_head = _ResidualHead(hidden_dim)
        self.key_head = _ResidualHead(hidden_dim)

    def forward(self, batch: GraphBatch) -> Embeddings:
        h = self.gnn(batch)
        args = (batch.batch, batch.num_graphs)
        return Embeddings(
            self.product_head(h, *args), self.reactant_head(h, *args), self.key_head(h, *args)
        )


class RetCLModel(nn.Module):
    """The RetCL scorer: encoder, a learned halt key and optional reaction-class embeddings.

    Queries (Eq. 2-3 of the paper):

        backward step t:  q_t = f_P(P) - sum_{r in R_<t} f_R(r)   (+ 10 b(class + C) if known)
        forward check:    q   = sum_{r in R} f_R(r)              (+ 10 b(class)     if known)

    The score of a key k is cos(q, k); the halt key ``halt`` ends a reactant set.

    Args:
        hidden_dim, num_layers: encoder size (official 256, 5).
        num_classes: reaction classes for the class-known setting (USPTO-50k: 10); 0 = class
            unknown. The class embedding is zero-initialised (the official choice) so a
            class-known model starts equal to a class-unknown one.
    """

    def __init__(self, hidden_dim: int = 256, num_layers: int = 5, num_classes: int = 0) -> None:
        super().__init__()
        self.encoder = MoleculeEncoder(hidden_dim, num_layers)
        self.halt = nn.Parameter(torch.randn(hidden_dim) / hidden_dim**0.5)
        self.num_classes = num_classes
        self.class_embedding = (
            nn.Embedding(2 * num_classes, hidden_dim) if num_classes > 0 else None
        )
        if self.class_embedding is not None:
            nn.init.zeros_(self.class_embedding.weight)

    @property
    def dim(self) -> int:
        return int(self.halt.shape[0])

    def embed(self, batch: GraphBatch) -> Embeddings:
        return self.encoder(batch)

    def class_term(self, classes: torch.Tensor | None, backward: bool) -> torch.Tensor | float:
        """10 b(class) (forward) or 10 b(class + C) (backward); 0 when the class is unknown."""
        if classes is None or self.class_embedding is None:
            return 0.0
        # classes are 1-based (USPTO's 1-10); backward rows follow the forward rows
        return 10.0 * self.class_embedding(classes - 1 + (self.num_classes if backward else 0))

    def backward_query(
        self,
        emb: Embeddings,
        product: torch.Tensor,
        chosen: torch.Tensor,
        classes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """q_t = f_P(P) - sum of f_R over the chosen reactants.

        Shape:
            product: (queries,) molecule rows of ``emb``; chosen: (queries, max chosen) rows,
            -1 = padding; returns (queries, dim).
        """
        q = emb.product_query[product]
        if chosen.numel():
            mask = (chosen >= 0).unsqueeze(-1)
            r = emb.reactant_query[chosen.clamp(min=0)] * mask  # (Q, n, dim)
            q = q - r.sum(1)
        return q + self.class_term(classes, backward=True)

    def forward_query(
        self, emb: Embeddings, reactants: torch.Tensor, classes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """q = sum of f_R over the reactant set (-1 = padding); (queries, dim)."""
        mask = (reactants >= 0).unsqueeze(-1)
        q = (emb.reactant_query[reactants.clamp(min=0)] * mask).sum(1)
        return q + self.class_term(classes, backward=False)

    def keys(self, emb: Embeddings) -> torch.Tensor:
        """Unit-norm keys with the halt key appended as the last row; (molecules + 1, dim)."""
        return F.normalize(torch.cat([emb.key, self.halt.unsqueeze(0)]), dim=-1)
