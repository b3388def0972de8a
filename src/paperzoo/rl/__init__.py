"""MQL / MaPER: model-augmented Q-learning with model-error prioritized replay, for SB3.

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022), first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866

* :class:`PrioritizedReplayBuffer`: proportional prioritized replay for SB3's SAC/TD3/DDPG and
  DQN (vectorised sum/min trees, importance weights, ``n_envs > 1``, save/load keeping
  priorities).
* :class:`PrioritizedSAC`, :class:`PrioritizedTD3`: SAC/TD3 with TD-error priorities (standard
  PER, ``(|delta| + eps)^0.6``; the MaPER copy's ``(delta^2 + eps)^0.7`` as a variant).
* :class:`MQLSAC`, :class:`MQLTD3`: the model-augmented critic (Q, reward and next-state heads on
  one trunk), the estimated-reward target and model-error priorities (MaPER).
* :func:`q_estimation_bias`, :func:`evaluate_returns`, :func:`learning_curve_area`: metrics.

Everything needing ``stable_baselines3``/``gymnasium`` (the ``rl`` extra) is imported on first
use, so ``import paperzoo.rl`` is free.
"""

from __future__ import annotations

from paperzoo.core.lazy import lazy_exports

_WHERE = {
    "MQLSAC": ".agents",
    "MQLTD3": ".agents",
    "PrioritizedSAC": ".agents",
    "PrioritizedTD3": ".agents",
    "PrioritizedReplayBuffer": ".buffers",
    "PrioritizedReplayBufferSamples": ".buffers",
    "effective_sample_size": ".buffers",
    "balanced_lambdas": ".losses",
    "model_augmented_errors": ".losses",
    "stacked_model_errors": ".losses",
    "td_errors": ".losses",
    "evaluate_returns": ".metrics",
    "learning_curve_area": ".metrics",
    "q_estimation_bias": ".metrics",
    "soft_discounted_returns": ".metrics",
    "MQLSACPolicy": ".networks",
    "MQLTD3Policy": ".networks",
    "ModelAugmentedCritic": ".networks",
    "MinTree": ".sum_tree",
    "SumTree": ".sum_tree",
}

__all__ = sorted(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
