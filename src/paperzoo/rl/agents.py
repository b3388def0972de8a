"""SB3 agents: SAC/TD3 with prioritized replay (PER) and with the model-augmented critic (MaPER).

Paper: Model-augmented Prioritized Experience Replay (Youngmin Oh, Jinwoo Shin, Eunho Yang,
Sung Ju Hwang; ICLR 2022; first as "Model-augmented Q-learning", https://arxiv.org/abs/2102.03866).

* :class:`PrioritizedSAC` / :class:`PrioritizedTD3`: SB3's SAC/TD3 whose critic loss is
  importance-weighted and which report TD errors as priorities to a
  :class:`~.buffers.PrioritizedReplayBuffer` (the default buffer). By default the rule is
  standard proportional PER (Schaul, Quan, Antonoglou, Silver, "Prioritized Experience
  Replay", ICLR 2016, https://arxiv.org/abs/1511.05952, Sec. 3.3):
  ``p_i = (|delta_i| + eps)^alpha`` with ``alpha = 0.6`` and ``|delta_i|`` the absolute TD
  error averaged over the twin critics (``per_priority="td_abs"``); ``per_priority=
  "td_squared"`` is the MaPER copy's TD-only rule, ``p_i = (delta_i^2 + eps)^0.7`` (about
  ``|delta_i|^1.4``). With SB3's plain ``ReplayBuffer`` they are SAC/TD3 (same losses, same
  numbers). ``CnnPolicy`` (image observations) works.
* :class:`MQLSAC` / :class:`MQLTD3`: the model-augmented critic (:mod:`.networks`) trained on the
  estimated-reward target with the reward and transition losses (:mod:`.losses`). With the
  default :class:`~.buffers.PrioritizedReplayBuffer` and ``priority="model_error"`` this is MaPER;
  with ``replay_buffer_class=ReplayBuffer`` it is MQL with uniform replay; ``priority="td"``
  prioritizes by the (squared) TD error alone. Image observations (``CnnPolicy``) are refused
  at construction: the transition head would have to predict every pixel of ``s'``.

All are used like SB3's own: ``model = MQLSAC("MlpPolicy", env); model.learn(10_000)``;
``save``/``load``, callbacks, loggers and ``n_envs > 1`` work unchanged. The importance-weight
exponent ``beta`` is annealed linearly from the buffer's ``beta`` (``beta0``) to 1 over
``learn``'s ``total_timesteps`` (PER). Extra logger keys: ``train/td_error``,
``train/reward_error``, ``train/state_error``, ``train/lambda_reward``, ``train/lambda_state``,
``train/beta`` and ``train/priority_ess`` (Kish effective sample size of the priorities as a
fraction of the buffer; 1 = uniform).

Deviations: see :mod:`.losses` (twin-averaged reward head, per-error lambdas, critic-only
importance weights) and :mod:`.buffers` (annealed ``beta``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

import numpy as np
import torch as th
from stable_baselines3 import SAC, TD3
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.utils import polyak_update

from .buffers import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from .losses import balanced_lambdas, stacked_model_errors
from .networks import ModelAugmentedCritic, MQLSACPolicy, MQLTD3Policy

__all__ = ["MQLSAC", "MQLTD3", "PER_ALPHA", "PERPriority", "PrioritizedSAC", "PrioritizedTD3"]

Priority = Literal["model_error", "td"]

PERPriority = Literal["td_abs", "td_squared"]
"""The PER agents' priority error ``e_i`` (the buffer sets ``p_i = (e_i + eps)^alpha``):
``"td_abs"``, ``|delta_i|``, standard proportional PER (Schaul et al. 2016); ``"td_squared"``,
``delta_i^2``, the MaPER copy's TD-only rule. Both average over the twin critics."""

PER_ALPHA: dict[str, float] = {"td_abs": 0.6, "td_squared": 0.7}
"""The buffer's default ``alpha`` for each :data:`PERPriority` rule: 0.6 is the exponent
Schaul et al. (2016) chose for their proportional variant (with ``beta0 = 0.4``); 0.7 the
MaPER copy's."""


