"""The networks of the reproduction: LeNet-5 (MNIST) and ResNet-20 (CIFAR-10).

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100 (MNIST LeNet-5 and CIFAR-10
ResNet experiments). Layer names (``conv1`` ... ``fc3``) are what quantization specs refer to.

Deviations: LeNet-5 uses ReLU and max-pooling (the common modern variant); the paper's exact
LeNet-5 variant could not be checked.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["LeNet5", "ResNet20"]


class LeNet5(nn.Module):
    """conv(6,5x5,pad 2)-pool-conv(16,5x5)-pool-fc120-fc84-fc10 with ReLU.

    Args:
        image_size: input height = width (28 for MNIST; multiples of 4, at least 12).
        in_channels, num_classes: as usual.

    Shape:
        input ``(batch, in_channels, image_size, image_size)``; output ``(batch, num_classes)``.
    """

    def __init__(self, image_size: int = 28, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        side = (image_size // 2 - 4) // 2
        if image_size % 4 or side < 1:
            raise ValueError(f"image_size must be a multiple of 4 and >= 12, got {image_size}")
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class _BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet20(nn.Module):
    """CIFAR ResNet-20 (He et al. 2016): 3 stages of 3 basic blocks, 16/32/64 channels.

    Shape:
        input ``(batch, 3, 32, 32)``; output ``(batch, num_classes)``.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers: list[nn.Module] = []
        in_planes = 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                layers.append(_BasicBlock(in_planes, planes, stride if i == 0 else 1))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
