"""Neural Complexity: a meta-learned generalisation-gap predictor used as a regulariser.

Paper: "Neural Complexity Measures", Yoonho Lee, Juho Lee, Sung Ju Hwang, Eunho Yang, Seungjin
Choi, NeurIPS 2020, https://arxiv.org/abs/2008.02953 (official code:
https://github.com/yoonholee/neural-complexity, 1-D regression).

Public API: task distributions, batched learners (``torch.func``), the NC network, the
``NeuralComplexityRegularizer`` module, the snapshot memory bank, the meta-training loop and the
hand-designed baseline measures.
"""

from .baselines import MEASURES, complexity_measure, measure_penalty, param_norm
from .learners import (
    LearnerMLP,
    LearnerTrajectory,
    batched_forward,
    init_learner_params,
    stack_learners,
    task_mse,
    train_learners,
)
from .memory import MemoryBank
from .model import (
    MultiHeadCrossAttention,
    NeuralComplexity,
    NeuralComplexityRegularizer,
    snapshot_inputs,
)
from .tasks import PolynomialTasks, RegressionTasks, SinusoidTasks, TaskDistribution
from .trainer import (
    NeuralComplexityTrainer,
    Snapshots,
    collect_snapshots,
    gap_prediction_metrics,
    nc_penalty,
)

__all__ = [
    "MEASURES",
    "LearnerMLP",
    "LearnerTrajectory",
    "MemoryBank",
    "MultiHeadCrossAttention",
    "NeuralComplexity",
    "NeuralComplexityRegularizer",
    "NeuralComplexityTrainer",
    "PolynomialTasks",
    "RegressionTasks",
    "SinusoidTasks",
    "Snapshots",
    "TaskDistribution",
    "batched_forward",
    "collect_snapshots",
    "complexity_measure",
    "gap_prediction_metrics",
    "init_learner_params",
    "measure_penalty",
    "nc_penalty",
    "param_norm",
    "snapshot_inputs",
    "stack_learners",
    "task_mse",
    "train_learners",
]
