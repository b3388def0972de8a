"""Small mel-spectrogram classifiers used as TTS judges: a speaker classifier trained on the
*seen* speakers only (its penultimate layer is the in-house speaker embedding for similarity)
and a word classifier trained on real recordings (intelligibility of generated FSDD digits).

Paper: Min, Lee, Yang, Hwang, "Meta-StyleSpeech: Multi-Speaker Adaptive Text-to-Speech
Generation", ICML 2021, https://arxiv.org/abs/2106.03153 (experiments: objective evaluation of
unseen-speaker adaptation by speaker similarity of embeddings and by ASR word error rate).

The network: 2 x (Conv1d over time, k5, ReLU, BatchNorm), masked mean over time, Linear ->
embedding, ReLU, Linear -> classes. Trained with Adam and cross entropy on whole clips. The
embedding is read *before* the ReLU: after it, every coordinate is >= 0, so cosines sit in
[0, 1] and crowd near the top (a first version scored every arm 0.90-0.94).

Deviations from the paper:
    * The speaker embedding comes from a small classifier trained here on the seen identities
      only, not from a speaker-verification model pretrained on a large corpus, so that it
      knows nothing of the unseen identities; Resemblyzer, a pretrained speaker encoder, is the
      optional second opinion (:mod:`.evaluation`).
    * Intelligibility is the accuracy of a 10-word digit classifier trained on real recordings
      instead of an ASR system's word error rate: the corpus' words are the FSDD digits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MelClassifier", "embed", "fit_classifier", "predict"]


class MelClassifier(nn.Module):
    """Log-mel (B, T, n_mels) + mask (B, T) -> logits (B, classes); ``embed`` gives the
    (B, emb_dim) embedding used for speaker similarity."""

    def __init__(self, n_mels: int, num_classes: int, hidden: int = 64, emb_dim: int = 64):
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv1d(n_mels, hidden, 5, padding=2), nn.Conv1d(hidden, hidden, 5, padding=2)]
        )
        self.norms = nn.ModuleList([nn.BatchNorm1d(hidden), nn.BatchNorm1d(hidden)])
        self.emb = nn.Linear(hidden, emb_dim)
        self.out = nn.Linear(emb_dim, num_classes)

    def embed(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = mel.transpose(1, 2)
        keep = mask.unsqueeze(1).to(mel.dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = norm(F.relu(conv(x * keep)))
        pooled = (x * keep).sum(-1) / keep.sum(-1).clamp(min=1.0)
        return self.emb(pooled)  # pre-activation: signed coordinates, cosines in [-1, 1]

    def forward(self, mel: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(F.relu(self.embed(mel, mask)))


def _pad(mels: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    t = max(len(m) for m in mels)
    x = torch.zeros(len(mels), t, mels[0].shape[1])
    mask = torch.zeros(len(mels), t, dtype=torch.bool)
    for i, m in enumerate(mels):
        x[i, : len(m)] = torch.as_tensor(m)
        mask[i, : len(m)] = True
    return x, mask


def fit_classifier(
    mels: Sequence[np.ndarray],
    labels: Sequence[int],
    num_classes: int,
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> MelClassifier:
    """Train a :class:`MelClassifier` on (frames, n_mels) clips; returns it in eval mode.

    Args:
        mels, labels, num_classes: the clips and their classes; epochs, batch_size, lr: the
            optimisation.
        seed: seeds the initial weights and the batch order when ``generator`` is None.
        generator: draws the initial weights' seed, then the batch order, instead of ``seed``.

    The global RNG is left as it was (the network has no dropout).
    """
    if len(mels) != len(labels) or not mels:
        raise ValueError("need one label per clip and at least one clip")
    init_seed = seed if generator is None else int(torch.randint(2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):  # seeded initial weights, global RNG restored
        torch.random.default_generator.manual_seed(init_seed)
        model = MelClassifier(mels[0].shape[1], num_classes)
    opt = torch.optim.Adam(model.parameters(), lr)
    y = torch.as_tensor(list(labels))
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(mels), generator=g).tolist()
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            x, mask = _pad([mels[j] for j in idx])
            loss = F.cross_entropy(model(x, mask), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


@torch.no_grad()
def predict(model: MelClassifier, mels: Sequence[np.ndarray]) -> np.ndarray:
    """Class index per clip."""
    x, mask = _pad(mels)
    return model(x, mask).argmax(-1).numpy()


@torch.no_grad()
def embed(model: MelClassifier, mels: Sequence[np.ndarray]) -> np.ndarray:
    """Embedding per clip, (clips, emb_dim)."""
    x, mask = _pad(mels)
    return model.embed(x, mask).numpy()
