"""Online Coreset Selection (OCS) for rehearsal-based continual learning, with baselines.

Paper: Jaehong Yoon, Divyam Madaan, Eunho Yang, Sung Ju Hwang, "Online Coreset Selection for
Rehearsal-based Continual Learning", ICLR 2022, https://arxiv.org/abs/2106.01085.
Official code: https://github.com/jaehong31/OCS.

Task streams (rotated MNIST: balanced, noisy, imbalanced; your own datasets), per-sample gradients
with ``torch.func``, the OCS scores and class-balanced coresets, replay buffers, the strategies
Finetune / ER-Reservoir / A-GEM / Uniform / OCS, and average accuracy / forgetting.
"""

from .buffers import ReplayBuffer, ReservoirSamplingBuffer, TaskCoresetBuffer
from .metrics import average_accuracy, forgetting, noise_share
from .models import OfficialMLP
from .per_sample import (
    GradientGram,
    flatten_per_sample,
    gradient_gram,
    has_batch_norm,
    linear_gradient_gram,
    per_sample_grads,
    supports_linear_gram,
)
from .scenarios import Task, make_stream, rotate_images, rotated_stream
from .selection import OCSScores, class_balanced_selection, ocs_scores, select_top_k
from .strategies import (
    AGEM,
    OCS,
    ContinualStrategy,
    CoresetReplay,
    ERReservoir,
    Finetune,
    StepContext,
    Uniform,
    agem_project,
)

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
    "agem_project",
    "average_accuracy",
    "class_balanced_selection",
    "flatten_per_sample",
    "forgetting",
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