def _polyak(params: list[th.Tensor], targets: list[th.Tensor], tau: float) -> None:
    """SB3's ``polyak_update``, ``target <- (1 - tau) target + tau param``, in two foreach calls
    instead of two calls per tensor (24 for a twin 64x64 critic).

    The same two roundings as SB3's ``mul_(1 - tau)`` then ``add(param, alpha=tau)`` (on the
    CPU the foreach ops run those kernels tensor by tensor), so the targets are the same bit
    for bit (``tests/rl/test_fast_paths.py``).
    """
    if len(params) != len(targets):
        raise ValueError(f"{len(params)} parameters but {len(targets)} target parameters")
    if params:
        with th.no_grad():
            th._foreach_mul_(targets, 1 - tau)
            th._foreach_add_(targets, params, alpha=tau)


def _min_q(critic: Any, obs: th.Tensor, actions: th.Tensor) -> th.Tensor:
    """``min_k Q_k(s, a)`` (batch, 1), as SB3's ``th.min(th.cat(critic(s, a), 1), 1)``."""
    if isinstance(critic, ModelAugmentedCritic):
        return critic.min_q(obs, actions)
    return th.min(th.cat(critic(obs, actions), dim=1), dim=1, keepdim=True)[0]


def _q_net_params(critic: Any) -> list[th.Tensor]:
    """The parameters of the critic's Q networks (not of a features extractor, which the actor
    may share), those that require a gradient."""
    return [p for net in critic.q_networks for p in net.parameters() if p.requires_grad]


