"""Online Coreset Selection (OCS) for rehearsal-based continual learning, with baselines.

Paper: Jaehong Yoon, Divyam Madaan, Eunho Yang, Sung Ju Hwang, "Online Coreset Selection for
Rehearsal-based Continual Learning", ICLR 2022, https://arxiv.org/abs/2106.01085.
Official code: https://github.com/jaehong31/OCS.

Task streams (rotated MNIST: balanced, noisy, imbalanced; a sequence of different data sets; your
own datasets or DataLoaders), per-sample gradients with ``torch.func``, the OCS scores and
class-balanced coresets, replay buffers, the strategies Finetune / ER-Reservoir / A-GEM / Uniform /
Uniform-balanced / OCS, and average accuracy / forgetting.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "AGEM",
    "OCS",
    "ContinualStrategy",
    "CoresetReplay",
    "ERReservoir",
    "Finetune",
    "GradientGram",
    "OCSScores",
    "OfficialMLP",
    "ReplayBuffer",
    "ReservoirSamplingBuffer",
    "StepContext",
    "Task",
    "TaskCoresetBuffer",
    "Uniform",
    "UniformBalanced",
    "agem_project",
    "average_accuracy",
    "class_balanced_selection",
    "dataset_sequence",
    "flatten_per_sample",
    "forgetting",
    "forgetting_per_task",
    "gradient_gram",
    "has_batch_norm",
    "linear_gradient_gram",
    "make_stream",
    "noise_share",
    "ocs_scores",
    "per_sample_grads",
    "rotate_images",
    "rotated_stream",
    "select_top_k",
    "supports_linear_gram",
]

# Public names -> the module that defines them, imported on first use: importing the
# package (as `paperzoo list` does for its presets) does not import torch.
_WHERE = {
    "ReplayBuffer": ".buffers",
    "ReservoirSamplingBuffer": ".buffers",
    "TaskCoresetBuffer": ".buffers",
    "average_accuracy": ".metrics",
    "forgetting": ".metrics",
    "forgetting_per_task": ".metrics",
    "noise_share": ".metrics",
    "OfficialMLP": ".models",
    "GradientGram": ".per_sample",
    "flatten_per_sample": ".per_sample",
    "gradient_gram": ".per_sample",
    "has_batch_norm": ".per_sample",
    "linear_gradient_gram": ".per_sample",
    "per_sample_grads": ".per_sample",
    "supports_linear_gram": ".per_sample",
    "Task": ".scenarios",
    "make_stream": ".scenarios",
    "dataset_sequence": ".scenarios",
    "rotate_images": ".scenarios",
    "rotated_stream": ".scenarios",
    "OCSScores": ".selection",
    "class_balanced_selection": ".selection",
    "ocs_scores": ".selection",
    "select_top_k": ".selection",
    "AGEM": ".strategies",
    "OCS": ".strategies",
    "ContinualStrategy": ".strategies",
    "CoresetReplay": ".strategies",
    "ERReservoir": ".strategies",
    "Finetune": ".strategies",
    "StepContext": ".strategies",
    "Uniform": ".strategies",
    "UniformBalanced": ".strategies",
    "agem_project": ".strategies",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
