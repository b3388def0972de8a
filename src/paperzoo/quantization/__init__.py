"""CPQ: Cluster-Promoting Quantization with Bit-Drop (Lee, Yun, Hwang, Yang, ICCV 2021,
https://arxiv.org/abs/2109.02100; earlier "Semi-Relaxed Quantization with DropBits",
https://arxiv.org/abs/1911.12990).

Quantizers with a learnable step and noise scale whose forward is the mode of a categorical
distribution over the grid (exact nearest rounding) and whose backward is the multi-class
straight-through estimator; DropBits; learned per-layer bit-widths; baselines (fixed-range STE,
LSQ, Relaxed Quantization); ``quantize_model`` and integer export. No official code exists; see
README.md for the design choices made where the paper could not be checked.
"""

from .bitwidth import LevelGates, allocate_bits, bit_cost, expected_average_bits
from .convert import (
    IntegerConv2d,
    IntegerLinear,
    LayerSpec,
    clustering_index,
    export_integer,
    integer_model,
    quantize_model,
    quantized_layers,
)
from .estimators import (
    ClusterPromotingQuantizer,
    GridQuantizer,
    LearnedStepQuantizer,
    RelaxedQuantizer,
    StraightThroughQuantizer,
    categorical_probabilities,
    concrete_quantize,
    expected_grid_value,
    masked_multiclass_ste,
    multiclass_ste,
    window_probabilities,
)
from .grids import (
    bit_levels,
    grid_codes,
    integer_range,
    level_drop_probabilities,
    nearest_codes,
    sample_level_mask,
)
from .layers import ActivationQuantizer, QuantConv2d, QuantizerSpec, QuantLinear, make_quantizer
from .models import LeNet5, ResNet20

__all__ = [
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
    "categorical_probabilities",
    "clustering_index",
    "concrete_quantize",
    "expected_average_bits",
    "expected_grid_value",
    "export_integer",
    "grid_codes",
    "integer_model",
    "integer_range",
    "level_drop_probabilities",
    "make_quantizer",
    "masked_multiclass_ste",
    "multiclass_ste",
    "nearest_codes",
    "quantize_model",
    "quantized_layers",
    "sample_level_mask",
    "window_probabilities",
]
