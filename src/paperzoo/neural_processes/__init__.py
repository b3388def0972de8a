"""Bootstrapping Neural Processes (BNP, BANP) with CNP, NP, CANP and ANP baselines.

Paper: Juho Lee, Yoonho Lee, Jungtaek Kim, Eunho Yang, Sung Ju Hwang, Yee Whye Teh,
"Bootstrapping Neural Processes", NeurIPS 2020, https://arxiv.org/abs/2008.02956
(official code: https://github.com/juho-lee/bnp).

Shapes are ``(batch, points, dim)`` everywhere; see :mod:`paperzoo.neural_processes.models`.
``save_model``/``load_model`` keep a trained model with its architecture (weights-only files);
``pretrained(name)`` loads one that ships with paperzoo (``paperzoo models list``).
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

__all__ = [
    "ANP",
    "BANP",
    "BNP",
    "CANP",
    "CNP",
    "KERNELS",
    "MODELS",
    "NP",
    "GPTaskSampler",
    "ImageCompletionSampler",
    "Matern52Kernel",
    "NeuralProcess",
    "NeuralProcessRegressor",
    "PeriodicKernel",
    "RBFKernel",
    "Task",
    "add_t_noise",
    "context_target_log_likelihood",
    "evaluate",
    "gp_tasks",
    "interval_coverage",
    "load_model",
    "logmeanexp",
    "make_kernel",
    "make_model",
    "mixture_distribution",
    "predictive_cdf",
    "predictive_quantile",
    "pretrained",
    "resample_with_replacement",
    "residual_bootstrap",
    "save_model",
    "student_t_noise",
]

# Public names -> the module that defines them, imported on first use: importing the
# package (as `paperzoo list` does for its presets) does not import torch.
_WHERE = {
    "evaluate": ".benchmark",
    "gp_tasks": ".benchmark",
    "resample_with_replacement": ".bootstrap",
    "residual_bootstrap": ".bootstrap",
    "context_target_log_likelihood": ".metrics",
    "interval_coverage": ".metrics",
    "predictive_cdf": ".metrics",
    "predictive_quantile": ".metrics",
    "ANP": ".models",
    "BANP": ".models",
    "BNP": ".models",
    "CANP": ".models",
    "CNP": ".models",
    "MODELS": ".models",
    "NP": ".models",
    "NeuralProcess": ".models",
    "logmeanexp": ".models",
    "make_model": ".models",
    "mixture_distribution": ".models",
    "NeuralProcessRegressor": ".regressor",
    "load_model": ".saving",
    "save_model": ".saving",
    "pretrained": ".shipped",
    "KERNELS": ".tasks",
    "GPTaskSampler": ".tasks",
    "ImageCompletionSampler": ".tasks",
    "Matern52Kernel": ".tasks",
    "PeriodicKernel": ".tasks",
    "RBFKernel": ".tasks",
    "Task": ".tasks",
    "add_t_noise": ".tasks",
    "make_kernel": ".tasks",
    "student_t_noise": ".tasks",
}


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