@contextmanager
def _frozen(params: list[th.Tensor]) -> Iterator[None]:
    """Build the graph inside without gradients for ``params`` (a critic's Q networks).

    SB3's actor update backpropagates into the critic's weights too, and the critic's next
    update discards those gradients (``zero_grad`` before its own backward): skipping them
    leaves every number of the training the same (the actor's gradient flows through the
    critic's inputs, not its weights) and saves a weight-gradient product per layer.
    """
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class _ReplayMixin:
    """What the four agents share: buffer defaults, beta annealing and the critic's loss."""

    # Set by the agents' __init__ (declared for type checkers).
    replay_buffer: ReplayBuffer | None
    critic: Any
    gamma: float
    logger: Any
    _current_progress_remaining: float
    _n_updates: int
    _loss_scale: float

    def _init_replay(
        self,
        priority: Priority,
        lambda_reward: float | None,
        lambda_state: float | None,
        lambda_warmup_updates: int = 64,
        per_priority: PERPriority = "td_abs",
    ) -> None:
        if priority not in ("model_error", "td"):
            raise ValueError(f"priority must be 'model_error' or 'td', got {priority!r}")
        if per_priority not in PER_ALPHA:
            raise ValueError(f"per_priority must be 'td_abs' or 'td_squared', got {per_priority!r}")
        self.priority = priority
        # The rule of a plain (not model-augmented) critic's priorities: PER agents only.
        self.per_priority = per_priority
        # None = scale-balanced once, after the warm-up updates (losses.balanced_lambdas).
        self.lambda_reward = lambda_reward
        self.lambda_state = lambda_state
        self.lambda_warmup_updates = int(lambda_warmup_updates)
        self._balanced: tuple[float, float] | None = None
        self._current_lambdas: tuple[float, float] | None = None
        self._model_updates = 0
        self.beta0: float | None = None
        # Per-step error tensors (n_critics, B, 1) and their per-step means, per statistic.
        self._stats: dict[str, list[th.Tensor]] = {}
        self._stat_means: dict[str, list[th.Tensor]] = {}
        # Means over the last ``train`` call (td/reward/state errors), readable after ``learn``
        # (SB3's logger clears its values when it dumps).
        self.last_train_stats: dict[str, float] = {}

    @staticmethod
    def _refuse_cnn_policy(name: str, policy: Any) -> None:
        """The MQL agents have no image critic: refuse ``"CnnPolicy"`` before SB3 looks it up."""
        if policy == "CnnPolicy":
            raise ValueError(
                f"{name} does not support CnnPolicy (image observations): its transition head "
                "would predict every pixel of s'; use MlpPolicy on vector observations, or "
                "PrioritizedSAC/PrioritizedTD3 for prioritized replay on images"
            )

    def _require_model_critic(self, kwargs: dict[str, Any]) -> None:
        """The MQL agents need vector observations and a :class:`ModelAugmentedCritic`
        (SB3's ``load`` builds the policy later: nothing to check then)."""
        if not kwargs.get("_init_setup_model", True):
            return
        name = type(self).__name__
        space = getattr(self, "observation_space", None)
        if space is not None and is_image_space(space, check_channels=False):
            raise ValueError(
                f"{name} does not support image observations {space.shape}: its transition "
                "head would predict every pixel of s'; use PrioritizedSAC/PrioritizedTD3 "
                "(CnnPolicy works there) for prioritized replay on images"
            )
        if not isinstance(self.critic, ModelAugmentedCritic):
            raise TypeError(f"{name} needs a policy whose critic is a ModelAugmentedCritic")

    @staticmethod
    def _per_defaults(kwargs: dict[str, Any], per_priority: PERPriority) -> dict[str, Any]:
        """The buffer's ``alpha`` defaults to the rule's (:data:`PER_ALPHA`) unless given."""
        cls = kwargs.get("replay_buffer_class")
        if isinstance(cls, type) and issubclass(cls, PrioritizedReplayBuffer):
            given = kwargs.get("replay_buffer_kwargs") or {}
            kwargs["replay_buffer_kwargs"] = {"alpha": PER_ALPHA[per_priority], **given}
        return kwargs

    @staticmethod
    def _buffer_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("replay_buffer_class") is None:
            kwargs["replay_buffer_class"] = PrioritizedReplayBuffer
        return kwargs

    def _anneal_beta(self) -> None:
        buf = self.replay_buffer
        if isinstance(buf, PrioritizedReplayBuffer):
            if self.beta0 is None:
                self.beta0 = buf.beta
            progress = 1.0 - self._current_progress_remaining
            buf.beta = min(1.0, self.beta0 + (1.0 - self.beta0) * progress)

    def _critic_loss(self, data: Any, target_fn: Any, rewards_for_target: str) -> th.Tensor:
        """Importance-weighted critic loss; updates priorities; records error statistics.

        ``target_fn(reward)`` returns the no-grad TD target for a reward tensor (the true
        reward, or the model-augmented critic's estimate).

        Batched over the critics: one (n_critics, batch, .) tensor per quantity instead of a
        Python list per critic, because at replay batch sizes each small torch op costs a few
        microseconds of dispatch whatever its size. The numbers are the former per-critic
        ones bit for bit (``tests/rl/test_fast_paths.py``).
        """
        prioritized = isinstance(data, PrioritizedReplayBufferSamples)
        if isinstance(self.critic, ModelAugmentedCritic):
            out = self.critic.stacked_heads(data.observations, data.actions)  # (n, B, 2 + D)
            with th.no_grad():  # the estimated reward, averaged over the twin critics
                r_hat = out[:, :, 1:2].mean(0)
            target = target_fn(r_hat if rewards_for_target == "estimated" else data.rewards)
            next_obs = data.next_observations
            if next_obs.dim() != 2 or next_obs.dtype != th.float32:  # skip two no-op calls
                next_obs = next_obs.flatten(1).float()
            dq, dr, ds = stacked_model_errors(out, target, data.rewards, next_obs)
            lam_r, lam_s = self._lambdas(dq, dr, ds)
            total = dq + lam_r * dr + lam_s * ds  # (n_critics, B, 1)
            with th.no_grad():  # the priority error needs no graph
                error = (total if self.priority == "model_error" else dq).mean(0)
            self._record("reward_error", dr)
            self._record("state_error", ds)
        else:
            target = target_fn(data.rewards)
            delta = th.stack(self.critic(data.observations, data.actions)) - target
            total = dq = delta**2  # (n_critics, B, 1), as td_errors
            with th.no_grad():
                if self.per_priority == "td_abs":  # PER: e_i = mean_k |Q_k - y|
                    error = delta.abs().mean(0)
                else:  # "td_squared", the MaPER copy: e_i = mean_k (Q_k - y)^2
                    error = dq.mean(0)
        self._record("td_error", dq)
        if prioritized:
            assert isinstance(self.replay_buffer, PrioritizedReplayBuffer)
            self.replay_buffer.update_priorities(data.indices, error)
            # L = mean_i w_i c sum_k [dQ + lambda_R dR + lambda_S dS], c as SB3's own loss
            return (data.weights * self._loss_scale * total.sum(0)).mean()
        # Uniform replay: w_i = 1, and 1 * c * x is c * x exactly, so skip the ones tensor.
        return (self._loss_scale * total.sum(0)).mean()

    def _lambdas(self, dq: th.Tensor, dr: th.Tensor, ds: th.Tensor) -> tuple[float, float]:
        """The model errors' weights: fixed by the user, else 1 for the first
        ``lambda_warmup_updates`` updates and then balanced once on that update's batch."""
        self._model_updates += 1
        if self._balanced is None and self._model_updates >= self.lambda_warmup_updates:
            # dq, dr are strided views (stacked_model_errors): contiguous, their means are the
            # per-critic errors' means bit for bit.
            self._balanced = balanced_lambdas(dq.contiguous(), dr.contiguous(), ds)
        auto = self._balanced or (1.0, 1.0)
        lam_r = auto[0] if self.lambda_reward is None else self.lambda_reward
        lam_s = auto[1] if self.lambda_state is None else self.lambda_state
        self._current_lambdas = (lam_r, lam_s)
        return lam_r, lam_s

    _STATS_CHUNK = 64  # per-step error tensors kept before reducing them to their means

    def _record(self, key: str, errors: th.Tensor) -> None:
        """Keep one gradient step's errors (n_critics, B, 1) for the logged mean.

        The means are taken per chunk of steps in one call (the rows of a stacked, contiguous
        tensor, bit for bit each step's ``errors.mean()``), not per step: a mean and a host
        sync per statistic per gradient step cost more than the arithmetic at these sizes.
        """
        steps = self._stats.setdefault(key, [])
        steps.append(errors.detach())
        if len(steps) >= self._STATS_CHUNK:
            self._reduce_stats(key)

    def _reduce_stats(self, key: str) -> None:
        steps = self._stats.pop(key, [])
        if steps:  # stack copies strided views into contiguous rows, one per step
            means = th.stack(steps).view(len(steps), -1).mean(1)
            self._stat_means.setdefault(key, []).append(means)

    def _flush_stats(self) -> None:
        for key in list(self._stats):
            self._reduce_stats(key)
        # The mean over steps in float64, as NumPy's mean of the per-step Python floats.
        self.last_train_stats = {
            k: float(np.mean(th.cat(v).cpu().numpy().astype(np.float64)))
            for k, v in self._stat_means.items()
        }
        self._stat_means = {}
        for key, value in self.last_train_stats.items():
            self.logger.record(f"train/{key}", value)
        if self._current_lambdas is not None:
            self.logger.record("train/lambda_reward", self._current_lambdas[0])
            self.logger.record("train/lambda_state", self._current_lambdas[1])
        buf = self.replay_buffer
        if isinstance(buf, PrioritizedReplayBuffer):
            self.logger.record("train/beta", buf.beta)
            self.logger.record("train/priority_ess", buf.effective_sample_size())


