"""The official MNIST network of OCS: a two-hidden-layer MLP.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (rotated MNIST experiments; official
``core/models.py::MLP``: 784-256-256-10, dropout 0.2).

Deviation from the paper's description, following the official code: its ``forward`` applies
dropout only after the first hidden layer (the second dropout's output is computed but unused), so
this module has one dropout.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["OfficialMLP"]


class OfficialMLP(nn.Module):
    """``Linear(in, h) -> ReLU -> Dropout -> Linear(h, h) -> ReLU -> Linear(h, classes)``.

    Shape: ``(batch, in_dim)`` -> ``(batch, num_classes)`` logits.
    """

    def __init__(
        self, in_dim: int = 784, hidden: int = 256, num_classes: int = 10, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1))
