"""Client partitions of a labelled data set: IID, k classes per client, and Dirichlet(α).

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233, Sec. 5: CIFAR-10 uses
2 classes per client, CIFAR-100 20 classes per client (the "pathological" shard split of
McMahan et al. 2017); Dirichlet label skew (Hsu et al. 2019) is the other common non-IID split.

All functions return a list of index arrays, one per client, and are deterministic given ``seed``.

Deviations from the paper: the paper does not say how its shards are drawn;
``classes_per_client_partition`` uses McMahan et al.'s method (label-sorted equal shards dealt at
random), so a client can get two shards of one label and then sees fewer than k classes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classes_per_client_partition", "dirichlet_partition", "iid_partition"]


def _check(labels: np.ndarray, num_clients: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if num_clients < 1:
        raise ValueError(f"num_clients must be >= 1, got {num_clients}")
    if len(labels) < num_clients:
        raise ValueError(f"{len(labels)} samples cannot be split over {num_clients} clients")
    return labels


def iid_partition(labels: np.ndarray, num_clients: int, seed: int = 0) -> list[np.ndarray]:
    """Shuffle and cut into ``num_clients`` near-equal parts.

    Shape:
        labels: (N,); returns ``num_clients`` sorted int64 index arrays covering ``0..N-1``.
    """
    labels = _check(labels, num_clients)
    perm = np.random.default_rng(seed).permutation(len(labels))
    return [np.sort(p) for p in np.array_split(perm, num_clients)]


def classes_per_client_partition(
    labels: np.ndarray, num_clients: int, classes_per_client: int, seed: int = 0
) -> list[np.ndarray]:
    """Pathological non-IID split: each client gets ``classes_per_client`` label shards.

    Samples are sorted by label and cut into ``num_clients * classes_per_client`` equal shards;
    each client receives ``classes_per_client`` shards (McMahan et al.'s shard method), so a client
    sees at most ``classes_per_client`` classes (fewer when two of its shards share a label).

    Shape:
        labels: (N,); returns ``num_clients`` sorted int64 index arrays (disjoint).
    """
    labels = _check(labels, num_clients)
    if classes_per_client < 1:
        raise ValueError(f"classes_per_client must be >= 1, got {classes_per_client}")
    rng = np.random.default_rng(seed)
    num_shards = num_clients * classes_per_client
    if len(labels) < num_shards:
        raise ValueError(f"{len(labels)} samples cannot form {num_shards} shards")
    # Stable label sort after a shuffle: shards hold random samples of one (or two) labels.
    perm = rng.permutation(len(labels))
    order = perm[np.argsort(labels[perm], kind="stable")]
    shards = np.array_split(order, num_shards)
    shard_ids = rng.permutation(num_shards).reshape(num_clients, classes_per_client)
    return [np.sort(np.concatenate([shards[s] for s in ids])) for ids in shard_ids]


def dirichlet_partition(
    labels: np.ndarray, num_clients: int, alpha: float, seed: int = 0, min_size: int = 1
) -> list[np.ndarray]:
    """Label-skewed split: class c's samples go to clients in proportions ``p_c ~ Dir(α·1)``.

    Small ``α`` gives few classes per client, large ``α`` approaches IID. Draws are repeated (up
    to 100 times) until every client holds at least ``min_size`` samples.

    Shape:
        labels: (N,); returns ``num_clients`` sorted int64 index arrays (disjoint, covering all).
    """
    labels = _check(labels, num_clients)
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    rng = np.random.default_rng(seed)
    for _ in range(100):
        parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            props = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(props) * len(idx)).astype(int)[:-1]
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].append(chunk)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(len(p) for p in out) >= min_size:
            return out
    raise ValueError(
        f"dirichlet_partition: no draw gave every client >= {min_size} samples "
        f"(alpha={alpha}, {num_clients} clients, {len(labels)} samples)"
    )
