"""Quantized layers: ``QuantConv2d``, ``QuantLinear`` and an activation quantizer, built from a
:class:`QuantizerSpec` that names the estimator (CPQ, STE, LSQ or RQ) and its settings.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100.

Each quantized layer fake-quantises its weight with a signed grid and, optionally, its *input*
with an (by default unsigned, post-ReLU) activation grid, as in LSQ. A layer without an input
quantizer (e.g. the first layer, fed with the image) takes its float input.

Deviations from the paper: the placement of activation quantizers (layer inputs rather than layer
outputs) follows LSQ; the paper's placement could not be checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

import torch
from torch import nn
from torch.nn import functional as F

from .estimators import (
    ClusterPromotingQuantizer,
    GridQuantizer,
    LearnedStepQuantizer,
    RelaxedQuantizer,
    StraightThroughQuantizer,
)

__all__ = [
    "ActivationQuantizer",
    "QuantConv2d",
    "QuantLinear",
    "QuantizerSpec",
    "make_quantizer",
]

QuantMethod = Literal["cpq", "ste", "lsq", "rq"]


@dataclass(frozen=True)
class QuantizerSpec:
    """Settings of one quantizer.

    Attributes:
        method: ``"cpq"`` (multi-class STE; with ``drop_rate > 0`` CPQ+DropBits), ``"ste"``
            (fixed range), ``"lsq"`` (learned step) or ``"rq"`` (Relaxed Quantization).
        num_bits: grid bit-width (the maximum when ``learn_bits``).
        drop_rate: DropBits rate for ``cpq`` (0 = off).
        learn_bits: learnable level gates for ``cpq`` (heterogeneous bit-widths).
        noise_ratio: initial ``sigma / step`` for ``cpq`` and ``rq``.
        temperature: initial concrete temperature for ``rq``.
        ste_normalization: ``"sum"`` or ``"max"`` normalisation of ``pi`` in the CPQ STE.
    """

    method: QuantMethod = "cpq"
    num_bits: int = 4
    drop_rate: float = 0.0
    learn_bits: bool = False
    noise_ratio: float = 1.0 / 3.0
    temperature: float = 1.0
    ste_normalization: Literal["sum", "max"] = "sum"

    def __post_init__(self) -> None:
        if self.method not in ("cpq", "ste", "lsq", "rq"):
            raise ValueError(f"unknown quantizer method {self.method!r}; use cpq, ste, lsq or rq")
        if self.method != "cpq" and (self.drop_rate > 0 or self.learn_bits):
            raise ValueError("drop_rate and learn_bits apply to method='cpq' only")


def make_quantizer(spec: QuantizerSpec, signed: bool) -> GridQuantizer:
    """Build the quantizer module described by ``spec``."""
    if spec.method == "cpq":
        return ClusterPromotingQuantizer(
            spec.num_bits,
            signed,
            noise_ratio=spec.noise_ratio,
            drop_rate=spec.drop_rate,
            learn_bits=spec.learn_bits,
            ste_normalization=spec.ste_normalization,
        )
    if spec.method == "rq":
        return RelaxedQuantizer(
            spec.num_bits, signed, noise_ratio=spec.noise_ratio, temperature=spec.temperature
        )
    if spec.method == "lsq":
        return LearnedStepQuantizer(spec.num_bits, signed)
    return StraightThroughQuantizer(spec.num_bits, signed)


class ActivationQuantizer(nn.Module):
    """Fake-quantises activations (unsigned grid by default, for post-ReLU tensors).

    Shape:
        any input shape; output has the same shape.
    """

    def __init__(self, spec: QuantizerSpec, signed: bool = False) -> None:
        super().__init__()
        self.quantizer = make_quantizer(spec, signed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.quantizer(x)


_M = TypeVar("_M", bound=nn.Module)


def _copy_parameters(src: nn.Module, dst: _M) -> _M:
    """Copy ``src``'s weight (and bias, when it has one) into ``dst``; return ``dst``."""
    with torch.no_grad():
        dst.weight.copy_(src.weight)
        if getattr(src, "bias", None) is not None:
            dst.bias.copy_(src.bias)
    return dst


class QuantConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose weight (and optionally input) is fake-quantised.

    Args:
        weight_spec: quantizer of the weight (signed grid).
        input_spec: quantizer of the input, or None for a float input.
        input_signed: whether the input grid is signed (False for post-ReLU inputs).
        remaining arguments: as ``nn.Conv2d``.

    Shape:
        input ``(batch, in_channels, H, W)``; output ``(batch, out_channels, H', W')``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        *,
        weight_spec: QuantizerSpec,
        input_spec: QuantizerSpec | None = None,
        input_signed: bool = False,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias=bias)
        self.weight_quantizer = make_quantizer(weight_spec, signed=True)
        self.input_quantizer = (
            None if input_spec is None else ActivationQuantizer(input_spec, input_signed)
        )

    @classmethod
    def from_float(
        cls,
        conv: nn.Conv2d,
        weight_spec: QuantizerSpec,
        input_spec: QuantizerSpec | None = None,
        input_signed: bool = False,
    ) -> QuantConv2d:
        """A quantized copy of ``conv`` (same weights; groups/dilation 1 and zero padding only)."""
        if conv.groups != 1 or conv.dilation != (1, 1) or conv.padding_mode != "zeros":
            raise ValueError("QuantConv2d supports groups=1, dilation=1, zero padding only")
        q = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,  # type: ignore[arg-type]
            bias=conv.bias is not None,
            weight_spec=weight_spec,
            input_spec=input_spec,
            input_signed=input_signed,
        ).to(conv.weight.device)
        return _copy_parameters(conv, q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_quantizer is not None:
            x = self.input_quantizer(x)
        return F.conv2d(x, self.weight_quantizer(self.weight), self.bias, self.stride, self.padding)


class QuantLinear(nn.Linear):
    """``nn.Linear`` whose weight (and optionally input) is fake-quantised.

    Shape:
        input ``(batch, in_features)``; output ``(batch, out_features)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        weight_spec: QuantizerSpec,
        input_spec: QuantizerSpec | None = None,
        input_signed: bool = False,
    ) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.weight_quantizer = make_quantizer(weight_spec, signed=True)
        self.input_quantizer = (
            None if input_spec is None else ActivationQuantizer(input_spec, input_signed)
        )

    @classmethod
    def from_float(
        cls,
        linear: nn.Linear,
        weight_spec: QuantizerSpec,
        input_spec: QuantizerSpec | None = None,
        input_signed: bool = False,
    ) -> QuantLinear:
        """A quantized copy of ``linear`` (same weights)."""
        q = cls(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            weight_spec=weight_spec,
            input_spec=input_spec,
            input_signed=input_signed,
        ).to(linear.weight.device)
        return _copy_parameters(linear, q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_quantizer is not None:
            x = self.input_quantizer(x)
        return F.linear(x, self.weight_quantizer(self.weight), self.bias)