# --- SAC ----------------------------------------------------------------------------------------


class _SACBase(_ReplayMixin, SAC):
    _reward_for_target = "true"
    _loss_scale = 0.5  # SB3's SAC critic loss is 1/2 sum_k MSE_k

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        """SB3's SAC update with an importance-weighted critic loss and priority updates."""
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers += [self.ent_coef_optimizer]
        self._update_learning_rate(optimizers)
        self._anneal_beta()
        ent_coefs, actor_losses, critic_losses, ent_coef_losses = [], [], [], []
        critic_params = list(self.critic.parameters())
        critic_target_params = list(self.critic_target.parameters())
        q_net_params = _q_net_params(self.critic)
        for gradient_step in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            if self.use_sde:
                self.actor.reset_noise()
            actions_pi, log_prob = self.actor.action_log_prob(data.observations)
            log_prob = log_prob.reshape(-1, 1)
            ent_coef_loss = None
            if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
                ent_coef = th.exp(self.log_ent_coef.detach())
                ent_coef_loss = -(
                    self.log_ent_coef * (log_prob + self.target_entropy).detach()
                ).mean()
                ent_coef_losses.append(ent_coef_loss.item())
            else:
                ent_coef = self.ent_coef_tensor
            ent_coefs.append(ent_coef.item())
            if ent_coef_loss is not None and self.ent_coef_optimizer is not None:
                self.ent_coef_optimizer.zero_grad()
                ent_coef_loss.backward()
                self.ent_coef_optimizer.step()

            with th.no_grad():  # soft value of s': min over target critics minus entropy
                next_actions, next_log_prob = self.actor.action_log_prob(data.next_observations)
                next_q = _min_q(self.critic_target, data.next_observations, next_actions)
                next_v = next_q - ent_coef * next_log_prob.reshape(-1, 1)

            def target_fn(reward: th.Tensor, d: Any = data, dc: Any = discounts) -> th.Tensor:
                return reward + (1 - d.dones) * dc * next_v  # noqa: B023 (used at once)

            critic_loss = self._critic_loss(data, target_fn, self._reward_for_target)
            critic_losses.append(critic_loss.item())
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()

            with _frozen(q_net_params):  # the actor's loss: no gradient for the Q networks
                min_q_pi = _min_q(self.critic, data.observations, actions_pi)
            actor_loss = (ent_coef * log_prob - min_q_pi).mean()
            actor_losses.append(actor_loss.item())
            self.actor.optimizer.zero_grad()
            actor_loss.backward()
            self.actor.optimizer.step()
            if gradient_step % self.target_update_interval == 0:
                _polyak(critic_params, critic_target_params, self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/ent_coef", np.mean(ent_coefs))
        self.logger.record("train/actor_loss", np.mean(actor_losses))
        self.logger.record("train/critic_loss", np.mean(critic_losses))
        if ent_coef_losses:
            self.logger.record("train/ent_coef_loss", np.mean(ent_coef_losses))
        self._flush_stats()


class PrioritizedSAC(_SACBase):
    """SAC with prioritized replay by TD error (PER), for SB3.

    Args:
        policy, env, **kwargs: those of ``stable_baselines3.SAC`` (``"CnnPolicy"`` works); the
            buffer defaults to :class:`~.buffers.PrioritizedReplayBuffer` (set its ``alpha``,
            ``beta``, ``eps`` through ``replay_buffer_kwargs``; ``alpha`` defaults to the
            rule's, :data:`PER_ALPHA`).
        per_priority: ``"td_abs"`` (default): standard proportional PER (Schaul et al. 2016),
            ``p_i = (|delta_i| + eps)^0.6``; ``"td_squared"``: the MaPER copy's TD rule,
            ``p_i = (delta_i^2 + eps)^0.7``. ``delta_i`` is averaged over the twin critics
            (as ``|delta|`` or ``delta^2``).

    >>> model = PrioritizedSAC("MlpPolicy", "Pendulum-v1")  # PER: (|delta| + eps)^0.6
    >>> copy = PrioritizedSAC("MlpPolicy", "Pendulum-v1", per_priority="td_squared")
    """

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: Any,
        per_priority: PERPriority = "td_abs",
        **kwargs: Any,
    ) -> None:
        self._init_replay("td", None, None, per_priority=per_priority)
        kwargs = self._per_defaults(self._buffer_defaults(kwargs), per_priority)
        super().__init__(policy, env, **kwargs)


