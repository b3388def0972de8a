"""Small per-sample models for the federated experiments (no BatchNorm, see ``mixup.py``).

Paper: FedMix (Yoon et al., ICLR 2021), https://arxiv.org/abs/2107.00233: LeNet-5 for FEMNIST and
a modified VGG for CIFAR. Here a LeNet-5-style CNN for 28x28 images and an MLP for 8x8 digits.

Deviations from the paper:
  * ``VGG`` is a VGG-11-style stack without BatchNorm (per-sample gradients, see ``mixup.py``);
    the paper's exact "modified VGG" widths are not given in our notes. Not run here (no CIFAR).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["MLP", "VGG", "LeNet5", "build_model"]


class LeNet5(nn.Module):
    """LeNet-5-style CNN: two 5x5 conv + max-pool blocks, then two hidden FC layers.

    Args:
        num_classes: output width.
        in_channels: image channels.
        width: channels of the first conv (the second has ``2 * width``); 6 is the classic LeNet.

    Shape:
        x: (batch, in_channels, 28, 28) -> logits (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 6) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, width, 14, 14)
            nn.Conv2d(width, 2 * width, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2*width, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * width * 25, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def jvp_layers(self) -> list[nn.Module]:
        """The layers whose composition is ``forward`` (FedMix's tangent route, ``tangent.py``)."""
        return [*self.features, *self.classifier]


class MLP(nn.Module):
    """Flatten, one hidden ReLU layer, linear output.

    Shape:
        x: (batch, *input_shape) -> logits (batch, num_classes).
    """

    def __init__(self, in_features: int, num_classes: int = 10, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def jvp_layers(self) -> list[nn.Module]:
        """The layers whose composition is ``forward`` (FedMix's tangent route, ``tangent.py``)."""
        return list(self.net)


class VGG(nn.Module):
    """VGG-style CNN for 32x32 images: conv(3x3) blocks [w, pool, 2w, pool, 4w, 4w, pool, 8w, 8w,
    pool], no BatchNorm, then FC 512-512-classes.

    Shape:
        x: (batch, in_channels, 32, 32) -> logits (batch, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for v in (width, "M", 2 * width, "M", 4 * width, 4 * width, "M", 8 * width, 8 * width, "M"):
            if v == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU()]
                c = int(v)
        self.features = nn.Sequential(*layers)  # (B, 8w, 2, 2)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c * 4, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def jvp_layers(self) -> list[nn.Module]:
        """The layers whose composition is ``forward`` (FedMix's tangent route, ``tangent.py``)."""
        return [*self.features, *self.classifier]


def build_model(
    name: str, input_shape: tuple[int, ...], num_classes: int, width: int = 6
) -> nn.Module:
    """``"lenet5"`` ((C, 28, 28) inputs), ``"vgg"`` ((C, 32, 32)) or ``"mlp"`` (any shape)."""
    if name == "lenet5":
        if tuple(input_shape[1:]) != (28, 28):
            raise ValueError(f"lenet5 expects (C, 28, 28) inputs, got {input_shape}")
        return LeNet5(num_classes, input_shape[0], width)
    if name == "mlp":
        return MLP(int(torch.tensor(input_shape).prod()), num_classes, hidden=8 * width)
    if name == "vgg":
        if tuple(input_shape[1:]) != (32, 32):
            raise ValueError(f"vgg expects (C, 32, 32) inputs, got {input_shape}")
        return VGG(num_classes, input_shape[0], max(width, 8))
    raise ValueError(f"unknown model {name!r}; choose 'lenet5', 'vgg' or 'mlp'")
