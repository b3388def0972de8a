"""Nearest-neighbour search over candidate keys (maximum inner product of unit vectors = cosine):
an exact torch index (matrix product + top-k) and an optional FAISS index for candidate sets
beyond a million molecules.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(inference: every candidate is scored by the cosine between the query and its key).

At ~50k candidates x 128 dims the exact product takes a few milliseconds per query batch, so
the default path does not use an index object at all; an index pays off when the full
(beams x candidates) score matrix is too large or too slow (``faiss-flat`` is exact and
multi-threaded, ``faiss-hnsw`` approximate: M = 32 links, efSearch = 128 by default).

Deviations from the paper: none for the exact index, which scores every candidate as the
paper does; the FAISS indexes are ours, and ``faiss-hnsw`` may miss a true nearest key.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
import torch

__all__ = ["ExactIndex", "FaissIndex", "KeyIndex", "make_index"]

IndexKind = Literal["exact", "faiss-flat", "faiss-hnsw"]


class KeyIndex(Protocol):
    def __len__(self) -> int: ...

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-``k`` keys by inner product: (values, rows), each (queries, min(k, len))."""
        ...


class ExactIndex:
    """Exact top-k by a matrix product; ``keys`` (n, d) unit rows."""

    def __init__(self, keys: torch.Tensor) -> None:
        self.keys = keys.detach().float()

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        top = (queries.float() @ self.keys.T).topk(min(k, len(self)), dim=1)
        return top.values, top.indices


class FaissIndex:
    """FAISS inner-product index over ``keys`` (n, d): ``hnsw=False`` exact (IndexFlatIP),
    ``hnsw=True`` approximate (IndexHNSWFlat with ``m`` links, ``ef_search`` at query time).

    Raises:
        ImportError: faiss is not installed (``pip install faiss-cpu``).
    """

    def __init__(
        self, keys: torch.Tensor, hnsw: bool = False, m: int = 32, ef_search: int = 128
    ) -> None:
        try:
            import faiss
        except ImportError as e:
            raise ImportError("a FAISS index needs faiss: pip install faiss-cpu") from e
        x = np.ascontiguousarray(keys.detach().float().numpy())
        d = x.shape[1]
        if hnsw:
            self.index = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efSearch = ef_search
        else:
            self.index = faiss.IndexFlatIP(d)
        self.index.add(x)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        q = np.ascontiguousarray(queries.detach().float().numpy())
        values, rows = self.index.search(q, min(k, len(self)))
        # HNSW may return fewer than k hits (row -1); they score -inf and are skipped
        v = torch.from_numpy(values)
        r = torch.from_numpy(rows)
        v[r < 0] = float("-inf")
        return v, r.clamp(min=0)


def make_index(keys: torch.Tensor, kind: IndexKind = "exact") -> KeyIndex:
    """An index of ``kind`` over unit-norm ``keys`` (n, d)."""
    if kind == "exact":
        return ExactIndex(keys)
    if kind in ("faiss-flat", "faiss-hnsw"):
        return FaissIndex(keys, hnsw=kind == "faiss-hnsw")
    raise ValueError(f"unknown index kind {kind!r}; choose exact, faiss-flat or faiss-hnsw")