class MQLSAC(_SACBase):
    """SAC with the model-augmented critic; with its default buffer, MaPER.

    Args:
        policy, env, **kwargs: as ``stable_baselines3.SAC`` (``"MlpPolicy"`` is
            :class:`~.networks.MQLSACPolicy`); the buffer defaults to
            :class:`~.buffers.PrioritizedReplayBuffer` (pass SB3's ``ReplayBuffer`` for MQL
            with uniform replay).
        priority: ``"model_error"`` (MaPER: TD + weighted reward and transition errors) or
            ``"td"`` (the TD error only).
        lambda_reward, lambda_state: the model losses' weights; ``None`` = 1 during the first
            ``lambda_warmup_updates`` updates, then balanced once to the TD error's scale on
            that update's batch (:func:`~.losses.balanced_lambdas`; the MaPER copy balances
            after its first call of 64 gradient steps).
        lambda_warmup_updates: see above.

    Raises:
        ValueError: for ``"CnnPolicy"`` or image observations (not supported: the transition
            head would predict every pixel of ``s'``).
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MQLSACPolicy}
    _reward_for_target = "estimated"

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: Any,
        priority: Priority = "model_error",
        lambda_reward: float | None = None,
        lambda_state: float | None = None,
        lambda_warmup_updates: int = 64,
        **kwargs: Any,
    ) -> None:
        self._refuse_cnn_policy(type(self).__name__, policy)
        self._init_replay(priority, lambda_reward, lambda_state, lambda_warmup_updates)
        super().__init__(policy, env, **self._buffer_defaults(kwargs))
        self._require_model_critic(kwargs)


# --- TD3 ----------------------------------------------------------------------------------------


class _TD3Base(_ReplayMixin, TD3):
    _reward_for_target = "true"
    _loss_scale = 1.0  # SB3's TD3 critic loss is sum_k MSE_k

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3's TD3 update with an importance-weighted critic loss and priority updates."""
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])
        self._anneal_beta()
        actor_losses, critic_losses = [], []
        critic_params = list(self.critic.parameters())
        critic_target_params = list(self.critic_target.parameters())
        actor_params = list(self.actor.parameters())
        actor_target_params = list(self.actor_target.parameters())
        q_net_params = _q_net_params(self.critic)
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():  # clipped-noise target action, min over target critics
                noise = data.actions.clone().data.normal_(0, self.target_policy_noise)
                noise = noise.clamp(-self.target_noise_clip, self.target_noise_clip)
                next_actions = (self.actor_target(data.next_observations) + noise).clamp(-1, 1)
                next_q = _min_q(self.critic_target, data.next_observations, next_actions)

            def target_fn(reward: th.Tensor, d: Any = data, dc: Any = discounts) -> th.Tensor:
                return reward + (1 - d.dones) * dc * next_q  # noqa: B023 (used at once)

            critic_loss = self._critic_loss(data, target_fn, self._reward_for_target)
            critic_losses.append(critic_loss.item())
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            if self._n_updates % self.policy_delay == 0:
                with _frozen(q_net_params):  # no gradient for the Q networks
                    q1 = self.critic.q1_forward(data.observations, self.actor(data.observations))
                actor_loss = -q1.mean()
                actor_losses.append(actor_loss.item())
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()
                _polyak(critic_params, critic_target_params, self.tau)
                _polyak(actor_params, actor_target_params, self.tau)
                polyak_update(
                    self.critic_batch_norm_stats, self.critic_batch_norm_stats_target, 1.0
                )
                polyak_update(self.actor_batch_norm_stats, self.actor_batch_norm_stats_target, 1.0)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if actor_losses:
            self.logger.record("train/actor_loss", np.mean(actor_losses))
        self.logger.record("train/critic_loss", np.mean(critic_losses))
        self._flush_stats()


