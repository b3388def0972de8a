"""CPQ: Cluster-Promoting Quantization with Bit-Drop (Lee, Yun, Hwang, Yang, ICCV 2021,
https://arxiv.org/abs/2109.02100; earlier "Semi-Relaxed Quantization with DropBits",
https://arxiv.org/abs/1911.12990).

Quantizers with a learnable step and noise scale whose forward is the mode of a categorical
distribution over the grid (exact nearest rounding) and whose backward is the multi-class
straight-through estimator; DropBits; learned per-layer bit-widths; baselines (fixed-range STE,
LSQ, Relaxed Quantization); ``quantize_model`` and integer export. No official code exists; see
README.md for the design choices made where the paper could not be checked.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "GATE_LR_SCALE",
    "METHODS",
    "ActivationQuantizer",
    "ClusterPromotingQuantizer",
    "GridQuantizer",
    "IntegerConv2d",
    "IntegerLinear",
    "LayerSpec",
    "LeNet5",
    "LearnedStepQuantizer",
    "LevelGates",
    "QuantConv2d",
    "QuantLinear",
    "QuantizerSpec",
    "RelaxedQuantizer",
    "ResNet20",
    "StraightThroughQuantizer",
    "allocate_bits",
    "bit_cost",
    "bit_levels",
    "build_float_model",
    "categorical_probabilities",
    "clustering_index",
    "concrete_quantize",
    "expected_average_bits",
    "expected_grid_value",
    "export_integer",
    "first_last_layers",
    "grid_codes",
    "hidden_layers",
    "integer_model",
    "integer_range",
    "level_drop_probabilities",
    "make_quantizer",
    "masked_multiclass_ste",
    "method_spec",
    "multiclass_ste",
    "nearest_codes",
    "optimizer_with_gate_group",
    "paper_layer_specs",
    "quantize_model",
    "quantized_layers",
    "rq_temperature",
    "sample_level_mask",
    "window_probabilities",
]

# Public names -> the module that defines them, imported on first use: importing the
# package (as `paperzoo list` does for its presets) does not import torch.
_WHERE = {
    "LevelGates": ".bitwidth",
    "allocate_bits": ".bitwidth",
    "bit_cost": ".bitwidth",
    "expected_average_bits": ".bitwidth",
    "IntegerConv2d": ".convert",
    "IntegerLinear": ".convert",
    "LayerSpec": ".convert",
    "clustering_index": ".convert",
    "export_integer": ".convert",
    "integer_model": ".convert",
    "quantize_model": ".convert",
    "quantized_layers": ".convert",
    "ClusterPromotingQuantizer": ".estimators",
    "GridQuantizer": ".estimators",
    "LearnedStepQuantizer": ".estimators",
    "RelaxedQuantizer": ".estimators",
    "StraightThroughQuantizer": ".estimators",
    "categorical_probabilities": ".estimators",
    "concrete_quantize": ".estimators",
    "expected_grid_value": ".estimators",
    "masked_multiclass_ste": ".estimators",
    "multiclass_ste": ".estimators",
    "window_probabilities": ".estimators",
    "bit_levels": ".grids",
    "grid_codes": ".grids",
    "integer_range": ".grids",
    "level_drop_probabilities": ".grids",
    "nearest_codes": ".grids",
    "sample_level_mask": ".grids",
    "ActivationQuantizer": ".layers",
    "QuantConv2d": ".layers",
    "QuantizerSpec": ".layers",
    "QuantLinear": ".layers",
    "make_quantizer": ".layers",
    "LeNet5": ".models",
    "ResNet20": ".models",
    "GATE_LR_SCALE": ".recipes",
    "METHODS": ".recipes",
    "build_float_model": ".recipes",
    "first_last_layers": ".recipes",
    "hidden_layers": ".recipes",
    "method_spec": ".recipes",
    "optimizer_with_gate_group": ".recipes",
    "paper_layer_specs": ".recipes",
    "rq_temperature": ".recipes",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
