"""Converting float models (``quantize_model``), exporting integer weights + scales, integer
inference, and the clustering index.

Paper: Lee, Yun, Hwang, Yang, "Cluster-Promoting Quantization with Bit-Drop for Minimizing Network
Quantization Loss", ICCV 2021, https://arxiv.org/abs/2109.02100.

``quantize_model(model, spec)`` swaps the ``nn.Conv2d`` / ``nn.Linear`` modules named in ``spec``
(exact names first, then ``fnmatch`` patterns such as ``"*"`` in order) for
:class:`~paperzoo.quantization.layers.QuantConv2d` / ``QuantLinear``; everything else is left as it
is. ``export_integer`` turns each quantized layer into integer codes plus a scale per tensor, and
``integer_model`` runs them with integer arithmetic: the integer products are accumulated exactly
(float64 by default, exact for sums below 2^53) and rescaled once by ``s_w * s_x``.

Deviations: integer inference keeps biases and non-quantized layers (pooling, ReLU, the float
input of a layer without input quantizer) in floating point; no fused requantisation.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .estimators import GridQuantizer
from .grids import integer_range, nearest_codes
from .layers import QuantConv2d, QuantizerSpec, QuantLinear

__all__ = [
    "IntegerConv2d",
    "IntegerLinear",
    "LayerSpec",
    "clustering_index",
    "export_integer",
    "export_size",
    "integer_model",
    "pack_codes",
    "quantize_model",
    "quantized_layers",
    "unpack_codes",
]


@dataclass(frozen=True)
class LayerSpec:
    """Per-layer quantization settings for :func:`quantize_model`.

    Attributes:
        weight: the weight quantizer (required for a layer to be converted).
        input: the input (activation) quantizer, or None to keep the input float.
        input_signed: signed input grid (False for post-ReLU inputs).
    """

    weight: QuantizerSpec
    input: QuantizerSpec | None = None
    input_signed: bool = False


def _resolve(name: str, spec: Mapping[str, LayerSpec]) -> LayerSpec | None:
    if name in spec:
        return spec[name]
    for pattern, layer_spec in spec.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern):
            return layer_spec
    return None


def quantize_model(
    model: nn.Module, spec: Mapping[str, LayerSpec], *, inplace: bool = False
) -> nn.Module:
    """Replace the Conv2d/Linear modules named in ``spec`` by quantized copies.

    Args:
        model: a float model.
        spec: ``{module name or fnmatch pattern: LayerSpec}``; exact names win over patterns,
            patterns are tried in order. Unlisted modules are not touched.
        inplace: modify ``model`` instead of a deep copy.

    Raises:
        ValueError: an exact name in ``spec`` is not a Conv2d/Linear module of ``model``.
    """
    model = model if inplace else copy.deepcopy(model)
    modules = dict(model.named_modules())
    for name in spec:
        if not any(c in name for c in "*?[") and not isinstance(
            modules.get(name), (nn.Conv2d, nn.Linear)
        ):
            raise ValueError(f"quantize_model: '{name}' is not a Conv2d/Linear module of the model")
    for name, module in list(modules.items()):
        if not name or isinstance(module, (QuantConv2d, QuantLinear)):
            continue
        layer_spec = _resolve(name, spec)
        if layer_spec is None or not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue
        cls = QuantConv2d if isinstance(module, nn.Conv2d) else QuantLinear
        new = cls.from_float(module, layer_spec.weight, layer_spec.input, layer_spec.input_signed)
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, new)
    return model


def quantized_layers(model: nn.Module) -> Iterator[tuple[str, QuantConv2d | QuantLinear]]:
    """``(name, layer)`` for every quantized layer of ``model``, in module order."""
    for name, module in model.named_modules():
        if isinstance(module, (QuantConv2d, QuantLinear)):
            yield name, module


def clustering_index(weight: torch.Tensor, quantizer: GridQuantizer) -> float:
    """``mean |w - Q(w)| / step`` on the quantizer's effective (test-time) grid.

    0.25 is what weights spread uniformly inside the bins give; lower values mean the weights
    gather at grid points (clipped weights outside the range can push it above 0.5).
    """
    with torch.no_grad():
        step = quantizer.effective_step()
        err = (weight - quantizer.quantize_codes(weight).to(weight) * step).abs()
        return float(err.mean() / step)


# --- integer export and inference ---------------------------------------------------------------


def export_integer(model: nn.Module) -> dict[str, dict[str, Any]]:
    """Integer codes and scales of every quantized layer (the quantizers must be initialised).

    Returns ``{layer name: {"kind", "weight_codes" (int8/int16), "weight_scale", "weight_bits",
    "input_scale" | None, "input_bits" | None, "input_signed", "bias" | None, "stride",
    "padding"}}``; ``w = weight_codes * weight_scale`` reproduces the eval-mode weight exactly.
    """
    out: dict[str, dict[str, Any]] = {}
    for name, layer in quantized_layers(model):
        wq = layer.weight_quantizer
        if not bool(wq.initialized):
            raise ValueError(f"export_integer: layer '{name}' was never run (uninitialised step)")
        codes = wq.quantize_codes(layer.weight.detach())
        dtype = torch.int8 if wq.effective_bits() <= 8 else torch.int16
        entry: dict[str, Any] = {
            "kind": "conv2d" if isinstance(layer, QuantConv2d) else "linear",
            "weight_codes": codes.to(dtype),
            "weight_scale": float(wq.effective_step().detach()),
            "weight_bits": wq.effective_bits(),
            "input_scale": None,
            "input_bits": None,
            "input_signed": False,
            "bias": None if layer.bias is None else layer.bias.detach().clone(),
            "stride": tuple(layer.stride) if isinstance(layer, QuantConv2d) else None,
            "padding": tuple(layer.padding) if isinstance(layer, QuantConv2d) else None,
        }
        if layer.input_quantizer is not None:
            iq = layer.input_quantizer.quantizer
            if not bool(iq.initialized):
                raise ValueError(f"export_integer: input quantizer of '{name}' is uninitialised")
            entry.update(
                input_scale=float(iq.effective_step().detach()),
                input_bits=iq.effective_bits(),
                input_signed=iq.signed,
            )
        out[name] = entry
    return out


def pack_codes(codes: torch.Tensor, bits: int, signed: bool) -> bytes:
    """Bit-pack integer codes: each code is offset to ``0..2^bits - 1`` (``+2^(bits-1)`` when
    signed) and written in ``bits`` bits, little-endian within a byte, ``ceil(n bits / 8)``
    bytes in all (a 2-bit tensor of 48,000 weights takes 12,000 bytes).

    Shape: ``codes`` any shape, integer values in the ``bits`` range.
    """
    qmin, qmax = integer_range(bits, signed)
    flat = codes.detach().reshape(-1).to(torch.int64)
    if flat.numel() and (int(flat.min()) < qmin or int(flat.max()) > qmax):
        raise ValueError(f"codes outside the {bits}-bit range [{qmin}, {qmax}]")
    u = (flat - qmin).numpy().astype(np.uint64)
    bit_matrix = (u[:, None] >> np.arange(bits, dtype=np.uint64)) & np.uint64(1)  # (n, bits)
    return np.packbits(bit_matrix.astype(np.uint8).reshape(-1), bitorder="little").tobytes()


def unpack_codes(data: bytes, bits: int, signed: bool, shape: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`pack_codes`; returns int64 codes of ``shape``."""
    n = int(np.prod(shape)) if shape else 1
    flat = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")[: n * bits]
    if flat.size != n * bits:
        raise ValueError(f"{len(data)} bytes hold fewer than {n} {bits}-bit codes")
    weights = (1 << np.arange(bits, dtype=np.int64))[None, :]
    u = (flat.reshape(n, bits).astype(np.int64) * weights).sum(1)
    qmin, _ = integer_range(bits, signed)
    return torch.from_numpy(u + qmin).reshape(shape)