class PrioritizedTD3(_TD3Base):
    """TD3 with prioritized replay by TD error (PER), for SB3.

    Args: those of ``stable_baselines3.TD3`` (``"CnnPolicy"`` works) and ``per_priority`` as
    :class:`PrioritizedSAC` (default ``"td_abs"``, standard PER with ``alpha = 0.6``).
    """

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: Any,
        per_priority: PERPriority = "td_abs",
        **kwargs: Any,
    ) -> None:
        self._init_replay("td", None, None, per_priority=per_priority)
        kwargs = self._per_defaults(self._buffer_defaults(kwargs), per_priority)
        super().__init__(policy, env, **kwargs)


class MQLTD3(_TD3Base):
    """TD3 with the model-augmented critic; with its default buffer, MaPER (see :class:`MQLSAC`)."""

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MQLTD3Policy}
    _reward_for_target = "estimated"

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: Any,
        priority: Priority = "model_error",
        lambda_reward: float | None = None,
        lambda_state: float | None = None,
        lambda_warmup_updates: int = 64,
        **kwargs: Any,
    ) -> None:
        self._refuse_cnn_policy(type(self).__name__, policy)
        self._init_replay(priority, lambda_reward, lambda_state, lambda_warmup_updates)
        super().__init__(policy, env, **self._buffer_defaults(kwargs))
        self._require_model_critic(kwargs)
