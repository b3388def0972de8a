"""Neural Complexity: a meta-learned generalisation-gap predictor used as a regulariser.

Paper: "Neural Complexity Measures", Yoonho Lee, Juho Lee, Sung Ju Hwang, Eunho Yang, Seungjin
Choi, NeurIPS 2020, https://arxiv.org/abs/2008.02953 (official code:
https://github.com/yoonholee/neural-complexity, 1-D regression).

Public API: task distributions, batched learners (``torch.func``), the NC network, the
``NeuralComplexityRegularizer`` module, the snapshot memory bank, the meta-training loop and the
hand-designed baseline measures; ``pretrained(name)`` loads an NC that ships with paperzoo
(``paperzoo models list``).
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "MEASURES",
    "ClassificationTasks",
    "FewShotClassification",
    "LearnerMLP",
    "LearnerTrajectory",
    "MemoryBank",
    "MixtureTasks",
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
    "nc_predict",
    "param_norm",
    "pca_features",
    "predict_gap",
    "pretrained",
    "snapshot_inputs",
    "stack_learners",
    "task_accuracy",
    "task_loss",
    "task_mse",
    "train_learners",
]

# Public names -> the module that defines them, imported on first use: importing the
# package (as `paperzoo list` does for its presets) does not import torch.
_WHERE = {
    "MEASURES": ".baselines",
    "nc_predict": ".evaluation",
    "complexity_measure": ".baselines",
    "measure_penalty": ".baselines",
    "param_norm": ".baselines",
    "LearnerMLP": ".learners",
    "LearnerTrajectory": ".learners",
    "batched_forward": ".learners",
    "init_learner_params": ".learners",
    "stack_learners": ".learners",
    "task_mse": ".learners",
    "task_accuracy": ".learners",
    "task_loss": ".learners",
    "train_learners": ".learners",
    "MemoryBank": ".memory",
    "MultiHeadCrossAttention": ".model",
    "NeuralComplexity": ".model",
    "NeuralComplexityRegularizer": ".model",
    "predict_gap": ".model",
    "pretrained": ".shipped",
    "snapshot_inputs": ".model",
    "PolynomialTasks": ".tasks",
    "ClassificationTasks": ".tasks",
    "FewShotClassification": ".tasks",
    "MixtureTasks": ".tasks",
    "pca_features": ".tasks",
    "RegressionTasks": ".tasks",
    "SinusoidTasks": ".tasks",
    "TaskDistribution": ".tasks",
    "NeuralComplexityTrainer": ".trainer",
    "Snapshots": ".trainer",
    "collect_snapshots": ".trainer",
    "gap_prediction_metrics": ".trainer",
    "nc_penalty": ".trainer",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