def export_size(exported: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Bytes of an :func:`export_integer` result when its weight codes are bit-packed at each
    layer's bit-width (plus a float32 scale per tensor and float32 biases), next to the same
    layers in float32: ``{"packed_bytes", "float32_bytes"}``."""
    packed = float32 = 0
    for e in exported.values():
        n = e["weight_codes"].numel()
        bias = 0 if e["bias"] is None else 4 * e["bias"].numel()
        scales = 4 * (1 + (e["input_scale"] is not None))
        packed += (n * e["weight_bits"] + 7) // 8 + bias + scales
        float32 += 4 * n + bias
    return {"packed_bytes": packed, "float32_bytes": float32}


class _IntegerLayer(nn.Module):
    """Shared part of the integer layers: input codes, exact accumulation, one rescale."""

    def __init__(self, entry: Mapping[str, Any], accumulate_dtype: torch.dtype) -> None:
        super().__init__()
        self.register_buffer("weight_codes", entry["weight_codes"].clone())
        self.weight_scale = float(entry["weight_scale"])
        self.input_scale = entry["input_scale"]
        self.input_bits = entry["input_bits"]
        self.input_signed = bool(entry["input_signed"])
        bias = entry["bias"]
        self.register_buffer("bias", None if bias is None else bias.clone())
        self.accumulate_dtype = accumulate_dtype

    def _input_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Integer codes of the input (or the float input itself) and its scale."""
        if self.input_scale is None:
            return x.to(self.accumulate_dtype), 1.0
        b = int(self.input_bits)
        qmin, qmax = (-(2 ** (b - 1)), 2 ** (b - 1) - 1) if self.input_signed else (0, 2**b - 1)
        s = torch.tensor(self.input_scale, dtype=x.dtype)
        return nearest_codes(x, s, qmin, qmax).to(self.accumulate_dtype), self.input_scale

    def _finish(self, acc: torch.Tensor, in_scale: float, dtype: torch.dtype) -> torch.Tensor:
        return (acc * (in_scale * self.weight_scale)).to(dtype)


class IntegerLinear(_IntegerLayer):
    """Linear layer on integer codes. Shape: ``(batch, in)`` -> ``(batch, out)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes, s_in = self._input_codes(x)
        acc = codes @ self.weight_codes.to(self.accumulate_dtype).T  # integer-valued sums
        out = self._finish(acc, s_in, x.dtype)
        return out if self.bias is None else out + self.bias


class IntegerConv2d(_IntegerLayer):
    """Conv2d on integer codes. Shape: ``(batch, C, H, W)`` -> ``(batch, C', H', W')``."""

    def __init__(self, entry: Mapping[str, Any], accumulate_dtype: torch.dtype) -> None:
        super().__init__(entry, accumulate_dtype)
        self.stride, self.padding = tuple(entry["stride"]), tuple(entry["padding"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes, s_in = self._input_codes(x)
        w = self.weight_codes.to(self.accumulate_dtype)
        acc = F.conv2d(codes, w, None, self.stride, self.padding)
        out = self._finish(acc, s_in, x.dtype)
        return out if self.bias is None else out + self.bias[None, :, None, None]


def integer_model(
    model: nn.Module,
    exported: Mapping[str, Mapping[str, Any]] | None = None,
    accumulate_dtype: torch.dtype = torch.float64,
) -> nn.Module:
    """A copy of ``model`` (eval mode) whose quantized layers run on the exported integers.

    ``accumulate_dtype=torch.float64`` keeps every integer sum exact; ``torch.float32`` is faster
    and exact while ``|sum| < 2^24``.
    """
    exported = export_integer(model) if exported is None else exported
    out = copy.deepcopy(model).eval()
    for name, entry in exported.items():
        cls = IntegerConv2d if entry["kind"] == "conv2d" else IntegerLinear
        parent_name, _, child = name.rpartition(".")
        setattr(
            out.get_submodule(parent_name) if parent_name else out,
            child,
            cls(entry, accumulate_dtype),
        )
    return out
