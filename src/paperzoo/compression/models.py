"""Small VGG-style CNNs used as teacher and students in the compression reproduction.

Paper: Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression for Reliable
Network Interpretation", NeurIPS 2020, https://arxiv.org/abs/2010.15054

The official code matches attributions at the output of VGG16's ``features`` stack (after the last
max-pool, 512x7x7). :class:`SmallVGG` keeps that layout: ``features`` ends in the matched feature
map and ``classifier`` maps it to logits. A ``width_divisor`` builds the narrow students
(``VGG16_VOC_x4``/``x8`` in the code).

Deviations from the paper:
    * Four conv layers (quick preset: 16-32-64-64 channels, conv-BN-ReLU) instead of VGG16's 13.
    * Two max-pools, so a 32 px input gives an 8x8 map (VGG16 at 227 px: 7x7); the last two
      convolutions both run at 8x8 to reach a receptive field (26 px) that covers a whole digit.
    * The classifier is global average pooling + 2 linear layers instead of VGG's flatten + 3
      linear layers: it trains in a few CPU epochs on position-randomised digits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["SmallVGG"]


class SmallVGG(nn.Module):
    """Conv3x3-BN-ReLU blocks (the first ``num_pooled`` followed by 2x2 max-pool), global average
    pooling and 2 linear layers.

    Args:
        widths: channels of the conv blocks before dividing by ``width_divisor``.
        width_divisor: 1 for the teacher, 4 or 8 for the narrow KD students.
        batch_norm: BatchNorm after each conv (VGG16-BN, as the official code). It sits before the
            hooked layer, so d y_c / d A is still exactly per sample in training mode.
        num_pooled: how many leading blocks are followed by a max-pool (the later blocks run at
            the final resolution, like VGG's last stage of several convolutions).
        image_size: input side in pixels (square); only used for ``feature_shape``.
        num_classes: output logits.
        hidden_dim: width of the hidden fully connected layer (also divided by ``width_divisor``).
        in_channels: input channels.

    Shape:
        input: (batch, in_channels, image_size, image_size); output: (batch, num_classes).
        ``features(x)``: (batch, widths[-1] // width_divisor, side, side) with
        side = image_size // 2**num_pooled.
    """

    def __init__(
        self,
        widths: Sequence[int] = (16, 32, 64, 64),
        width_divisor: int = 1,
        num_pooled: int = 2,
        batch_norm: bool = True,
        image_size: int = 32,
        num_classes: int = 10,
        hidden_dim: int = 64,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        if width_divisor < 1 or any(w // width_divisor < 1 for w in widths):
            raise ValueError(f"width_divisor {width_divisor} leaves an empty layer in {widths}")
        chans = [max(1, w // width_divisor) for w in widths]
        layers: list[nn.Module] = []
        prev, side = in_channels, image_size
        for i, c in enumerate(chans):
            layers.append(nn.Conv2d(prev, c, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            if i < num_pooled:
                layers.append(nn.MaxPool2d(2))
                side //= 2
            prev = c
        self.features = nn.Sequential(*layers)
        hidden = max(8, hidden_dim // width_divisor)
        # Global average pooling, then two linear layers: the hidden ReLU makes the Grad-CAM
        # channel weights depend on the input (with one linear layer Grad-CAM reduces to CAM).
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(prev, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )
        self.feature_shape = (prev, side, side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
