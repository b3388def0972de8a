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
from .recipes import (
    GATE_LR_SCALE,
    METHODS,
    build_float_model,
    first_last_layers,
    hidden_layers,
    method_spec,
    optimizer_with_gate_group,
    paper_layer_specs,
    rq_temperature,
)

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
