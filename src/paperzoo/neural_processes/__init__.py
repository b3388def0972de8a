"""Bootstrapping Neural Processes (BNP, BANP) with CNP, NP, CANP and ANP baselines.

Paper: Juho Lee, Yoonho Lee, Jungtaek Kim, Eunho Yang, Sung Ju Hwang, Yee Whye Teh,
"Bootstrapping Neural Processes", NeurIPS 2020, https://arxiv.org/abs/2008.02956
(official code: https://github.com/juho-lee/bnp).

Shapes are ``(batch, points, dim)`` everywhere; see :mod:`paperzoo.neural_processes.models`.
"""

from .bootstrap import resample_with_replacement, residual_bootstrap
from .metrics import (
    context_target_log_likelihood,
    interval_coverage,
    predictive_cdf,
    predictive_quantile,
)
from .models import (
    ANP,
    BANP,
    BNP,
    CANP,
    CNP,
    MODELS,
    NP,
    NeuralProcess,
    logmeanexp,
    make_model,
    mixture_distribution,
)
from .regressor import NeuralProcessRegressor
from .tasks import (
    KERNELS,
    GPTaskSampler,
    ImageCompletionSampler,
    Matern52Kernel,
    PeriodicKernel,
    RBFKernel,
    Task,
    add_t_noise,
    make_kernel,
    student_t_noise,
)

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
    "interval_coverage",
    "logmeanexp",
    "make_kernel",
    "make_model",
    "mixture_distribution",
    "predictive_cdf",
    "predictive_quantile",
    "resample_with_replacement",
    "residual_bootstrap",
    "student_t_noise",
]
