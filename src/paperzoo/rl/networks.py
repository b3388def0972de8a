"""The model-augmented critic: one network per critic predicts Q, the reward and the next state.

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022; first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866).

Each critic ``C_k(s, a) = [Q_k(s, a), R_k(s, a), S_k(s, a)]`` is one MLP whose last layer has
``1 + 1 + obs_dim`` outputs, so the Q head shares its whole trunk with a reward model and a
transition model (the paper's "model-augmented critic"; no extra networks). ``forward`` returns
the Q heads only, exactly like SB3's ``ContinuousCritic``, so SB3's actor updates, ``predict`` and
evaluation code work unchanged; :meth:`ModelAugmentedCritic.heads` returns all three.

Deviations: the MaPER copy's hidden sizes are 400/300; SB3's ``net_arch`` sets them here (the
reproduction uses 64x64 for CPU speed). The transition head predicts the flattened next
observation ``s'`` itself, as the paper's ``S(s, a) ~ s'`` (not the difference ``s' - s``).
"""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel, ContinuousCritic
from stable_baselines3.common.preprocessing import get_action_dim, get_flattened_obs_dim
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from stable_baselines3.sac.policies import SACPolicy
from stable_baselines3.td3.policies import TD3Policy
from torch import nn

__all__ = ["MQLSACPolicy", "MQLTD3Policy", "ModelAugmentedCritic"]


class ModelAugmentedCritic(ContinuousCritic):
    """``n_critics`` MLPs, each ``[features(s), a] -> [Q, r_hat, s'_hat]``.

    Args: as SB3's ``ContinuousCritic`` (``net_arch`` hidden sizes, ``n_critics`` twins, ...).

    Shape:
        obs: (batch, *obs_shape); actions: (batch, action_dim).
        ``forward`` -> ``n_critics`` tensors (batch, 1); ``heads`` -> ``n_critics`` triples
        ``(q (batch, 1), r_hat (batch, 1), s_hat (batch, obs_dim))``; ``stacked_heads`` -> the
        same values as one (n_critics, batch, 2 + obs_dim) tensor.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_critics: int = 2,
        share_features_extractor: bool = True,
    ) -> None:
        # Skip ContinuousCritic.__init__ (it builds 1-output nets); keep its interface.
        BaseModel.__init__(
            self,
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
        )
        action_dim = get_action_dim(self.action_space)
        self.obs_dim = get_flattened_obs_dim(self.observation_space)
        self.share_features_extractor = share_features_extractor
        self.n_critics = n_critics
        self.q_networks: list[nn.Module] = []
        for idx in range(n_critics):
            net = nn.Sequential(
                *create_mlp(features_dim + action_dim, 2 + self.obs_dim, net_arch, activation_fn)
            )
            self.add_module(f"qf{idx}", net)
            self.q_networks.append(net)

    def _outputs(self, obs: th.Tensor, actions: th.Tensor, grad: bool) -> list[th.Tensor]:
        # Learn a shared features extractor with the actor's loss only (SB3's convention).
        with th.set_grad_enabled(grad and not self.share_features_extractor):
            features = self.extract_features(obs, self.features_extractor)
        x = th.cat([features, actions], dim=1)
        return [net(x) for net in self.q_networks]  # each (batch, 2 + obs_dim)

    def heads(
        self, obs: th.Tensor, actions: th.Tensor
    ) -> list[tuple[th.Tensor, th.Tensor, th.Tensor]]:
        """``(Q, r_hat, s'_hat)`` of every critic."""
        return [(o[:, :1], o[:, 1:2], o[:, 2:]) for o in self._outputs(obs, actions, True)]

    def stacked_heads(self, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """Every critic's ``[Q, r_hat, s'_hat]`` in one tensor, for batched losses.

        Shape: (n_critics, batch, 2 + obs_dim); ``[..., :1]`` the Q heads, ``[..., 1:2]`` the
        reward heads, ``[..., 2:]`` the next-state heads (the values :meth:`heads` slices).
        """
        return th.stack(self._outputs(obs, actions, True))

    def min_q(self, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """``min_k Q_k(s, a)``, shape (batch, 1): SB3's ``th.cat(forward(...), 1).min(1)``.

        The Q column of the stacked outputs (one stack and one select) instead of one slice per
        critic and a concatenation: the same values and gradients, fewer autograd nodes (the
        actor loss and the target use it once per gradient step).
        """
        q = th.stack(self._outputs(obs, actions, True), dim=2)[:, 0, :]  # (batch, n_critics)
        return th.min(q, dim=1, keepdim=True)[0]

    def forward(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, ...]:
        """The Q heads, as SB3's ``ContinuousCritic.forward``."""
        return tuple(o[:, :1] for o in self._outputs(obs, actions, True))

    def q1_forward(self, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """The first critic's Q head (TD3's actor loss); features without gradient, as SB3."""
        with th.no_grad():
            features = self.extract_features(obs, self.features_extractor)
        return self.q_networks[0](th.cat([features, actions], dim=1))[:, :1]


def _model_critic(
    policy: SACPolicy | TD3Policy, features_extractor: BaseFeaturesExtractor | None
) -> ModelAugmentedCritic:
    """SB3's ``make_critic`` body with :class:`ModelAugmentedCritic` in place of its critic."""
    kwargs = policy._update_features_extractor(policy.critic_kwargs, features_extractor)
    return ModelAugmentedCritic(**kwargs).to(policy.device)


class MQLSACPolicy(SACPolicy):
    """SB3's SAC policy with :class:`ModelAugmentedCritic` critics (and target critics)."""

    def make_critic(
        self, features_extractor: BaseFeaturesExtractor | None = None
    ) -> ModelAugmentedCritic:
        return _model_critic(self, features_extractor)


class MQLTD3Policy(TD3Policy):
    """SB3's TD3 policy with :class:`ModelAugmentedCritic` critics (and target critics)."""

    def make_critic(
        self, features_extractor: BaseFeaturesExtractor | None = None
    ) -> ModelAugmentedCritic:
        return _model_critic(self, features_extractor)
