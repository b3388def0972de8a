"""Top-k exact match, the single-step retrosynthesis metric.

Paper: Lee, Ahn, Seo, Song, Yang, Hwang, Shin, "RetCL: A Selection-based Approach for
Retrosynthesis via Contrastive Learning", IJCAI 2021, https://arxiv.org/abs/2105.00795
(experiments: top-1/3/5/10 exact-match accuracy on USPTO-50k).

A prediction is correct at rank k when one of its first k proposed reactant sets equals the
recorded reactants as an unordered multiset of canonical SMILES (see
:func:`~.chem.canonical_set`). Lists may contain duplicates; only the first occurrence of a set
counts (a model that repeats itself is not rewarded).

Deviations from the paper: none known (RetCL's inference de-duplicates unordered reactant sets
before ranking; the first-occurrence rule gives the same ranks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["first_hit_ranks", "topk_accuracy"]


def first_hit_ranks(
    predictions: Sequence[Sequence[tuple[str, ...]]], truths: Sequence[tuple[str, ...]]
) -> np.ndarray:
    """1-based rank of the first correct set per product (0 = not in the list).

    Args:
        predictions: per product, its ranked reactant sets (sorted tuples of canonical SMILES).
        truths: per product, the recorded reactant set (a sorted tuple).
    """
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} prediction lists for {len(truths)} products")
    out = np.zeros(len(truths), dtype=np.int64)
    for i, (preds, truth) in enumerate(zip(predictions, truths)):
        seen: set[tuple[str, ...]] = set()
        rank = 0
        for p in preds:
            p = tuple(sorted(p))
            if p in seen:
                continue
            seen.add(p)
            rank += 1
            if p == tuple(sorted(truth)):
                out[i] = rank
                break
    return out


def topk_accuracy(ranks: np.ndarray, ks: Sequence[int] = (1, 3, 5, 10)) -> dict[int, float]:
    """Share of products whose first hit is within the top k, for each k."""
    r = np.asarray(ranks)
    if r.size == 0:
        raise ValueError("no products to score")
    return {k: float(((r > 0) & (r <= k)).mean()) for k in ks}
